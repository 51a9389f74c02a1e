"""Property tests: tensorcore.backend.numba_backend against the NumPy reference backend."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tensorcore.backend import numba_backend as nb
from tensorcore.testing import reference_backend as ref

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLOATS = [np.float32, np.float64]
NUMERIC = FLOATS + [np.int32, np.int64]
ALL = NUMERIC + [np.bool_]
EXAMPLES = settings(max_examples=30, deadline=None)

# ---------------------------------------------------------------- operand generation


def _values(rng, shape, dtype, special=True, low=-5, high=5):
    """Random values of ``dtype``; floats sometimes include NaN / +-inf / -0.0."""
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return np.asarray(rng.integers(0, 2, size=shape)).astype(np.bool_)
    if dtype.kind == "i":
        return np.asarray(rng.integers(low, high + 1, size=shape)).astype(dtype)
    values = np.asarray(rng.standard_normal(size=shape) * 3).astype(dtype)
    if special and values.size and rng.random() < 0.3:
        flat = values.reshape(-1)
        for _ in range(rng.integers(1, 3)):
            flat[rng.integers(0, flat.size)] = rng.choice([np.nan, np.inf, -np.inf, -0.0])
    return values


def _layout(data, rng, shape, dtype, allow_broadcast=True, **kw):
    """An array of ``shape`` with a drawn memory layout (transposed, strided, reversed, ...)."""
    kinds = ["contiguous", "transposed", "strided", "reversed"]
    if allow_broadcast:
        kinds.append("broadcast")
    kind = data.draw(st.sampled_from(kinds))
    nd = len(shape)
    if kind == "transposed" and nd >= 2:
        perm = data.draw(st.permutations(range(nd)))
        arr = _values(rng, [shape[p] for p in perm], dtype, **kw)
        return arr.transpose(np.argsort(perm))
    if kind == "strided" and nd >= 1:
        arr = _values(rng, [2 * s + 1 for s in shape], dtype, **kw)
        return arr[tuple(slice(1, None, 2) for _ in shape)]
    if kind == "reversed" and nd >= 1:
        flips = data.draw(st.lists(st.booleans(), min_size=nd, max_size=nd))
        arr = _values(rng, shape, dtype, **kw)
        return arr[tuple(slice(None, None, -1) if f else slice(None) for f in flips)]
    if kind == "broadcast" and nd >= 1:
        ones = data.draw(st.lists(st.booleans(), min_size=nd, max_size=nd))
        arr = _values(rng, [1 if o else s for o, s in zip(ones, shape)], dtype, **kw)
        return np.broadcast_to(arr, shape)
    return _values(rng, shape, dtype, **kw)


def _out(data, shape, dtype):
    """A writeable output of ``shape``: contiguous, strided slice or transposed layout."""
    kind = data.draw(st.sampled_from(["contiguous", "strided", "transposed"]))
    if kind == "strided" and shape:
        big = np.zeros([2 * s for s in shape], dtype=dtype)
        return big[tuple(slice(None, None, 2) for _ in shape)]
    if kind == "transposed" and len(shape) >= 2:
        return np.zeros(shape[::-1], dtype=dtype).T
    return np.zeros(shape, dtype=dtype)


shapes = st.lists(st.integers(0, 4), min_size=0, max_size=5).map(tuple)
nonempty_shapes = st.lists(st.integers(1, 4), min_size=0, max_size=5).map(tuple)
seeds = st.integers(0, 2**32 - 1)


def _check(actual, expected, rtol, atol):
    assert actual.shape == expected.shape
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    if expected.dtype.kind in "biu":
        np.testing.assert_array_equal(actual, expected)
    else:
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True)


def _tol(dtype, reduction=False):
    if reduction:
        return (1e-4, 1e-4) if dtype == np.float32 else (1e-9, 1e-9)
    return (1e-5, 1e-6) if dtype == np.float32 else (1e-12, 1e-12)


# ---------------------------------------------------------------- elementwise

BINARY_OPS = {
    "add": ALL, "subtract": NUMERIC, "multiply": ALL, "maximum": ALL, "minimum": ALL,
    "divide": FLOATS, "power": NUMERIC, "equal": ALL, "not_equal": ALL, "less": ALL,
    "less_equal": ALL, "greater": ALL, "greater_equal": ALL,
}
COMPARISONS = {"equal", "not_equal", "less", "less_equal", "greater", "greater_equal"}
binary_cases = st.sampled_from(sorted(BINARY_OPS)).flatmap(
    lambda op: st.tuples(st.just(op), st.sampled_from(BINARY_OPS[op])))


@EXAMPLES
@given(case=binary_cases, shape=shapes, seed=seeds, data=st.data())
def test_binary(case, shape, seed, data):
    op, dtype = case
    rng = np.random.default_rng(seed)
    a = _layout(data, rng, shape, dtype)
    if op == "power" and np.dtype(dtype).kind == "i":
        b = _layout(data, rng, shape, dtype, low=0, high=6)
    else:
        b = _layout(data, rng, shape, dtype)
    out_dtype = np.bool_ if op in COMPARISONS else dtype
    out = _out(data, shape, out_dtype)
    expected = np.zeros(shape, dtype=out_dtype)
    ref.binary(op, a, b, expected)
    nb.binary(op, a, b, out)
    _check(out, expected, *_tol(dtype))


UNARY_OPS = {
    "negative": NUMERIC, "abs": NUMERIC, "square": NUMERIC, "relu": NUMERIC, "sign": NUMERIC,
    "exp": FLOATS, "log": FLOATS, "sqrt": FLOATS, "tanh": FLOATS, "sigmoid": FLOATS,
    "reciprocal": FLOATS,
}
unary_cases = st.sampled_from(sorted(UNARY_OPS)).flatmap(
    lambda op: st.tuples(st.just(op), st.sampled_from(UNARY_OPS[op])))


@EXAMPLES
@given(case=unary_cases, shape=shapes, seed=seeds, data=st.data())
def test_unary(case, shape, seed, data):
    op, dtype = case
    rng = np.random.default_rng(seed)
    a = _layout(data, rng, shape, dtype)
    if op in ("log", "sqrt") and data.draw(st.booleans()):
        a = np.asarray(np.abs(a))
    out = _out(data, shape, dtype)
    expected = np.zeros(shape, dtype=dtype)
    ref.unary(op, a, expected)
    nb.unary(op, a, out)
    _check(out, expected, *_tol(dtype))


@EXAMPLES
@given(dtype=st.sampled_from(ALL), shape=shapes, seed=seeds, data=st.data())
def test_where(dtype, shape, seed, data):
    rng = np.random.default_rng(seed)
    cond = _layout(data, rng, shape, np.bool_)
    a = _layout(data, rng, shape, dtype)
    b = _layout(data, rng, shape, dtype)
    out = _out(data, shape, dtype)
    nb.where(cond, a, b, out)
    _check(out, np.where(cond, a, b), 0, 0)


@EXAMPLES
@given(dtype=st.sampled_from(NUMERIC), shape=shapes, seed=seeds, data=st.data(),
       bounds=st.sampled_from([(-1, 2), (None, 1), (0, None), (2, -2)]))
def test_clip(dtype, shape, seed, data, bounds):
    rng = np.random.default_rng(seed)
    a = _layout(data, rng, shape, dtype)
    lo, hi = bounds
    out = _out(data, shape, dtype)
    expected = np.zeros(shape, dtype=dtype)
    ref.clip(a, lo, hi, expected)
    nb.clip(a, lo, hi, out)
    _check(out, expected, 0, 0)


def test_clip_nan_propagates():
    a = np.array([np.nan, -3.0, 0.5, 7.0], dtype=np.float32)
    out = np.empty_like(a)
    nb.clip(a, -1.0, 1.0, out)
    np.testing.assert_array_equal(out, [np.nan, -1.0, 0.5, 1.0])


@EXAMPLES
@given(src_dtype=st.sampled_from(ALL), dst_dtype=st.sampled_from(ALL), shape=shapes,
       seed=seeds, data=st.data())
def test_copy(src_dtype, dst_dtype, shape, seed, data):
    rng = np.random.default_rng(seed)
    to_int = np.dtype(dst_dtype).kind == "i"
    src = _layout(data, rng, shape, src_dtype, special=not to_int)
    out = _out(data, shape, dst_dtype)
    expected = np.zeros(shape, dtype=dst_dtype)
    ref.copy(src, expected)
    nb.copy(src, out)
    _check(out, expected, 0, 0)


def test_copy_nan_to_bool_and_truncation():
    src = np.array([np.nan, -0.0, 0.0, 2.7, -2.7, np.inf], dtype=np.float64)
    out = np.empty(src.shape, dtype=np.bool_)
    nb.copy(src, out)
    np.testing.assert_array_equal(out, src.astype(np.bool_))
    out_int = np.empty(4, dtype=np.int32)
    nb.copy(src[2:5].copy().reshape(-1)[[0, 1, 2, 1]], out_int)
    np.testing.assert_array_equal(out_int, [0, 2, -2, 2])


@pytest.mark.parametrize("dtype", [np.float32, np.int64])
def test_copy_large_transpose(dtype):
    src = np.arange(300 * 170).astype(dtype).reshape(300, 170)
    out = np.empty((170, 300), dtype=dtype)
    nb.copy(src.T, out)
    np.testing.assert_array_equal(out, src.T)
    back = np.empty((300, 170), dtype=dtype).T  # strided out, contiguous-ish src
    nb.copy(np.ascontiguousarray(src.T), back)
    np.testing.assert_array_equal(back, src.T)


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.bool_])
def test_in_place(dtype):
    rng = np.random.default_rng(1)
    a = _values(rng, (5, 6), dtype, special=False)
    b = _values(rng, (6,), dtype, special=False)
    expected = np.zeros_like(a)
    ref.binary("add", a, np.broadcast_to(b, a.shape), expected)
    nb.binary("add", a, np.broadcast_to(b, a.shape), a)
    _check(a, expected, 0, 0)
    view = a[::-1, 1::2]
    expected = np.zeros(view.shape, dtype=dtype)
    ref.binary("maximum", view, view.T.T, expected)
    nb.binary("maximum", view, view, view)
    _check(view, expected, 0, 0)


def test_special_values():
    x = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0, np.nan], dtype=np.float32)
    out = np.empty_like(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nb.unary("sigmoid", x, out)
    np.testing.assert_array_equal(out[[0, 2, 4]], [0.0, 0.5, 1.0])
    assert np.isnan(out[5])
    a = np.array([1.0, np.nan, 3.0, -np.inf], dtype=np.float64)
    b = np.array([np.nan, 2.0, 1.0, np.nan], dtype=np.float64)
    for op in ("maximum", "minimum"):
        res = np.empty_like(a)
        nb.binary(op, a, b, res)
        np.testing.assert_array_equal(res, getattr(np, op)(a, b))
    res = np.empty(4, dtype=np.bool_)
    nb.binary("not_equal", a, b, res)
    np.testing.assert_array_equal(res, a != b)
    ints = np.array([3, 2, -2, 7], dtype=np.int32)
    exps = np.array([40, 0, 5, 1], dtype=np.int32)
    res_i = np.empty_like(ints)
    nb.binary("power", ints, exps, res_i)
    np.testing.assert_array_equal(res_i, np.power(ints, exps))
    div = np.empty(3, dtype=np.float32)
    nb.binary("divide", np.array([1, -1, 0], np.float32), np.zeros(3, np.float32), div)
    np.testing.assert_array_equal(div, [np.inf, -np.inf, np.nan])


# ---------------------------------------------------------------- reductions

REDUCE_OPS = {
    "sum": ALL, "max": ALL, "min": ALL, "mean": FLOATS, "var": FLOATS, "logsumexp": FLOATS,
}
reduce_cases = st.sampled_from(sorted(REDUCE_OPS)).flatmap(
    lambda op: st.tuples(st.just(op), st.sampled_from(REDUCE_OPS[op])))


def _reduce_out_dtype(op, dtype):
    if op == "sum" and np.dtype(dtype).kind in "biu":
        return np.int64
    return dtype


@EXAMPLES
@given(case=reduce_cases, shape=shapes, seed=seeds, data=st.data(), ddof=st.integers(0, 2))
def test_reduce(case, shape, seed, data, ddof):
    op, dtype = case
    rng = np.random.default_rng(seed)
    nd = len(shape)
    axes = tuple(sorted(data.draw(st.sets(st.integers(0, max(nd - 1, 0)), max_size=nd))))
    axes = tuple(ax for ax in axes if ax < nd)
    reduced_size = int(np.prod([shape[ax] for ax in axes])) if axes else 1
    if op in ("max", "min") and reduced_size == 0:
        return  # dispatch raises before calling the backend
    a = _layout(data, rng, shape, dtype)
    out_shape = tuple(1 if d in axes else s for d, s in enumerate(shape))
    out_dtype = _reduce_out_dtype(op, dtype)
    out = np.zeros(out_shape, dtype=out_dtype)
    expected = np.zeros(out_shape, dtype=out_dtype)
    ref.reduce(op, a, axes, expected, ddof=ddof)
    nb.reduce(op, a, axes, out, ddof=ddof)
    _check(out, expected, *_tol(dtype, reduction=True))


@pytest.mark.parametrize("op", ["sum", "mean", "max", "min"])
@pytest.mark.parametrize("dtype", ALL)
def test_reduce_outer_axes(op, dtype):
    """Reductions over leading axes with a wide unit-stride kept dim (line-at-a-time path)."""
    if op == "mean" and dtype not in FLOATS:
        return
    rng = np.random.default_rng(11)
    a = _values(rng, (3, 5, 4, 17), dtype, special=False)
    if dtype in FLOATS:
        a[0, 1, 0, 3] = np.nan
        a[2, 0, 1, 5] = np.inf
    for axes, view in (((0, 1), a), ((0,), a[:, ::-1]), ((1,), a[::2, :, 1:3])):
        out_shape = tuple(1 if d in axes else s for d, s in enumerate(view.shape))
        out = np.zeros(out_shape, dtype=_reduce_out_dtype(op, dtype))
        expected = np.zeros_like(out)
        ref.reduce(op, view, axes, expected)
        nb.reduce(op, view, axes, out)
        _check(out, expected, *_tol(dtype, reduction=True))


def test_reduce_accuracy_and_edges():
    rng = np.random.default_rng(3)
    x = (rng.random(1_000_003) + 1e3).astype(np.float32)
    out = np.empty((1,), np.float32)
    nb.reduce("sum", x, (0,), out)
    exact = np.sum(x.astype(np.float64))
    assert abs(out[0] - exact) <= 1e-5 * abs(exact)
    lse = np.empty((3, 1), np.float64)
    rows = np.array([[-np.inf, -np.inf], [np.inf, 1.0], [np.nan, np.inf]])
    nb.reduce("logsumexp", rows, (1,), lse)
    np.testing.assert_array_equal(lse[:, 0], [-np.inf, np.inf, np.nan])
    var = np.empty((1,), np.float64)
    nb.reduce("var", np.array([2.0, 4.0]), (0,), var, ddof=1)
    assert var[0] == 2.0
    nb.reduce("var", np.array([2.0]), (0,), var, ddof=1)
    assert np.isnan(var[0])
    nb.reduce("mean", np.zeros((0,), np.float32), (0,), out)
    assert np.isnan(out[0])
    same = np.empty((2, 3), np.float32)
    nb.reduce("logsumexp", np.ones((2, 3), np.float32), (), same)
    np.testing.assert_array_equal(same, np.ones((2, 3)))


@EXAMPLES
@given(op=st.sampled_from(["argmax", "argmin"]), dtype=st.sampled_from(ALL),
       shape=nonempty_shapes.filter(lambda s: len(s) >= 1), seed=seeds, data=st.data())
def test_argreduce(op, dtype, shape, seed, data):
    rng = np.random.default_rng(seed)
    axis = data.draw(st.integers(0, len(shape) - 1))
    a = _layout(data, rng, shape, dtype, low=-2, high=2)  # small range: many ties
    out = np.zeros(shape[:axis] + shape[axis + 1:], dtype=np.int64)
    nb.argreduce(op, a, axis, out)
    _check(out, getattr(np, op)(a, axis=axis), 0, 0)


def test_argreduce_nan_first():
    a = np.array([[1.0, np.nan, 5.0, np.nan], [2.0, 2.0, 0.0, 0.0]])
    out = np.empty(2, np.int64)
    nb.argreduce("argmax", a, 1, out)
    np.testing.assert_array_equal(out, [1, 0])
    nb.argreduce("argmin", a, 1, out)
    np.testing.assert_array_equal(out, [1, 2])


def _softmax_ref(x, axis, log):
    x = x.astype(np.float64)
    with np.errstate(all="ignore"):
        shifted = x - np.max(x, axis=axis, keepdims=True)
        lse = np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
        return shifted - lse if log else np.exp(shifted - lse)


@EXAMPLES
@given(dtype=st.sampled_from(FLOATS), shape=shapes.filter(lambda s: len(s) >= 1), seed=seeds,
       data=st.data(), log=st.booleans())
def test_softmax(dtype, shape, seed, data, log):
    rng = np.random.default_rng(seed)
    axis = data.draw(st.integers(0, len(shape) - 1))
    a = _layout(data, rng, shape, dtype, special=False)
    out = np.zeros(shape, dtype=dtype)
    nb.softmax(a, axis, out, log)
    if a.size == 0:
        return
    expected = _softmax_ref(a, axis, log).astype(dtype)
    _check(out, expected, *_tol(dtype, reduction=True))


def test_softmax_all_neg_inf_row():
    a = np.array([[-np.inf, -np.inf], [0.0, 1000.0]], dtype=np.float32)
    out = np.empty_like(a)
    nb.softmax(a, 1, out, False)
    assert np.isnan(out[0]).all()
    np.testing.assert_allclose(out[1], [0.0, 1.0])


# ---------------------------------------------------------------- matmul


@st.composite
def matmul_shapes(draw):
    batch = draw(st.lists(st.integers(1, 3), max_size=2))
    a_batch = [draw(st.sampled_from([b, 1])) for b in batch]
    b_batch = [draw(st.sampled_from([b, 1])) for b in batch]
    m, k, n = (draw(st.integers(0, 9)) for _ in range(3))
    return batch, a_batch, b_batch, m, k, n


@EXAMPLES
@given(dims=matmul_shapes(), dtype=st.sampled_from(NUMERIC), seed=seeds, data=st.data())
def test_matmul(dims, dtype, seed, data):
    batch, a_batch, b_batch, m, k, n = dims
    rng = np.random.default_rng(seed)
    a = np.broadcast_to(_layout(data, rng, a_batch + [m, k], dtype, special=False),
                        batch + [m, k])
    b = np.broadcast_to(_layout(data, rng, b_batch + [k, n], dtype, special=False),
                        batch + [k, n])
    out = _out(data, batch + [m, n], dtype)
    nb.matmul(a, b, out)
    expected = np.matmul(a.astype(np.float64), b.astype(np.float64)).astype(dtype)
    _check(out, expected, *_tol(dtype, reduction=True))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matmul_blocked_sizes(dtype):
    rng = np.random.default_rng(5)
    a = rng.standard_normal((131, 600)).astype(dtype)
    b = rng.standard_normal((530, 600)).astype(dtype).T  # transposed operand, not copied
    out = np.empty((131, 530), dtype=dtype)
    nb.matmul(a, b, out)
    expected = a.astype(np.float64) @ b.astype(np.float64)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["plain", "transposed", "reversed", "batched"])
def test_matmul_small_blocks_cover_every_edge(dtype, layout, monkeypatch):
    """Tiny MC/KC/NC: many K slices (accumulating path), partial tiles on both edges,
    strided/negative-stride outputs, transposed operands and broadcast batches."""
    from tensorcore.kernels import gemm as _gemm

    mr, nr = _gemm.blocking(dtype)[:2]
    monkeypatch.setattr(_gemm, "blocking", lambda dt: (mr, nr, 2 * mr, 5, 2 * nr))
    rng = np.random.default_rng(11)
    m, k, n = 3 * mr + 1, 23, 2 * nr + 3
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    out = np.empty((m, n), dtype)
    if layout == "transposed":
        a = np.ascontiguousarray(a.T).T
        b = np.ascontiguousarray(b.T).T
        out = np.empty((n, m), dtype).T
    elif layout == "reversed":
        a = a[::-1, ::-1]
        b = b[::-1]
        out = np.empty((m, 2 * n), dtype)[::-1, ::-2]
    elif layout == "batched":
        a = np.broadcast_to(a, (2, 3, m, k))  # the backend takes full-rank operands
        b = np.broadcast_to(rng.standard_normal((2, 1, k, n)).astype(dtype), (2, 3, k, n))
        out = np.empty((2, 3, m, n), dtype)
    out[...] = np.nan  # every element must be written, none read before written
    nb.matmul(a, b, out)
    expected = np.matmul(a.astype(np.float64), b.astype(np.float64))
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("dtype", [np.float32, np.int64])
def test_scatter_add(dtype):
    out = np.zeros(5, dtype=dtype)
    index = np.array([0, 3, 3, 4, 0, 3], dtype=np.int64)
    src = np.arange(1, 7).astype(dtype)
    nb.scatter_add(out, index, src)
    expected = np.zeros(5, dtype=dtype)
    np.add.at(expected, index, src)
    np.testing.assert_array_equal(out, expected)


# ---------------------------------------------------------------- threads and parallel paths


def test_parallel_paths_match_serial(monkeypatch):
    # thresholds down so every call below takes its parallel path
    for name in ("PARALLEL_MIN_ELEMENTS", "PARALLEL_MIN_MATH", "PARALLEL_MIN_FLOPS"):
        monkeypatch.setattr(nb, name, 1)
    previous = nb.get_num_threads()
    nb.set_num_threads(2)
    try:
        assert nb.get_num_threads() == min(2, __import__("numba").config.NUMBA_NUM_THREADS)
        rng = np.random.default_rng(7)
        a = rng.standard_normal((700, 400)).astype(np.float32)
        b = rng.standard_normal((400,)).astype(np.float32)
        out = np.empty_like(a)
        nb.binary("add", a, np.broadcast_to(b, a.shape), out)
        np.testing.assert_array_equal(out, a + b)
        red = np.empty((700, 1), np.float32)
        nb.reduce("sum", a, (1,), red)
        np.testing.assert_allclose(red, a.astype(np.float64).sum(1, keepdims=True), rtol=1e-5,
                                   atol=1e-4)
        sm = np.empty_like(a)
        nb.softmax(a, 1, sm, False)
        np.testing.assert_allclose(sm, _softmax_ref(a, 1, False), rtol=1e-5, atol=1e-7)
        mm = np.empty((700, 400), np.float32)
        nb.matmul(a, a[:400].T.T, mm)
        np.testing.assert_allclose(mm, a.astype(np.float64) @ a[:400], rtol=1e-4, atol=1e-3)
    finally:
        nb.set_num_threads(previous)


def test_info():
    info = nb.info()
    assert info["backend"] == "numba"
    assert info["threading_layer"] in ("tbb", "workqueue", "omp")
    assert info["threads"] == nb.get_num_threads() >= 1


# ---------------------------------------------------------------- import laziness and cache


def _run(code, env=None, cwd=REPO):
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd,
                          env=full_env, capture_output=True, text=True)


def test_import_tensorcore_does_not_import_numba():
    result = _run("""
        import sys
        import tensorcore, tensorcore.kernels
        assert "numba" not in sys.modules, "numba imported by import tensorcore"
        print("ok")
    """, env={"PYTHONPATH": REPO})
    assert result.returncode == 0, result.stderr
    assert "ok" in result.stdout


def _read_only_copy(tmp_path):
    """Copy the Numba backend into tmp_path with unwritable kernel caches; return the root."""
    root = tmp_path / "pkg"
    package = root / "tensorcore"
    shutil.copytree(os.path.join(REPO, "tensorcore", "kernels"), package / "kernels",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (package / "backend").mkdir()
    shutil.copy(os.path.join(REPO, "tensorcore", "backend", "numba_backend.py"),
                package / "backend")
    shutil.copy(os.path.join(REPO, "tensorcore", "_optable.py"), package)  # the op codes
    for init in (package / "__init__.py", package / "backend" / "__init__.py"):
        init.write_text("")
    # a plain file where __pycache__ should be: unwritable even for root
    (package / "kernels" / "__pycache__").write_text("")
    for path in (package / "kernels", package / "backend", package):
        path.chmod(0o555)
    return root


_KERNEL_SMOKE = """
    import numpy as np
    from tensorcore.backend import numba_backend as nb
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    out = np.empty_like(a)
    nb.binary("add", a, a, out)
    assert (out == 2 * a).all()
    print("cache_dir=%s" % nb.info()["cache_dir"])
