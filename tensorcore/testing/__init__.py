"""Helpers for people writing ops: a finite-difference gradient checker."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from ..autograd import grad as autograd_grad
from ..tensor import Tensor


def _numeric_gradient(fn: Callable, inputs: list, index: int, eps: float) -> np.ndarray:
    data = inputs[index].data
    result = np.zeros(data.shape, np.float64)
    for position in np.ndindex(*data.shape):
        original = data[position]
        data[position] = original + eps
        plus = _as_float(fn(*inputs))
        data[position] = original - eps
        minus = _as_float(fn(*inputs))
        data[position] = original
        result[position] = (plus - minus) / (2 * eps)
    return result


def _as_float(value) -> float:
    data = value.data if isinstance(value, Tensor) else np.asarray(value)
    return float(np.sum(data, dtype=np.float64))


def gradcheck(fn: Callable, inputs: Sequence, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, raise_exception: bool = True) -> bool:
    """Compare autodiff gradients of sum(fn(*inputs)) with central differences in float64.

    Inputs are Tensors (or arrays); float inputs are copied to float64 and checked, others are
    passed through. Returns True, or raises AssertionError naming the input and the worst
    element (False when raise_exception=False).
    """
    prepared = []
    for x in inputs:
        if isinstance(x, Tensor):
            data = x.data
        else:
            data = np.asarray(x)
        if data.dtype.kind == "f":
            # A float64 copy that keeps the input's memory layout (transposed stays transposed).
            t = Tensor._wrap(np.array(data, dtype=np.float64, order="K"))
            t.requires_grad = True
        else:
            t = Tensor._wrap(np.array(data))
        prepared.append(t)
    differentiable = [i for i, t in enumerate(prepared) if t.requires_grad]
    if not differentiable:
        raise ValueError("gradcheck: no floating-point input to check")
    out = fn(*prepared)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, returned {type(out).__name__}")
    if not out.requires_grad:
        raise ValueError("gradcheck: the output does not depend on any float input")
    total = out.sum() if out.size != 1 else out.reshape(())
    grads = autograd_grad(total, [prepared[i] for i in differentiable], allow_unused=True)
    for i, g in zip(differentiable, grads):
        analytic = np.zeros(prepared[i].shape) if g is None else np.asarray(g.data, np.float64)
        numeric = _numeric_gradient(fn, prepared, i, eps)
        if not np.allclose(analytic, numeric, atol=atol, rtol=rtol, equal_nan=True):
            err = np.abs(analytic - numeric)
            worst = np.unravel_index(np.argmax(err), err.shape) if err.size else ()
            message = (f"gradcheck: gradient of input {i} (shape {prepared[i].shape}) differs "
                       f"at index {worst}: autodiff {analytic[worst]!r} vs numeric "
                       f"{numeric[worst]!r} (max abs error {err.max():.3g})")
            if raise_exception:
                raise AssertionError(message)
            return False
    return True
