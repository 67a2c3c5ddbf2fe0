"""Named weight files of the original works: where each comes from and where it is kept.

Every package's ``--pretrained NAME`` resolves here; ``--pretrained PATH`` bypasses the registry. A file is
looked up in the cache folder (``$VISUAL_EMOTION_WEIGHTS``, else ``$XDG_CACHE_HOME/visual-emotion-repro``,
else ``~/.cache/visual-emotion-repro``); when it is not there, the error says in one line which file it is,
where its authors publish it and the exact path to put it at.

    python -m shared_utils.weights list        # one line per entry: name, file, source, cached or not
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class WeightsEntry:
    name: str
    file: str
    what: str
    source: str  # a Google Drive id (``drive:<id>``) or a URL
    cited_in: str  # the original repository and file:line that names it
    package: str
    arch: str
    sha256: str | None = None

    @property
    def url(self) -> str:
        if self.source.startswith("drive:"):
            return f"https://drive.google.com/uc?id={self.source.removeprefix('drive:')}"
        return self.source


_BODILY = "nkegke/deep-affective-bodily-expression-recognition EmoReact/models.py"
_PORT = "Tandon-A/emotic"
_TV = "https://download.pytorch.org/models"
ENTRIES: dict[str, WeightsEntry] = {e.name: e for e in (
    WeightsEntry("affectnet_resnet50", "adjusted_resnet50_best.pth",
                 "ResNet-50 trained on AffectNet, the bodily work's starting point without --shift",
                 "drive:1ePxXSUZkQ6Vtzcs5fZBPXwpMUV5FRkKn", f"{_BODILY}:133-136", "bodily_tsn", "resnet50"),
    WeightsEntry("affectnet_tsm_resnet50", "TSM_adjusted_resnet50_best.pth",
                 "TSM ResNet-50 trained on AffectNet, the bodily work's starting point with --shift",
                 "drive:1I3Q9pOAxiFEteF72HeijC8Ef_8ECef3e", f"{_BODILY}:127-131", "bodily_tsn", "resnet50"),
    WeightsEntry("affectnet_mobilenet_v2", "mobilenet_face.pth",
                 "MobileNetV2 trained on AffectNet, the bodily work's starting point for --arch mobilenet_v2",
                 "drive:1N0QARm9Zt5TiJ8mBkoZjCLlqm5uqVTqa", f"{_BODILY}:160-164", "bodily_tsn", "mobilenet_v2"),
    WeightsEntry("places365_resnet18", "resnet18_places365.pth.tar",
                 "ResNet-18 trained on Places365, the EMOTIC port's context trunk",
                 "http://places2.csail.mit.edu/models_places365/resnet18_places365.pth.tar",
                 f"{_PORT} prepare_models.py:15-19", "emotic_context", "resnet18"),
    WeightsEntry("places365_resnet50", "resnet50_places365.pth.tar",
                 "ResNet-50 trained on Places365, the EMOTIC port's context trunk for --context_model resnet50",
                 "http://places2.csail.mit.edu/models_places365/resnet50_places365.pth.tar",
                 f"{_PORT} prepare_models.py:15-19", "emotic_context", "resnet50"),
    WeightsEntry("imagenet_resnet18", "resnet18-f37072fd.pth",
                 "torchvision's ImageNet ResNet-18 (IMAGENET1K_V1), the EMOTIC port's body trunk",
                 f"{_TV}/resnet18-f37072fd.pth", f"{_PORT} prepare_models.py:49, Colab_train_emotic.ipynb cell 20",
                 "emotic_context", "resnet18"),
    WeightsEntry("imagenet_resnet50", "resnet50-0676ba61.pth",
                 "torchvision's ImageNet ResNet-50 (IMAGENET1K_V1), the EMOTIC port's body trunk for resnet50",
                 f"{_TV}/resnet50-0676ba61.pth", f"{_PORT} prepare_models.py:49", "emotic_context", "resnet50"),
)}


def cache_dir() -> Path:
    if os.environ.get("VISUAL_EMOTION_WEIGHTS"):
        return Path(os.environ["VISUAL_EMOTION_WEIGHTS"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "visual-emotion-repro"


def entry(name: str) -> WeightsEntry:
    if name not in ENTRIES:
        raise SystemExit(f"error: no weights named {name!r}; known: {', '.join(sorted(ENTRIES))} "
                         "(or pass a file path)")
    return ENTRIES[name]


def resolve(name: str, label: str | None = None, option: str | None = None) -> Path:
    """The local file of entry ``name``; a one-line error saying where to put it when it is missing.
    ``label`` starts the message (default: the entry's name); ``option`` is the flag that also takes a path."""
    item = entry(name)
    path = cache_dir() / item.file
    if not path.is_file():
        alternative = f", or pass {option} PATH" if option else ""
        raise SystemExit(f"error: {label or name}: {item.file} ({item.what}) is not at {path}; download it from "
                         f"{item.url} and put it there (or set VISUAL_EMOTION_WEIGHTS to its folder{alternative})")
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["list"])
    parser.parse_args(argv)
    folder = cache_dir()
    print(f"cache folder: {folder}")
    for item in ENTRIES.values():
        state = "cached" if (folder / item.file).is_file() else "not cached"
        print(f"{item.name:24s} {item.file:32s} {item.package}/{item.arch:12s} {item.url}  ({item.cited_in}) "
              f"[{state}]")


if __name__ == "__main__":
    main()
