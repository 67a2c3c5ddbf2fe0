"""Every metric against an independent computation (scikit-learn, SciPy, OpenCV or by hand)."""

import cv2
import numpy as np
import pytest
import scipy.stats
from sklearn import metrics as skm

from shared_utils import metrics

RNG = np.random.default_rng(0)


@pytest.fixture
def labels():
    y_true = RNG.integers(0, 5, size=300)
    y_pred = np.where(RNG.random(300) < 0.6, y_true, RNG.integers(0, 5, size=300))
    return y_true, y_pred


def test_classification_metrics_match_sklearn(labels):
    y_true, y_pred = labels
    assert metrics.accuracy(y_true, y_pred) == pytest.approx(skm.accuracy_score(y_true, y_pred))
    np.testing.assert_array_equal(metrics.confusion_matrix(y_true, y_pred, 5),
                                  skm.confusion_matrix(y_true, y_pred, labels=range(5)))
    np.testing.assert_allclose(metrics.per_class_recall(y_true, y_pred, 5),
                               skm.recall_score(y_true, y_pred, labels=range(5), average=None))
    assert metrics.macro_f1(y_true, y_pred, 5) == pytest.approx(skm.f1_score(y_true, y_pred, average="macro"))


def test_recall_of_absent_class_is_nan_and_macro_f1_skips_it():
    y_true = np.array([0, 0, 1, 1, 2])
    y_pred = np.array([0, 1, 1, 1, 2])
    recall = metrics.per_class_recall(y_true, y_pred, 4)
    assert np.isnan(recall[3]) and recall[0] == 0.5
    assert metrics.macro_f1(y_true, y_pred, 4) == pytest.approx(skm.f1_score(y_true, y_pred, average="macro"))
    summary = metrics.classification_summary(y_true, y_pred, ["a", "b", "c", "d"])
    assert summary["recall/d"] is None and summary["recall/b"] == 1.0
    assert metrics.majority_class([2, 2, 1, 0, 2], 3) == 2


def test_confusion_matrix_rejects_out_of_range_labels():
    with pytest.raises(ValueError, match="outside 0..2"):
        metrics.confusion_matrix([0, 3], [0, 1], 3)


def test_multilabel_auc_and_ap_match_sklearn():
    y = (RNG.random((200, 6)) < 0.3).astype(int)
    scores = y * 0.3 + RNG.random((200, 6))
    names = [f"l{i}" for i in range(6)]
    auc = metrics.multilabel_roc_auc(y, scores, names)
    assert auc["micro"] == pytest.approx(skm.roc_auc_score(y, scores, average="micro"))
    assert auc["macro"] == pytest.approx(skm.roc_auc_score(y, scores, average="macro"))
    assert auc["per_label"]["l2"] == pytest.approx(skm.roc_auc_score(y[:, 2], scores[:, 2]))
    ap = metrics.average_precision_per_label(y, scores, names)
    np.testing.assert_allclose(list(ap.values()), skm.average_precision_score(y, scores, average=None))
    assert metrics.mean_average_precision(y, scores, names) == pytest.approx(
        skm.average_precision_score(y, scores, average="macro"))


def test_label_with_single_class_is_undefined_not_a_crash():
    y = (RNG.random((50, 3)) < 0.5).astype(int)
    y[:, 1] = 0  # no positive for label 1 in this split
    scores = RNG.random((50, 3))
    with pytest.warns(UserWarning, match="undefined.*b"):
        auc = metrics.multilabel_roc_auc(y, scores, ["a", "b", "c"])
    assert auc["per_label"]["b"] is None and auc["undefined"] == ["b"]
    expected_macro = np.mean([skm.roc_auc_score(y[:, j], scores[:, j]) for j in (0, 2)])
    assert auc["macro"] == pytest.approx(expected_macro)
    assert metrics.average_precision_per_label(y, scores, ["a", "b", "c"])["b"] is None


def test_mae_per_dimension_by_hand():
    out = metrics.mae_per_dimension([[1, 5, 9], [3, 5, 1]], [[2, 5, 7], [3, 1, 1]], ["V", "A", "D"])
    assert out == {"V": 0.5, "A": 2.0, "D": 1.0, "mean": pytest.approx(3.5 / 3)}


def test_stimuli_map_mae_by_hand():
    gt = np.array([[0, 255], [255, 0]], dtype=np.uint8)
    pred = np.array([[0.0, 0.5], [1.0, 0.25]])
    assert metrics.stimuli_map_mae(pred, gt) == pytest.approx((0 + 0.5 + 0 + 0.25) / 4)
    # the paper's MAE never rescales: a constant map scores its distance, a raised floor counts
    assert metrics.stimuli_map_mae(np.full((2, 2), 0.5), gt) == pytest.approx(0.5)
    floor_gt = np.array([[34, 255], [255, 34]], dtype=np.uint8)  # two annotators marked the whole image
    assert metrics.stimuli_map_mae(gt, floor_gt) == pytest.approx(2 * 34 / 255 / 4)
    # the old stretched score called this map perfect (0): the paper's MAE does not
    assert metrics.stimuli_map_mae(gt / 255 * 0.3 + 0.1, gt / 255) == pytest.approx((0.1 + 0.6 + 0.6 + 0.1) / 4)
    # a regression output is clamped to [0, 1] before scoring; a ground truth outside [0, 1] is refused
    assert metrics.stimuli_map_mae(np.array([[-2.0, 3.0], [1.0, -0.1]]), gt) == 0
    with pytest.raises(ValueError, match="ground-truth map: float values must lie in"):
        metrics.stimuli_map_mae(pred, np.array([[0, 255.0], [255, 0]]))
    with pytest.raises(ValueError, match="dtype int64"):
        metrics.stimuli_map_mae(pred, gt.astype(np.int64))
    with pytest.raises(ValueError, match="differ in size"):
        metrics.stimuli_map_mae(np.zeros((3, 3)), gt)


