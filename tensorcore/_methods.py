"""Operators and methods of Tensor, attached from the op modules (one place to read)."""

from __future__ import annotations

import importlib

from . import _optable as optable
from . import ops_elementwise as ew
from . import ops_index, ops_matrix, ops_reduce, ops_shape
from . import autograd
from ._dispatch import check_target
from ._tape import is_grad_enabled, no_grad
from .backend import current as backend
from .tensor import Tensor, refuse_untracked_gradient


def _swap(fn):
    return lambda self, other: fn(other, self)


def _inplace(symbol: str, fn):
    """`x symbol= y`: computes fn(x, y) and writes it into x's own buffer (the standard's
    in-place semantics: views of x see the change). Refused with a clear error when x is
    part of a recorded graph (it requires grad or was produced by a recorded op, with grad
    mode on), when the result's dtype or shape differs from x's, or x is read-only."""
    def operator(self, other):
        if (self.requires_grad or self._node is not None) and is_grad_enabled():
            raise RuntimeError(f"{symbol}: in-place update of a tensor that is part of a "
                               "recorded graph (it requires grad or was produced by a "
                               "recorded op); use the out-of-place operator or tc.no_grad()")
        refuse_untracked_gradient(symbol, other)
        if not self.data.flags.writeable:
            raise ValueError(f"{symbol}: the tensor is read-only (a broadcast view)")
        with no_grad():
            result = fn(self, other)
        if result.dtype != self.dtype:
            raise TypeError(f"{symbol}: the result has dtype {result.dtype} but the array "
                            f"has dtype {self.dtype}; an in-place operator cannot change "
                            "the dtype")
        if result.shape != self.shape:
            raise ValueError(f"{symbol}: the result has shape {result.shape} but the array "
                             f"has shape {self.shape}; an in-place operator cannot change "
                             "the shape")
        if self.size:
            backend().copy(result.data, self.data)
        self._bump_version()
        return self

    operator.__name__ = f"__i{fn.__name__}__"
    return operator


def _array_namespace(self, *, api_version: str | None = None):
    """The array API standard namespace, tensorcore.array_api (2023.12)."""
    if api_version not in (None, "2021.12", "2022.12", "2023.12"):
        raise ValueError(f"__array_namespace__: unsupported api_version {api_version!r}; "
                         "expected None or '2023.12'")
    # The namespace sits above the core and imports it, so it is looked up on demand (the
    # one reference from the core upward; import-linter cannot see it, by design).
    return importlib.import_module(f"{__package__}.array_api")


def _mT(self) -> Tensor:
    """The last two axes swapped (a view)."""
    if self.ndim < 2:
        raise ValueError(f"mT: expected at least 2 dims, received shape {self.shape}")
    return ops_shape.swapaxes(self, -1, -2)


def _setitem(self, key, value) -> None:
    """self[key] = value, in place (not recorded by autodiff)."""
    if self.requires_grad and is_grad_enabled():
        raise RuntimeError("__setitem__: in-place assignment into a tensor that requires "
                           "grad is not recorded; do it under tc.no_grad()")
    check_target("__setitem__", self.data)
    refuse_untracked_gradient("__setitem__", value)
    view = ops_index.index_view(self, key, "__setitem__")
    if view is not None:
        # (_write counts the write on the memory the view shares with self)
        Tensor._wrap(view)._write("__setitem__", None, value)
    else:
        ops_index.setitem_advanced(self, key, value)
        self._bump_version()


def _backward(self, grad=None, retain_graph: bool = False, create_graph: bool = False) -> None:
    """Backpropagate from this tensor into `.grad` of the leaves (grad= if not scalar)."""
    autograd.backward(self, grad, retain_graph=retain_graph, create_graph=create_graph)


def _install() -> None:
    T = Tensor
    T.backward = _backward
    T.__array_namespace__ = _array_namespace
    T.mT = property(_mT)
    T.astype = ew.astype
    T.__setitem__ = _setitem
    # ---- arithmetic operators (reflected forms take Python scalars and ndarrays)
    T.__add__, T.__radd__ = ew.add, _swap(ew.add)
    T.__sub__, T.__rsub__ = ew.subtract, _swap(ew.subtract)
    T.__mul__, T.__rmul__ = ew.multiply, _swap(ew.multiply)
    T.__truediv__, T.__rtruediv__ = ew.divide, _swap(ew.divide)
    T.__pow__, T.__rpow__ = ew.power, _swap(ew.power)
    T.__floordiv__, T.__rfloordiv__ = ew.floor_divide, _swap(ew.floor_divide)
    T.__mod__, T.__rmod__ = ew.remainder, _swap(ew.remainder)
    # ---- bitwise operators: integers, and bool for & | ^ (logical); floats raise TypeError
    for dunder, name in (("and", "bitwise_and"), ("or", "bitwise_or"), ("xor", "bitwise_xor"),
                         ("lshift", "bitwise_left_shift"), ("rshift", "bitwise_right_shift")):
        setattr(T, f"__{dunder}__", getattr(ew, name))
        setattr(T, f"__r{dunder}__", _swap(getattr(ew, name)))
    T.__invert__ = ew.bitwise_invert
    for symbol, dunder in (("+=", "add"), ("-=", "sub"), ("*=", "mul"), ("/=", "truediv"),
                           ("//=", "floordiv"), ("%=", "mod"), ("**=", "pow"),
                           ("&=", "and"), ("|=", "or"), ("^=", "xor"), ("<<=", "lshift"),
                           (">>=", "rshift")):
        setattr(T, f"__i{dunder}__", _inplace(symbol, getattr(T, f"__{dunder}__")))
    T.__matmul__, T.__rmatmul__ = ops_matrix.matmul, _swap(ops_matrix.matmul)
    T.__imatmul__ = _inplace("@=", ops_matrix.matmul)
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
    for name in optable.method_names():   # every op-table row marked as a method
        setattr(T, name, getattr(ew, name))
    for alias, name in optable.ALIASES.items():   # x.arcsin() as x.asin()
        if name in optable.method_names():
            setattr(T, alias, getattr(ew, name))
    T.clip = ew.clip
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
