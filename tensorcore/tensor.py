"""The Tensor class and the creation functions.

A Tensor is a NumPy array (the storage) plus what autodiff needs: `requires_grad`, `.grad`
and the node that produced it. Every computation is an op from the ops_* modules, which
run our kernels through the active backend.
"""

from __future__ import annotations

import numbers
import weakref
from typing import Any

import numpy as np

from . import _tape, dtypes
from ._dispatch import (accept_array, broadcast_shapes, cast, check_rank, check_target,
                        element_aligned, expand, is_scalar, normalize_shape, scalar_array)
from .backend import current as backend


def _to_array(data: Any, dtype: Any, op: str) -> np.ndarray:
    """Convert user data to a NEW array of a supported dtype (Python float -> float32)."""
    target = None if dtype is None else dtypes.as_dtype(dtype, op)
    if isinstance(data, Tensor):
        source = data.data
    elif isinstance(data, np.ndarray):
        source = accept_array(op, data)
    else:
        if isinstance(data, (str, bytes)) or isinstance(data, complex):
            raise TypeError(f"{op}: cannot make a tensor from {type(data).__name__} "
                            f"{data!r}; expected numbers or nested sequences of numbers")
        try:
            source = np.array(data)
        except ValueError as exc:
            raise ValueError(f"{op}: cannot make a tensor from ragged or malformed data "
                             f"({exc}); expected a rectangular nested sequence") from None
        if source.dtype.kind not in "biuf":
            raise TypeError(f"{op}: cannot make a tensor from data of NumPy dtype "
                            f"{source.dtype}; expected bool, int or float values")
        if target is not None and source.dtype != target:
            # NumPy range-checks Python ints (and NaN/inf for integers) when it builds the
            # array in the target dtype; a cast of the int64 array would wrap silently
            # (tc.tensor([2**40], dtype=tc.int32) was 0).
            try:
                source = np.array(data, dtype=target)
            except (OverflowError, ValueError) as exc:
                raise ValueError(f"{op}: cannot store the data as {dtypes.name(target)}: "
                                 f"{exc}") from None
        elif source.dtype == np.float64 and target is None:
            # Python floats become float32, the default float dtype (an explicit float64
            # target keeps them: the branch above does not run when the dtypes agree).
            source = np.array(data, dtype=np.float32)
        elif source.dtype == np.uint64:
            # NumPy picks uint64 for ints in [2**63, 2**64): int64 storage would wrap them
            # (tc.tensor([2**63]) was -2**63).
            raise ValueError(f"{op}: integer data outside the int64 range [-2**63, 2**63 - 1]; "
                             "tensorcore has no uint64: pass floats or dtype=tc.float64 to "
                             "store such values")
        elif source.dtype.kind in "iu" and source.dtype != np.int64:
            source = source.astype(np.int64)
        check_rank(op, source.ndim)
    stored = dtypes.storage_dtype(source.dtype, op)
    if stored != source.dtype:
        source = source.astype(stored)  # widening foreign dtypes (uint8, float16, ...) on entry
    result = np.empty(source.shape, source.dtype if target is None else target)
    if result.size:
        backend().copy(source, result)
    return result


# In-place write counts per storage: id(owning ndarray) -> count. Views (reshape, transpose,
# slices, detach(), broadcasts) share their base array's count, as in PyTorch, so a write
# through any alias is seen by every tensor on that memory. An entry is created on the
# first write and dropped when its array dies (before its id can be reused), so a fresh
# array always starts at version 0.
_STORAGE_VERSIONS: dict[int, int] = {}
_STORAGE_REFS: dict[int, weakref.ref] = {}


def _storage_owner(array: np.ndarray) -> np.ndarray:
    """The deepest ndarray behind `array`'s memory (itself when it owns it)."""
    owner = array
    base = array.base
    while base is not None:
        if isinstance(base, np.ndarray):
            owner = base
        base = getattr(base, "base", None)  # through as_strided's DummyArray too
    return owner


def _forget_storage(key: int) -> None:
    _STORAGE_VERSIONS.pop(key, None)
    _STORAGE_REFS.pop(key, None)


def storage_version(array: np.ndarray) -> int:
    """How many in-place writes the memory behind `array` has received through Tensors."""
    if array.base is None:
        return _STORAGE_VERSIONS.get(id(array), 0)
    return _STORAGE_VERSIONS.get(id(_storage_owner(array)), 0)


