"""The op table (tensorcore/_optable.py) against everything derived from it: the C op lists,
every backend's kernels, the public functions, Tensor methods and __all__, the float-only rule,
gradients, and unknown op codes raising instead of computing another op.

Each test is driven by the table and the shared specs (tests/op_specs.py), so a new row is
tested by all of them; a backend that lacks an op of the table fails here.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from op_specs import SPECS

import tensorcore as tc
from tensorcore import _optable as optable
from tensorcore import backend as tc_backend

ROWS = optable.OPS
PRIMITIVES = optable.primitives()
BACKENDS = ("c", "numba", "reference")


def _module(name):
    if name == "reference":
        return importlib.import_module("tensorcore.testing.reference_backend")
    return importlib.import_module(f"tensorcore.backend.{name}_backend")


def _reference(op, arrays):
    """The row's NumPy reference, computed in float64 for floats (exact oracle), or in the
    inputs' own dtype for an `exact` spec (rounding ops: bit-for-bit comparison)."""
    if SPECS[op.name].exact:
        with np.errstate(all="ignore"):
            return np.asarray(op.reference(*arrays))
    wide = [a.astype(np.float64) if a.dtype.kind == "f" else a for a in arrays]
    if op.float_only:
        wide = [a.astype(np.float64) for a in wide]
    with np.errstate(all="ignore"):
        return np.asarray(op.reference(*wide))


# ---------------------------------------------------------------------- table consistency
def test_every_row_has_a_spec_and_every_spec_a_row():
    assert set(SPECS) == set(optable.names())


def test_c_op_lists_match_the_table():
    lib = pytest.importorskip("tensorcore._C").lib
    for kind, count, name_of in ((optable.UNARY, lib.TC_NUM_UNARY_OPS, lib.tc_unary_op_name),
                                 (optable.BINARY, lib.TC_NUM_BINARY_OPS,
                                  lib.tc_binary_op_name)):
        rows = optable.family(kind)
        ffi = pytest.importorskip("tensorcore._C").ffi
        c_names = [ffi.string(name_of(code)).decode() for code in range(count)]
        assert c_names == [op.name for op in rows], f"csrc/tensorcore.h {kind} list"
        for op in rows:
            assert getattr(lib, op.c_name) == op.code
        assert name_of(count) == ffi.NULL and name_of(-1) == ffi.NULL


def test_float_only_set_is_the_float_rule():
    assert optable.float_only() == {op.name for op in ROWS if op.dtypes == optable.FLOAT}
    assert {"exp", "log", "divide"} <= optable.float_only()


def test_public_functions_methods_and_all_come_from_the_table():
    for op in ROWS:
        function = getattr(tc, op.name)
        assert function.__name__ == op.name and function.__doc__ == op.doc
        assert op.name in tc.__all__
        if op.method:
            assert getattr(tc.Tensor, op.name) is function
    assert len(tc.__all__) == len(set(tc.__all__))


# ---------------------------------------------------------------------- every backend, every op
@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("op", PRIMITIVES, ids=lambda op: op.name)
def test_backend_computes_every_primitive(backend_name, op):
    """Each backend's kernel of each row agrees with the row's reference on every dtype the
    spec lists (strided input too); a backend missing the op fails here."""
    module = _module(backend_name)
    spec = SPECS[op.name]
    rng = np.random.default_rng(len(op.name))
    for dtype in spec.dtypes:
        if op.float_only and np.dtype(dtype).kind != "f":
            continue  # the front end computes these in float64
        if op.dtypes == optable.NUMERIC and dtype == np.bool_:
            continue
        arrays = spec.sample(rng, (7, 9), dtype)
        arrays[0] = arrays[0][:, ::2]  # a strided operand
        arrays = [a[:, :5] if a.ndim == 2 else a for a in arrays]
        out_dtype = np.dtype(np.bool_ if op.bool_result else dtype)
        out = np.empty(arrays[0].shape, out_dtype)
        getattr(module, op.family)(op.name, *arrays, out)
        expected = _reference(op, arrays)
        if out_dtype.kind == "f" and not spec.exact:
            rtol = spec.rtol32 if out_dtype == np.float32 else 1e-12
            np.testing.assert_allclose(out, expected, rtol=rtol, atol=rtol,
                                       err_msg=f"{backend_name} {op.name} {out_dtype}")
        else:
            np.testing.assert_array_equal(out, expected.astype(out_dtype),
                                          err_msg=f"{backend_name} {op.name} {out_dtype}")


# ---------------------------------------------------------------------- unknown op codes
def test_c_unknown_op_codes_return_an_error():
    C = pytest.importorskip("tensorcore._C")
    lib, ffi = C.lib, C.ffi
    a = np.ones(4, np.float32)
    out = np.zeros(4, np.float32)
    for bad in (-1, lib.TC_NUM_UNARY_OPS, 1000):
        status = lib.tc_py_unary_flat(bad, lib.TC_FLOAT32, 4, ffi.from_buffer(out),
                                      ffi.from_buffer(a))
        assert status == lib.TC_ERR_UNSUPPORTED
    for bad in (-1, lib.TC_NUM_BINARY_OPS, 1000):
        status = lib.tc_py_binary_flat(bad, lib.TC_FLOAT32, 4, ffi.from_buffer(out),
                                       ffi.from_buffer(a), ffi.from_buffer(a))
        assert status == lib.TC_ERR_UNSUPPORTED
        assert lib.tc_binary_result_dtype(bad, lib.TC_FLOAT32) < 0
    np.testing.assert_array_equal(out, 0)  # nothing was written


