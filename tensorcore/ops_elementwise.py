"""Elementwise ops: arithmetic, comparisons, unary math, where, clip, astype.

Binary ops follow NumPy: broadcasting, type promotion (Python scalars are "weak": a
float32 tensor times 2.5 stays float32), true division of integers gives float64.
Backward rules return gradients in the broadcast shape; the autodiff engine sums them
back to each input's shape.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from . import _optable as optable
from . import dtypes
from ._dispatch import (accept_array, broadcast_shapes, cast, check_dtype, expand, is_scalar,
                        scalar_array)
from ._tape import _state as _tape_state
from ._tape import attach, needs_grad
from .backend import current as backend
from .tensor import Tensor, as_tensor

_ALL = dtypes.SUPPORTED
_NUMERIC = (dtypes.float32, dtypes.float64, dtypes.int32, dtypes.int64)
_DTYPE_RULE = {op.name: op.dtypes for op in optable.OPS}
_INTEGER_RULES = {optable.INT: "integer (int32, int64)",
                  optable.INT_BOOL: "integer or bool (int32, int64, bool)"}
_COMPARE = frozenset(op.name for op in optable.family(optable.BINARY) if op.bool_result)
_BOOL_RESULT = frozenset(op.name for op in optable.family(optable.UNARY) if op.bool_result)
_NO_BOOL = frozenset(op.name for op in optable.family(optable.BINARY) if not op.bool_operands)


# ---------------------------------------------------------------------- operand handling
def _operand(x: Any, op: str) -> Tensor | None:
    """A Tensor for a tensor/array/sequence operand; None for a Python scalar."""
    if isinstance(x, Tensor):
        return x
    if is_scalar(x):
        return None
    if isinstance(x, np.ndarray):
        if x.dtype in _ALL:
            return Tensor._wrap(accept_array(op, x))
        return as_tensor(x)
    if isinstance(x, (list, tuple)):
        return as_tensor(x)
    raise TypeError(f"{op}: unsupported operand of type {type(x).__name__}; expected a "
                    "Tensor, a numpy.ndarray or a Python number")


def _tensor(x: Any, op: str) -> Tensor:
    """`x` as a Tensor (Python scalars and sequences converted)."""
    t = _operand(x, op)
    return as_tensor(x) if t is None else t


def _source_dtype(x: Any, t: Tensor) -> np.dtype:
    """The dtype promotion sees: a NumPy array's own dtype (before uint8, float16, ... are
    widened for storage), so float32 * uint8 stays float32 as in NumPy."""
    return x.dtype if isinstance(x, np.ndarray) else t.dtype


def _promote(op: str, a: Any, b: Any) -> tuple:
    """Tensors for both operands (scalars as 0-d constants) and the common dtype."""
    ta, tb = _operand(a, op), _operand(b, op)
    if ta is None and tb is None:
        ta = as_tensor(a)
    if ta is None:
        dtype = np.result_type(_source_dtype(b, tb), a)
        ta = Tensor._wrap(scalar_array(a, dtypes.storage_dtype(dtype, op), op))
    elif tb is None:
        dtype = np.result_type(_source_dtype(a, ta), b)
        tb = Tensor._wrap(scalar_array(b, dtypes.storage_dtype(dtype, op), op))
    else:
        dtype = np.result_type(_source_dtype(a, ta), _source_dtype(b, tb))
    if dtype not in _ALL:
        dtype = dtypes.storage_dtype(dtype, op)
    return ta, tb, dtype


def _binary_kernel(op: str, a: np.ndarray, b: np.ndarray, dtype: np.dtype,
                   out_dtype: np.dtype, name: str) -> np.ndarray:
    shape = broadcast_shapes(name, a.shape, b.shape)
    out = np.empty(shape, out_dtype)
    if out.size:
        backend().binary(op, expand(cast(a, dtype), shape), expand(cast(b, dtype), shape), out)
    return out


# float ops of one dtype and shape skip promotion (the common case in training)
_FAST_DTYPES = frozenset((dtypes.float32, dtypes.float64))
_FAST_BINARY = frozenset(op.name for op in optable.family(optable.BINARY)
                         if not op.bool_result and op.dtypes not in _INTEGER_RULES)


def _fast_binary_function(op: str, rule):
    """The public function of a float binary op, with the small-tensor fast path inline.

    Two Tensors (not subclasses) of one float dtype and one shape -- the common case in
    training -- need no promotion, broadcasting or casting: the constructor validated
    both arrays, so the function allocates the output, runs the kernel and records the
    tape node itself (what Tensor._wrap and attach do, spelled out: this runs once per op
    and every call level costs as much as the kernel on a 4x4 tensor). Everything else
    goes through _binary, which validates before any kernel runs."""
    new, empty_like, state = Tensor.__new__, np.empty_like, _tape_state

    def function(a: Any, b: Any) -> Tensor:
        if a.__class__ is Tensor and b.__class__ is Tensor:
            da = a.data
            db = b.data
            dtype = da.dtype
            if dtype is db.dtype and dtype in _FAST_DTYPES and da.shape == db.shape:
                out = empty_like(da)
                backend().binary(op, da, db, out)  # size 0: the kernels return at once
                result = new(Tensor)
                result.data = out
                result.grad = None
                if (a.requires_grad or b.requires_grad) and rule is not None \
                        and state.enabled:
                    # attach(result, (a, b), rule, op), inline
                    result.requires_grad = True
                    result._node = (rule, op, (0, a._version, b._version))
                    result._parents = (a, b)
                else:
                    result.requires_grad = False
                    result._node = None
                    result._parents = ()
                return result
        return _binary(op, a, b, rule)
    return function


def _binary(op: str, a: Any, b: Any, rule=None) -> Tensor:
    ta, tb, dtype = _promote(op, a, b)
    if op in _NO_BOOL:
        for x, t in ((a, ta), (b, tb)):
            if isinstance(x, (bool, np.bool_)) or t.dtype == dtypes.bool_:
                raise TypeError(f"{op}: boolean operands are not supported; received "
                                f"{'a bool tensor' if t.dtype == dtypes.bool_ else repr(x)}. "
                                "Cast to an integer or float dtype first")
    if op in _COMPARE:
        data = _binary_kernel(op, ta.data, tb.data, dtype, dtypes.bool_, op)
        return Tensor._wrap(data)
    rule_ = _DTYPE_RULE[op]
    if rule_ in _INTEGER_RULES and (dtype.kind not in "iu" and not (
            rule_ == optable.INT_BOOL and dtype == dtypes.bool_)):
        raise TypeError(f"{op}: expected {_INTEGER_RULES[rule_]} operands, received dtypes "
                        f"{_dtype_name(a, ta)} and {_dtype_name(b, tb)}")
    if rule_ == optable.FLOAT and dtype.kind != "f":
        dtype = dtypes.float64  # as NumPy: true division of integers gives float64
    elif rule_ == optable.NUMERIC and dtype == dtypes.bool_:
        if op != "power":
            raise TypeError(f"{op}: boolean {op} is not supported; use logical ops or cast "
                            "to an integer dtype first")
        dtype = dtypes.int64
    if op == "power" and dtype.kind in "iu":
        _check_integer_power(tb.data)
    data = _binary_kernel(op, ta.data, tb.data, dtype, dtype, op)
    out = Tensor._wrap(data)
    if rule is not None and needs_grad(ta, tb):
        attach(out, (ta, tb), rule, op)
    return out


def _dtype_name(x: Any, t: Tensor) -> str:
    """How an operand's dtype is named in errors (a Python scalar by its type)."""
    return type(x).__name__ if is_scalar(x) else dtypes.name(t.dtype)


