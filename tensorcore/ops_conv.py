"""Convolution and pooling ops, channels-last as Keras: NHWC inputs, HWIO kernels.

    y = tc.conv2d(x, w, strides=1, padding="same")      # x (N, H, W, C), w (KH, KW, C, O)
    z = tc.max_pool2d(y, 2)                              # (N, H/2, W/2, O)

Everything is validated here, before a kernel runs: ranks, channel counts, strides,
dilations, groups, padding, and that the (dilated) window fits in the padded input. The
kernels (backend ``conv2d``, ``conv2d_grad_input``, ``conv2d_grad_filter``, ``pool2d``,
``pool2d_grad``) see one geometry vector: N, H, W, C, KH, KW, O, OH, OW, SH, SW, pad top,
pad left, DH, DW, groups (bottom/right padding is implied by OH/OW). The 1-D forms run the
2-D kernels on (N, 1, L, C) views. The backward rules call the kernels directly; with
create_graph=True they are recorded too (each gradient is itself a convolution or pooling
op of the upstream gradient, with its own rule), so second-order gradients are exact.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from . import dtypes
from ._dispatch import cast, contiguous
from ._tape import attach, needs_grad
from .ops_reduce import max as reduce_max
from .ops_reduce import mean
from .backend import current as backend
from .tensor import Tensor, arange, as_tensor

_FLOATS = (dtypes.float32, dtypes.float64)


def _input(x: Any, op: str, what: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (np.ndarray, list, tuple, numbers.Number)):
        return as_tensor(x)
    raise TypeError(f"{op}: {what} must be a Tensor or array, received {type(x).__name__}")


def _float_dtype(op: str, *tensors: Tensor) -> np.dtype:
    for t in tensors:
        if t.dtype not in _FLOATS:
            raise TypeError(f"{op}: expected float32 or float64 tensors, received "
                            f"{dtypes.name(t.dtype)}")
    return np.result_type(*[t.dtype for t in tensors])


def _ints(op: str, name: str, value: Any, rank: int, minimum: int = 1) -> tuple:
    """An int or a sequence of `rank` ints, each >= minimum."""
    items = (value,) * rank if isinstance(value, (numbers.Integral, np.integer)) else value
    try:
        items = tuple(items)
    except TypeError:
        raise TypeError(f"{op}: {name} must be an int or a tuple of {rank} ints, received "
                        f"{value!r}") from None
    if len(items) != rank or any(isinstance(v, bool) or
                                 not isinstance(v, (numbers.Integral, np.integer))
                                 for v in items):
        raise TypeError(f"{op}: {name} must be an int or a tuple of {rank} ints, received "
                        f"{value!r}")
    if any(v < minimum for v in items):
        raise ValueError(f"{op}: {name} must be >= {minimum}, received {value!r}")
    return tuple(int(v) for v in items)


def _pads(op: str, padding: Any, sizes: tuple, windows: tuple, strides: tuple,
          causal_ok: bool = False) -> tuple:
    """((before, after) per spatial dim) for padding "valid" | "same" | ints | pairs."""
    rank = len(sizes)
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            return ((0, 0),) * rank
        if mode == "same":
            result = []
            for n, k, s in zip(sizes, windows, strides):
                total = max((-(-n // s) - 1) * s + k - n, 0)
                result.append((total // 2, total - total // 2))
            return tuple(result)
        if mode == "causal" and causal_ok:
            return tuple((k - 1, 0) for k in windows)
        allowed = "'valid', 'same'" + (", 'causal'" if causal_ok else "")
        raise ValueError(f"{op}: unknown padding {padding!r}; expected {allowed}, an int or "
                         "a tuple of ints or (before, after) pairs")
    if isinstance(padding, (numbers.Integral, np.integer)) and not isinstance(padding, bool):
        if padding < 0:
            raise ValueError(f"{op}: padding must be >= 0, received {padding!r}")
        return ((int(padding), int(padding)),) * rank
    try:
        items = tuple(padding)
    except TypeError:
        raise TypeError(f"{op}: padding must be 'valid', 'same', an int or a tuple, received "
                        f"{padding!r}") from None
    if len(items) != rank:
        raise ValueError(f"{op}: padding {padding!r} needs {rank} entries (one per spatial "
                         "dimension)")
    result = []
    for item in items:
        pair = (item, item) if isinstance(item, (numbers.Integral, np.integer)) else item
        pair = _ints(op, "padding", pair, 2, minimum=0)
        result.append(pair)
    return tuple(result)


def _out_size(op: str, n: int, pad: tuple, window: int, stride: int, what: str) -> int:
    padded = n + pad[0] + pad[1]
    if padded < window:
        raise ValueError(f"{op}: the {what} ({window}) is larger than the padded input "
                         f"({n} + padding {pad[0]} + {pad[1]} = {padded})")
    return (padded - window) // stride + 1


# The kernels' limit on one array and on padded window positions (times channels):
# TC_MAX_ELEMENTS of csrc/tc_internal.h, which the C core checks too.
_MAX_ELEMENTS = 2**59 - 1


def _check_padded(op: str, sizes: tuple, pads: tuple, channels: int) -> None:
    for n, (before, after) in zip(sizes, pads):
        if (n + before + after) * channels > _MAX_ELEMENTS:
            raise ValueError(f"{op}: the padded input ({n} + padding {before} + {after}) x "
                             f"{channels} channels exceeds {_MAX_ELEMENTS} elements")


# ---- convolution ------------------------------------------------------------------------

def _conv_nd(op: str, x: Any, w: Any, strides: Any, padding: Any, dilation: Any,
             groups: Any, rank: int) -> Tensor:
    tx, tw = _input(x, op, "input"), _input(w, op, "kernel")
    layout = "(N, L, C)" if rank == 1 else "(N, H, W, C)"
    klayout = "(K, C / groups, O)" if rank == 1 else "(KH, KW, C / groups, O)"
    if tx.ndim != rank + 2:
        raise ValueError(f"{op}: input must be {rank + 2}-D {layout}, received shape "
                         f"{tx.shape}")
    if tw.ndim != rank + 2:
        raise ValueError(f"{op}: kernel must be {rank + 2}-D {klayout}, received shape "
                         f"{tw.shape}")
    dtype = _float_dtype(op, tx, tw)
    if isinstance(groups, bool) or not isinstance(groups, (numbers.Integral, np.integer)) \
            or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, received {groups!r}")
    groups = int(groups)
    strides = _ints(op, "strides", strides, rank)
    dilation = _ints(op, "dilation", dilation, rank)
    sizes, channels = tx.shape[1:-1], tx.shape[-1]
    windows, cin, cout = tw.shape[:rank], tw.shape[rank], tw.shape[rank + 1]
    if min(windows) < 1 or cin < 1 or cout < 1:
        raise ValueError(f"{op}: kernel shape {tw.shape} has an empty dimension")
    if channels != cin * groups:
        raise ValueError(f"{op}: input has {channels} channels but the kernel {tw.shape} "
                         f"expects {cin} x groups {groups} = {cin * groups}")
    if cout % groups:
        raise ValueError(f"{op}: {cout} output channels are not divisible by groups={groups}")
    eff = tuple((k - 1) * d + 1 for k, d in zip(windows, dilation))
    pads = _pads(op, padding, sizes, eff, strides, causal_ok=rank == 1)
    outs = tuple(_out_size(op, n, p, e, s, "dilated kernel size" if e != k else "kernel size")
                 for n, p, e, s, k in zip(sizes, pads, eff, strides, windows))
    _check_padded(op, sizes, pads, channels)
    if rank == 1:
        geom = (tx.shape[0], 1, sizes[0], channels, 1, windows[0], cout, 1, outs[0], 1,
                strides[0], 0, pads[0][0], 1, dilation[0], groups)
    else:
        geom = (tx.shape[0], sizes[0], sizes[1], channels, windows[0], windows[1], cout,
                outs[0], outs[1], strides[0], strides[1], pads[0][0], pads[1][0],
                dilation[0], dilation[1], groups)
    return _conv_apply(op, tx, tw, geom, dtype, (tx.shape[0],) + outs + (cout,))


# The convolution and its two gradients as recorded ops of fixed geometry: each one's rule
# is made of the other two, so backward passes run with create_graph=True are recorded.
def _conv_kernel(kernel: str, a: Tensor, b: Tensor, geom: tuple, dtype, shape: tuple) -> Tensor:
    """A fresh `shape` result of the backend's conv2d / conv2d_grad_input / _grad_filter."""
    out = np.empty(shape, dtype)
    if out.size:
        getattr(backend(), kernel)(contiguous(cast(a.data, dtype)),
                                   contiguous(cast(b.data, dtype)), out, geom)
    return Tensor._wrap(out)


