"""Conformance of tensorcore.array_api with the array API standard (2023.12, real dtypes).

The public array-api-tests suite could not be obtained here (docs/array-api.md says why),
so these tests check the standard's rules directly: names and signatures, the type
promotion table, result dtypes, broadcasting, and values against NumPy.
"""

from __future__ import annotations

import inspect
import itertools
import math

import numpy as np
import pytest

import tensorcore as tc

xp = tc.tensor([0.0]).__array_namespace__()
DTYPES = [xp.bool, xp.int32, xp.int64, xp.float32, xp.float64]
NUMERIC = DTYPES[1:]
FLOATS = [xp.float32, xp.float64]
P, K = inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.KEYWORD_ONLY

# name -> (positional-only parameters, keyword-only parameters) from the 2023.12 stubs
SIGNATURES = {
    "asarray": (["obj"], ["dtype", "device", "copy"]),
    "arange": (["start"], ["dtype", "device"]),
    "empty": ([], ["dtype", "device"]), "zeros": ([], ["dtype", "device"]),
    "ones": ([], ["dtype", "device"]), "full": ([], ["dtype", "device"]),
    "eye": (["n_rows", "n_cols"], ["k", "dtype", "device"]),
    "linspace": (["start", "stop"], ["dtype", "device", "endpoint"]),
    "empty_like": (["x"], ["dtype", "device"]), "zeros_like": (["x"], ["dtype", "device"]),
    "ones_like": (["x"], ["dtype", "device"]), "full_like": (["x"], ["dtype", "device"]),
    "from_dlpack": (["x"], ["device", "copy"]), "tril": (["x"], ["k"]), "triu": (["x"], ["k"]),
    "astype": (["x", "dtype"], ["copy", "device"]), "can_cast": (["from_", "to"], []),
    "finfo": (["type"], []), "iinfo": (["type"], []),
    "concat": (["arrays"], ["axis"]), "stack": (["arrays"], ["axis"]),
    "expand_dims": (["x", "axis"], []), "flip": (["x"], ["axis"]),
    "reshape": (["x", "shape"], ["copy"]), "squeeze": (["x", "axis"], []),
    "roll": (["x", "shift"], ["axis"]), "moveaxis": (["x", "source", "destination"], []),
    "unstack": (["x"], ["axis"]), "permute_dims": (["x", "axes"], []),
    "take": (["x", "indices"], ["axis"]), "matrix_transpose": (["x"], []),
    "sum": (["x"], ["axis", "dtype", "keepdims"]), "prod": (["x"], ["axis", "dtype", "keepdims"]),
    "mean": (["x"], ["axis", "keepdims"]), "max": (["x"], ["axis", "keepdims"]),
    "min": (["x"], ["axis", "keepdims"]), "var": (["x"], ["axis", "correction", "keepdims"]),
    "std": (["x"], ["axis", "correction", "keepdims"]), "argmax": (["x"], ["axis", "keepdims"]),
    "argmin": (["x"], ["axis", "keepdims"]), "all": (["x"], ["axis", "keepdims"]),
    "any": (["x"], ["axis", "keepdims"]), "count_nonzero": (["x"], ["axis", "keepdims"]),
    "matmul": (["x1", "x2"], []), "tensordot": (["x1", "x2"], ["axes"]),
    "vecdot": (["x1", "x2"], ["axis"]), "clip": (["x"], []),
}
UNARY = ["abs", "ceil", "exp", "floor", "isfinite", "isinf", "isnan", "log", "logical_not",
         "negative", "positive", "sign", "sqrt", "square", "tanh", "trunc"]
BINARY = ["add", "divide", "equal", "floor_divide", "greater", "greater_equal", "less",
          "less_equal", "logical_and", "logical_or", "logical_xor", "maximum", "minimum",
          "multiply", "not_equal", "pow", "remainder", "subtract", "atan2", "logaddexp",
          "hypot", "copysign", "nextafter", "bitwise_and", "bitwise_or", "bitwise_xor",
          "bitwise_left_shift", "bitwise_right_shift"]


