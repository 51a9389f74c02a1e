"""Arrays of more than 2**31 elements (index arithmetic past int32) on every backend.

Opt-in (about 2 GiB per array and a minute per backend): TENSORCORE_BIG_TESTS=1.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import tensorcore as tc

pytestmark = pytest.mark.skipif(os.environ.get("TENSORCORE_BIG_TESTS") != "1",
                                reason="needs ~6 GiB of memory; set TENSORCORE_BIG_TESTS=1")

N = 2 ** 31 + 7


def test_flat_bool_past_int32(backend):
    a = np.zeros(N, np.bool_)
    a[[5, 2 ** 31, N - 1]] = True
    t = tc.from_numpy(a)
    assert tc.sum(t).item() == 3
    assert tc.argmax(t[2 ** 31 - 3:]).item() == 3
    assert tc.argmax(t[6:]).item() == 2 ** 31 - 6
    t[2 ** 31 + 1:2 ** 31 + 5] = True          # slice assignment past 2**31
    assert int(a[2 ** 31 + 1:2 ** 31 + 5].sum()) == 4
    assert tc.sum(t[::-1]).item() == 7
    copy = tc.tensor(a)                         # our copy kernel
    assert copy.numpy()[N - 1] and copy.numpy()[2 ** 31 + 1:2 ** 31 + 6].tolist() == \
        [True] * 4 + [False]
    assert tc.max(t).item() and not tc.min(t).item()


def test_rows_past_int32(backend):
    a = np.zeros((2, N // 2 + 1), np.bool_)
    a[1, -1] = a[1, 3] = a[0, -2] = True
    t = tc.from_numpy(a)
    assert tc.sum(t, axis=1).tolist() == [1, 2]
    assert tc.argmax(t, axis=1).tolist() == [a.shape[1] - 2, 3]
    assert t[1, np.array([3, -1, 4])].tolist() == [True, True, False]
    t[np.array([0]), np.array([a.shape[1] - 3])] = True
    assert a[0, -3]
    flat = tc.reshape(tc.permute_dims(t, (1, 0)), (-1,))   # a transposing copy
    assert flat.numpy()[-2:].tolist() == [False, True]
    assert flat.numpy()[6:8].tolist() == [False, True]