def _conv_apply(op: str, tx: Tensor, tw: Tensor, geom: tuple, dtype, shape: tuple) -> Tensor:
    """conv(x, w) of validated operands."""
    result = _conv_kernel("conv2d", tx, tw, geom, dtype, shape)
    if needs_grad(tx, tw):
        def rule(g, _o):
            return (_conv_grad_input(op, g, tw, geom, dtype, tx.shape)
                    if tx.requires_grad else None,
                    _conv_grad_filter(op, tx, g, geom, dtype, tw.shape)
                    if tw.requires_grad else None)
        attach(result, (tx, tw), rule, op)
    return result


def _conv_grad_input(op: str, g: Tensor, tw: Tensor, geom: tuple, dtype,
                     shape: tuple) -> Tensor:
    """d(conv)/dx applied to the output gradient g: linear in g and in w."""
    result = _conv_kernel("conv2d_grad_input", g, tw, geom, dtype, shape)
    if needs_grad(g, tw):
        def rule(h, _o):
            return (_conv_apply(op, h, tw, geom, dtype, g.shape) if g.requires_grad else None,
                    _conv_grad_filter(op, h, g, geom, dtype, tw.shape)
                    if tw.requires_grad else None)
        attach(result, (g, tw), rule, f"{op}_grad_input")
    return result