def _params(fn):
    return [p for p in inspect.signature(fn).parameters.values()
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


@pytest.mark.parametrize("name", sorted(SIGNATURES) + UNARY + BINARY)
def test_signature(name):
    positional, keywords = SIGNATURES.get(name, ((["x"] if name in UNARY else ["x1", "x2"]), []))
    params = _params(getattr(xp, name))
    names = [p.name for p in params]
    assert len(params) >= len(positional)
    for param, expected in zip(params, positional):
        # positional-only in the standard: any name is fine when it cannot be passed by name
        assert param.kind in (P, param.POSITIONAL_OR_KEYWORD)
        assert param.kind == P or param.name == expected, (name, param.name, expected)
    for keyword in keywords:
        assert keyword in names, f"{name} lacks keyword {keyword}"
        assert params[names.index(keyword)].kind == K, f"{name}: {keyword} not keyword-only"


def test_namespace_basics():
    x = tc.ones((2, 3))
    assert x.__array_namespace__() is xp
    assert x.__array_namespace__(api_version="2023.12") is xp
    with pytest.raises(ValueError):
        x.__array_namespace__(api_version="1999.01")
    assert xp.__array_api_version__ == "2023.12"
    assert x.device == "cpu" and x.to_device("cpu") is x
    assert x.mT.shape == (3, 2)
    assert (xp.e, xp.pi, xp.inf) == (math.e, math.pi, math.inf) and math.isnan(xp.nan)
    assert xp.newaxis is None
    info = xp.__array_namespace_info__()
    assert info.default_device() == "cpu" and info.devices() == ["cpu"]
    assert info.default_dtypes()["real floating"] == xp.float32
    assert info.default_dtypes()["integral"] == xp.int64
    assert set(info.dtypes().values()) == set(DTYPES)
    assert set(info.dtypes(kind="real floating").values()) == set(FLOATS)
    assert set(info.capabilities()) == {"boolean indexing", "data-dependent shapes"}


# ---------------------------------------------------------------------- data types
EXPECTED_PROMOTION = {
    (xp.bool, xp.bool): xp.bool, (xp.int32, xp.int32): xp.int32,
    (xp.int32, xp.int64): xp.int64, (xp.int64, xp.int64): xp.int64,
    (xp.float32, xp.float32): xp.float32, (xp.float32, xp.float64): xp.float64,
    (xp.float64, xp.float64): xp.float64,
}


@pytest.mark.parametrize("pair", list(EXPECTED_PROMOTION))
def test_promotion_table(pair):
    expected = EXPECTED_PROMOTION[pair]
    a, b = pair
    assert xp.result_type(a, b) == expected and xp.result_type(b, a) == expected
    x, y = xp.ones((2, 1), dtype=a), xp.ones((3,), dtype=b)
    ops = ["equal", "less"] + (["logical_or"] if a == xp.bool else
                               ["add", "multiply", "maximum", "subtract"])
    for name in ops:
        result = getattr(xp, name)(x, y)
        assert result.shape == (2, 3)
        assert result.dtype == (xp.bool if name in ("equal", "less") else expected), name
    if a != xp.bool:
        assert xp.concat([xp.ones(2, dtype=a), xp.ones(1, dtype=b)]).dtype == expected
        assert xp.stack([xp.ones(2, dtype=a), xp.ones(2, dtype=b)]).dtype == expected


def test_python_scalars_are_weak():
    for dtype in NUMERIC:
        assert xp.add(xp.ones(2, dtype=dtype), 1).dtype == dtype
        assert xp.result_type(dtype, 1) == dtype
    for dtype in FLOATS:
        assert xp.multiply(xp.ones(2, dtype=dtype), 0.5).dtype == dtype
        assert xp.result_type(dtype, 0.5) == dtype
    assert xp.result_type(xp.bool, True) == xp.bool


def test_can_cast_isdtype_finfo_iinfo():
    for a, b in itertools.product(DTYPES, DTYPES):
        # the standard's table within a kind; across kinds NumPy's promotion (documented)
        allowed = a == b or np.promote_types(a, b) == b
        assert xp.can_cast(a, b) == allowed, (a, b)
    assert xp.can_cast(xp.ones(2, dtype=xp.int32), xp.int64)
    kinds = {"bool": [xp.bool], "signed integer": [xp.int32, xp.int64],
             "unsigned integer": [], "integral": [xp.int32, xp.int64],
             "real floating": FLOATS, "complex floating": [], "numeric": NUMERIC}
    for kind, members in kinds.items():
        for dtype in DTYPES:
            assert xp.isdtype(dtype, kind) == (dtype in members), (dtype, kind)
    assert xp.isdtype(xp.int32, ("bool", xp.int32)) and not xp.isdtype(xp.int32, xp.int64)
    for dtype in FLOATS:
        info, ref = xp.finfo(dtype), np.finfo(dtype)
        assert (info.bits, info.eps, info.max, info.min, info.smallest_normal) == \
            (ref.bits, ref.eps, ref.max, ref.min, ref.smallest_normal)
        assert info.dtype == dtype
    for dtype in (xp.int32, xp.int64):
        info = xp.iinfo(dtype)
        assert (info.bits, info.min, info.max) == (np.iinfo(dtype).bits, np.iinfo(dtype).min,
                                                   np.iinfo(dtype).max)
    x = xp.asarray([1.7, -2.2])
    assert xp.astype(x, xp.int32).tolist() == [1, -2]
    assert xp.astype(x, xp.float32, copy=False) is x


# ---------------------------------------------------------------------- creation
def test_creation_functions():
    assert xp.asarray([1, 2]).dtype == xp.int64 and xp.asarray(1.5).dtype == xp.float32
    assert xp.asarray([True]).dtype == xp.bool
    base = np.arange(6.0).reshape(2, 3)
    shared = xp.asarray(base)
    assert np.shares_memory(shared.numpy(), base)
    assert not np.shares_memory(xp.asarray(base, copy=True).numpy(), base)
    with pytest.raises(ValueError):
        xp.asarray([1, 2], copy=False)
    assert xp.asarray(shared) is shared
    for fn, value in ((xp.zeros, 0), (xp.ones, 1)):
        t = fn((2, 3))
        assert t.dtype == xp.float32 and t.shape == (2, 3) and (t.numpy() == value).all()
    assert xp.empty((0, 4), dtype=xp.int32).shape == (0, 4)
    assert xp.full((2,), 7).dtype == xp.int64 and xp.full((2,), 0.5).dtype == xp.float32
    assert xp.full((2,), True).dtype == xp.bool
    x = xp.ones((2, 3), dtype=xp.int32)
    for fn in (xp.zeros_like, xp.ones_like, xp.empty_like):
        assert fn(x).dtype == xp.int32 and fn(x).shape == (2, 3)
    assert xp.full_like(x, 4, dtype=xp.float64).numpy().tolist() == [[4.0] * 3] * 2
    np.testing.assert_array_equal(xp.arange(1, 10, 3).numpy(), np.arange(1, 10, 3))
    assert xp.arange(0.0, 1.0, 0.25).dtype == xp.float32
    for n, m, k in [(3, None, 0), (3, 5, 1), (4, 2, -1), (2, 3, 5)]:
        np.testing.assert_array_equal(xp.eye(n, m, k=k).numpy(), np.eye(n, m, k=k))
    for num, endpoint in [(5, True), (4, False), (1, True), (0, True)]:
        np.testing.assert_allclose(xp.linspace(-1, 2, num, endpoint=endpoint, dtype=xp.float64)
                                   .numpy(), np.linspace(-1, 2, num, endpoint=endpoint))
    m = np.arange(12.0).reshape(3, 4)
    for k in (-1, 0, 2):
        np.testing.assert_array_equal(xp.tril(xp.asarray(m), k=k).numpy(), np.tril(m, k))
        np.testing.assert_array_equal(xp.triu(xp.asarray(m), k=k).numpy(), np.triu(m, k))
    for indexing in ("xy", "ij"):
        got = xp.meshgrid(xp.arange(3), xp.arange(2), indexing=indexing)
        for g, r in zip(got, np.meshgrid(np.arange(3), np.arange(2), indexing=indexing)):
            np.testing.assert_array_equal(g.numpy(), r)
    d = xp.from_dlpack(base)
    assert np.shares_memory(d.numpy(), base)
    with pytest.raises(ValueError):
        xp.zeros(2, device="gpu")


# ---------------------------------------------------------------------- elementwise
SPECIAL = np.array([-np.inf, -3.5, -2.5, -1.0, -0.5, -0.0, 0.0, 0.3, 0.5, 1.0, 2.5, 7.0,
                    1e20, np.inf, np.nan])
NP_UNARY = {"abs": np.abs, "ceil": np.ceil, "exp": np.exp, "floor": np.floor,
            "isfinite": np.isfinite, "isinf": np.isinf, "isnan": np.isnan, "log": np.log,
            "negative": np.negative, "positive": np.positive, "sign": np.sign, "sqrt": np.sqrt,
            "square": np.square, "tanh": np.tanh, "trunc": np.trunc}


@pytest.mark.parametrize("name", sorted(NP_UNARY))
@pytest.mark.parametrize("dtype", FLOATS)
def test_unary_float_values(name, dtype):
    data = SPECIAL.astype(dtype)
    with np.errstate(all="ignore"):
        expected = NP_UNARY[name](data)
    got = getattr(xp, name)(xp.asarray(data)).numpy()
    assert got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=2e-6 if dtype == xp.float32 else 1e-12)
    if name in ("floor", "ceil", "trunc", "negative", "positive", "abs"):
        np.testing.assert_array_equal(np.signbit(got), np.signbit(expected))


