"""Every package's demo generator writes only into a new or empty folder, or one it made itself: pointed at a
user's data root it refuses in one line and touches nothing."""

from __future__ import annotations

import hashlib

import pytest


def _generators():
    from bodily_tsn.demo_data import make_demo_dataset
    from emotic_context.demo_data import generate
    from emotionroi_ex.demo_data import write_demo_dataset
    from fer_seresnet.demo_data import write_demo

    return {
        "emotionroi_ex": lambda out: write_demo_dataset(out, per_class=2, size_range=(48, 56)),
        "bodily_tsn": lambda out: make_demo_dataset(out, {"train": 2, "val": 1, "test": 1}, show_progress=False),
        "emotic_context": lambda out: generate(out, {"train": 4, "val": 2, "test": 2}),
        "fer_seresnet": lambda out: write_demo(out),
    }


def _snapshot(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("package", ["emotionroi_ex", "bodily_tsn", "emotic_context", "fer_seresnet"])
def test_generator_never_touches_a_users_folder(package, tmp_path):
    generate = _generators()[package]
    users = tmp_path / "data"
    (users / "other_dataset").mkdir(parents=True)
    (users / "other_dataset" / "labels.csv").write_text("a user's labels\n")
    (users / "fer2013new.csv").write_text("Usage,Image name\n")
    before = _snapshot(users)
    with pytest.raises(SystemExit, match=r"data is not empty and was not made by .*demo_data .*left untouched"):
        generate(users)
    assert _snapshot(users) == before and sorted(p.name for p in tmp_path.iterdir()) == ["data"]
    # a new folder, and the same folder again (it is the generator's own now)
    ours = tmp_path / "demo"
    generate(ours)
    assert (ours / "DEMO_DATA.txt").is_file()
    generate(ours)
    assert (ours / "DEMO_DATA.txt").is_file()


def test_data_kind_comes_from_the_data(tmp_path):
    """A generator's marker (in the data folder or a few above) makes data demo; there is no option to say
    otherwise (the trainers have no --data-kind flag)."""
    from shared_utils.files import DEMO_MARKER, resolve_data_kind

    real = tmp_path / "real" / "fer2013"
    real.mkdir(parents=True)
    (real / "fer2013.csv").write_text("emotion,pixels,Usage\n")
    assert resolve_data_kind(real) == resolve_data_kind(real / "fer2013.csv") == "real"
    demo = tmp_path / "demo" / "rafdb" / "basic"
    demo.mkdir(parents=True)
    (tmp_path / "demo" / DEMO_MARKER).write_text("made by a generator\n")
    assert resolve_data_kind(demo) == resolve_data_kind(demo / "EmoLabel") == "demo"
    deep = tmp_path / "demo" / "a" / "b" / "c" / "d"  # more than three folders below the marker: not found
    deep.mkdir(parents=True)
    assert resolve_data_kind(deep) == "real"
    for module, name in (("fer_seresnet.options", "train_parser"), ("emotionroi_ex.options", "train_roi_clf_parser"),
                         ("emotic_context.options", "main_parser")):
        parser = getattr(__import__(module, fromlist=[name]), name)()
        assert not any(a.dest == "data_kind" for a in parser._actions), module
