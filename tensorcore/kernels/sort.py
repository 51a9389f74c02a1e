"""Sorting, scanning and searching kernels (the Numba twin of csrc/sort.c).

Order: NaN after every number, -0.0 equal to +0.0; sorts are stable (equal keys keep their
input order, also when descending). Every array is C-contiguous and flat (the backend
passes (rows * n,) views and the sizes).
"""

from __future__ import annotations

import numpy as np

from ._jit import jit, prange

_RUN = 16


@jit
def _less(a, b):
    """a before b ascending: a < b, or b is NaN and a is not (ints: plain <)."""
    return a < b or (b != b and a == a)


@jit
def _argsort_row(key, idx, tmp, n, desc):
    """Stable merge sort of idx[0:n] by key[idx]; returns the buffer holding the result."""
    for lo in range(0, n, _RUN):
        hi = min(lo + _RUN, n)
        for i in range(lo + 1, hi):
            v = idx[i]
            j = i
            while j > lo and (_less(key[idx[j - 1]], key[v]) if desc
                              else _less(key[v], key[idx[j - 1]])):
                idx[j] = idx[j - 1]
                j -= 1
            idx[j] = v
    src = idx
    dst = tmp
    width = _RUN
    while width < n:
        for lo in range(0, n, 2 * width):
            mid = min(lo + width, n)
            hi = min(lo + 2 * width, n)
            i = lo
            j = mid
            k = lo
            while i < mid and j < hi:
                right = (_less(key[src[i]], key[src[j]]) if desc
                         else _less(key[src[j]], key[src[i]]))
                if right:
                    dst[k] = src[j]
                    j += 1
                else:
                    dst[k] = src[i]
                    i += 1
                k += 1
            while i < mid:
                dst[k] = src[i]
                i += 1
                k += 1
            while j < hi:
                dst[k] = src[j]
                j += 1
                k += 1
        src, dst = dst, src
        width *= 2
    return src


@jit
def _sort_rows(src, values, index, n, desc, want_values, want_index, begin, end):
    idx = np.empty(n, np.int64)
    tmp = np.empty(n, np.int64)
    for r in range(begin, end):
        base = r * n
        row = src[base:base + n]
        for i in range(n):
            idx[i] = i
        order = _argsort_row(row, idx, tmp, n, desc)
        if want_index:
            for i in range(n):
                index[base + i] = order[i]
        if want_values:
            for i in range(n):
                values[base + i] = row[order[i]]


@jit
def sort_range(src, values, index, n, desc, want_values, want_index, rows):
    """Sort each of ``rows`` rows of n elements (serial)."""
    _sort_rows(src, values, index, n, desc, want_values, want_index, 0, rows)


@jit(parallel=True)
def sort_parallel(src, values, index, n, desc, want_values, want_index, rows, chunks):
    """Sort the rows in ``chunks`` parallel pieces."""
    for k in prange(chunks):
        _sort_rows(src, values, index, n, desc, want_values, want_index,
                   rows * k // chunks, rows * (k + 1) // chunks)


@jit
def cumsum(src, out, outer, n, inner):
    """Inclusive cumulative sum along the middle axis of (outer, n, inner), in out's dtype."""
    for o in range(outer):
        base = o * n * inner
        for j in range(inner):
            out[base + j] = src[base + j]
        for i in range(1, n):
            row = base + i * inner
            for j in range(inner):
                out[row + j] = out[row - inner + j] + src[row + j]


@jit
def nonzero(mask, shape, count, out):
    """Coordinates of the true elements of a flat C-order bool array: out is (ndim, count)."""
    ndim = shape.size
    coord = np.zeros(ndim, np.int64)
    k = 0
    for i in range(mask.size):
        if mask[i]:
            for d in range(ndim):
                out[d, k] = coord[d]
            k += 1
        d = ndim - 1
        while d >= 0:
            coord[d] += 1
            if coord[d] < shape[d]:
                break
            coord[d] = 0
            d -= 1


@jit
def searchsorted(sorted_, values, out, right):
    """out[i] = insertion position of values[i] in sorted_ (right: after equal keys)."""
    n = sorted_.size
    for i in range(values.size):
        v = values[i]
        lo = 0
        hi = n
        while lo < hi:
            mid = lo + (hi - lo) // 2
            if right:
                go_right = not _less(v, sorted_[mid])
            else:
                go_right = _less(sorted_[mid], v)
            if go_right:
                lo = mid + 1
            else:
                hi = mid
        out[i] = lo


@jit
def put_rows(out, index, src):
    """out[index[i], :] = src[i, :] in order (a repeated index keeps the last row), for 2-D
    C-contiguous out and src. Every index is checked before the first write: returns the
    position of the first index outside [0, len(out)) with nothing written, else -1."""
    rows = out.shape[0]
    for i in range(index.size):
        if index[i] < 0 or index[i] >= rows:
            return i
    width = out.shape[1]
    for i in range(index.size):
        r = index[i]
        for j in range(width):
            out[r, j] = src[i, j]
    return -1


@jit
def take_rows(src, index, out):
    """out[i, :] = src[index[i], :] for 2-D C-contiguous src and out. Returns the position of
    the first index outside [0, len(src)) (rows before it are already copied), else -1; the
    check is one compare per row inside the copy loop (a separate pass cost 17% on one-float
    rows)."""
    rows = src.shape[0]
    width = src.shape[1]
    for i in range(index.size):
        r = index[i]
        if r < 0 or r >= rows:
            return i
        for j in range(width):
            out[i, j] = src[r, j]
    return -1