@pytest.mark.parametrize("dtype", [xp.int32, xp.int64])
def test_unary_integer_results(dtype):
    data = np.array([-7, -1, 0, 3, 9], dtype=dtype)
    for name in ("abs", "negative", "positive", "sign", "square", "floor", "ceil", "trunc"):
        got = getattr(xp, name)(xp.asarray(data))
        assert got.dtype == dtype, name
        np.testing.assert_array_equal(got.numpy(), NP_UNARY[name](data))
    for name in ("isnan", "isinf", "isfinite"):
        np.testing.assert_array_equal(getattr(xp, name)(xp.asarray(data)).numpy(),
                                      NP_UNARY[name](data))


NP_BINARY = {"add": np.add, "divide": np.divide, "equal": np.equal, "greater": np.greater,
             "greater_equal": np.greater_equal, "less": np.less, "less_equal": np.less_equal,
             "maximum": np.maximum, "minimum": np.minimum, "multiply": np.multiply,
             "not_equal": np.not_equal, "pow": np.power, "subtract": np.subtract,
             "floor_divide": np.floor_divide, "remainder": np.remainder,
             "atan2": np.arctan2, "logaddexp": np.logaddexp, "hypot": np.hypot,
             "copysign": np.copysign}
SHAPES = [((3, 4), (3, 4)), ((2, 1, 4), (3, 1)), ((), (5,)), ((0, 3), (1, 3)), ((4, 1), ())]


