"""Named weight files of the original works: where each comes from, its hash, and where it is kept.

Every package's ``--pretrained NAME`` resolves here; ``--pretrained PATH`` bypasses the registry. Files live in
the cache folder (``$VISUAL_EMOTION_WEIGHTS``, else ``$XDG_CACHE_HOME/visual-emotion-repro``, else
``~/.cache/visual-emotion-repro``). A missing file is downloaded (gdown for Google Drive, torch.hub's downloader
for URLs, with a progress bar) unless ``VISUAL_EMOTION_OFFLINE=1``; offline or on any download error the message
names the entry, the file, its address and the exact path to put it at by hand. A file's sha256 is checked: the
known one, else the one recorded on its first download (``sha256.json`` in the cache folder), or for
torchvision's files the hash prefix in their names. A downloaded file that fails the check is removed and
reported; a file placed by hand that fails it is reported and left alone.

    python -m shared_utils.weights list          # one line per entry: name, file, source, cached or not
    python -m shared_utils.weights fetch NAME    # download into the cache (or say where to put it)
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from shared_utils.cli import ArgumentParser
from shared_utils.files import make_folder

DRIVE_URL = "https://drive.google.com/uc?id={}"
HASHES_FILE = "sha256.json"


REPO_ROOT = Path(__file__).resolve().parents[1]


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
    def in_repository(self) -> Path | None:
        """Weights that ship inside this repository (``repo:<path>``): no download, checked against the manifest."""
        return REPO_ROOT / self.source.removeprefix("repo:") if self.source.startswith("repo:") else None

    @property
    def url(self) -> str:
        if self.in_repository is not None:
            return str(self.in_repository)
        if self.source.startswith("drive:"):
            return DRIVE_URL.format(self.source.removeprefix("drive:"))
        return self.source

    @property
    def hash_prefix(self) -> str | None:
        """torchvision's files carry the first hex digits of their sha256 in their names (``resnet18-f37072fd``)."""
        match = re.search(r"-([0-9a-f]{8,})\.pth$", self.file)
        return match.group(1) if match and self.source.startswith("https://download.pytorch.org/") else None


_BODILY = "nkegke/deep-affective-bodily-expression-recognition EmoReact/models.py"
_PORT = "Tandon-A/emotic"
_TV = "https://download.pytorch.org/models"
_KAHSOLT = "Kahsolt/EmotionROI-ex"
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
                 "torchvision's ImageNet ResNet-50 (IMAGENET1K_V1), the EMOTIC port's body trunk for resnet50 and "
                 "a backbone start for emotionroi_ex's fcn_resnet50",
                 f"{_TV}/resnet50-0676ba61.pth", f"{_PORT} prepare_models.py:49", "emotic_context", "resnet50"),
    WeightsEntry("imagenet_resnet50_v2", "resnet50-11ad3fa6.pth",
                 "torchvision's ImageNet ResNet-50 (IMAGENET1K_V2 = ResNet50_Weights.DEFAULT), Kahsolt's map "
                 "classifier start", f"{_TV}/resnet50-11ad3fa6.pth", f"{_KAHSOLT} train_RIO_clf.py:29",
                 "emotionroi_ex", "resnet50"),
    WeightsEntry("imagenet_alexnet", "alexnet-owt-7be5be79.pth",
                 "torchvision's ImageNet AlexNet, the trunk start of the paper's FCN-32s recipe",
                 f"{_TV}/alexnet-owt-7be5be79.pth", "Peng et al. ICIP 2016 (FCN-32s AlexNet)", "emotionroi_ex",
                 "alexnet"),
    WeightsEntry("fer2013_se_resnet18", "fer2013_se_resnet18.pt",
                 "SE-ResNet-18 width 32 trained for this repository on FER2013, the default of fer_seresnet's predict "
                 "and evaluate (fp16; scores and command in MANIFEST.json)",
                 "repo:fer_seresnet/models/fer2013_se_resnet18.pt",
                 "this repository, fer_seresnet/models/MANIFEST.json", "fer_seresnet", "se_resnet18"),
    WeightsEntry("fer2013_se_cnn", "fer2013_se_cnn.pt",
                 "SE-CNN width 16 trained for this repository on FER2013 (fp16; scores and command in MANIFEST.json)",
                 "repo:fer_seresnet/models/fer2013_se_cnn.pt", "this repository, fer_seresnet/models/MANIFEST.json",
                 "fer_seresnet", "se_cnn"),
    WeightsEntry("fcn_resnet50_coco", "fcn_resnet50_coco-1167a1af.pth",
                 "torchvision's fcn_resnet50 (COCO_WITH_VOC_LABELS_V1), Kahsolt's FCNEL / EmoFCNEL start",
                 f"{_TV}/fcn_resnet50_coco-1167a1af.pth", f"{_KAHSOLT} train_FCNEL.py:58", "emotionroi_ex",
                 "fcn_resnet50"),
)}
# The EMOTIC port publishes its trained models and thresholds as one Google Drive folder (README.md:79), not as
# files with their own ids: convert them with python -m emotic_context.convert_port after downloading by hand.


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


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _recorded(folder: Path) -> dict[str, str]:
    path = folder / HASHES_FILE
    return json.loads(path.read_text()) if path.is_file() else {}


