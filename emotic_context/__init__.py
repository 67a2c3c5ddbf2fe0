import shared_utils  # noqa: F401  (first: makes torchvision importable on CPU-only torch)

"""Context-based emotion recognition on EMOTIC (Kosti et al., TPAMI 2019), body + scene streams."""
