"""Elementwise ops: arithmetic, comparisons, unary math, where, clip, astype.

Binary ops follow NumPy: broadcasting, type promotion (Python scalars are "weak": a
float32 tensor times 2.5 stays float32), true division of integers gives float64.
Backward rules return gradients in the broadcast shape; the autodiff engine sums them
back to each input's shape.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import dtypes
from ._dispatch import (accept_array, broadcast_shapes, cast, check_dtype, expand, is_scalar,
                        scalar_array)
from .autograd import attach, is_grad_enabled, needs_grad
from .backend import current as backend
from .tensor import Tensor, as_tensor

_ALL = dtypes.SUPPORTED
_NUMERIC = (dtypes.float32, dtypes.float64, dtypes.int32, dtypes.int64)
_ARITH = {"add", "subtract", "multiply", "divide", "power", "maximum", "minimum"}
_COMPARE = {"equal", "not_equal", "less", "less_equal", "greater", "greater_equal"}


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


_FAST_BINARY = {"add", "subtract", "multiply", "divide", "maximum", "minimum", "power"}


def _binary(op: str, a: Any, b: Any, rule=None) -> Tensor:
    if a.__class__ is Tensor and b.__class__ is Tensor:
        # Fast path: two float tensors of one dtype and shape (the common case in training).
        da, db = a.data, b.data
        if da.shape == db.shape and da.dtype == db.dtype and da.dtype.kind == "f" \
                and op in _FAST_BINARY:
            out = np.empty(da.shape, da.dtype)
            if out.size:
                backend().binary(op, da, db, out)
            result = Tensor._wrap(out)
            if rule is not None and (a.requires_grad or b.requires_grad) and \
                    is_grad_enabled():
                attach(result, (a, b), rule, op)
            return result
    ta, tb, dtype = _promote(op, a, b)
    if op in _COMPARE:
        data = _binary_kernel(op, ta.data, tb.data, dtype, dtypes.bool_, op)
        return Tensor._wrap(data)
    if dtype == dtypes.bool_ and op not in ("add", "multiply", "maximum", "minimum"):
        if op == "subtract":
            raise TypeError("subtract: boolean subtract is not supported; use logical ops")
        dtype = dtypes.int64 if op == "power" else dtype
    if op == "divide" and dtype.kind != "f":
        dtype = dtypes.float64
    if op == "power" and dtype.kind in "iu":
        _check_integer_power(tb.data)
    data = _binary_kernel(op, ta.data, tb.data, dtype, dtype, op)
    out = Tensor._wrap(data)
    if rule is not None and needs_grad(ta, tb):
        attach(out, (ta, tb), rule, op)
    return out


def _check_integer_power(exponent: np.ndarray) -> None:
    if exponent.size == 0:
        return
    low = np.empty((1,) * exponent.ndim, exponent.dtype)
    backend().reduce("min", exponent, tuple(range(exponent.ndim)), low)
    if low.reshape(()).item() < 0:
        raise ValueError("power: integers to negative integer powers are not allowed; "
                         "use a float base")


# ---------------------------------------------------------------------- arithmetic
def _add_rule(g, out):
    return g, g


def _sub_rule(g, out):
    return g, negative(g)


def _mul_rule(g, out):
    a, b = out._parents
    return (multiply(g, b) if a.requires_grad else None,
            multiply(g, a) if b.requires_grad else None)


def _div_rule(g, out):
    a, b = out._parents
    ga = divide(g, b) if a.requires_grad else None
    gb = negative(divide(multiply(g, out), b)) if b.requires_grad else None
    return ga, gb


def _pow_rule(g, out):
    a, b = out._parents
    ga = gb = None
    if a.requires_grad:
        ga = multiply(g, multiply(b, power(a, subtract(b, 1))))
    if b.requires_grad:
        base_zero = multiply(equal(a, 0), greater_equal(b, 0))
        gb = where(base_zero, 0, multiply(g, multiply(out, log(a))))
    return ga, gb


def add(a: Any, b: Any) -> Tensor:
    """a + b, elementwise with broadcasting."""
    return _binary("add", a, b, _add_rule)


def subtract(a: Any, b: Any) -> Tensor:
    """a - b, elementwise with broadcasting."""
    return _binary("subtract", a, b, _sub_rule)


def multiply(a: Any, b: Any) -> Tensor:
    """a * b, elementwise with broadcasting."""
    return _binary("multiply", a, b, _mul_rule)


def divide(a: Any, b: Any) -> Tensor:
    """a / b (true division: integers give float64)."""
    return _binary("divide", a, b, _div_rule)


def power(a: Any, b: Any) -> Tensor:
    """a ** b elementwise (integer bases need non-negative integer exponents)."""
    return _binary("power", a, b, _pow_rule)


def _minmax_rule(strict_op: str):
    def rule(g, out):
        # PyTorch convention: the gradient goes to the winner; ties split it evenly.
        a, b = out._parents
        half = multiply(g, 0.5)
        tie = equal(a, b)
        ga = gb = None
        if a.requires_grad:
            ga = where(_binary(strict_op, a, b), g, where(tie, half, 0))
        if b.requires_grad:
            gb = where(_binary(strict_op, b, a), g, where(tie, half, 0))
        return ga, gb
    return rule


_max_rule = _minmax_rule("greater")
_min_rule = _minmax_rule("less")


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise maximum (NaN propagates)."""
    return _binary("maximum", a, b, _max_rule)


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise minimum (NaN propagates)."""
    return _binary("minimum", a, b, _min_rule)


# ---------------------------------------------------------------------- comparisons
def equal(a: Any, b: Any) -> Tensor:
    """a == b elementwise, as a bool tensor."""
    return _binary("equal", a, b)


def not_equal(a: Any, b: Any) -> Tensor:
    """a != b elementwise, as a bool tensor."""
    return _binary("not_equal", a, b)


def less(a: Any, b: Any) -> Tensor:
    """a < b elementwise, as a bool tensor."""
    return _binary("less", a, b)


def less_equal(a: Any, b: Any) -> Tensor:
    """a <= b elementwise, as a bool tensor."""
    return _binary("less_equal", a, b)


def greater(a: Any, b: Any) -> Tensor:
    """a > b elementwise, as a bool tensor."""
    return _binary("greater", a, b)


def greater_equal(a: Any, b: Any) -> Tensor:
    """a >= b elementwise, as a bool tensor."""
    return _binary("greater_equal", a, b)


# ---------------------------------------------------------------------- unary math
_FLOAT_ONLY = {"exp", "log", "sqrt", "tanh", "sigmoid", "reciprocal"}


def _unary(op: str, x: Any, rule=None) -> Tensor:
    tx = _tensor(x, op)
    data = tx.data
    if op in _FLOAT_ONLY and data.dtype.kind != "f":
        # NumPy computes these on integers in float64.
        data = cast(data, dtypes.float64)
    elif data.dtype == dtypes.bool_:
        if op in ("abs", "square", "relu"):
            out = np.empty(data.shape, data.dtype)  # identity on {0, 1}, as NumPy
            if out.size:
                backend().copy(data, out)
            return Tensor._wrap(out)
        raise TypeError(f"{op}: not supported for bool tensors; expected a numeric dtype")
    out = np.empty(data.shape, data.dtype)
    if out.size:
        backend().unary(op, data, out)
    result = Tensor._wrap(out)
    if rule is not None and needs_grad(tx):
        attach(result, (tx,), rule, op)
    return result


def negative(x: Any) -> Tensor:
    """-x elementwise."""
    return _unary("negative", x, lambda g, out: negative(g))


def exp(x: Any) -> Tensor:
    """e ** x elementwise."""
    return _unary("exp", x, lambda g, out: multiply(g, out))


def log(x: Any) -> Tensor:
    """Natural logarithm elementwise."""
    tx = _tensor(x, "log")
    return _unary("log", tx, lambda g, out: divide(g, tx))


def sqrt(x: Any) -> Tensor:
    """Square root elementwise."""
    return _unary("sqrt", x, lambda g, out: divide(g, multiply(out, 2)))


def abs(x: Any) -> Tensor:  # noqa: A001 - NumPy's name
    """|x| elementwise."""
    tx = _tensor(x, "abs")
    return _unary("abs", tx, lambda g, out: multiply(g, sign(tx)))


def square(x: Any) -> Tensor:
    """x * x elementwise."""
    tx = _tensor(x, "square")
    return _unary("square", tx, lambda g, out: multiply(g, multiply(tx, 2)))


def tanh(x: Any) -> Tensor:
    """Hyperbolic tangent elementwise."""
    return _unary("tanh", x, lambda g, out: multiply(g, subtract(1, square(out))))


def sigmoid(x: Any) -> Tensor:
    """1 / (1 + e ** -x) elementwise, stable for large |x|."""
    return _unary("sigmoid", x,
                  lambda g, out: multiply(g, multiply(out, subtract(1, out))))


def relu(x: Any) -> Tensor:
    """max(x, 0) elementwise (gradient 0 at 0, as PyTorch)."""
    tx = _tensor(x, "relu")
    return _unary("relu", tx, lambda g, out: where(greater(tx, 0), g, 0))


def sign(x: Any) -> Tensor:
    """-1, 0 or 1 by the sign of x (gradient 0)."""
    return _unary("sign", x, lambda g, out: multiply(g, 0))


def reciprocal(x: Any) -> Tensor:
    """1 / x elementwise."""
    return _unary("reciprocal", x, lambda g, out: negative(multiply(g, square(out))))


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
                    inside = greater_equal(tx, lo)
                if hi is not None:
                    upper = less_equal(tx, hi)
                    inside = upper if inside is None else multiply(inside, upper)
                return (where(inside, g, 0),)
            attach(result, (tx,), rule, "clip")
        return result
    result = tx
    if lo is not None:
        result = maximum(result, lo)
    if hi is not None:
        result = minimum(result, hi)
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
