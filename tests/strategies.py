"""Hypothesis strategies for tensors: shapes of rank 0-5 (incl. size-0/size-1 dims), every
supported dtype, and strided views (transposed, sliced, negative steps)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

DTYPES = [np.float32, np.float64, np.int32, np.int64, np.bool_]
FLOATS = [np.float32, np.float64]
NUMERIC = [np.float32, np.float64, np.int32, np.int64]

shapes = hnp.array_shapes(min_dims=0, max_dims=5, min_side=0, max_side=4)


def _elements(dtype, low=-8, high=8):
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return st.floats(low, high, width=32 if dtype == np.float32 else 64,
                         allow_nan=False, allow_infinity=False)
    if dtype.kind == "b":
        return st.booleans()
    return st.integers(int(low), int(high))


@st.composite
def arrays(draw, dtype, shape, low=-8, high=8, layout=None):
    """An array of `shape` whose memory layout is contiguous, transposed, sliced or reversed."""
    shape = tuple(shape)
    layout = layout or draw(st.sampled_from(["c", "transposed", "sliced", "reversed"]))
    elements = _elements(dtype, low, high)
    if layout == "transposed" and len(shape) >= 2:
        base = draw(hnp.arrays(dtype, shape[::-1], elements=elements))
        return base.T
    if layout == "sliced" and shape:
        base = draw(hnp.arrays(dtype, tuple(2 * n + 1 for n in shape), elements=elements))
        return base[tuple(slice(1, 1 + 2 * n, 2) for n in shape)]
    if layout == "reversed" and shape:
        base = draw(hnp.arrays(dtype, shape, elements=elements))
        return base[tuple(slice(None, None, -1) for _ in shape)]
    return draw(hnp.arrays(dtype, shape, elements=elements))


broadcast_pairs = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=5,
                                                    max_side=4)