def bump_storage_version(array: np.ndarray) -> None:
    """Record one in-place write into the memory behind `array`."""
    owner = _storage_owner(array)
    key = id(owner)
    if key not in _STORAGE_REFS:
        _STORAGE_REFS[key] = weakref.ref(owner, lambda _ref, key=key: _forget_storage(key))
    _STORAGE_VERSIONS[key] = _STORAGE_VERSIONS.get(key, 0) + 1


def refuse_untracked_gradient(op: str, value: Any) -> None:
    """RuntimeError when an in-place write (not recorded by autodiff) would take a value that
    requires grad while grad mode is on: its gradient would be silently lost."""
    if isinstance(value, Tensor) and value.requires_grad and _tape.is_grad_enabled():
        raise RuntimeError(
            f"{op}: the value (shape {value.shape}) requires grad, but in-place writes are not "
            "recorded by autodiff, so no gradient would flow back to it; build the tensor with "
            "differentiable ops (tc.concatenate, tc.stack, tc.where), or write value.detach() "
            "(or under tc.no_grad()) if no gradient should flow")


class Tensor:
    """An n-dimensional array with a dtype, a shape and optional gradient tracking."""

    # _node is None for leaves, else (backward rule, op name, saved versions); _parents are
    # the op's inputs. _version counts in-place writes (assign*, __setitem__, optimizer
    # steps, in-place operators) into the tensor's memory, shared with every view of it
    # (see _STORAGE_VERSIONS): autograd records it when an op uses the tensor and refuses
    # to backpropagate through values changed since. Writers call _bump_version().
    __slots__ = ("data", "requires_grad", "grad", "_node", "_parents", "__weakref__")
    __array_priority__ = 1000  # so ndarray (op) Tensor defers to Tensor's reflected ops

    def __init__(self, data: Any, dtype: Any = None, requires_grad: bool = False) -> None:
        self.data = _to_array(data, dtype, "Tensor")
        self.grad = None
        self._node = None
        self._parents = ()
        self.requires_grad = False
        if not isinstance(requires_grad, (bool, np.bool_)):
            raise TypeError(f"tensor: requires_grad must be True or False, received "
                            f"{requires_grad!r}")
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, array: np.ndarray) -> "Tensor":
        """Wrap an existing array (no copy, no checks)."""
        t = cls.__new__(cls)
        t.data = array
        t.requires_grad = False
        t.grad = None
        t._node = None
        t._parents = ()
        return t

    # ------------------------------------------------------------------ properties
    @property
    def _version(self) -> int:
        """In-place writes into this tensor's memory so far (shared with its views)."""
        data = self.data
        if data.base is None:
            return _STORAGE_VERSIONS.get(id(data), 0)
        return _STORAGE_VERSIONS.get(id(_storage_owner(data)), 0)

    def _bump_version(self) -> None:
        """Record an in-place write into this tensor's memory."""
        bump_storage_version(self.data)

    @property
    def shape(self) -> tuple:
        """The size of each dimension."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """The rank: number of dimensions."""
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        """The element dtype (one of tc.float32, float64, int32, int64, bool)."""
        return self.data.dtype

    @property
    def size(self) -> int:
        """Total number of elements."""
        return self.data.size

    @property
    def T(self) -> "Tensor":
        """All axes reversed (NumPy semantics)."""
        return self.transpose()

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded op."""
        return self._node is None

    @property
    def grad_fn(self):
        """The recorded op that produced this tensor (None for leaves)."""
        return None if self._node is None else _tape.GradFn(self._node[1])

    def requires_grad_(self, flag: bool = True) -> "Tensor":
        """Set requires_grad in place (floating-point leaves only)."""
        if not isinstance(flag, (bool, np.bool_)):
            raise TypeError(f"requires_grad_: flag must be True or False, received {flag!r}")
        if flag and not dtypes.is_float(self.dtype):
            raise TypeError(f"requires_grad: only float tensors can require gradients; this "
                            f"tensor has dtype {dtypes.name(self.dtype)}")
        if not flag and self._node is not None:
            raise RuntimeError("requires_grad_: cannot turn gradients off on a non-leaf "
                               "tensor; use .detach()")
        self.requires_grad = bool(flag)
        return self

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        for i in range(self.shape[0]):
            yield self[i]

    # ------------------------------------------------------------------ conversion
    def numpy(self) -> np.ndarray:
        """The storage as a NumPy array (no copy; shares memory)."""
        return self.data

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        if copy:
            return np.array(self.data, dtype=dtype, copy=True)
        if dtype is not None and np.dtype(dtype) != self.dtype:
            if copy is False:
                raise ValueError("__array__: a dtype change needs a copy")
            return self.data.astype(dtype)
        return self.data

    @property
    def __array_interface__(self) -> dict:
        """NumPy's array interface of the storage (zero-copy, strided views included)."""
        return self.data.__array_interface__

    def __dlpack__(self, *, stream: Any = None, max_version: Any = None, dl_device: Any = None,
                   copy: Any = None) -> Any:
        """Export the storage as a DLPack capsule (zero-copy; CPU only)."""
        if stream is not None:
            raise BufferError("__dlpack__: tensorcore lives on the CPU; stream must be None")
        kwargs = {}
        if max_version is not None:
            kwargs["max_version"] = max_version
        if dl_device is not None:
            kwargs["dl_device"] = dl_device
        if copy is not None:
            kwargs["copy"] = copy
        return self.data.__dlpack__(**kwargs)

    def __dlpack_device__(self) -> tuple:
        """(device type, device id) for DLPack: (1, 0), the CPU."""
        return self.data.__dlpack_device__()

    @property
    def device(self) -> str:
        """Where the data lives: always "cpu"."""
        return "cpu"

    def to_device(self, device: Any, /, *, stream: Any = None) -> "Tensor":
        """Self for device "cpu" (the only device)."""
        if device != "cpu" or stream is not None:
            raise ValueError(f"to_device: unsupported device {device!r}; only 'cpu'")
        return self

    def item(self) -> Any:
        """The single element as a Python scalar."""
        if self.size != 1:
            raise ValueError(f"item: only one-element tensors convert to a Python scalar; "
                             f"this tensor has shape {self.shape}")
        return self.data.reshape(()).item()

    def tolist(self) -> Any:
        """Nested Python lists of the elements."""
        return self.data.tolist()

    def detach(self) -> "Tensor":
        """A tensor sharing this storage, cut from the graph."""
        return Tensor._wrap(self.data)

    def _owned_copy(self, force: bool = False) -> "Tensor":
        """Self if it owns writeable contiguous memory (and not force), else a fresh copy."""
        d = self.data
        if not force and d.base is None and d.flags.writeable and d.flags.c_contiguous \
                and self._node is None and not self.requires_grad:
            return self
        out = np.empty(d.shape, d.dtype)
        if out.size:
            backend().copy(d, out)
        return Tensor._wrap(out)

    def __bool__(self) -> bool:
        if self.size != 1:
            raise ValueError(f"the truth value of a tensor with {self.size} elements is "
                             "ambiguous; use .any() or .all() style reductions")
        return bool(self.item())

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __complex__(self) -> complex:
        return complex(self.item())

    def __index__(self) -> int:
        if self.dtype.kind not in "iu" or self.size != 1:
            raise TypeError("only integer tensors with one element can be used as an index")
        return int(self.item())

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        default = self.dtype in (dtypes.float32, dtypes.int64, dtypes.bool_) and self.size
        extra = "" if default else f", dtype={dtypes.name(self.dtype)}"
        if self._node is not None:
            extra += f", grad_fn={self.grad_fn!r}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    def __str__(self) -> str:
        return self.__repr__()

    # ------------------------------------------------------------------ autodiff
    # backward() is attached in _methods.py (autograd.py sits above this module).

    def zero_grad(self) -> None:
        """Drop the accumulated gradient."""
        self.grad = None

    # ------------------------------------------------------------------ in-place (no grad)
    def _assign(self, op: str | None, value: Any) -> "Tensor":
        name = {None: "assign", "add": "assign_add", "subtract": "assign_sub"}[op]
        return self._write(name, op, value)

    def _write(self, name: str, op: str | None, value: Any) -> "Tensor":
        """self[...] = value (op None) or self[...] = self <op> value, in place."""
        check_target(name, self.data)
        refuse_untracked_gradient(name, value)
        if op == "subtract" and self.dtype == dtypes.bool_:
            raise TypeError(f"{name}: subtract is not defined for bool tensors; use "
                            "logical ops (tc.logical_xor, ...)")
        if isinstance(value, Tensor):
            src = value.data
        elif isinstance(value, np.ndarray) and value.dtype in dtypes.SUPPORTED:
            src = accept_array(name, value)
        elif is_scalar(value):
            src = scalar_array(value, self.dtype, name)
        else:
            src = as_tensor(value).data
        if broadcast_shapes(name, self.shape, src.shape) != self.shape:
            raise ValueError(f"{name}: value of shape {src.shape} does not broadcast to the "
                             f"tensor's shape {self.shape}")
        src = expand(src, self.shape)
        if self.size == 0:
            return self
        self._bump_version()
        # Kernels allow out to be exactly an input view but never a partial overlap (e.g.
        # t.assign_add(t.T)): copy such a value first.
        same_view = src.__array_interface__["data"][0] == self.data.__array_interface__[
            "data"][0] and src.strides == self.data.strides
        if np.may_share_memory(src, self.data) and not (op is not None and same_view) \
                and src is not self.data:
            src = src.copy()
        if op is None:
            backend().copy(src, self.data)
        else:
            src = cast(src, self.dtype)
            backend().binary(op, self.data, src, self.data)
        return self

    def assign(self, value: Any) -> "Tensor":
        """Overwrite the elements in place (not recorded by autodiff)."""
        return self._assign(None, value)

    def assign_add(self, value: Any) -> "Tensor":
        """Add in place (not recorded by autodiff)."""
        return self._assign("add", value)

    def assign_sub(self, value: Any) -> "Tensor":
        """Subtract in place (not recorded by autodiff)."""
        return self._assign("subtract", value)

    # Defined by the op modules and attached in _methods.py (they import this module):
    # astype, mT, __setitem__, __array_namespace__, the operators and the op methods.