def test_map_scores_scale_invariance_as_documented():
    gt = RNG.random((12, 12))
    pred = RNG.random((12, 12)) * 0.5
    scaled = pred * 1.8 + 0.05  # still in [0, 1]
    a, b = metrics.stimuli_map_metrics(pred, gt), metrics.stimuli_map_metrics(scaled, gt)
    assert a["mae"] != pytest.approx(b["mae"])  # absolute
    for name in ("precision", "recall", "f_measure", "cc"):  # any increasing affine change
        assert a[name] == pytest.approx(b[name]), name
    c = metrics.stimuli_map_metrics(pred * 1.8, gt)  # a pure scaling: KL and SIM unchanged too
    assert c["kl"] == pytest.approx(a["kl"]) and c["sim"] == pytest.approx(a["sim"])
    assert b["sim"] != pytest.approx(a["sim"])  # but not under an offset


def test_otsu_threshold_matches_opencv():
    for seed in range(5):
        rng = np.random.default_rng(seed)
        image = np.concatenate([rng.normal(60, 15, 500), rng.normal(180, 20, 700)])
        image = np.clip(image, 0, 255).astype(np.uint8)
        image[0], image[1] = 0, 255  # full range so that scaling to [0, 1] keeps the grey levels
        t_cv, _ = cv2.threshold(image.reshape(30, 40), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        # OpenCV: foreground is > t; ours: foreground is >= threshold -> threshold*255 == t_cv + 1
        assert metrics.otsu_threshold(image.reshape(30, 40)) * 255 == pytest.approx(t_cv + 1)


def test_otsu_precision_recall_f_by_hand():
    gt = np.zeros((10, 10))
    gt[:5, :] = 1.0  # top half
    pred = np.zeros((10, 10))
    pred[:, :5] = 1.0  # left half
    p, r, f = metrics.otsu_precision_recall_f(pred, gt)
    assert p == 0.5 and r == 0.5
    assert f == pytest.approx(1.3 * 0.25 / (0.3 * 0.5 + 0.5))


def test_cc_kl_sim_match_scipy_and_hand():
    pred, gt = RNG.random((16, 16)), RNG.random((16, 16))
    assert metrics.correlation_coefficient(pred, gt) == pytest.approx(scipy.stats.pearsonr(pred.ravel(), gt.ravel())[0])
    p, q = gt.ravel() / gt.sum(), pred.ravel() / pred.sum()
    assert metrics.kl_divergence(pred, gt) == pytest.approx(scipy.stats.entropy(p, q), rel=1e-6)
    assert metrics.similarity(pred, gt) == pytest.approx(np.minimum(p, q).sum())
    assert metrics.similarity(gt, gt) == pytest.approx(1.0)
    assert metrics.kl_divergence(gt, gt) == pytest.approx(0.0, abs=1e-9)
    all_scores = metrics.stimuli_map_metrics(pred, gt)
    assert set(all_scores) == {"mae", "precision", "recall", "f_measure", "cc", "kl", "sim"}


def test_scikit_learn_metrics_match_the_counts_they_replaced():
    """The classification metrics are scikit-learn's now: same values as the confusion-matrix formulas they
    replaced, on random labels with a class absent from the targets and one never predicted."""
    rng = np.random.default_rng(0)
    y_true = rng.choice([0, 1, 2, 4], size=300)  # class 3 absent from the targets
    y_pred = rng.choice([0, 1, 2, 3], size=300)  # class 4 never predicted
    counts = np.bincount(y_true * 5 + y_pred, minlength=25).reshape(5, 5)
    assert (metrics.confusion_matrix(y_true, y_pred, 5) == counts).all()
    support, predicted, tp = counts.sum(1), counts.sum(0), np.diag(counts)
    recall = metrics.per_class_recall(y_true, y_pred, 5)
    assert np.isnan(recall[3]) and np.allclose(recall[[0, 1, 2, 4]], (tp / np.maximum(support, 1))[[0, 1, 2, 4]])
    present = (support + predicted) > 0
    assert metrics.macro_f1(y_true, y_pred, 5) == pytest.approx(
        float((2 * tp / np.maximum(support + predicted, 1))[present].mean()))
    assert metrics.accuracy(y_true, y_pred) == pytest.approx(tp.sum() / 300)
    with pytest.raises(ValueError, match="targets outside 0..4"):
        metrics.confusion_matrix([5], [0], 5)


def test_otsu_on_a_float_map_splits_its_two_modes():
    """A float map (the networks' output) is quantised to 256 levels before OpenCV's Otsu: the threshold falls
    between the two modes, and a pixel exactly at it counts as foreground."""
    rng = np.random.default_rng(0)
    low, high = rng.uniform(0.05, 0.25, 600), rng.uniform(0.7, 0.95, 400)
    saliency = np.concatenate([low, high]).reshape(25, 40)
    threshold = metrics.otsu_threshold(saliency)
    scaled = metrics.normalize_map(saliency)
    assert scaled[:15].max() < threshold <= scaled[15:].min()  # rows 0-14 hold the 600 low values
    assert metrics.otsu_threshold(saliency * 7.5 + 3) == threshold  # scale-invariant