def _conv_grad_filter(op: str, tx: Tensor, g: Tensor, geom: tuple, dtype,
                      shape: tuple) -> Tensor:
    """d(conv)/dw applied to the output gradient g: linear in x and in g."""
    result = _conv_kernel("conv2d_grad_filter", tx, g, geom, dtype, shape)
    if needs_grad(tx, g):
        def rule(h, _o):
            return (_conv_grad_input(op, g, h, geom, dtype, tx.shape)
                    if tx.requires_grad else None,
                    _conv_apply(op, tx, h, geom, dtype, g.shape) if g.requires_grad else None)
        attach(result, (tx, g), rule, f"{op}_grad_filter")
    return result


def conv2d(x: Any, w: Any, strides: Any = 1, padding: Any = "valid", dilation: Any = 1,
           groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation) of x (N, H, W, C) with w (KH, KW, C/groups, O).

    padding: "valid", "same" (Keras/TensorFlow placement: the extra row/column goes after),
    an int, a pair of ints, or a pair of (before, after) pairs. Returns (N, OH, OW, O)."""
    return _conv_nd("conv2d", x, w, strides, padding, dilation, groups, 2)


def conv1d(x: Any, w: Any, strides: Any = 1, padding: Any = "valid", dilation: Any = 1,
           groups: int = 1) -> Tensor:
    """1-D convolution of x (N, L, C) with w (K, C/groups, O); padding also "causal"."""
    return _conv_nd("conv1d", x, w, strides, padding, dilation, groups, 1)


# ---- pooling ----------------------------------------------------------------------------

def _pool_nd(op: str, kind: str, x: Any, pool_size: Any, strides: Any, padding: Any,
             rank: int) -> Tensor:
    tx = _input(x, op, "input")
    layout = "(N, L, C)" if rank == 1 else "(N, H, W, C)"
    if tx.ndim != rank + 2:
        raise ValueError(f"{op}: input must be {rank + 2}-D {layout}, received shape "
                         f"{tx.shape}")
    dtype = _float_dtype(op, tx)
    windows = _ints(op, "pool_size", pool_size, rank)
    strides = windows if strides is None else _ints(op, "strides", strides, rank)
    if isinstance(padding, str) and padding.lower() in ("valid", "same"):
        pads = _pads(op, padding, tx.shape[1:-1], windows, strides)
    else:
        raise ValueError(f"{op}: unknown padding {padding!r}; expected 'valid' or 'same'")
    sizes, channels = tx.shape[1:-1], tx.shape[-1]
    if channels < 1 or min(sizes) < 1:
        raise ValueError(f"{op}: input shape {tx.shape} has an empty spatial or channel "
                         "dimension")
    outs = tuple(_out_size(op, n, p, k, s, "pool size")
                 for n, p, k, s in zip(sizes, pads, windows, strides))
    _check_padded(op, sizes, pads, channels)
    if rank == 1:
        geom = (tx.shape[0], 1, sizes[0], channels, 1, windows[0], channels, 1, outs[0], 1,
                strides[0], 0, pads[0][0], 1, 1, 1)
    else:
        geom = (tx.shape[0], sizes[0], sizes[1], channels, windows[0], windows[1], channels,
                outs[0], outs[1], strides[0], strides[1], pads[0][0], pads[1][0], 1, 1, 1)
    xd = contiguous(cast(tx.data, dtype))
    out = np.empty((tx.shape[0],) + outs + (channels,), dtype)
    record = needs_grad(tx)
    argmax = np.empty(out.shape, np.int32) if kind == "max" else None
    if out.size:
        backend().pool2d(kind, xd, out, argmax, geom)
    result = Tensor._wrap(out)
    if record:
        def rule(g, _o):
            return (_pool_grad(op, kind, g, argmax, geom, dtype, xd.shape),)
        attach(result, (tx,), rule, op)
    return result


def _pool_grad(op: str, kind: str, g: Tensor, argmax, geom: tuple, dtype,
               shape: tuple) -> Tensor:
    """The pooling's input gradient for output gradient g (linear in g), recorded under
    create_graph=True with its adjoint as the rule."""
    dx = np.empty(shape, dtype)
    if dx.size:
        backend().pool2d_grad(kind, contiguous(cast(g.data, dtype)), argmax, dx, geom)
    result = Tensor._wrap(dx)
    if needs_grad(g):
        def rule(h, _o):
            if kind == "avg":   # the adjoint of spreading each mean: the average pooling
                out = np.empty(g.shape, dtype)
                if out.size:
                    backend().pool2d("avg", contiguous(cast(h.data, dtype)), out, None, geom)
                adjoint = Tensor._wrap(out)
                if needs_grad(h):
                    attach(adjoint, (h,), lambda k, _o: (
                        _pool_grad(op, kind, k, argmax, geom, dtype, shape),), op)
                return (adjoint,)
            # max: h read at each window's maximum (a recorded gather)
            n, c = g.shape[0], g.shape[-1]
            positions = Tensor._wrap(argmax).astype(dtypes.int64)
            index = (arange(n).reshape((n,) + (1,) * (g.ndim - 1)) * (geom[1] * geom[2])
                     + positions) * c + arange(c)
            return (h.reshape(-1)[index],)
        attach(result, (g,), rule, f"{op}_grad")
    return result


def max_pool2d(x: Any, pool_size: Any = 2, strides: Any = None,
               padding: str = "valid") -> Tensor:
    """Max over pool_size windows of x (N, H, W, C); strides default to pool_size (Keras).
    The backward pass routes each gradient to the position that held the maximum."""
    return _pool_nd("max_pool2d", "max", x, pool_size, strides, padding, 2)


def avg_pool2d(x: Any, pool_size: Any = 2, strides: Any = None,
               padding: str = "valid") -> Tensor:
    """Mean over pool_size windows of x (N, H, W, C); with "same" padding the mean is over
    the window's positions inside the input (as Keras)."""
    return _pool_nd("avg_pool2d", "avg", x, pool_size, strides, padding, 2)