# ---------------------------------------------------------------------- creation
def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of `data` (Python float -> float32, int -> int64)."""
    return Tensor(data, dtype=dtype, requires_grad=requires_grad)


def as_tensor(data: Any, dtype: Any = None) -> Tensor:
    """`data` as a Tensor: returned as is when it already is one of that dtype."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == dtypes.as_dtype(dtype)):
        return data
    if isinstance(data, Tensor):
        return data.astype(dtype)
    if isinstance(data, np.ndarray) and data.dtype in dtypes.SUPPORTED and \
            (dtype is None or dtypes.as_dtype(dtype, "as_tensor") == data.dtype):
        return Tensor._wrap(accept_array("as_tensor", data))
    return Tensor(data, dtype=dtype)


def from_numpy(array: np.ndarray, _op: str = "from_numpy") -> Tensor:
    """A tensor sharing memory with a NumPy array (zero-copy; dtype must be supported)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{_op}: expected a numpy.ndarray, received "
                        f"{type(array).__name__}")
    if array.dtype not in dtypes.SUPPORTED:
        raise TypeError(f"{_op}: unsupported dtype {array.dtype} for zero-copy; expected "
                        "float32, float64, int32, int64 or bool (use tc.tensor to convert)")
    check_rank(_op, array.ndim)
    if not element_aligned(array):
        raise ValueError(f"{_op}: the array's strides {array.strides} (or its address) are "
                         f"not multiples of its item size {array.itemsize}, so it cannot be "
                         "shared without a copy; use tc.tensor(array) to copy it")
    return Tensor._wrap(array)


def from_dlpack(obj: Any) -> Tensor:
    """A tensor sharing memory with any DLPack producer (NumPy, PyTorch on CPU, ...)."""
    if not hasattr(obj, "__dlpack__"):
        raise TypeError(f"from_dlpack: expected an object with __dlpack__, received "
                        f"{type(obj).__name__}")
    try:
        array = np.from_dlpack(obj)
    except (BufferError, RuntimeError, TypeError) as exc:
        raise TypeError(f"from_dlpack: cannot import {type(obj).__name__}: {exc}") from None
    return from_numpy(array, "from_dlpack")


def full(shape: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False,
         _op: str = "full") -> Tensor:
    """A tensor of `shape` filled with `fill_value`."""
    shape = normalize_shape(_op, shape)
    if not is_scalar(fill_value):
        raise TypeError(f"{_op}: fill_value must be a number, received {fill_value!r}")
    if dtype is None:
        dtype = dtypes.bool_ if isinstance(fill_value, (bool, np.bool_)) else \
            dtypes.int64 if isinstance(fill_value, numbers.Integral) else dtypes.float32
    dtype = dtypes.as_dtype(dtype, _op)
    out = np.empty(shape, dtype)
    if out.size:
        backend().copy(np.lib.stride_tricks.as_strided(
            scalar_array(fill_value, dtype, "full"), shape=shape, strides=(0,) * len(shape)),
            out)
    t = Tensor._wrap(out)
    return t.requires_grad_(True) if requires_grad else t


def zeros(shape: Any, dtype: Any = dtypes.float32, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros."""
    return full(shape, 0, dtype=dtype, requires_grad=requires_grad, _op="zeros")


