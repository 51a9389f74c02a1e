"""utils.to_categorical and utils.normalize."""

from __future__ import annotations

import numpy as np
import pytest

from tensorcore import utils


def test_to_categorical_like_keras():
    one_hot = utils.to_categorical([0, 2, 1, 2])
    assert one_hot.dtype == np.float32 and one_hot.shape == (4, 3)
    np.testing.assert_array_equal(one_hot, np.eye(3, dtype=np.float32)[[0, 2, 1, 2]])
    assert utils.to_categorical(np.array([1, 0], np.uint8), num_classes=5).shape == (2, 5)
    assert utils.to_categorical(np.array([[1], [0]]), num_classes=3).shape == (2, 3)
    assert utils.to_categorical(np.array([[1, 0], [2, 2]])).shape == (2, 2, 3)
    np.testing.assert_array_equal(utils.to_categorical(np.array([1.0, 0.0])),
                                  [[0, 1], [1, 0]])


@pytest.mark.parametrize("labels,kwargs,message", [
    ([0, 5], {"num_classes": 3}, r"labels must be in \[0, 2\].*\[0, 5\]"),
    ([-1, 0], {}, r"\[-1, 0\]"),
    ([0, 1], {"num_classes": 0}, r"num_classes=0"),
])
def test_to_categorical_rejects_bad_labels(labels, kwargs, message):
    with pytest.raises(ValueError, match=message):
        utils.to_categorical(labels, **kwargs)


def test_to_categorical_rejects_fractional_labels():
    with pytest.raises(TypeError, match="non-integral"):
        utils.to_categorical([0.5, 1.0])


def test_normalize_rows():
    x = np.array([[3.0, 4.0], [0.0, 0.0]], np.float32)
    np.testing.assert_allclose(utils.normalize(x), [[0.6, 0.8], [0.0, 0.0]], rtol=1e-6)
    np.testing.assert_allclose(utils.normalize(x, order=1), [[3 / 7, 4 / 7], [0, 0]], rtol=1e-6)
