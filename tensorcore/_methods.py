"""Operators and methods of Tensor, attached from the op modules (one place to read)."""

from __future__ import annotations

from . import ops_elementwise as ew
from . import ops_index, ops_matrix, ops_reduce, ops_shape
from .tensor import Tensor


def _swap(fn):
    return lambda self, other: fn(other, self)


def _install() -> None:
    T = Tensor
    # ---- arithmetic operators (reflected forms take Python scalars and ndarrays)
    T.__add__, T.__radd__ = ew.add, _swap(ew.add)
    T.__sub__, T.__rsub__ = ew.subtract, _swap(ew.subtract)
    T.__mul__, T.__rmul__ = ew.multiply, _swap(ew.multiply)
    T.__truediv__, T.__rtruediv__ = ew.divide, _swap(ew.divide)
    T.__pow__, T.__rpow__ = ew.power, _swap(ew.power)
    T.__matmul__, T.__rmatmul__ = ops_matrix.matmul, _swap(ops_matrix.matmul)
    T.__neg__ = ew.negative
    T.__pos__ = lambda self: self
    T.__abs__ = ew.abs
    # ---- comparisons give bool tensors
    T.__eq__, T.__ne__ = ew.equal, ew.not_equal
    T.__lt__, T.__le__ = ew.less, ew.less_equal
    T.__gt__, T.__ge__ = ew.greater, ew.greater_equal
    # ---- indexing
    T.__getitem__ = ops_index.getitem
    # ---- elementwise methods
    for name in ("add", "subtract", "multiply", "divide", "power", "maximum", "minimum",
                 "exp", "log", "sqrt", "abs", "square", "tanh", "sigmoid", "relu", "sign",
                 "reciprocal", "clip"):
        setattr(T, name, getattr(ew, name))
    T.negative = ew.negative
    # ---- reductions
    for name in ("sum", "mean", "max", "min", "var", "argmax", "argmin", "logsumexp"):
        setattr(T, name, getattr(ops_reduce, name))
    # ---- movement
    T.reshape = ops_shape.reshape
    T.transpose = ops_shape.transpose
    T.permute_dims = ops_shape.permute_dims
    T.permute = lambda self, *axes: ops_shape.permute_dims(
        self, axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes)
    T.swapaxes = ops_shape.swapaxes
    T.flatten = ops_shape.flatten
    T.expand_dims = ops_shape.expand_dims
    T.squeeze = ops_shape.squeeze
    T.broadcast_to = ops_shape.broadcast_to
    # ---- matrix and softmax
    T.matmul = ops_matrix.matmul
    T.softmax = ops_matrix.softmax
    T.log_softmax = ops_matrix.log_softmax


_install()