"""


def test_read_only_package_falls_back_to_user_cache(tmp_path):
    root = _read_only_copy(tmp_path)
    cache_home = tmp_path / "xdg"
    env = {"PYTHONPATH": str(root), "XDG_CACHE_HOME": str(cache_home), "NUMBA_CACHE_DIR": ""}
    try:
        result = _run(_KERNEL_SMOKE, env=env, cwd=str(tmp_path))
        assert result.returncode == 0, result.stderr
        expected = cache_home / "tensorcore" / "numba"
        assert "cache_dir=%s" % expected in result.stdout
        assert any(name.endswith(".nbi") for _, _, files in os.walk(expected) for name in files)
        # no writable cache at all: kernels still compile and run
        blocker = tmp_path / "not_a_dir"
        blocker.write_text("")
        env["XDG_CACHE_HOME"] = str(blocker)
        result = _run(_KERNEL_SMOKE, env=env, cwd=str(tmp_path))
        assert result.returncode == 0, result.stderr
        assert "cache_dir=None" in result.stdout
    finally:
        for path in root.rglob("*"):
            if path.is_dir():
                path.chmod(0o755)
        (root / "tensorcore").chmod(0o755)


def test_user_numba_cache_dir_drops_only_our_stale_kernels(tmp_path, monkeypatch):
    """Under a user's NUMBA_CACHE_DIR, kernels cached before scalar.py or the op table
    changed are dropped (Numba itself would reuse them: it checks only each kernel's own
    file), in the subdirectory Numba gives our kernels and nowhere else."""
    import numba
    from numba.core.caching import _CacheLocator

    from tensorcore.kernels import _jit

    monkeypatch.setattr(numba.config, "CACHE_DIR", str(tmp_path))
    ours = tmp_path / _CacheLocator.get_suitable_cache_subpath(
        os.path.join(_jit._KERNEL_DIR, "elementwise.py"))
    other = tmp_path / "user_code_0123"
    for directory in (ours, other):
        directory.mkdir()
        (directory / "kernel-10.py311.nbi").write_text("compiled before the change")
    (ours / "tensorcore-kernels.stamp").write_text("digest of older sources")
    _jit._drop_stale_cache(str(tmp_path))
    assert not (ours / "kernel-10.py311.nbi").exists()
    assert (other / "kernel-10.py311.nbi").exists()
    assert (ours / "tensorcore-kernels.stamp").read_text() == _jit._sources_digest()
    (ours / "kernel-12.py311.nbi").write_text("compiled from the current sources")
    _jit._drop_stale_cache(str(tmp_path))  # same sources: kept
    assert (ours / "kernel-12.py311.nbi").exists()


@pytest.mark.parametrize("isa", ["sse", "avx2"])
def test_matmul_other_micro_kernel_tiles(tmp_path, isa):
    """The tiles chosen on other CPUs (4x8/4x4 for SSE, 6x16/6x8 for AVX2) compute the
    same products (fresh process: the tile is fixed when the kernels module loads)."""
    code = """
