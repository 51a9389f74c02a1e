"""Array API sorting, set, searching and manipulation functions built on tensorcore.ops_sort
(our sort/cumsum/nonzero/searchsorted kernels)."""

from __future__ import annotations

from typing import Any

from .. import ops_sort
from ..tensor import Tensor


def sort(x: Tensor, /, *, axis: int = -1, descending: bool = False,
         stable: bool = True) -> Tensor:
    """x sorted along axis (stable; NaN last)."""
    return ops_sort.sort(x, axis, descending, stable)


def argsort(x: Tensor, /, *, axis: int = -1, descending: bool = False,
            stable: bool = True) -> Tensor:
    """Indices (int64) that sort x along axis (stable; NaN last)."""
    return ops_sort.argsort(x, axis, descending, stable)


def cumulative_sum(x: Tensor, /, *, axis: int | None = None, dtype: Any = None,
                   include_initial: bool = False) -> Tensor:
    """Cumulative sum along axis (ints and bool give int64 unless dtype is given)."""
    return ops_sort.cumsum(x, axis, dtype, include_initial)


def nonzero(x: Tensor, /) -> tuple:
    """One int64 array of coordinates per dimension for the nonzero elements."""
    return ops_sort.nonzero(x)


def searchsorted(x1: Tensor, x2: Tensor, /, *, side: str = "left",
                 sorter: Tensor | None = None) -> Tensor:
    """Insertion indices of x2's elements into the sorted 1-D x1."""
    return ops_sort.searchsorted(x1, x2, side, sorter)


def unique_all(x: Tensor, /) -> ops_sort.UniqueAll:
    """(values, indices, inverse_indices, counts) of x's unique elements."""
    return ops_sort.unique_all(x)


def unique_counts(x: Tensor, /) -> ops_sort.UniqueCounts:
    """(values, counts) of x's unique elements."""
    return ops_sort.unique_counts(x)


def unique_inverse(x: Tensor, /) -> ops_sort.UniqueInverse:
    """(values, inverse_indices) of x's unique elements."""
    return ops_sort.unique_inverse(x)


def unique_values(x: Tensor, /) -> Tensor:
    """x's unique elements, sorted."""
    return ops_sort.unique_values(x)


def repeat(x: Tensor, repeats: Any, /, *, axis: int | None = None) -> Tensor:
    """Each element repeated along axis (axis None: of the flattened x)."""
    return ops_sort.repeat(x, repeats, axis)


def tile(x: Tensor, repetitions: tuple, /) -> Tensor:
    """x repeated along each dimension."""
    return ops_sort.tile(x, repetitions)
