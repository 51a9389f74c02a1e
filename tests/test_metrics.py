"""Metrics vs hand-computed values; update_state / result / reset_state; name resolution."""

from __future__ import annotations

import numpy as np
import pytest

from tensorcore import metrics

# Every test here runs on both backends (the `backend` fixture of conftest.py).
pytestmark = pytest.mark.usefixtures("backend")

PROBS = np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.2, 0.6], [0.3, 0.4, 0.3]],
                 np.float32)
LABELS = np.array([1, 2, 2, 0])
ONE_HOT = np.eye(3, dtype=np.float32)[LABELS]


def test_categorical_and_sparse_accuracy_functions():
    np.testing.assert_array_equal(metrics.categorical_accuracy(ONE_HOT, PROBS).numpy(),
                                  [1, 0, 1, 0])
    np.testing.assert_array_equal(metrics.sparse_categorical_accuracy(LABELS, PROBS).numpy(),
                                  [1, 0, 1, 0])
    column = LABELS.reshape(-1, 1).astype(np.float32)
    np.testing.assert_array_equal(metrics.sparse_categorical_accuracy(column, PROBS).numpy(),
                                  [1, 0, 1, 0])


def test_binary_accuracy_threshold():
    y_true = np.array([[1], [0], [1], [0]], np.float32)
    y_pred = np.array([[0.9], [0.6], [0.4], [0.1]], np.float32)
    np.testing.assert_array_equal(metrics.binary_accuracy(y_true, y_pred).numpy(),
                                  [1, 0, 0, 1])
    metric = metrics.BinaryAccuracy(threshold=0.3)
    metric.update_state(y_true, y_pred)
    assert metric.result() == pytest.approx(0.75)


def test_metric_state_accumulates_over_batches_and_resets():
    metric = metrics.CategoricalAccuracy()
    metric.update_state(ONE_HOT[:2], PROBS[:2])
    assert metric.result() == pytest.approx(0.5)
    metric.update_state(ONE_HOT[2:3], PROBS[2:3])
    assert metric.result() == pytest.approx(2 / 3)
    metric.reset_state()
    assert metric.result() == 0.0


def test_mae_metric_and_mean():
    metric = metrics.get("mae")
    metric.update_state(np.array([[1.0], [2.0]], np.float32), np.array([[2.0], [4.0]], np.float32))
    assert metric.result() == pytest.approx(1.5) and metric.name == "mae"
    mean = metrics.Mean()
    mean.update_state(2.0, sample_weight=3)
    mean.update_state(4.0, sample_weight=1)
    assert mean.result() == pytest.approx(2.5)


@pytest.mark.parametrize("loss,expected", [
    ("categorical_crossentropy", metrics.CategoricalAccuracy),
    ("sparse_categorical_crossentropy", metrics.SparseCategoricalAccuracy),
    ("binary_crossentropy", metrics.BinaryAccuracy),
])
def test_accuracy_is_resolved_from_the_loss_and_keeps_its_name(loss, expected):
    metric = metrics.get("accuracy", loss_name=loss)
    assert isinstance(metric, expected) and metric.name == "accuracy"
    assert metrics.get("acc", loss_name=loss).name == "acc"


def test_accuracy_for_other_losses_is_chosen_from_shapes():
    metric = metrics.get("accuracy", loss_name="mean_squared_error")
    metric.update_state(LABELS, PROBS)
    assert metric.result() == pytest.approx(0.5)
    binary = metrics.get("accuracy", loss_name=None)
    binary.update_state(np.array([[1.0], [0.0]], np.float32),
                        np.array([[0.8], [0.7]], np.float32))
    assert binary.result() == pytest.approx(0.5)


def test_unknown_metric():
    with pytest.raises(ValueError, match="Unknown metric: 'f7'"):
        metrics.get("f7")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_argmax_hits_kernel_matches_argmax_compare(dtype):
    """The backend's one-pass accuracy count equals NumPy's first-argmax comparison: ties
    take the first index, a row's first NaN is its argmax (like tc.argmax)."""
    from tensorcore import backend as tc_backend
    rng = np.random.default_rng(5)
    for rows, cols in [(1, 1), (7, 3), (128, 10), (300, 17)]:
        a = rng.integers(0, 3, (rows, cols)).astype(dtype)    # many ties
        b = rng.integers(0, 3, (rows, cols)).astype(dtype)
        a[::5, cols // 2] = np.nan
        b[::7, -1] = np.nan
        b[3::11, 0] = np.nan
        expected = int(np.sum(_first_argmax(a) == _first_argmax(b)))
        assert tc_backend.current().argmax_hits(a, b) == expected
        assert tc_backend.current().argmax_hits(a, a) == rows


def _first_argmax(a):
    """NumPy oracle: first max per row, the first NaN winning."""
    nan = np.isnan(a)
    return np.where(nan.any(axis=1), nan.argmax(axis=1), np.nanargmax(
        np.where(nan, -np.inf, a), axis=1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_categorical_accuracy_one_pass_equals_composite(dtype):
    """CategoricalAccuracy's one-kernel update (2-D float, unweighted) gives the state of
    the argmax / compare / sum path of MeanMetricWrapper, batch after batch."""
    from tensorcore.metrics.base import MeanMetricWrapper
    import tensorcore as tc
    rng = np.random.default_rng(9)
    fast, composite = metrics.CategoricalAccuracy(), metrics.CategoricalAccuracy()
    for rows in (1, 5, 128):
        y_true = np.eye(4, dtype=dtype)[rng.integers(0, 4, rows)]
        y_pred = rng.integers(0, 3, (rows, 4)).astype(dtype)
        y_pred[0, 1] = np.nan
        fast.update_state(y_true, tc.from_numpy(y_pred))
        MeanMetricWrapper.update_state(composite, y_true, y_pred)
        assert (fast.total, fast.count) == (composite.total, composite.count)
    # weighted, mixed-dtype, 3-D and mismatched batches keep the composite path
    weights = np.array([2.0, 0.0, 1.0, 1.0], np.float32)
    fast.reset_state()
    fast.update_state(ONE_HOT, PROBS, sample_weight=weights)
    assert fast.result() == pytest.approx(3 / 4)
    fast.reset_state()
    fast.update_state(ONE_HOT.astype(np.float64), PROBS)
    assert fast.result() == pytest.approx(0.5)
    fast.reset_state()
    fast.update_state(ONE_HOT[None], PROBS[None])
    assert fast.result() == pytest.approx(0.5)
    with pytest.raises(ValueError):
        fast.update_state(ONE_HOT[:3], PROBS)


def test_batch_of_one_sample_with_a_sample_weight():
    # fit/evaluate with sample_weight and a last batch of one sample: the metric got
    # per-sample values of shape (1,) with a weight array of shape (1,), and
    # float(weight) raised TypeError (NumPy 2), crashing the epoch.
    metric = metrics.CategoricalAccuracy()
    metric.update_state(ONE_HOT[:2], PROBS[:2], sample_weight=np.array([1.0, 3.0]))
    metric.update_state(ONE_HOT[2:3], PROBS[2:3], sample_weight=np.array([2.0]))
    assert metric.result() == pytest.approx((1.0 + 2.0) / 6.0)
    mean = metrics.Mean()
    mean.update_state(np.float32(2.0), sample_weight=np.array([[3.0]]))
    assert mean.result() == pytest.approx(2.0) and mean.count == 3.0
    with pytest.raises(ValueError, match="sample_weight of shape"):
        mean.update_state(2.0, sample_weight=np.array([1.0, 2.0]))
