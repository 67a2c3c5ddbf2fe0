import shared_utils  # noqa: F401  (first: makes torchvision importable against CPU-only torch)

# TSN / TSM bodily expression recognition on EmoReact: face, body, full body and face + body fusion.