def ones(shape: Any, dtype: Any = dtypes.float32, requires_grad: bool = False) -> Tensor:
    """A tensor of ones."""
    return full(shape, 1, dtype=dtype, requires_grad=requires_grad, _op="ones")


def _like(x: Any, op: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return Tensor._wrap(accept_array(op, x)) if x.dtype in dtypes.SUPPORTED \
            else as_tensor(x)
    raise TypeError(f"{op}: expected a Tensor or numpy.ndarray, received {type(x).__name__}")


def zeros_like(x: Any, dtype: Any = None) -> Tensor:
    """Zeros with the shape (and dtype, unless given) of x."""
    x = _like(x, "zeros_like")
    return full(x.shape, 0, dtype=x.dtype if dtype is None else dtype, _op="zeros_like")


def ones_like(x: Any, dtype: Any = None) -> Tensor:
    """Ones with the shape (and dtype, unless given) of x."""
    x = _like(x, "ones_like")
    return full(x.shape, 1, dtype=x.dtype if dtype is None else dtype, _op="ones_like")


def arange(start: Any, stop: Any = None, step: Any = 1, dtype: Any = None) -> Tensor:
    """Evenly spaced values in [start, stop) (NumPy semantics; ints give int64)."""
    if stop is None:
        start, stop = 0, start
    for name_, v in (("start", start), ("stop", stop), ("step", step)):
        if not is_scalar(v) or isinstance(v, bool):
            raise TypeError(f"arange: {name_} must be a number, received {v!r}")
    if step == 0:
        raise ValueError("arange: step must not be 0")
    all_int = all(isinstance(v, numbers.Integral) for v in (start, stop, step))
    if dtype is None:
        dtype = dtypes.int64 if all_int else dtypes.float32
    dtype = dtypes.as_dtype(dtype, "arange")
    count = max(0, int(np.ceil((stop - start) / step)))
    if count > 2 ** 40:
        raise ValueError(f"arange: {count} elements requested; too many")
    # Index generation is creation, like np.empty: our kernels compute on the result.
    values = np.arange(count, dtype=np.int64)
    out = np.empty(count, dtype)
    if all_int:
        backend().copy(values, out)
        tmp = np.empty(count, np.int64)
        backend().binary("multiply", values, np.lib.stride_tricks.as_strided(
            np.asarray(step, np.int64), (count,), (0,)), tmp)
        backend().binary("add", tmp, np.lib.stride_tricks.as_strided(
            np.asarray(start, np.int64), (count,), (0,)), tmp)
        backend().copy(tmp, out)
    else:
        tmp = np.empty(count, np.float64)
        backend().copy(values, tmp)
        backend().binary("multiply", tmp, np.lib.stride_tricks.as_strided(
            np.asarray(step, np.float64), (count,), (0,)), tmp)
        backend().binary("add", tmp, np.lib.stride_tricks.as_strided(
            np.asarray(start, np.float64), (count,), (0,)), tmp)
        backend().copy(tmp, out)
    return Tensor._wrap(out)


def eye(n: int, m: int | None = None, dtype: Any = dtypes.float32) -> Tensor:
    """The n x m identity matrix."""
    m = n if m is None else m
    n, m = normalize_shape("eye", (n, m))
    result = zeros((n, m), dtype=dtype)
    k = min(n, m)
    if k:
        diag = np.lib.stride_tricks.as_strided(
            result.data, shape=(k,), strides=((m + 1) * result.data.itemsize,))
        Tensor._wrap(diag).assign(1)
    return result
