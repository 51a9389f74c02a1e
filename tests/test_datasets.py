"""datasets.mnist: the bundled file, user paths, and clear errors for bad files."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from tensorcore.datasets import mnist


@pytest.fixture(scope="module")
def bundled():
    return mnist.load_data()


def test_bundled_mnist_has_keras_layout(bundled):
    (x_train, y_train), (x_test, y_test) = bundled
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (60000,) and y_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28) and x_test.dtype == np.uint8
    assert y_test.shape == (10000,) and y_test.dtype == np.uint8
    # The first labels of the original files.
    np.testing.assert_array_equal(y_train[:10], [5, 0, 4, 1, 9, 2, 1, 3, 1, 4])
    np.testing.assert_array_equal(y_test[:10], [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
    assert x_train[0].max() == 255 and x_train[0, 0, 0] == 0


def test_load_from_user_path(tmp_path, bundled):
    (x_train, y_train), (x_test, y_test) = bundled
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    (a, b), (c, d) = mnist.load_data(path=str(path))
    np.testing.assert_array_equal(b, y_train)
    np.testing.assert_array_equal(c, x_test)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        mnist.load_data(path=tmp_path / "nope.npz")


def test_truncated_file(tmp_path):
    source = mnist.BUNDLED_PATH.read_bytes()
    path = tmp_path / "cut.npz"
    path.write_bytes(source[: len(source) // 2])
    with pytest.raises(ValueError, match="cut.npz"):
        mnist.load_data(path=path)


def test_foreign_and_wrong_shape_files(tmp_path):
    foreign = tmp_path / "foreign.npz"
    with zipfile.ZipFile(foreign, "w") as archive:
        archive.writestr("hello.txt", "not mnist")
    with pytest.raises(ValueError, match="missing keys"):
        mnist.load_data(path=foreign)
    wrong = tmp_path / "wrong.npz"
    small = np.zeros((10, 28, 28), np.uint8)
    np.savez(wrong, x_train=small, y_train=np.zeros(10, np.uint8), x_test=small,
             y_test=np.zeros(10, np.uint8))
    with pytest.raises(ValueError, match=r"x_train with shape \(10, 28, 28\)"):
        mnist.load_data(path=wrong)


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "objects.npz"
    objects = np.empty(2, dtype=object)
    np.savez(path, x_train=objects, y_train=objects, x_test=objects, y_test=objects)
    with pytest.raises(ValueError, match="objects.npz"):
        mnist.load_data(path=path)