@pytest.mark.parametrize("name", sorted(NP_BINARY))
@pytest.mark.parametrize("shapes", SHAPES)
def test_binary_float_broadcasting(name, shapes):
    rng = np.random.default_rng(len(name))
    a = rng.uniform(0.5, 3.0, shapes[0]).astype(np.float32)
    b = rng.uniform(0.5, 3.0, shapes[1]).astype(np.float32)
    got = getattr(xp, name)(xp.asarray(a), xp.asarray(b)).numpy()
    expected = NP_BINARY[name](a, b)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=3e-6, atol=1e-6)


def test_complex_parts_of_real_arrays():
    """real/conj/imag on the real arrays tensorcore stores: copies and zeros, as NumPy."""
    for data in (np.array([1.5, -np.inf, np.nan, -0.0], np.float32), np.array([3, -2]),
                 np.array([True, False])):
        x = xp.asarray(data)
        for name in ("real", "conj", "imag"):
            got = getattr(xp, name)(x)
            assert got.dtype == data.dtype and got is not x
            np.testing.assert_array_equal(got.numpy(), getattr(np, name)(data))
    assert complex(xp.asarray(2.5)) == 2.5 + 0j


def test_integer_floor_divide_remainder_and_logical():
    a = np.array([7, -7, 7, -7, 0], np.int64)
    b = np.array([2, 2, -2, -2, 3], np.int64)
    np.testing.assert_array_equal(xp.floor_divide(xp.asarray(a), xp.asarray(b)).numpy(), a // b)
    np.testing.assert_array_equal(xp.remainder(xp.asarray(a), xp.asarray(b)).numpy(), a % b)
    p, q = np.array([True, True, False, False]), np.array([True, False, True, False])
    for name, ref in (("logical_and", np.logical_and), ("logical_or", np.logical_or),
                      ("logical_xor", np.logical_xor)):
        np.testing.assert_array_equal(getattr(xp, name)(xp.asarray(p), xp.asarray(q)).numpy(),
                                      ref(p, q))
    np.testing.assert_array_equal(xp.logical_not(xp.asarray(p)).numpy(), ~p)
    x = xp.asarray([-2.0, 0.5, 9.0])
    np.testing.assert_array_equal(xp.clip(x, min=0.0, max=1.0).numpy(), [0.0, 0.5, 1.0])


# ---------------------------------------------------------------------- manipulation
def test_manipulation_functions():
    a = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
    x = xp.asarray(a)
    checks = [
        (xp.reshape(x, (4, -1)), a.reshape(4, -1)),
        (xp.permute_dims(x, (2, 0, 1)), a.transpose(2, 0, 1)),
        (xp.expand_dims(x, axis=-1), a[..., None]),
        (xp.squeeze(xp.asarray(a[:, :1]), 1), a[:, 0]),
        (xp.broadcast_to(xp.asarray(a[:1]), (5, 3, 4)), np.broadcast_to(a[:1], (5, 3, 4))),
        (xp.concat([x, x], axis=1), np.concatenate([a, a], axis=1)),
        (xp.concat([x, x], axis=None), np.concatenate([a.ravel(), a.ravel()])),
        (xp.stack([x, x], axis=-1), np.stack([a, a], axis=-1)),
        (xp.flip(x), np.flip(a)), (xp.flip(x, axis=(0, 2)), np.flip(a, axis=(0, 2))),
        (xp.moveaxis(x, 0, -1), np.moveaxis(a, 0, -1)),
        (xp.moveaxis(x, (0, 1), (2, 0)), np.moveaxis(a, (0, 1), (2, 0))),
        (xp.roll(x, 2), np.roll(a, 2)), (xp.roll(x, -1, axis=2), np.roll(a, -1, axis=2)),
        (xp.roll(x, (1, 5), axis=(0, 1)), np.roll(a, (1, 5), axis=(0, 1))),
        (xp.take(x, xp.asarray([2, 0]), axis=1), np.take(a, [2, 0], axis=1)),
        (xp.matrix_transpose(x), np.swapaxes(a, -1, -2)),
        (xp.unstack(x, axis=1)[2], a[:, 2]),
    ]
    for got, expected in checks:
        np.testing.assert_array_equal(got.numpy(), expected)
    b1, b2 = xp.broadcast_arrays(xp.ones((3, 1)), xp.ones((4,)))
    assert b1.shape == b2.shape == (3, 4)
    with pytest.raises(ValueError):
        xp.squeeze(x, 0)
    with pytest.raises(ValueError):
        xp.reshape(xp.permute_dims(x, (2, 1, 0)), (-1,), copy=False)
    assert np.shares_memory(xp.reshape(x, (6, 4)).numpy(), a)
    assert not np.shares_memory(xp.reshape(x, (6, 4), copy=True).numpy(), a)


# ---------------------------------------------------------------------- statistics, search
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's reference, var over ()
@pytest.mark.parametrize("axis", [None, 0, 1, (0, 2), ()])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions(axis, keepdims):
    rng = np.random.default_rng(3)
    a = rng.uniform(-2, 2, (3, 4, 5))
    x = xp.asarray(a)
    kw = {"axis": axis, "keepdims": keepdims}
    for name, ref in (("sum", np.sum), ("prod", np.prod), ("mean", np.mean), ("max", np.max),
                      ("min", np.min), ("var", np.var), ("std", np.std)):
        np.testing.assert_allclose(getattr(xp, name)(x, **kw).numpy(), ref(a, **kw),
                                   rtol=1e-10, err_msg=name)
    with np.errstate(all="ignore"):
        expected = np.var(a, ddof=1, **kw)
    np.testing.assert_allclose(xp.var(x, correction=1, **kw).numpy(), expected)
    np.testing.assert_array_equal(xp.all(x > -1.5, **kw).numpy(), np.all(a > -1.5, **kw))
    np.testing.assert_array_equal(xp.any(x > 1.9, **kw).numpy(), np.any(a > 1.9, **kw))
    np.testing.assert_array_equal(xp.count_nonzero(x > 0, **kw).numpy(),
                                  np.count_nonzero(a > 0, axis=axis, keepdims=keepdims))


def test_reduction_dtypes_and_search():
    ints = xp.asarray(np.array([[1, 2], [3, 4]], np.int32))
    assert xp.sum(ints).dtype == xp.int64 and xp.sum(xp.asarray([True, True])).dtype == xp.int64
    assert xp.sum(ints, dtype=xp.int32).dtype == xp.int32
    assert xp.prod(ints).numpy() == 24 and xp.prod(ints).dtype == xp.int64
    assert xp.sum(xp.ones(3, dtype=xp.float32)).dtype == xp.float32
    assert xp.mean(xp.ones(3, dtype=xp.float32)).dtype == xp.float32
    assert xp.max(ints).dtype == xp.int32
    assert xp.all(xp.zeros((0,))).numpy() and not xp.any(xp.zeros((0,))).numpy()
    assert xp.prod(xp.zeros((0,))).numpy() == 1.0
    a = np.array([[3.0, 9.0, 9.0], [-1.0, -4.0, 2.0]])
    for axis in (None, 0, 1):
        assert xp.argmax(xp.asarray(a), axis=axis).numpy().tolist() == \
            np.argmax(a, axis=axis).tolist()
        assert xp.argmin(xp.asarray(a), axis=axis, keepdims=True).numpy().tolist() == \
            np.argmin(a, axis=axis, keepdims=True).tolist()
    assert xp.argmax(xp.asarray(a)).dtype == xp.int64
    got = xp.where(xp.asarray(a) > 0, xp.asarray(a), xp.zeros((1, 3), dtype=xp.float64))
    np.testing.assert_array_equal(got.numpy(), np.where(a > 0, a, 0.0))


# ---------------------------------------------------------------------- linear algebra
@pytest.mark.parametrize("shapes", [((3, 4), (4, 5)), ((2, 3, 4), (4,)), ((4,), (4,)),
                                    ((2, 1, 3, 4), (5, 4, 2))])
def test_matmul(shapes):
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    np.testing.assert_allclose(xp.matmul(xp.asarray(a), xp.asarray(b)).numpy(), a @ b,
                               rtol=1e-10, atol=1e-12)


def test_tensordot_and_vecdot():
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((3, 4, 5))
    for axes in (0, 2, ((1, 2), (0, 1)), ([2], [1])):
        np.testing.assert_allclose(
            xp.tensordot(xp.asarray(a), xp.asarray(b), axes=axes).numpy(),
            np.tensordot(a, b, axes=axes), rtol=1e-10, atol=1e-12)
    c, d = rng.standard_normal((2, 3, 4, 6)), rng.standard_normal((3, 1, 6))
    np.testing.assert_allclose(xp.vecdot(xp.asarray(c), xp.asarray(d)).numpy(),
                               np.sum(c * d, axis=-1), rtol=1e-10)
    e, f = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((2, 3, 4, 5))
    np.testing.assert_allclose(xp.vecdot(xp.asarray(e), xp.asarray(f), axis=1).numpy(),
                               np.sum(e * f, axis=1), rtol=1e-10)
    assert xp.matmul(xp.ones((2, 2), dtype=xp.float32),
                     xp.ones((2, 2), dtype=xp.float64)).dtype == xp.float64


# ---------------------------------------------------------------------- a consumer library
def test_array_api_extra_runs_unchanged_on_tensorcore():
    compat = pytest.importorskip("array_api_compat")
    xpx = pytest.importorskip("array_api_extra")
    m = np.array([[1.0, 2.0, 4.0, 0.5], [3.0, 1.0, 0.5, 2.0], [2.0, 2.5, 2.0, 1.0]])
    x = xp.asarray(m)
    assert compat.array_namespace(x) is xp
    cov = xpx.cov(x)
    assert isinstance(cov, tc.Tensor)
    np.testing.assert_allclose(cov.numpy(), np.cov(m), rtol=1e-12)
    kron = xpx.kron(x, xp.eye(2, dtype=xp.float64))
    np.testing.assert_array_equal(kron.numpy(), np.kron(m, np.eye(2)))
    np.testing.assert_array_equal(xpx.pad(x, 1).numpy(), np.pad(m, 1))
    assert xpx.atleast_nd(xp.asarray([1.0]), ndim=3).shape == (1, 1, 1)