@pytest.mark.parametrize("dtype", [np.float32, np.int64])
def test_numba_unknown_op_codes_raise(dtype):
    pytest.importorskip("numba")
    from tensorcore.kernels import elementwise as ew
    from tensorcore.kernels.layout import operand_table

    a = np.ones(4, dtype)
    out = np.zeros(4, dtype)
    bad = len(optable.family(optable.UNARY))
    (ba, bo), offsets, strides, shape = operand_table((a, out))
    with pytest.raises(ValueError, match="unknown"):
        ew.unary_range(bad, ba, bo, offsets, strides, shape, 0, 4)
    (ba, bb, bo), offsets, strides, shape = operand_table((a, a, out))
    with pytest.raises(ValueError, match="unknown"):
        ew.arith_range(len(optable.family(optable.BINARY)), ba, bb, bo, offsets, strides,
                       shape, 0, 4)
    np.testing.assert_array_equal(out, 0)


# ---------------------------------------------------------------------- front end
@pytest.mark.parametrize("op", ROWS, ids=lambda op: op.name)
def test_front_end_matches_reference(backend, op):
    """tc.<name> on every spec dtype: the reference's values and NumPy's result dtype
    (float-only ops give float64 for integer inputs); float32 stays float32."""
    spec = SPECS[op.name]
    rng = np.random.default_rng(3)
    for dtype in spec.dtypes:
        if dtype == np.bool_ and op.dtypes not in (optable.ALL, optable.INT_BOOL):
            continue
        arrays = spec.sample(rng, (3, 4), dtype)
        result = getattr(tc, op.name)(*[tc.tensor(a) for a in arrays])
        expected = _reference(op, arrays)
        if op.bool_result:
            assert result.dtype == np.bool_
        elif np.dtype(dtype).kind == "f":
            assert result.dtype == dtype, (op.name, result.dtype)
        elif op.float_only:
            assert result.dtype == np.float64
        if spec.exact:
            np.testing.assert_array_equal(result.numpy(), expected, err_msg=op.name)
            continue
        rtol = spec.rtol32 if result.dtype == np.float32 else 1e-12
        np.testing.assert_allclose(result.numpy().astype(np.float64),
                                   expected.astype(np.float64), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("op", [op for op in ROWS if SPECS[op.name].gradcheck],
                         ids=lambda op: op.name)
def test_gradients_match_finite_differences(backend, op):
    """The row's gradient (rule or composed) against central differences in float64."""
    spec = SPECS[op.name]
    domain = spec.grad_domain or spec.domain
    rng = np.random.default_rng(5)
    arrays = [rng.uniform(lo, hi, (2, 3)) for lo, hi in domain]
    fn = getattr(tc, op.name)
    inputs = [tc.tensor(a, requires_grad=True) for a in arrays]
    weights = rng.uniform(0.5, 1.5, (2, 3))
    (fn(*inputs) * tc.tensor(weights)).sum().backward()
    eps = 1e-6
    for i, x in enumerate(inputs):
        assert x.grad is not None and x.grad.dtype == np.float64
        numeric = np.zeros_like(arrays[i])
        for index in np.ndindex(arrays[i].shape):
            plus = [a.copy() for a in arrays]
            minus = [a.copy() for a in arrays]
            plus[i][index] += eps
            minus[i][index] -= eps
            f_plus = (op.reference(*plus) * weights).sum()
            f_minus = (op.reference(*minus) * weights).sum()
            numeric[index] = (f_plus - f_minus) / (2 * eps)
        np.testing.assert_allclose(x.grad.numpy(), numeric, rtol=1e-5, atol=1e-6,
                                   err_msg=f"{op.name} input {i}")


def test_float32_gradients_stay_float32(backend):
    x = tc.tensor(np.linspace(0.1, 2.0, 6, dtype=np.float32), requires_grad=True)
    for op in ROWS:
        if not SPECS[op.name].gradcheck or op.bool_result:
            continue
        x.grad = None
        args = [x] * op.arity
        getattr(tc, op.name)(*args).sum().backward()
        assert x.grad.dtype == np.float32, op.name


def test_backend_fixture_restores_selection():
    before = tc.get_backend()
    with tc_backend.using("numba"):
        assert tc.get_backend() == "numba"
    assert tc.get_backend() == before


def test_log1p_expm1_sinh_accurate_near_zero(backend):
    """Why log1p/expm1 are primitives: near 0 the composed forms lose every digit in float32
    (log(1 + 1e-8) == 0), while these keep full relative accuracy (sinh too)."""
    x = np.array([1e-8, -3e-7, 2e-5, 1e-3], np.float32)
    for name, ref in (("log1p", np.log1p), ("expm1", np.expm1), ("sinh", np.sinh)):
        got = getattr(tc, name)(tc.tensor(x)).numpy()
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, ref(x.astype(np.float64)), rtol=3e-7, err_msg=name)
    naive = tc.log(tc.add(tc.tensor(x), 1.0)).numpy()
    assert naive[0] == 0.0  # the cancellation the primitive avoids


def test_sinh_cosh_finite_where_exp_overflows(backend):
    """Why sinh/cosh are primitives: float32 exp(89) overflows, cosh(89) is 2.2e38."""
    x = np.array([89.0, -89.0, 0.5], np.float32)
    for name, ref in (("sinh", np.sinh), ("cosh", np.cosh)):
        got = getattr(tc, name)(tc.tensor(x)).numpy()
        assert got.dtype == np.float32 and np.isfinite(got).all(), name
        np.testing.assert_allclose(got, ref(x.astype(np.float64)), rtol=3e-7, err_msg=name)
    assert np.isinf(tc.exp(tc.tensor(x[:1])).numpy()).all()