def max_pool1d(x: Any, pool_size: Any = 2, strides: Any = None,
               padding: str = "valid") -> Tensor:
    """Max over windows of x (N, L, C)."""
    return _pool_nd("max_pool1d", "max", x, pool_size, strides, padding, 1)


def avg_pool1d(x: Any, pool_size: Any = 2, strides: Any = None,
               padding: str = "valid") -> Tensor:
    """Mean over windows of x (N, L, C)."""
    return _pool_nd("avg_pool1d", "avg", x, pool_size, strides, padding, 1)


def _global(op: str, x: Any, keepdims: bool, rank: int, reduce) -> Tensor:
    tx = _input(x, op, "input")
    if tx.ndim != rank + 2:
        layout = "(N, L, C)" if rank == 1 else "(N, H, W, C)"
        raise ValueError(f"{op}: input must be {rank + 2}-D {layout}, received shape "
                         f"{tx.shape}")
    _float_dtype(op, tx)
    if 0 in tx.shape[1:-1]:
        raise ValueError(f"{op}: input shape {tx.shape} has an empty spatial dimension")
    return reduce(tx, axis=tuple(range(1, rank + 1)), keepdims=keepdims)


def global_avg_pool2d(x: Any, keepdims: bool = False) -> Tensor:
    """Mean over H and W of x (N, H, W, C): (N, C), or (N, 1, 1, C) with keepdims."""
    return _global("global_avg_pool2d", x, keepdims, 2, mean)


def global_max_pool2d(x: Any, keepdims: bool = False) -> Tensor:
    """Max over H and W of x (N, H, W, C): (N, C), or (N, 1, 1, C) with keepdims."""
    return _global("global_max_pool2d", x, keepdims, 2, reduce_max)


def global_avg_pool1d(x: Any, keepdims: bool = False) -> Tensor:
    """Mean over L of x (N, L, C)."""
    return _global("global_avg_pool1d", x, keepdims, 1, mean)


def global_max_pool1d(x: Any, keepdims: bool = False) -> Tensor:
    """Max over L of x (N, L, C)."""
    return _global("global_max_pool1d", x, keepdims, 1, reduce_max)


def conv_output_length(n: int, window: int, stride: int, padding: str,
                       dilation: int = 1) -> int:
    """Output length along one dimension (for shape inference in the layers)."""
    eff = (window - 1) * dilation + 1
    if padding == "same":
        return -(-n // stride)
    if padding == "causal":
        return (n - 1) // stride + 1
    return max((n - eff) // stride + 1, 0) if n >= eff else 0


__all__ = ["avg_pool1d", "avg_pool2d", "conv1d", "conv2d", "conv_output_length",
           "global_avg_pool1d", "global_avg_pool2d", "global_max_pool1d", "global_max_pool2d",
           "max_pool1d", "max_pool2d"]
