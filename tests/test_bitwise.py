"""Bitwise functions and operators on integer (and bool) tensors, on both backends: values
against NumPy, shift counts outside [0, bits), reflected and in-place forms, errors."""

from __future__ import annotations

import numpy as np
import pytest

import tensorcore as tc

INT_DTYPES = (np.int32, np.int64)


@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_shifts_follow_numpy_for_every_count(backend, dtype):
    """Counts from -70 to 70: inside [0, bits) a plain shift; outside (implementation-defined
    in the standard) 0 for << and the sign fill for >>, as NumPy; nothing is undefined."""
    bits = np.dtype(dtype).itemsize * 8
    x = np.array([1, -1, 5, -7, 123456, np.iinfo(dtype).max, np.iinfo(dtype).min], dtype)
    counts = np.arange(-70, 71, dtype=dtype)
    xs, cs = np.meshgrid(x, counts, indexing="ij")
    tx, tcounts = tc.tensor(xs), tc.tensor(cs)
    left = tc.bitwise_left_shift(tx, tcounts).numpy()
    right = tc.bitwise_right_shift(tx, tcounts).numpy()
    np.testing.assert_array_equal(left, np.left_shift(xs, cs))
    np.testing.assert_array_equal(right, np.right_shift(xs, cs))
    assert left.dtype == dtype and right.dtype == dtype
    inside = (cs >= 0) & (cs < bits)
    assert np.all(right[~inside] == np.where(xs[~inside] < 0, -1, 0))


def test_bitwise_operators_and_reflected_forms(backend):
    a = np.array([[12, -7, 0, 255]], np.int32)
    b = np.array([[10], [3]], np.int64)
    ta, tb = tc.tensor(a), tc.tensor(b)
    cases = ((ta & tb, a & b), (ta | tb, a | b), (ta ^ tb, a ^ b), (ta << 3, a << 3),
             (ta >> tb, a >> b), (6 & ta, 6 & a), (6 | ta, 6 | a), (6 ^ ta, 6 ^ a),
             (1 << tb, 1 << b), (1024 >> tb, 1024 >> b), (ta << True, a << 1))
    for result, expected in cases:
        assert result.dtype == expected.dtype, (result.dtype, expected.dtype)
        np.testing.assert_array_equal(result.numpy(), expected)
    m = np.array([True, False, True])
    tm = tc.tensor(m)
    for result, expected in ((tm & ~tm, m & ~m), (tm | False, m | False), (True ^ tm, True ^ m)):
        assert result.dtype == tc.bool
        np.testing.assert_array_equal(result.numpy(), expected)


@pytest.mark.parametrize("symbol", ["&=", "|=", "^=", "<<=", ">>="])
def test_inplace_bitwise_operators_write_the_own_buffer(backend, symbol):
    base = np.array([9, -4, 77, 1 << 20], np.int64)
    other = np.array([3, 1, 2, 5], np.int64)
    t = tc.tensor(base.copy())
    view = t[1:]                       # a view of t's buffer sees the update
    buffer = t.data
    namespace = {"t": t, "o": tc.tensor(other)}
    exec(f"t {symbol} o", namespace)
    expected = base.copy()
    exec(f"expected {symbol} other", {"expected": expected, "other": other})
    assert namespace["t"] is t and t.data is buffer
    np.testing.assert_array_equal(t.numpy(), expected)
    np.testing.assert_array_equal(view.numpy(), expected[1:])


def test_inplace_bitwise_refuses_recorded_graphs_and_dtype_changes():
    x = tc.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="&=: in-place update .* recorded graph"):
        y &= 1
    with tc.no_grad(), pytest.raises(TypeError, match="bitwise_and"):
        y &= 1                         # and outside the graph, floats are refused
    i = tc.tensor([1, 2], dtype=tc.int32)
    with pytest.raises(TypeError, match="dtype"):
        i <<= tc.tensor([1, 2], dtype=tc.int64)   # int64 result cannot go into int32
    np.testing.assert_array_equal(i.numpy(), [1, 2])


def test_bitwise_rejects_floats_before_any_kernel(backend):
    f = tc.tensor([1.5, 2.0])
    for name in ("bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift",
                 "bitwise_right_shift"):
        with pytest.raises(TypeError, match=f"{name}: expected integer"):
            getattr(tc, name)(f, tc.tensor([1, 2]))
    for name in ("bitwise_left_shift", "bitwise_right_shift"):
        with pytest.raises(TypeError, match=f"{name}: expected integer .*bool"):
            getattr(tc, name)(tc.tensor([True]), tc.tensor([True]))
