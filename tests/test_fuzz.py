"""Differential fuzzing: random op programs on strided views, C vs Numba vs NumPy.

Each hypothesis example is a start view (any rank 0-5, zero-size dims, transposed, sliced with
negative steps, or broadcast with zero strides) and 2-5 steps (binary, unary, reduce, reshape,
transpose, matmul, softmax, where, clip, indexing, concatenate/stack, astype). Every step is run
on every selected backend with the SAME input tensor (the output of the previous step, so
strided results flow into later steps) and compared with each other and with a NumPy oracle
computed from that input. Inputs must never be modified.

Profiles: quick by default (``FUZZ_EXAMPLES`` examples); ``TENSORCORE_FUZZ=long`` runs
``LONG_EXAMPLES``. ``TENSORCORE_FUZZ_EXAMPLES=n`` overrides both. A failure prints the
hypothesis reproduction blob (``@reproduce_failure``) and the program, including the NumPy
seeds of its arrays (drawn by hypothesis, so the blob replays them).
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import tensorcore as tc
from tensorcore import backend as tc_backend

from conftest import BACKENDS
from fuzz_strategies import Program, Step, programs

LONG = os.environ.get("TENSORCORE_FUZZ") == "long"
FUZZ_EXAMPLES = 150
LONG_EXAMPLES = 10000
EXAMPLES = int(os.environ.get("TENSORCORE_FUZZ_EXAMPLES", LONG_EXAMPLES if LONG else FUZZ_EXAMPLES))

FUZZ_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, print_blob=True,
                         suppress_health_check=list(HealthCheck))
USER_ERRORS = (ValueError, IndexError, TypeError)


# ---------------------------------------------------------------- NumPy oracle
def _logsumexp(x: np.ndarray, axis, keepdims: bool) -> np.ndarray:
    wide = x.astype(np.float64)
    axes = tuple(range(x.ndim)) if axis is None else (axis if isinstance(axis, tuple) else
                                                      (axis,))
    if wide.size and all(x.shape[a] > 0 for a in axes):
        m = np.max(wide, axis=axes, keepdims=True)
        m = np.where(np.isfinite(m), m, 0.0)
    else:
        m = np.zeros([1 if d in [a % max(x.ndim, 1) for a in axes] else n
                      for d, n in enumerate(x.shape)])
    result = np.log(np.sum(np.exp(wide - m), axis=axes, keepdims=True)) + m
    if not keepdims:
        result = result.reshape([n for d, n in enumerate(result.shape)
                                 if d not in [a % max(x.ndim, 1) for a in axes]])
    return np.asarray(result.astype(x.dtype))


def _softmax(x: np.ndarray, axis: int, log: bool) -> np.ndarray:
    if x.shape[axis] == 0:
        return np.empty(x.shape, x.dtype)
    m = np.max(x, axis=axis, keepdims=True)
    shifted = x - m
    total = np.sum(np.exp(shifted), axis=axis, keepdims=True)
    return (shifted - np.log(total)) if log else np.exp(shifted) / total


def numpy_step(x: np.ndarray, step: Step) -> np.ndarray:
    """The NumPy result of `step` applied to `x` (raises like NumPy for invalid input)."""
    p, ops, op = step.params, step.operands, step.op
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        if step.family == "binary":
            a, b = (ops[0], x) if p.get("swap") else (x, ops[0])
            return np.asarray(getattr(np, op)(a, b))
        if step.family == "unary":
            if op == "relu":
                return np.where(x > 0, x, np.zeros_like(x))
            if op == "sigmoid":
                return np.asarray(1 / (1 + np.exp(-x.astype(np.float64)))).astype(x.dtype)
            return np.asarray(getattr(np, op)(x))
        if step.family == "reduce":
            axis, keepdims = p["axis"], p["keepdims"]
            if op == "logsumexp":
                return _logsumexp(x, axis, keepdims)
            if op == "var":
                return np.asarray(np.var(x, axis=axis, keepdims=keepdims, ddof=p["ddof"]))
            if op == "sum" and x.dtype.kind in "bi":
                return np.asarray(np.sum(x, axis=axis, keepdims=keepdims, dtype=np.int64))
            return np.asarray(getattr(np, op)(x, axis=axis, keepdims=keepdims))
        if op == "reshape":
            return np.reshape(x, p["shape"])
        if op == "transpose":
            return np.transpose(x, p["axes"])
        if op == "matmul":
            return np.asarray(np.matmul(x, ops[0]))
        if step.family == "softmax":
            return _softmax(x, p["axis"] % x.ndim, op == "log_softmax")
        if op == "where":
            cond, other = ops
            return np.where(cond, other, x) if p["swap"] else np.where(cond, x, other)
        if op == "clip":
            lo = -np.inf if p["lo"] is None else p["lo"]
            hi = np.inf if p["hi"] is None else p["hi"]
            if x.dtype.kind == "i":
                info = np.iinfo(x.dtype)
                lo, hi = max(lo, info.min), min(hi, info.max)
            return np.minimum(np.maximum(x, np.asarray(lo, x.dtype)), np.asarray(hi, x.dtype))
        if op == "getitem":
            return np.asarray(x[p["key"]])
        if op in ("concatenate", "stack"):
            seq = [ops[0], x] if p["swap"] else [x, ops[0]]
            return getattr(np, op)(seq, axis=p["axis"])
        if op == "astype":
            return x.astype(p["dtype"])
    raise AssertionError(f"unknown step {step!r}")


def tc_step(x: tc.Tensor, step: Step) -> tc.Tensor:
    """The tensorcore result of `step` applied to `x` on the active backend."""
    p, ops, op = step.params, [tc.from_numpy(a) for a in step.operands], step.op
    if step.family == "binary":
        a, b = (ops[0], x) if p.get("swap") else (x, ops[0])
        return getattr(tc, op)(a, b)
    if step.family == "unary":
        return getattr(tc, op)(x)
    if step.family == "reduce":
        kwargs = {"axis": p["axis"], "keepdims": p["keepdims"]}
        if op == "var":
            kwargs["ddof"] = p["ddof"]
        return getattr(tc, op)(x, **kwargs)
    if op == "reshape":
        return tc.reshape(x, p["shape"])
    if op == "transpose":
        return x.transpose(p["axes"]) if p["axes"] is not None else tc.transpose(x)
    if op == "matmul":
        return x @ ops[0]
    if step.family == "softmax":
        return getattr(tc, op)(x, axis=p["axis"])
    if op == "where":
        cond, other = ops
        return tc.where(cond, other, x) if p["swap"] else tc.where(cond, x, other)
    if op == "clip":
        return tc.clip(x, p["lo"], p["hi"])
    if op == "getitem":
        key = p["key"]
        return x[tuple(tc.from_numpy(k) if isinstance(k, np.ndarray) else k for k in key)]
    if op in ("concatenate", "stack"):
        seq = [ops[0], x] if p["swap"] else [x, ops[0]]
        return getattr(tc, op)(seq, axis=p["axis"])
    if op == "astype":
        return x.astype(p["dtype"])
    raise AssertionError(f"unknown step {step!r}")


# ---------------------------------------------------------------- comparisons
def _scale(*arrays: np.ndarray) -> float:
    """Largest finite magnitude among the arrays (at least 1)."""
    biggest = 1.0
    for a in arrays:
        if a.dtype.kind == "f" and a.size:
            finite = np.abs(a[np.isfinite(a)])
            if finite.size:
                biggest = max(biggest, float(finite.max()))
    return biggest


def _tolerance(step: Step, x: np.ndarray, out_dtype: np.dtype) -> tuple[float, float]:
    """(rtol, atol) for comparing float results of `step` on input `x`."""
    eps = 2e-6 if out_dtype == np.float32 else 1e-13
    terms = 1
    if step.family == "reduce" or step.family == "softmax":
        terms = max(1, x.size)
    if step.op == "matmul":
        terms = max(1, x.shape[-1])
    scale = _scale(x, *step.operands)
    if step.op == "matmul":
        scale = scale * scale
    if step.op in ("var",):
        scale = scale * scale
    if step.op in ("exp", "softmax", "log_softmax", "logsumexp"):
        scale = max(scale, float(np.exp(min(scale, 80.0))))
    return 8 * eps, 8 * eps * scale * terms


def assert_same(actual: np.ndarray, expected: np.ndarray, step: Step, x: np.ndarray,
                what: str) -> None:
    """Shape, dtype and values (exact for ints/bools, tolerant for floats) must agree."""
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype} != {expected.dtype}"
    if expected.dtype.kind in "biu":
        np.testing.assert_array_equal(actual, expected, err_msg=what)
        return
    rtol, atol = _tolerance(step, x, expected.dtype)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True,
                               err_msg=what)


def _select(name: str) -> None:
    tc.set_backend(name)


def _snapshot(arrays):
    return [(a, a.copy()) for a in arrays]


def run_program(program: Program, backends: list[str], driver_choices: list[int]) -> int:
    """Run `program` step by step on every backend; return how many steps ran."""
    current = tc.from_numpy(program.start)
    guards = _snapshot([program.start] + [a for s in program.steps for a in s.operands])
    ran = 0
    for index, step in enumerate(program.steps):
        x = current.data
        x_before = x.copy()
        if step.op == "astype" and x.dtype.kind == "f" and np.dtype(step.params["dtype"]).kind \
                == "i":
            with np.errstate(all="ignore"):
                if x.size and not (np.all(np.isfinite(x)) and np.max(np.abs(x)) < 2 ** 31 - 1):
                    continue     # NumPy's own float -> int cast is undefined here
        try:
            expected = numpy_step(x, step)
            expected_error = None
        except USER_ERRORS as error:
            expected, expected_error = None, error
        results = {}
        for name in backends:
            _select(name)
            what = f"step {index} {step!r} on backend {name!r}"
            if expected_error is not None:
                with pytest.raises(USER_ERRORS) as caught:
                    tc_step(current, step)
                assert isinstance(caught.value, type(expected_error)) or \
                    isinstance(expected_error, type(caught.value)), \
                    f"{what}: raised {caught.value!r}, NumPy raised {expected_error!r}"
                continue
            result = tc_step(current, step)
            assert isinstance(result, tc.Tensor), what
            assert_same(result.data, expected, step, x, f"{what} vs NumPy")
            np.testing.assert_array_equal(x, x_before, err_msg=f"{what}: input was modified")
            results[name] = result
        if expected_error is not None:
            break
        ran += 1
        names = list(results)
        for other in names[1:]:
            assert_same(results[other].data, results[names[0]].data, step, x,
                        f"step {index} {step!r}: {other} vs {names[0]}")
        current = results[names[driver_choices[index % len(driver_choices)] % len(names)]]
    for original, copy in guards:
        np.testing.assert_array_equal(original, copy, err_msg="a fuzz input was modified")
    return ran


@pytest.fixture
def restore_backend():
    """Put the previously active backend back after the test."""
    with tc_backend.using(tc.get_backend()):
        yield


@FUZZ_SETTINGS
@given(program=programs(run_numpy=numpy_step),
       drivers=st.lists(st.integers(0, 3), min_size=1, max_size=5))
def test_fuzz_programs(restore_backend, program, drivers):
    """Random op programs agree across backends and with NumPy, and never touch inputs."""
    note(f"program:\n{program!r}")
    note(f"start data: {program.start!r}")
    for i, step in enumerate(program.steps):
        for operand in step.operands:
            note(f"operand of step {i}: {operand!r}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        run_program(program, BACKENDS, drivers)


@settings(max_examples=max(10, EXAMPLES // 5), deadline=None, print_blob=True,
          suppress_health_check=list(HealthCheck))
@given(program=programs(run_numpy=numpy_step, max_steps=4))
def test_fuzz_gradients_agree(restore_backend, program):
    """Gradients of sum(program(x)) for float programs agree between the backends."""
    if program.start.dtype.kind != "f" or len(BACKENDS) < 2:
        return
    grads = {}
    for name in BACKENDS:
        _select(name)
        x = tc.tensor(program.start, requires_grad=True)
        current = x
        try:
            for step in program.steps:
                current = tc_step(current, step)
        except USER_ERRORS:
            return
        if current.dtype.kind != "f" or not current.requires_grad:
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            current.sum().backward()
        grads[name] = x.grad.data if x.grad is not None else None
    first, *others = list(grads.values())
    for grad in others:
        if first is None or grad is None:
            assert first is None and grad is None
            continue
        scale = _scale(first)
        np.testing.assert_allclose(grad, first, rtol=1e-4, atol=1e-4 * scale, equal_nan=True)


def test_fuzz_profile_reports_examples():
    """The example count in use is visible in the test log (quick vs long profile)."""
    print(f"fuzz profile: {'long' if LONG else 'quick'}, {EXAMPLES} examples per test, "
          f"backends {BACKENDS}")
    assert EXAMPLES >= 1


# ---------------------------------------------------------------- boundary fuzzing (issue 17)
BOUNDARY_OPS = ["tensor", "exp", "add", "sum", "argmax", "softmax", "matmul", "maximum"]


def _boundary_numpy(op: str, a: np.ndarray, b: np.ndarray):
    with np.errstate(all="ignore"):
        if op == "tensor":
            return np.array(a)
        if op == "exp":
            return np.exp(a)
        if op == "add":
            return a + b
        if op == "maximum":
            return np.maximum(a, b)
        if op == "sum":
            return a.sum(axis=-1)
        if op == "argmax":
            return a.argmax(axis=-1)
        if op == "softmax":
            e = np.exp(a - a.max(axis=-1, keepdims=True))
            return e / e.sum(axis=-1, keepdims=True)
        return a @ b


def _boundary_tc(op: str, a: np.ndarray, b: np.ndarray):
    if op == "tensor":
        return tc.tensor(a)
    if op in ("sum", "argmax"):
        return getattr(tc, op)(a, axis=-1)
    if op == "softmax":
        return tc.softmax(a, axis=-1)
    if op == "exp":
        return tc.exp(a)
    return {"add": tc.add, "maximum": tc.maximum, "matmul": tc.matmul}[op](a, b)


@st.composite
def boundary_cases(draw):
    """An op on NumPy operands of any layout: structured-array fields (misaligned byte
    strides), negative, zero (broadcast) and transposed strides."""
    from fuzz_strategies import views
    op = draw(st.sampled_from(BOUNDARY_OPS))
    dtype = draw(st.sampled_from([np.float32, np.float64]) if op in ("exp", "softmax") else
                 st.sampled_from([np.float32, np.float64, np.int32, np.int64]))
    rows, cols = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    a = draw(views(dtype, (rows, cols), allow_record=True))
    b_shape = (cols, draw(st.integers(1, 4))) if op == "matmul" else (rows, cols)
    b = draw(views(dtype, b_shape, allow_record=True))
    return op, a, b


@settings(max_examples=max(20, EXAMPLES // 3), deadline=None, print_blob=True,
          suppress_health_check=list(HealthCheck))
@given(case=boundary_cases())
def test_fuzz_operands_of_any_layout(restore_backend, case):
    """Every op reads NumPy operands of any layout correctly on every backend (views of
    structured arrays are copied at the boundary, never misread by a kernel)."""
    op, a, b = case
    before = (a.copy(), b.copy())
    expected = _boundary_numpy(op, np.ascontiguousarray(a), np.ascontiguousarray(b))
    for name in BACKENDS:
        _select(name)
        got = _boundary_tc(op, a, b).numpy()
        assert got.dtype == expected.dtype, (name, op)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5, err_msg=f"{name} {op}")
    np.testing.assert_array_equal(a, before[0])
    np.testing.assert_array_equal(b, before[1])


def _overlaps_itself(shape, strides) -> bool:
    """Brute force: do two indices of (shape, strides) reach one address?"""
    seen = set()
    for index in np.ndindex(*shape):
        address = sum(i * s for i, s in zip(index, strides))
        if address in seen:
            return True
        seen.add(address)
    return False


@st.composite
def write_targets(draw):
    """A writeable target over a buffer with drawn strides (zero, negative, overlapping,
    or an ordinary layout) and a value that may alias the target."""
    rows, cols = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    item = 4
    strides = (draw(st.sampled_from([0, 1, 2, 3, 4, 6, -4, -6])) * item,
               draw(st.sampled_from([0, 1, 2, -1, 3])) * item)
    base = np.arange(64, dtype=np.float32)
    start = 32 * item  # room for negative strides on both sides
    target = np.lib.stride_tricks.as_strided(base[32:], (rows, cols), strides)
    assert target.__array_interface__["data"][0] == base.ctypes.data + start
    alias = draw(st.sampled_from(["scalar", "fresh", "self", "reversed", "shifted"]))
    return base, target, alias


@settings(max_examples=max(20, EXAMPLES // 3), deadline=None, print_blob=True,
          suppress_health_check=list(HealthCheck))
@given(case=write_targets(), op=st.sampled_from(["assign", "assign_add", "assign_sub"]))
def test_fuzz_in_place_targets(restore_backend, case, op):
    """In-place writes: a target whose elements overlap (zero or overlapping strides) is
    refused with ValueError before anything is written; otherwise the result is NumPy's,
    also when the value aliases the target (self, reversed or shifted views)."""
    base, target, alias = case
    for name in BACKENDS:
        _select(name)
        buffer = base.copy()
        view = np.lib.stride_tricks.as_strided(buffer[32:], target.shape, target.strides)
        value = {"scalar": 1.5, "fresh": np.full(target.shape, 2.0, np.float32),
                 "self": view, "reversed": view[::-1, ::-1],
                 "shifted": np.lib.stride_tricks.as_strided(buffer[33:], target.shape,
                                                            target.strides)}[alias]
        expected_buffer = buffer.copy()
        expected_view = np.lib.stride_tricks.as_strided(expected_buffer[32:], target.shape,
                                                        target.strides)
        np_value = np.array(value)  # snapshot, as our in-place ops read the value first
        t = tc.from_numpy(view)
        if _overlaps_itself(target.shape, target.strides):
            with pytest.raises(ValueError, match="overlaps itself"):
                getattr(t, op)(value)
            np.testing.assert_array_equal(buffer, base)
            continue
        try:
            getattr(t, op)(value)
        except ValueError as error:
            # The check is conservative: interleaved layouts (strides (12, 8) for shape
            # (3, 3)) are refused though no two indices meet; nothing may be written.
            from tensorcore._dispatch import self_overlapping
            assert "overlaps itself" in str(error) and self_overlapping(view)
            np.testing.assert_array_equal(buffer, base)
            continue
        if op == "assign":
            expected_view[...] = np_value
        elif op == "assign_add":
            expected_view[...] = expected_view + np_value
        else:
            expected_view[...] = expected_view - np_value
        np.testing.assert_array_equal(buffer, expected_buffer, err_msg=f"{name} {op} {alias}")
