"""Python glue that turns any strided NumPy view into the generic kernel operand form.

Every kernel sees an operand as (flat 1-D base array over the operand's memory span, element
offset of index 0, element strides); all operands of one call share one shape. So one compiled
kernel per (op family, dtype) serves every rank and every stride pattern (negative and zero
strides included). Nothing here imports Numba or touches the data.
"""

from __future__ import annotations

from typing import List, Sequence, Tuple

import numpy as np

__all__ = ["flat_base", "coalesce", "operand_table", "span_bounds"]


class _Span:
    """Tiny object exposing a 1-D ``__array_interface__`` over part of another array's memory."""

    __slots__ = ("__array_interface__", "owner")


def span_bounds(a: np.ndarray) -> Tuple[int, int]:
    """Return the lowest and highest byte offsets (relative to index 0) that view ``a`` touches."""
    low = 0
    high = 0
    for extent, stride in zip(a.shape, a.strides):
        if stride < 0:
            low += (extent - 1) * stride
        else:
            high += (extent - 1) * stride
    return low, high


def flat_base(a: np.ndarray) -> Tuple[np.ndarray, int]:
    """Return (writeable aligned 1-D array over a's memory span, element offset of index 0).

    ``a`` must be non-empty. No data is copied; the returned array keeps ``a`` alive.
    """
    flags = a.flags
    if flags.c_contiguous and flags.writeable and flags.aligned:
        return a.reshape(-1), 0
    low, high = span_bounds(a)
    item = a.itemsize
    span = _Span()
    span.owner = a
    span.__array_interface__ = {
        "data": (a.__array_interface__["data"][0] + low, False),
        "shape": ((high - low) // item + 1,),
        "typestr": a.dtype.str,
        "version": 3,
    }
    return np.asarray(span), -low // item


def coalesce(shape: Sequence[int], strides: Sequence[Sequence[int]]
             ) -> Tuple[List[int], List[List[int]]]:
    """Drop size-1 dims and merge dims that are contiguous in every operand.

    ``strides`` holds one element-stride list per operand. The result has at least one dim.
    """
    nops = len(strides)
    keep = [d for d in range(len(shape)) if shape[d] != 1]
    new_shape: List[int] = []
    new_strides: List[List[int]] = [[] for _ in range(nops)]
    for d in keep:
        if new_shape:
            extent = shape[d]
            if all(new_strides[k][-1] == strides[k][d] * extent for k in range(nops)):
                new_shape[-1] *= extent
                for k in range(nops):
                    new_strides[k][-1] = strides[k][d]
                continue
        new_shape.append(shape[d])
        for k in range(nops):
            new_strides[k].append(strides[k][d])
    if not new_shape:
        return [1], [[0] for _ in range(nops)]
    return new_shape, new_strides


def operand_table(arrays: Sequence[np.ndarray]
                  ) -> Tuple[List[np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    """Prepare same-shape operands for a generic elementwise kernel.

    Returns (flat bases, int64 offsets[nops], int64 strides[nops, nd], int64 shape[nd]) with the
    dims coalesced. All operands must share one non-empty shape.
    """
    if all(a.flags.c_contiguous for a in arrays):
        bases = []
        offsets = []
        for a in arrays:
            base, off = flat_base(a)
            bases.append(base)
            offsets.append(off)
        size = arrays[0].size
        return (bases, np.array(offsets, dtype=np.int64),
                np.ones((len(arrays), 1), dtype=np.int64), np.array([size], dtype=np.int64))
    bases = []
    offsets = []
    elem_strides = []
    for a in arrays:
        base, off = flat_base(a)
        bases.append(base)
        offsets.append(off)
        item = a.itemsize
        elem_strides.append([s // item for s in a.strides])
    shape, strides = coalesce(arrays[0].shape, elem_strides)
    return (bases, np.array(offsets, dtype=np.int64), np.array(strides, dtype=np.int64),
            np.array(shape, dtype=np.int64))