import numpy as np
from tensorcore.backend import numba_backend as nb
from tensorcore.kernels import gemm
assert gemm.ISA == %r, gemm.ISA
rng = np.random.default_rng(3)
for dtype in (np.float32, np.float64):
    mr, nr = gemm.blocking(dtype)[:2]
    for m, k, n in ((1, 1, 1), (mr + 1, 300, 2 * nr + 1), (70, 513, 45)):
        a = rng.standard_normal((m, k)).astype(dtype)
        b = rng.standard_normal((n, k)).astype(dtype).T
        out = np.full((m, n), np.nan, dtype)
        nb.matmul(a, b, out)
        np.testing.assert_allclose(out, a.astype(np.float64) @ b, rtol=1e-4, atol=1e-4)
print("ok", gemm.blocking(np.float32)[:2])
""" % isa
    env = dict(os.environ, TENSORCORE_NUMBA_GEMM_ISA=isa, NUMBA_CACHE_DIR=str(tmp_path))
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("ok")


def test_gemm_self_check_reports_a_wrong_kernel(monkeypatch):
    """The first-use self-check (guarding against SLP miscompiles) raises a clear error
    when the packed GEMM disagrees with the plain loop."""
    from tensorcore.kernels import gemm as _gemm

    def broken(a, b, o, *args):
        o[:] = 0  # a kernel that computes nothing

    monkeypatch.setattr(_gemm, "matmul_range", broken)
    with pytest.raises(RuntimeError, match="TENSORCORE_NUMBA_GEMM_SLP=0"):
        _gemm._self_check(np.dtype(np.float32))
