import shared_utils  # noqa: F401  (first: makes torchvision importable against a CPU-only torch)

# FCNEL emotion stimuli maps on EmotionROI (Peng et al., ICIP 2016) and the EmotionROI-ex experiments.
EMOTIONS = ("anger", "disgust", "fear", "joy", "sadness", "surprise")
PACKAGE = "emotionroi_ex"
DATASET = "EmotionROI"