def _check_integer_power(exponent: np.ndarray) -> None:
    if exponent.size == 0:
        return
    low = np.empty((1,) * exponent.ndim, exponent.dtype)
    backend().reduce("min", exponent, tuple(range(exponent.ndim)), low)
    if low.reshape(()).item() < 0:
        raise ValueError("power: integers to negative integer powers are not allowed; "
                         "use a float base")


# ---------------------------------------------------------------------- table ops
# Every row of the op table (tensorcore/_optable.py) becomes a module-level function here:
# primitives call their kernel through _unary / _binary, composed rows run their `impl`.
# Gradient rules of the table take this module as their op namespace.
_self = sys.modules[__name__]
_FLOAT_ONLY = optable.float_only()


def _unary(op: str, x: Any, rule=None) -> Tensor:
    tx = _tensor(x, op)
    data = tx.data
    if _DTYPE_RULE[op] == optable.INT_BOOL:
        if data.dtype.kind == "f":
            raise TypeError(f"{op}: not supported for {data.dtype} tensors; expected an "
                            "integer or bool dtype")
    elif op in _FLOAT_ONLY and data.dtype.kind != "f":
        # NumPy computes these on integers in float64.
        data = cast(data, dtypes.float64)
    elif data.dtype == dtypes.bool_:
        if op in ("abs", "square", "relu"):
            out = np.empty(data.shape, data.dtype)  # identity on {0, 1}, as NumPy
            if out.size:
                backend().copy(data, out)
            return Tensor._wrap(out)
        raise TypeError(f"{op}: not supported for bool tensors; expected a numeric dtype")
    out = np.empty(data.shape, dtypes.bool_ if op in _BOOL_RESULT else data.dtype)
    if out.size:
        backend().unary(op, data, out)
    result = Tensor._wrap(out)
    if rule is not None and needs_grad(tx):
        attach(result, (tx,), rule, op)
    return result


