"""The accuracy-vs-time figure: one curve per run, the seeds of one network in one colour and one legend entry."""

from __future__ import annotations

import pytest

from fer_seresnet import curve


def _summary(path, minutes_and_accuracy):
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = ["epoch,val_accuracy,elapsed_seconds"]
    rows += [f"{epoch},{accuracy},{minutes * 60}" for epoch, (minutes, accuracy) in enumerate(minutes_and_accuracy, 1)]
    path.write_text("\n".join(rows) + "\n")
    return str(path)


@pytest.fixture
def drawn_figures(monkeypatch):
    """The figures curve.main draws, kept open for the test to read."""
    figures = []
    monkeypatch.setattr(curve.plt, "close", figures.append)
    return figures


def test_runs_with_one_label_share_a_colour_and_a_legend_entry(tmp_path, drawn_figures):
    runs = [_summary(tmp_path / name / "summary.csv", points) for name, points in [
        ("cnn_seed0", [(1, 0.4), (2, 0.5)]), ("se_cnn_seed0", [(1, 0.3), (3, 0.45)]),
        ("cnn_seed1", [(1.5, 0.42), (2.5, 0.55)])]]
    out = curve.main([*runs, "--labels", "CNN", "SE-CNN", "CNN", "--out", str(tmp_path / "figure" / "curve.png")])
    assert out.is_file() and out.stat().st_size > 0
    [ax] = drawn_figures[0].axes
    lines = ax.get_lines()
    assert [line.get_ydata()[1:].tolist() for line in lines] == [[0.4, 0.5], [0.3, 0.45], [0.42, 0.55]]
    assert lines[0].get_xdata()[1:].tolist() == [1.0, 2.0]  # minutes from elapsed_seconds
    assert lines[0].get_color() == lines[2].get_color() != lines[1].get_color()
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["CNN", "SE-CNN"]


def test_unlabelled_runs_are_told_apart_by_their_run_folders(tmp_path, drawn_figures):
    runs = [_summary(tmp_path / name / "summary.csv", [(1, 0.4)]) for name in ("run_a", "run_b")]
    curve.main([*runs, "--out", str(tmp_path / "curve.png")])
    [ax] = drawn_figures[0].axes
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["run_a", "run_b"]
    assert ax.get_lines()[0].get_color() != ax.get_lines()[1].get_color()


def test_a_summary_without_the_columns_is_refused_by_name(tmp_path):
    bad = tmp_path / "summary.csv"
    bad.write_text("epoch,train_loss\n1,0.5\n")
    with pytest.raises(SystemExit, match="needs elapsed_seconds and val_accuracy"):
        curve.main([str(bad), "--out", str(tmp_path / "c.png")])
    assert not (tmp_path / "c.png").exists()
