"""Zero-copy interop: DLPack with NumPy and PyTorch, and NumPy's __array_interface__."""

from __future__ import annotations

import numpy as np
import pytest

import tensorcore as tc

DTYPES = [np.float32, np.float64, np.int32, np.int64]


def _base(dtype) -> np.ndarray:
    return np.arange(6 * 8, dtype=dtype).reshape(6, 8)


def _views(dtype):
    """(name, tensor) pairs: a contiguous tensor and several strided views of one."""
    base = tc.from_numpy(_base(dtype))
    return [
        ("contiguous", base),
        ("sliced", base[1:5, ::2]),
        ("transposed", base.T),
        ("column", base[:, 3]),
        ("reversed", tc.from_numpy(base.numpy()[::-1, ::-3])),
    ]


def _same_buffer(x: np.ndarray, y: np.ndarray) -> bool:
    return x.__array_interface__["data"][0] == y.__array_interface__["data"][0] and \
        x.strides == y.strides and x.shape == y.shape


@pytest.mark.parametrize("dtype", DTYPES)
def test_dlpack_numpy_round_trip_shares_memory(dtype):
    for name, t in _views(dtype):
        exported = np.from_dlpack(t)
        assert _same_buffer(exported, t.numpy()), name
        back = tc.from_dlpack(exported)
        assert _same_buffer(back.numpy(), t.numpy()), name
        np.testing.assert_array_equal(back.numpy(), t.numpy())
    # writes through one side are seen by the other
    t = tc.from_numpy(_base(dtype))
    view = t[1:5, ::2]
    np.from_dlpack(view)[0, 0] = 99
    assert t.numpy()[1, 0] == 99
    imported = tc.from_dlpack(t.numpy()[::2])
    imported.numpy()[0, 1] = 7
    assert t.numpy()[0, 1] == 7


def test_dlpack_bool_and_device():
    mask = tc.from_numpy(np.array([[True, False, True], [False, True, True]]))
    assert mask.__dlpack_device__() == (1, 0)
    np.testing.assert_array_equal(np.from_dlpack(mask[:, ::2]), mask.numpy()[:, ::2])


@pytest.mark.parametrize("dtype", DTYPES)
def test_dlpack_torch_round_trip_shares_memory(dtype):
    torch = pytest.importorskip("torch")
    for name, t in _views(dtype):
        if any(s < 0 for s in t.numpy().strides):
            continue  # PyTorch tensors cannot hold negative strides
        as_torch = torch.from_dlpack(t)
        assert as_torch.data_ptr() == t.numpy().__array_interface__["data"][0], name
        assert tuple(as_torch.shape) == t.shape
        assert tuple(s * t.numpy().itemsize for s in as_torch.stride()) == t.numpy().strides
        back = tc.from_dlpack(as_torch)
        assert _same_buffer(back.numpy(), t.numpy()), name
    # torch -> tensorcore, strided, then mutate through tensorcore
    source = torch.arange(40, dtype=torch.float32).reshape(5, 8)
    view = tc.from_dlpack(source[:, 1::3])
    assert view.shape == (5, 3)
    assert view.numpy().__array_interface__["data"][0] == source[:, 1::3].data_ptr()
    view.numpy()[2, 1] = -1.0
    assert source[2, 4].item() == -1.0
    np.testing.assert_array_equal((view * 2).numpy(), source[:, 1::3].numpy() * 2)


@pytest.mark.parametrize("dtype", DTYPES + [np.bool_])
def test_array_interface_is_zero_copy_for_strided_views(dtype):
    data = _base(np.int64) % 3 == 1 if dtype is np.bool_ else _base(dtype)
    base = tc.from_numpy(data)
    for view in (base, base[1:5, ::2], base.T, base[:, 3], base[::-1]):
        info = view.__array_interface__
        assert info["shape"] == view.shape
        seen = np.asarray(view)
        assert _same_buffer(seen, view.numpy())
        assert info["data"][0] == view.numpy().__array_interface__["data"][0]
        # through the protocol only (a plain object exposing just the interface)
        holder = type("Holder", (), {"__array_interface__": info})()
        via_interface = np.asarray(holder)
        assert _same_buffer(via_interface, view.numpy())
        np.testing.assert_array_equal(via_interface, view.numpy())
