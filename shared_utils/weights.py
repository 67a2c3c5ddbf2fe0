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


def resolve(name: str, option: str = "--pretrained NAME") -> Path:
    """The local file of entry ``name``; a one-line error saying where to put it when it is missing."""
    item = entry(name)
    path = cache_dir() / item.file
    if not path.is_file():
        raise SystemExit(f"error: {option}: {item.file} ({item.what}) is not at {path}; download it from "
                         f"{item.url} and put it there (or set VISUAL_EMOTION_WEIGHTS to its folder, or pass "
                         f"{option.split()[0]} PATH)")
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
