"""N-d index walking shared by the generic strided kernels.

Operands are described by ``offsets[k]`` (element offset of index 0 in operand k's flat base)
and ``strides[k, d]`` (element strides); all share ``shape``. A walker processes the flat
C-order element range [start, stop) one line (a run along the last dim) at a time.
Positions are int64; line kernels convert them to uint64 so Numba emits no negative-index
wraparound code (a negative stride then wraps modulo 2**64 to the right address).
"""

from __future__ import annotations

from ._jit import jit


@jit
def seek(shape, strides, offsets, start, idx, pos):
    """Set ``idx`` to the N-d index of flat element ``start`` and ``pos`` to each operand offset."""
    nd = shape.size
    nops = offsets.size
    for k in range(nops):
        pos[k] = offsets[k]
    rem = start
    for d in range(nd - 1, -1, -1):
        i = rem % shape[d]
        rem //= shape[d]
        idx[d] = i
        for k in range(nops):
            pos[k] += i * strides[k, d]


@jit
def step(shape, strides, idx, pos, count):
    """Advance by ``count`` elements along the last dim (never past its end), then carry."""
    nops = pos.size
    d = shape.size - 1
    idx[d] += count
    for k in range(nops):
        pos[k] += count * strides[k, d]
    while d > 0 and idx[d] >= shape[d]:
        for k in range(nops):
            pos[k] -= shape[d] * strides[k, d]
        idx[d] = 0
        d -= 1
        idx[d] += 1
        for k in range(nops):
            pos[k] += strides[k, d]


@jit
def line_length(shape, idx, done, stop):
    """Return how many elements the current line run covers before its end or ``stop``."""
    last = shape.size - 1
    run = shape[last] - idx[last]
    left = stop - done
    return run if run < left else left
