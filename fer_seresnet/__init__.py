import shared_utils  # noqa: F401  (first: makes torchvision importable against a CPU-only torch)

# SE-ResNet facial expression recognition (Huang et al., Sci. Rep. 13:8425, 2023) on FER2013, FER+ and RAF-DB.
