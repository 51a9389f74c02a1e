"""Property tests of tensorcore.backend.c_backend against NumPy (the oracle)."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tensorcore.backend import c_backend as cb

DTYPES = [np.float32, np.float64, np.int32, np.int64, np.bool_]
FLOATS = [np.float32, np.float64]
NUMERIC = [np.float32, np.float64, np.int32, np.int64]
LAYOUTS = ["contig", "transposed", "sliced", "negative", "broadcast"]
OUT_LAYOUTS = ["contig", "transposed", "sliced", "negative"]

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


# ---- data and view helpers -----------------------------------------------------------

def random_values(rng, shape, dtype, kind="general"):
    """Random values of dtype; kind picks a value range safe for the op under test."""
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return rng.integers(0, 2, size=shape).astype(np.bool_)
    if dtype.kind == "i":
        low, high = (0, 6) if kind == "exponent" else (-50, 50)
        if kind == "base":
            low, high = -6, 6
        return rng.integers(low, high, size=shape).astype(dtype)
    if kind == "positive":
        values = rng.uniform(0.01, 10.0, size=shape)
    elif kind == "finite":
        values = rng.uniform(-1000.0, 1000.0, size=shape)
    else:
        values = rng.standard_normal(size=shape) * 4.0
        if values.size and kind == "general":
            # sprinkle special values
            flat = values.reshape(-1)
            picks = rng.integers(0, flat.size, size=max(1, flat.size // 8))
            specials = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0])
            flat[picks] = specials[rng.integers(0, specials.size, size=picks.size)]
    return values.astype(dtype)


def make_view(rng, shape, dtype, layout, kind="general"):
    """Return an array of `shape` with the requested memory layout (a view for most)."""
    shape = tuple(shape)
    ndim = len(shape)
    if layout == "transposed" and ndim >= 2:
        perm = rng.permutation(ndim)
        base = random_values(rng, tuple(shape[p] for p in perm), dtype, kind)
        return base.transpose(np.argsort(perm))
    if layout == "sliced" and ndim >= 1:
        base = random_values(rng, tuple(2 * n + 1 for n in shape), dtype, kind)
        return base[tuple(slice(1, 1 + 2 * n, 2) for n in shape)]
    if layout == "negative" and ndim >= 1:
        base = random_values(rng, shape, dtype, kind)
        flips = tuple(slice(None, None, -1) if rng.integers(0, 2) else slice(None)
                      for _ in shape)
        return base[flips]
    if layout == "broadcast" and ndim >= 1:
        small = tuple(1 if rng.integers(0, 2) else n for n in shape)
        return np.broadcast_to(random_values(rng, small, dtype, kind), shape)
    return random_values(rng, shape, dtype, kind)


def make_out(rng, shape, dtype, layout):
    """A writeable output of `shape` with a given layout, pre-filled with garbage."""
    view = make_view(rng, shape, dtype, layout if layout != "broadcast" else "contig")
    return view


shapes = st.lists(st.integers(0, 4), min_size=0, max_size=5).map(tuple)
nonempty_shapes = st.lists(st.integers(1, 4), min_size=1, max_size=5).map(tuple)
seeds = st.integers(0, 2**31 - 1)


def assert_close(actual, expected, dtype, rtol=None, atol=None):
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        if rtol is None:
            rtol = 1e-5 if dtype == np.float32 else 1e-12
        if atol is None:
            atol = 1e-6 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True)
    else:
        np.testing.assert_array_equal(actual, expected)


def test_module_is_compiled_cffi_extension():
    from tensorcore import _C

    assert _C.__file__.endswith(".so")
    assert hasattr(_C, "ffi") and hasattr(_C, "lib")
    assert _C.ffi.string(_C.lib.tc_version()) == b"0.1.0"
    info = cb.info()
    assert info["backend"] == "c" and info["compiled_module"] == _C.__file__
    assert info["simd"] in ("avx512", "avx2", "generic")
    assert info["threads"] == cb.get_num_threads() >= 1


# ---- binary ----------------------------------------------------------------------------

BINARY_NUMPY = {
    "add": np.add, "subtract": np.subtract, "multiply": np.multiply, "divide": np.divide,
    "power": np.power, "maximum": np.maximum, "minimum": np.minimum, "equal": np.equal,
    "not_equal": np.not_equal, "less": np.less, "less_equal": np.less_equal,
    "greater": np.greater, "greater_equal": np.greater_equal,
}
BOOL_BINARY = {"add": np.logical_or, "multiply": np.logical_and, "maximum": np.logical_or,
               "minimum": np.logical_and}
COMPARISONS = {"equal", "not_equal", "less", "less_equal", "greater", "greater_equal"}


def binary_cases():
    for op in BINARY_NUMPY:
        for dtype in DTYPES:
            if dtype == np.bool_ and op in ("subtract", "divide", "power"):
                continue
            if op == "divide" and dtype not in FLOATS:
                continue
            yield op, dtype


def binary_oracle(op, a, b, dtype):
    with np.errstate(all="ignore"):
        if dtype == np.bool_ and op in BOOL_BINARY:
            return BOOL_BINARY[op](a, b)
        return BINARY_NUMPY[op](a, b)


@pytest.mark.parametrize("op,dtype", list(binary_cases()))
@SETTINGS
@given(shape=shapes, seed=seeds, data=st.data())
def test_binary(op, dtype, shape, seed, data):
    rng = np.random.default_rng(seed)
    la, lb = data.draw(st.sampled_from(LAYOUTS)), data.draw(st.sampled_from(LAYOUTS))
    lo = data.draw(st.sampled_from(OUT_LAYOUTS))
    ka, kb = ("base", "exponent") if op == "power" else ("general", "general")
    a = make_view(rng, shape, dtype, la, ka)
    b = make_view(rng, shape, dtype, lb, kb)
    out_dtype = np.bool_ if op in COMPARISONS else dtype
    out = make_out(rng, shape, out_dtype, lo)
    cb.binary(op, a, b, out)
    assert out.dtype == out_dtype
    assert_close(out, binary_oracle(op, a, b, dtype), dtype)


@pytest.mark.parametrize("op", ["add", "multiply", "maximum", "subtract"])
@pytest.mark.parametrize("dtype", NUMERIC)
def test_binary_in_place(op, dtype):
    rng = np.random.default_rng(1)
    for shape in [(7,), (3, 5), (40, 3000)]:
        a = random_values(rng, shape, dtype)
        b = random_values(rng, shape, dtype)
        expected = binary_oracle(op, a, b, dtype)
        cb.binary(op, a, b, a)
        assert_close(a, expected, dtype)
        # in place on a transposed view, b broadcast along rows
        a = random_values(rng, shape[::-1], dtype).T
        row = np.broadcast_to(random_values(rng, shape[-1:], dtype), shape)
        expected = binary_oracle(op, a, row, dtype)
        cb.binary(op, a, row, a)
        assert_close(a, expected, dtype)


@pytest.mark.parametrize("op", ["add", "maximum", "less", "power"])
@pytest.mark.parametrize("dtype", [np.float32, np.int64])
def test_binary_threaded_sizes(op, dtype):
    rng = np.random.default_rng(2)
    shape = (300, 1001)                       # > threshold, odd inner extent
    kind_b = "exponent" if op == "power" else "general"
    a = random_values(rng, shape, dtype, "base" if op == "power" else "general")
    b = random_values(rng, shape, dtype, kind_b)
    out = np.empty(shape, np.bool_ if op in COMPARISONS else dtype)
    cb.binary(op, a, b, out)
    assert_close(out, binary_oracle(op, a, b, dtype), dtype)
    # broadcast scalar and broadcast row, strided out
    scalar = np.broadcast_to(b[0, :1], shape)
    out2 = np.empty((shape[1], shape[0]), out.dtype).T
    cb.binary(op, a, scalar, out2)
    assert_close(out2, binary_oracle(op, a, scalar, dtype), dtype)


def test_binary_nan_semantics():
    a = np.array([np.nan, 1.0, np.nan, 2.0, -0.0], np.float32)
    b = np.array([1.0, np.nan, np.nan, 1.0, 0.0], np.float32)
    for op in ["maximum", "minimum", "equal", "not_equal", "less", "greater_equal"]:
        out = np.empty(5, np.bool_ if op in COMPARISONS else np.float32)
        cb.binary(op, a, b, out)
        np.testing.assert_array_equal(out, BINARY_NUMPY[op](a, b))


# ---- unary -------------------------------------------------------------------------------

UNARY_NUMPY = {
    "negative": np.negative, "abs": np.abs, "square": np.square,
    "relu": lambda x: np.where(x > 0, x, np.where(np.isnan(x), x, 0)).astype(x.dtype),
    "sign": np.sign, "exp": np.exp, "log": np.log, "sqrt": np.sqrt, "tanh": np.tanh,
    "sigmoid": lambda x: (1.0 / (1.0 + np.exp(-x.astype(np.float64)))).astype(x.dtype),
    "reciprocal": lambda x: np.divide(x.dtype.type(1), x),
}
FLOAT_ONLY_UNARY = {"exp", "log", "sqrt", "tanh", "sigmoid", "reciprocal"}


def unary_cases():
    for op in UNARY_NUMPY:
        for dtype in (FLOATS if op in FLOAT_ONLY_UNARY else NUMERIC):
            yield op, dtype


@pytest.mark.parametrize("op,dtype", list(unary_cases()))
@SETTINGS
@given(shape=shapes, seed=seeds, data=st.data())
def test_unary(op, dtype, shape, seed, data):
    rng = np.random.default_rng(seed)
    layout = data.draw(st.sampled_from(LAYOUTS))
    a = make_view(rng, shape, dtype, layout)
    out = make_out(rng, shape, dtype, data.draw(st.sampled_from(OUT_LAYOUTS)))
    cb.unary(op, a, out)
    with np.errstate(all="ignore"):
        expected = UNARY_NUMPY[op](a)
    assert_close(out, expected, dtype)


@pytest.mark.parametrize("op", ["exp", "sigmoid", "tanh", "relu", "abs"])
@pytest.mark.parametrize("dtype", FLOATS)
def test_unary_threaded_and_in_place(op, dtype):
    rng = np.random.default_rng(3)
    a = random_values(rng, (257, 999), dtype, "finite") / dtype(100)
    with np.errstate(all="ignore"):
        expected = UNARY_NUMPY[op](a)
    cb.unary(op, a, a)
    assert_close(a, expected, dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_sigmoid_is_stable(dtype):
    x = np.array([-1e4, -200.0, -50.0, 0.0, 50.0, 200.0, 1e4, np.inf, -np.inf], dtype)
    out = np.empty_like(x)
    with np.errstate(all="raise"):
        cb.unary("sigmoid", x, out)
    assert out[0] == 0.0 and out[-3] == 1.0 and out[-2] == 1.0 and out[-1] == 0.0
    assert out[3] == 0.5
    assert np.all((out >= 0) & (out <= 1))


def test_float32_tanh_error_bound():
    """The float32 tanh kernel (polynomial below |x| = 0.75, exp-based above): at most 1.5
    ulp from the float64 result over every float32 in [0.5, 1) (both sides of the switch)
    and a sample of all magnitudes, odd to the bit, x itself for tiny |x|, exactly +-1 once
    tanh rounds to 1; contiguous (SIMD loop) and strided (scalar code) agree."""
    bits = np.arange(0x3F000000, 0x3F800000, dtype=np.uint32)       # [0.5, 1)
    sample = np.abs(np.random.default_rng(12).standard_normal(1 << 18) * 3).astype(np.float32)
    x = np.concatenate([bits.view(np.float32), sample, np.geomspace(1e-30, 10, 4001,
                                                                    dtype=np.float32)])
    out = np.empty_like(x)
    cb.unary("tanh", x, out)
    ref = np.tanh(x.astype(np.float64))
    err = np.abs(out - ref) / np.spacing(np.abs(ref).astype(np.float32))
    assert err.max() <= 1.5, (err.max(), x[np.argmax(err)])
    neg = np.empty_like(x)
    cb.unary("tanh", -x, neg)
    np.testing.assert_array_equal(neg.view(np.uint32), (-out).view(np.uint32))
    strided = np.empty(x[::2].size, np.float32)
    cb.unary("tanh", x[::2], strided)
    np.testing.assert_array_equal(strided, out[::2])
    tiny = np.array([1e-45, -1e-38, 3e-5, -2.4e-4], np.float32)
    cb.unary("tanh", tiny, out[:4])
    np.testing.assert_array_equal(out[:4], tiny)
    big = np.array([9.02, -9.5, 10.0, 88.0, -3e38, np.inf, -np.inf], np.float32)
    cb.unary("tanh", big, out[:7])
    np.testing.assert_array_equal(out[:7], np.sign(big))


def test_float32_sigmoid_error_bound():
    """The float32 sigmoid kernel (exp and division in double, one rounding): at most 1 ulp
    from the float64 result over every float32 in [-8, -0.5) and [0.5, 8) and a sample of all
    magnitudes; contiguous (SIMD loop) and strided (scalar code) agree to the bit; the ends
    (the -104 / 104 clamp, infinities, NaN, signed zeros) are exact."""
    grid = np.arange(0x3F000000, 0x41000000, dtype=np.uint32).view(np.float32)
    sample = np.random.default_rng(14).integers(0, 0x42D00000, 1 << 20).astype(np.uint32)
    x = np.concatenate([grid, -grid, sample.view(np.float32), -sample.view(np.float32)])
    out = np.empty_like(x)
    cb.unary("sigmoid", x, out)
    ref = 1.0 / (1.0 + np.exp(-x.astype(np.float64)))
    err = np.abs(out - ref) / np.spacing(ref.astype(np.float32))
    assert err.max() <= 1.0, (err.max(), x[np.argmax(err)])
    strided = np.empty(x[::2].size, np.float32)
    cb.unary("sigmoid", x[::2], strided)
    np.testing.assert_array_equal(strided, out[::2])
    ends = np.array([-np.inf, -1e30, -104.5, -104.0, -103.0, -87.5, -0.0, 0.0, 17.0, 104.0,
                     1e30, np.inf, np.nan], np.float32)
    got = np.empty_like(ends)
    cb.unary("sigmoid", ends, got)
    with np.errstate(over="ignore"):
        want = (1.0 / (1.0 + np.exp(-ends.astype(np.float64)))).astype(np.float32)
    np.testing.assert_array_equal(got, want)


def test_float32_log_error_bound():
    """The float32 log kernel (atanh series in float32): at most 1 ulp from the float64
    result over every float32 in [0.5, 2) (both sides of sqrt(2), k = -1, 0, 1), the
    subnormals' bit patterns sampled and a sample of all magnitudes; contiguous (SIMD loop)
    and strided (scalar code) agree; log(1) is +0."""
    near_one = np.arange(0x3F000000, 0x40000000, dtype=np.uint32).view(np.float32)
    subnormal = np.arange(1, 0x00800000, 97, dtype=np.uint32).view(np.float32)
    sample = np.random.default_rng(13).integers(0x00800000, 0x7F800000, 1 << 20)
    x = np.concatenate([near_one, subnormal, sample.astype(np.uint32).view(np.float32)])
    out = np.empty_like(x)
    cb.unary("log", x, out)
    ref = np.log(x.astype(np.float64))
    err = np.abs(out - ref) / np.spacing(np.abs(ref).astype(np.float32))
    assert err.max() <= 1.0, (err.max(), x[np.argmax(err)])
    strided = np.empty(x[::3].size, np.float32)
    cb.unary("log", x[::3], strided)
    np.testing.assert_array_equal(strided, out[::3])
    one = np.ones(1, np.float32)
    cb.unary("log", one, one)
    assert one[0] == 0.0 and not np.signbit(one[0])


# ---- where / clip ----------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@SETTINGS
@given(shape=shapes, seed=seeds, data=st.data())
def test_where(dtype, shape, seed, data):
    rng = np.random.default_rng(seed)
    cond = make_view(rng, shape, np.bool_, data.draw(st.sampled_from(LAYOUTS)))
    a = make_view(rng, shape, dtype, data.draw(st.sampled_from(LAYOUTS)))
    b = make_view(rng, shape, dtype, data.draw(st.sampled_from(LAYOUTS)))
    out = make_out(rng, shape, dtype, data.draw(st.sampled_from(OUT_LAYOUTS)))
    cb.where(cond, a, b, out)
    np.testing.assert_array_equal(out, np.where(cond, a, b))


@pytest.mark.parametrize("dtype", NUMERIC)
@SETTINGS
@given(shape=shapes, seed=seeds, data=st.data())
def test_clip(dtype, shape, seed, data):
    rng = np.random.default_rng(seed)
    a = make_view(rng, shape, dtype, data.draw(st.sampled_from(LAYOUTS)))
    out = make_out(rng, shape, dtype, data.draw(st.sampled_from(OUT_LAYOUTS)))
    bounds = data.draw(st.sampled_from([(-2, 3), (None, 1), (-1, None), (4, -4)]))
    lo, hi = bounds
    if np.dtype(dtype).kind == "f" and data.draw(st.booleans()):
        lo = None if lo is None else lo + 0.5
    cb.clip(a, lo, hi, out)
    expected = a.copy()
    if lo is not None:
        expected = np.maximum(expected, np.asarray(lo, dtype=dtype))
    if hi is not None:
        expected = np.minimum(expected, np.asarray(hi, dtype=dtype))
    assert_close(out, expected, dtype)


# ---- copy --------------------------------------------------------------------------------

@pytest.mark.parametrize("src_dtype,dst_dtype", list(itertools.product(DTYPES, DTYPES)))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shape=shapes, seed=seeds, data=st.data())
def test_copy(src_dtype, dst_dtype, shape, seed, data):
    rng = np.random.default_rng(seed)
    kind = "finite" if np.dtype(dst_dtype).kind in "ib" else "general"
    src = make_view(rng, shape, src_dtype, data.draw(st.sampled_from(LAYOUTS)), kind)
    out = make_out(rng, shape, dst_dtype, data.draw(st.sampled_from(OUT_LAYOUTS)))
    cb.copy(src, out)
    with np.errstate(all="ignore"):
        expected = src.astype(dst_dtype)
    assert_close(out, expected, dst_dtype, rtol=0, atol=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.bool_, np.int32])
@pytest.mark.parametrize("shape,perm", [((513, 700), (1, 0)), ((3, 130, 67), (0, 2, 1)),
                                        ((9, 40, 70), (2, 0, 1)), ((5, 7), (1, 0))])
def test_copy_permuted_blocked(dtype, shape, perm):
    rng = np.random.default_rng(4)
    base = random_values(rng, shape, dtype)
    src = base.transpose(perm)
    out = np.empty(src.shape, dtype)
    cb.copy(src, out)
    np.testing.assert_array_equal(out, np.ascontiguousarray(src))
    # onto itself (same view) leaves it unchanged
    cb.copy(out, out)
    np.testing.assert_array_equal(out, np.ascontiguousarray(src))
    # into a slice of a bigger array (concatenate-style output)
    big = np.zeros((src.shape[0] + 2,) + src.shape[1:], dtype)
    cb.copy(src, big[1:-1])
    np.testing.assert_array_equal(big[1:-1], src)
    assert not big[0].any() and not big[-1].any()


# ---- reductions ----------------------------------------------------------------------

REDUCE_DTYPES = {"sum": DTYPES, "max": DTYPES, "min": DTYPES, "mean": FLOATS,
                 "var": FLOATS, "logsumexp": FLOATS}


def reduce_oracle(op, a, axes, ddof):
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if op == "sum":
            if a.dtype.kind in "bi":
                return np.sum(a, axis=axes, keepdims=True, dtype=np.int64)
            return np.sum(a.astype(np.float64), axis=axes, keepdims=True)
        if op in ("max", "min"):
            return getattr(np, op)(a, axis=axes, keepdims=True)
        if op == "mean":
            return np.mean(a.astype(np.float64), axis=axes, keepdims=True)
        if op == "var":
            return np.var(a.astype(np.float64), axis=axes, keepdims=True, ddof=ddof)
        x = a.astype(np.float64)
        m = np.max(x, axis=axes, keepdims=True) if x.size else np.full(
            [1 if d in axes else n for d, n in enumerate(x.shape)], -np.inf)
        finite = np.where(np.isfinite(m), m, 0.0)
        s = np.sum(np.exp(x - finite), axis=axes, keepdims=True)
        return np.where(np.isfinite(m), finite + np.log(s), m)


@pytest.mark.parametrize("op,dtype", [(op, d) for op, ds in REDUCE_DTYPES.items()
                                      for d in ds])
@SETTINGS
@given(shape=shapes, seed=seeds, data=st.data())
def test_reduce(op, dtype, shape, seed, data):
    rng = np.random.default_rng(seed)
    ndim = len(shape)
    axes = tuple(d for d in range(ndim) if data.draw(st.booleans()))
    count = int(np.prod([shape[d] for d in axes])) if axes else 1
    if op in ("max", "min") and count == 0:
        axes = tuple(d for d in axes if shape[d] > 0)
    kind = "general" if data.draw(st.booleans()) else "finite"
    a = make_view(rng, shape, dtype, data.draw(st.sampled_from(LAYOUTS)), kind)
    ddof = data.draw(st.integers(0, 2)) if op == "var" else 0
    out_dtype = np.int64 if op == "sum" and np.dtype(dtype).kind in "bi" else dtype
    out_shape = tuple(1 if d in axes else n for d, n in enumerate(shape))
    out = make_out(rng, out_shape, out_dtype, data.draw(st.sampled_from(["contig", "sliced",
                                                                         "negative"])))
    cb.reduce(op, a, axes, out, ddof)
    expected = reduce_oracle(op, a, axes, ddof)
    if np.dtype(dtype).kind == "f":
        np.testing.assert_allclose(out, expected.astype(out_dtype) if dtype == np.float32
                                   else expected, rtol=1e-4, atol=1e-4, equal_nan=True)
    else:
        np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("op", ["sum", "max", "mean", "var", "logsumexp"])
@pytest.mark.parametrize("axes", [(), (0,), (1,), (0, 1), (2,), (0, 2)])
def test_reduce_threaded_sizes(op, axes):
    rng = np.random.default_rng(5)
    a = random_values(rng, (64, 301, 11), np.float32, "finite") / np.float32(100)
    out = np.empty(tuple(1 if d in axes else n for d, n in enumerate(a.shape)), np.float32)
    cb.reduce(op, a, axes, out)
    np.testing.assert_allclose(out, reduce_oracle(op, a, axes, 0), rtol=1e-4, atol=1e-4)
    # transposed input, same reduction
    t = np.ascontiguousarray(a.transpose(2, 1, 0)).transpose(2, 1, 0)
    cb.reduce(op, t, axes, out)
    np.testing.assert_allclose(out, reduce_oracle(op, a, axes, 0), rtol=1e-4, atol=1e-4)


def test_float32_sum_is_accurate():
    rng = np.random.default_rng(6)
    a = rng.uniform(0.0, 1.0, size=(2_000_000,)).astype(np.float32)
    out = np.empty((1,), np.float32)
    cb.reduce("sum", a, (0,), out)
    exact = np.sum(a.astype(np.float64))
    assert abs(float(out[0]) - exact) <= 1e-5 * exact
    cols = a.reshape(4000, 500)
    out2 = np.empty((1, 500), np.float32)
    cb.reduce("sum", cols, (0,), out2)
    np.testing.assert_allclose(out2, cols.astype(np.float64).sum(0, keepdims=True), rtol=1e-5)


def test_reduce_special_values():
    a = np.array([[1.0, np.nan, 3.0], [np.inf, 2.0, -np.inf]], np.float32)
    for op in ["max", "min", "sum", "logsumexp"]:
        out = np.empty((2, 1), np.float32)
        cb.reduce(op, a, (1,), out)
        np.testing.assert_array_equal(np.isnan(out), [[True], [op == "sum"]])
    full = np.full((3, 4), -np.inf, np.float64)
    out = np.empty((1, 1))
    cb.reduce("logsumexp", full, (0, 1), out)
    assert out[0, 0] == -np.inf
    empty = np.empty((0, 3), np.float32)
    out = np.empty((1, 3), np.float32)
    cb.reduce("mean", empty, (0,), out)
    assert np.isnan(out).all()
    cb.reduce("sum", empty, (0,), out)
    assert (out == 0).all()
    cb.reduce("var", np.ones((2, 3), np.float32), (0,), out, 2)
    assert np.isnan(out).all()


@pytest.mark.parametrize("op", ["argmax", "argmin"])
@pytest.mark.parametrize("dtype", DTYPES)
@SETTINGS
@given(shape=nonempty_shapes, seed=seeds, data=st.data())
def test_argreduce(op, dtype, shape, seed, data):
    rng = np.random.default_rng(seed)
    axis = data.draw(st.integers(0, len(shape) - 1))
    a = make_view(rng, shape, dtype, data.draw(st.sampled_from(LAYOUTS)))
    out = make_out(rng, shape[:axis] + shape[axis + 1:], np.int64,
                   data.draw(st.sampled_from(["contig", "sliced"])))
    cb.argreduce(op, a, axis, out)
    np.testing.assert_array_equal(out, getattr(np, op)(a, axis=axis))


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_argreduce_threaded(axis):
    rng = np.random.default_rng(7)
    a = random_values(rng, (60, 300, 7), np.float32)
    out = np.empty(a.shape[:axis] + a.shape[axis + 1:], np.int64)
    cb.argreduce("argmax", a, axis, out)
    np.testing.assert_array_equal(out, np.argmax(a, axis=axis))


# ---- softmax / scatter_add / matmul ------------------------------------------------------

def softmax_oracle(a, axis, log):
    x = a.astype(np.float64)
    with np.errstate(all="ignore"):
        shifted = x - np.max(x, axis=axis, keepdims=True)
        if log:
            return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
        e = np.exp(shifted)
        return e / np.sum(e, axis=axis, keepdims=True)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("log", [False, True])
@SETTINGS
@given(shape=nonempty_shapes, seed=seeds, data=st.data())
def test_softmax(dtype, log, shape, seed, data):
    rng = np.random.default_rng(seed)
    axis = data.draw(st.integers(0, len(shape) - 1))
    kind = data.draw(st.sampled_from(["finite", "general"]))
    a = make_view(rng, shape, dtype, data.draw(st.sampled_from(LAYOUTS)), kind)
    out = make_out(rng, shape, dtype, data.draw(st.sampled_from(["contig", "contig",
                                                                 "transposed"])))
    cb.softmax(a, axis, out, log)
    np.testing.assert_allclose(out, softmax_oracle(a, axis, log), rtol=1e-5, atol=1e-5,
                               equal_nan=True)


@pytest.mark.parametrize("axis", [0, 1])
def test_softmax_threaded_in_place(axis):
    rng = np.random.default_rng(8)
    a = random_values(rng, (700, 300), np.float32, "finite") / np.float32(50)
    expected = softmax_oracle(a, axis, False)
    cb.softmax(a, axis, a, False)
    np.testing.assert_allclose(a, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", NUMERIC)
def test_scatter_add(dtype):
    rng = np.random.default_rng(9)
    out = random_values(rng, (17,), dtype, "finite")
    index = rng.integers(0, 17, size=200).astype(np.int64)
    src = random_values(rng, (200,), dtype, "finite")
    expected = out.copy()
    np.add.at(expected, index, src)
    cb.scatter_add(out, index, src)
    assert_close(out, expected, dtype, rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("dtype", NUMERIC)
def test_matmul_transposed_and_batched(dtype):
    rng = np.random.default_rng(10)
    a = random_values(rng, (3, 9, 5), dtype, "finite") // 10
    b = (random_values(rng, (7, 5), dtype, "finite") // 10).T           # F-ordered
    b = np.broadcast_to(b, (3, 5, 7))
    out = np.empty((3, 9, 7), dtype)
    cb.matmul(a, b, out)
    expected = np.matmul(a.astype(np.float64), b.astype(np.float64))
    assert_close(out, expected.astype(dtype), dtype, rtol=1e-5, atol=1e-3)


# ---- the C API rejects bad arguments instead of crashing ------------------------------

def test_c_api_validates_arguments():
    from tensorcore._C import ffi, lib

    shape = ffi.new("int64_t[40]", [2] * 40)
    strides = ffi.new("int64_t[40]", [1] * 40)
    buf = ffi.new("float[4]")
    assert lib.tc_binary(lib.TC_ADD, 99, 1, shape, buf, strides, buf, strides, buf,
                         strides) == lib.TC_ERR_INVALID
    assert b"dtype" in ffi.string(lib.tc_last_error())
    assert lib.tc_binary(lib.TC_ADD, lib.TC_FLOAT32, 40, shape, buf, strides, buf, strides,
                         buf, strides) == lib.TC_ERR_INVALID
    assert lib.tc_unary(lib.TC_EXP, lib.TC_INT32, 1, shape, buf, strides, buf,
                        strides) == lib.TC_ERR_UNSUPPORTED
    assert lib.tc_copy(lib.TC_FLOAT32, lib.TC_FLOAT32, 1, shape, ffi.NULL, strides, buf,
                       strides) == lib.TC_ERR_INVALID
    assert lib.tc_reduce(lib.TC_REDUCE_SUM, lib.TC_FLOAT32, 1, shape, 0b10, buf, strides,
                         buf, strides, 0) == lib.TC_ERR_INVALID
    index = ffi.new("int64_t[2]", [0, 5])
    assert lib.tc_scatter_add(lib.TC_FLOAT32, 4, buf, 1, 2, index, 1, buf,
                              1) == lib.TC_ERR_INVALID
    assert list(buf) == [0.0] * 4
    zero = ffi.new("int64_t[1]", [0])
    assert lib.tc_binary(lib.TC_ADD, lib.TC_FLOAT32, 1, zero, ffi.NULL, ffi.NULL, ffi.NULL,
                         ffi.NULL, ffi.NULL, ffi.NULL) == lib.TC_OK