def _record(folder: Path, file: str, digest: str) -> None:
    from shared_utils.files import atomic_write_text

    hashes = {**_recorded(folder), file: digest}
    atomic_write_text(folder / HASHES_FILE, json.dumps(hashes, indent=1, sort_keys=True) + "\n")


def check_hash(item: WeightsEntry, path: Path) -> str | None:
    """None when ``path`` matches the entry's known, recorded or name-embedded hash; else the problem."""
    digest = sha256_of(path)
    expected = item.sha256 or _recorded(path.parent).get(item.file)
    if expected and digest != expected:
        return f"sha256 {digest[:16]}... differs from the expected {expected[:16]}..."
    if item.hash_prefix and not digest.startswith(item.hash_prefix):
        return f"sha256 {digest[:16]}... does not start with {item.hash_prefix}, as its file name says it must"
    return None


def _where(item: WeightsEntry, path: Path, option: str | None) -> str:
    alternative = f", or pass {option} PATH" if option else ""
    return (f"download {item.url} by hand and put it at {path} (or set VISUAL_EMOTION_WEIGHTS to its folder"
            f"{alternative})")


def _download(item: WeightsEntry, target: Path, progress: bool) -> None:
    if item.source.startswith("drive:"):
        import gdown

        if gdown.download(url=item.url, output=str(target), quiet=not progress) is None:
            raise RuntimeError("gdown could not download it")
    else:
        import torch

        torch.hub.download_url_to_file(item.url, str(target), progress=progress)


def fetch(name: str, label: str | None = None, option: str | None = None, progress: bool = True) -> Path:
    """The entry's file in the cache, downloaded first when it is missing (not when VISUAL_EMOTION_OFFLINE=1)."""
    item = entry(name)
    label = label or f"weights {name}"
    if item.in_repository is not None:
        return _shipped_file(item, label)
    folder = cache_dir()
    path = folder / item.file
    if not path.is_file():
        if os.environ.get("VISUAL_EMOTION_OFFLINE") == "1":
            raise SystemExit(f"error: {label}: {item.file} ({item.what}) is not at {path} and downloads are off "
                             f"(VISUAL_EMOTION_OFFLINE=1); {_where(item, path, option)}")
        make_folder(folder)
        partial = folder / f".{item.file}.partial"
        try:
            _download(item, partial, progress)
        except BaseException as exc:
            partial.unlink(missing_ok=True)
            if isinstance(exc, KeyboardInterrupt):
                raise
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise SystemExit(f"error: {label}: could not download {item.file} ({item.what}) from {item.url}: "
                             f"{reason[:200]}; {_where(item, path, option)}") from None
        problem = check_hash(item, partial)
        if problem:
            partial.unlink()
            raise SystemExit(f"error: {label}: the downloaded {item.file} was removed: {problem}; "
                             f"{_where(item, path, option)}")
        if not (item.sha256 or _recorded(folder).get(item.file)):
            _record(folder, item.file, sha256_of(partial))
        os.replace(partial, path)
        return path
    problem = check_hash(item, path)
    if problem:
        raise SystemExit(f"error: {label}: {path}: {problem} (the file was left as it is: replace it with the "
                         f"original from {item.url})")
    return path


def _shipped_file(item: WeightsEntry, label: str) -> Path:
    path = item.in_repository
    manifest = path.parent / "MANIFEST.json"
    if not path.is_file() or not manifest.is_file():
        raise SystemExit(f"error: {label}: {path} (or its MANIFEST.json) is missing from this checkout; "
                         "restore it with git (git checkout -- fer_seresnet/models)")
    expected = json.loads(manifest.read_text()).get(path.name, {}).get("sha256")
    digest = sha256_of(path)
    if digest != expected:
        raise SystemExit(f"error: {label}: {path}: sha256 {digest[:16]}... is not the {str(expected)[:16]}... its "
                         f"{manifest.name} records; restore it with git")
    return path


def local_file(value: str | Path | None, option: str) -> Path | None:
    """What a ``--pretrained``-style option names: None for nothing or ``none`` (random init), a registry entry's
    cached (or fetched) file for its name, else the path as given."""
    if value is None or str(value).lower() == "none":
        return None
    if str(value) in ENTRIES:
        return fetch(str(value), f"{option} {value}", option)
    return Path(value)


def main(argv: list[str] | None = None) -> None:
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="one line per entry")
    fetch_parser = sub.add_parser("fetch", help="download an entry into the cache folder")
    fetch_parser.add_argument("name", choices=sorted(ENTRIES))
    args = parser.parse_args(argv)
    folder = cache_dir()
    if args.command == "fetch":
        print(fetch(args.name))
        return
    print(f"cache folder: {folder}")
    for item in ENTRIES.values():
        here = item.in_repository
        state = ("in repository" if here.is_file() else "missing") if here else (
            "cached" if (folder / item.file).is_file() else "not cached")
        print(f"{item.name:24s} {item.file:32s} {item.package}/{item.arch:12s} {item.url}  ({item.cited_in}) "
              f"[{state}]")


if __name__ == "__main__":
    main()