def _unary_rule(grad):
    """The engine's rule (g, out) -> (gx,) for a table rule grad(t, g, out, x)."""
    return lambda g, out: (grad(_self, g, out, out._parents[0]),)


def _binary_rule(grad):
    """The engine's rule (g, out) -> (ga, gb) for a table rule grad(t, g, out, a, b)."""
    return lambda g, out: grad(_self, g, out, *out._parents)


def _table_function(op: optable.OpDef):
    """The public function of one table row."""
    name = op.name
    if op.family == optable.UNARY:
        rule = None if op.grad is None else _unary_rule(op.grad)

        def function(x: Any) -> Tensor:
            return _unary(name, x, rule)
    elif op.family == optable.BINARY:
        rule = None if op.grad is None else _binary_rule(op.grad)
        if name in _FAST_BINARY:
            function = _fast_binary_function(name, rule)
        else:
            def function(a: Any, b: Any) -> Tensor:
                return _binary(name, a, b, rule)
    else:
        impl = op.impl

        def function(*args: Any) -> Tensor:
            if len(args) != op.arity:
                raise TypeError(f"{name}: expected {op.arity} argument(s), received "
                                f"{len(args)}")
            return impl(_self, *(_tensor(x, name) for x in args))
    function.__name__ = function.__qualname__ = name
    function.__module__ = __name__
    function.__doc__ = op.doc
    return function


for _op in optable.OPS:
    globals()[_op.name] = _table_function(_op)
del _op


# ---------------------------------------------------------------------- where, clip, astype
def where(cond: Any, a: Any, b: Any) -> Tensor:
    """Elements of a where cond is true, else of b (broadcast together)."""
    tc_ = _tensor(cond, "where")
    if tc_.dtype != dtypes.bool_:
        raise TypeError(f"where: condition must be a bool tensor, received dtype "
                        f"{dtypes.name(tc_.dtype)}; compare first (e.g. x > 0)")
    ta, tb, dtype = _promote("where", a, b)
    shape = broadcast_shapes("where", tc_.shape, ta.shape, tb.shape)
    out = np.empty(shape, dtype)
    if out.size:
        backend().where(expand(tc_.data, shape), expand(cast(ta.data, dtype), shape),
                        expand(cast(tb.data, dtype), shape), out)
    result = Tensor._wrap(out)
    if needs_grad(ta, tb):
        def rule(g, _out):
            return (where(tc_, g, 0) if ta.requires_grad else None,
                    where(tc_, 0, g) if tb.requires_grad else None)
        attach(result, (ta, tb), rule, "where")
    return result


def clip(x: Any, lo: Any = None, hi: Any = None) -> Tensor:
    """x limited to [lo, hi] elementwise (either bound may be None; tensors broadcast)."""
    tx = _tensor(x, "clip")
    if lo is None and hi is None:
        raise ValueError("clip: at least one of lo and hi must be given; received None, None")
    if (lo is None or is_scalar(lo)) and (hi is None or is_scalar(hi)):
        check_dtype("clip", tx.dtype, _NUMERIC)
        dtype = np.result_type(tx.dtype, *(v for v in (lo, hi) if v is not None))
        if dtype not in _ALL:
            dtype = dtypes.storage_dtype(dtype, "clip")
        data = cast(tx.data, dtype)
        out = np.empty(data.shape, dtype)
        if out.size:
            backend().clip(data, lo, hi, out)
        result = Tensor._wrap(out)
        if needs_grad(tx):
            def rule(g, _out):
                inside = None
                if lo is not None:
                    inside = _self.greater_equal(tx, lo)
                if hi is not None:
                    upper = _self.less_equal(tx, hi)
                    inside = upper if inside is None else _self.multiply(inside, upper)
                return (where(inside, g, 0),)
            attach(result, (tx,), rule, "clip")
        return result
    result = tx
    if lo is not None:
        result = _self.maximum(result, lo)
    if hi is not None:
        result = _self.minimum(result, hi)
    return result


def astype(x: Tensor, dtype: Any) -> Tensor:
    """A copy of x converted to dtype (float -> int truncates toward zero)."""
    target = dtypes.as_dtype(dtype, "astype")
    out = np.empty(x.shape, target)
    if out.size:
        backend().copy(x.data, out)
    result = Tensor._wrap(out)
    if target.kind == "f" and needs_grad(x):
        attach(result, (x,), lambda g, _out: (astype(g, x.dtype),), "astype")
    return result
