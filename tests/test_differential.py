"""Seeded differential fuzzing against NumPy, one op family per test, on every backend.

Complements test_fuzz.py (hypothesis op programs): here every row of the op table meets
every dtype its rule admits, operands come in odd layouts (transposed, strided, reversed,
broadcast with zero strides, copied from a misaligned buffer), indexing keys mix ints,
slices, None, Ellipsis, integer and bool arrays in random order (getitem and setitem), and
gradients of the ops outside the table are checked against finite differences with random
output weights (a plain sum hides permutation mistakes, e.g. in sort or roll).

The loops are seeded, so a failure replays; ``TENSORCORE_DIFF_ROUNDS=n`` (default 1) runs n
times as many cases with other seeds, for long hunts.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

import tensorcore as tc
import tensorcore.array_api as xp
from tensorcore import _optable
from tensorcore.testing import gradcheck

ROUNDS = int(os.environ.get("TENSORCORE_DIFF_ROUNDS", "1"))
DTYPES = (np.bool_, np.int32, np.int64, np.float32, np.float64)
USER_ERRORS = (ValueError, TypeError, IndexError)


def _rng(backend, salt, round_):
    return np.random.default_rng([round_, salt, 0 if backend == "c" else 1])


def _shape(rng, max_rank=4):
    return tuple(int(rng.choice([0, 1, 1, 2, 3, 4])) if rng.random() < 0.9 else 1
                 for _ in range(int(rng.integers(0, max_rank + 1))))


def _partner(rng, shape):
    """A shape that broadcasts with `shape` (some dims 1, some leading dims dropped)."""
    out = [int(rng.choice([n, 1])) for n in shape]
    while out and rng.random() < 0.3:
        out.pop(0)
    return tuple(out)


def _values(rng, shape, dtype, specials=True):
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return np.asarray(rng.random(shape) < 0.5)
    if dtype.kind == "i":
        a = np.asarray(rng.integers(-20, 20, shape).astype(dtype))
        if specials and a.size and rng.random() < 0.4:
            info, flat = np.iinfo(dtype), a.reshape(-1)
            for v in (0, -1, info.min, info.max, dtype.itemsize * 8, 200):
                flat[rng.integers(a.size)] = v
        return a
    a = np.asarray((rng.standard_normal(shape) * 5).astype(dtype))
    if specials and a.size and rng.random() < 0.3:
        flat = a.reshape(-1)
        for v in (np.nan, np.inf, -np.inf, 0.0, -0.0):
            flat[rng.integers(a.size)] = v
    return a


def _array(rng, shape, dtype, specials=True):
    """Random values, sometimes as a read-only broadcast view (zero strides)."""
    if shape and rng.random() < 0.2:
        small = tuple(n if rng.random() < 0.5 else 1 for n in shape)
        return np.broadcast_to(_values(rng, small, dtype, specials), shape)
    return _values(rng, shape, dtype, specials)


def _layout(rng, a):
    """The same values in another memory layout."""
    kind = int(rng.integers(6))
    if kind == 1:
        return a.T.copy().T
    if kind in (2, 3):
        step = 2 if kind == 2 else -2
        big = np.zeros(tuple(2 * n for n in a.shape), a.dtype)
        key = tuple(slice(None, None, step) for _ in a.shape) + (Ellipsis,)
        big[key] = a
        return big[key]
    if kind == 4:      # misaligned: from_numpy refuses it, tc.tensor copies it
        buf = np.empty(a.nbytes + a.itemsize + 1, np.uint8)
        view = buf[1:1 + a.nbytes].view(a.dtype).reshape(a.shape)
        view[...] = a
        return view
    return a


def _tensor(a):
    try:
        return tc.from_numpy(a)
    except ValueError:          # misaligned: copied by our kernel instead
        return tc.tensor(a)


def _compare(what, got, expected, tol):
    got = got.numpy() if isinstance(got, tc.Tensor) else np.asarray(got)
    expected = np.asarray(expected)
    assert got.shape == expected.shape, (what, got.shape, expected.shape)
    assert got.dtype == expected.dtype, (what, got.dtype, expected.dtype)
    if expected.dtype.kind in "biu":
        np.testing.assert_array_equal(got, expected, err_msg=str(what))
    else:
        np.testing.assert_allclose(got, expected, rtol=tol, atol=tol, equal_nan=True,
                                   err_msg=str(what))


def _check(what, ours, oracle, tol=None):
    """ours() must equal oracle(); where NumPy raises, ours must raise a user error."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            expected = oracle()
        except (ValueError, IndexError, TypeError):
            with pytest.raises(USER_ERRORS):
                ours()
            return
        got = ours()
    if tol is None:
        tol = 1e-4 if np.asarray(expected).dtype == np.float32 else 1e-9
    _compare(what, got, expected, tol)


def _operand_dtypes(op):
    rule = op.dtypes
    if rule == _optable.INT:
        return (np.int32, np.int64)
    if rule == _optable.INT_BOOL:
        return (np.bool_, np.int32, np.int64)
    if rule == _optable.NUMERIC or (op.family == _optable.BINARY and not op.bool_operands):
        return (np.int32, np.int64, np.float32, np.float64)
    return DTYPES


def _promoted(op, *arrays):
    """The operands as NumPy promotes them (float-only ops: integers and bools in float64)."""
    rt = np.result_type(*arrays)
    if op.float_only and rt.kind != "f":
        rt = np.dtype(np.float64)
    return [a.astype(rt) for a in arrays]


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_elementwise_table_matches_numpy(backend, round_):
    rng = _rng(backend, 1, round_)
    for op in _optable.OPS:
        if op.family == _optable.COMPOSED:
            continue
        fn = getattr(tc, op.name)
        choices = _operand_dtypes(op)
        for _ in range(8):
            if op.family == _optable.UNARY:
                a = _array(rng, _shape(rng), rng.choice(choices))
                la = _layout(rng, a)
                _check((op.name, a.dtype, la.strides), lambda: fn(_tensor(la)),
                       lambda: op.reference(*_promoted(op, a)),
                       tol=1e-12 if a.dtype == np.float64 else 2e-6)
                continue
            s1 = _shape(rng)
            s2 = _partner(rng, s1)
            if rng.random() < 0.5:
                s1, s2 = s2, s1
            a = _array(rng, s1, rng.choice(choices))
            b = _array(rng, s2, rng.choice(choices))
            if op.name == "power" and np.result_type(a, b).kind in "biu":
                b = np.asarray(np.abs(b) % 8)      # integer bases: non-negative exponents
            la, lb = _layout(rng, a), _layout(rng, b)
            _check((op.name, a.dtype, b.dtype, s1, s2), lambda: fn(_tensor(la), _tensor(lb)),
                   lambda: op.reference(*_promoted(op, a, b)))
            scalar = rng.choice([0, 1, -1, 2, 3, 0.5, -2.5]).item()
            if op.dtypes in (_optable.INT, _optable.INT_BOOL) or (
                    op.name == "power" and a.dtype.kind != "f"):
                scalar = abs(int(scalar))
            # (the scalar as a full array: NumPy's x ** 0.5 with a scalar 0.5 is sqrt, which
            # differs from pow at -inf and -0.0; our kernels follow C99 pow throughout)
            _check((op.name, a.dtype, scalar), lambda: fn(_tensor(la), scalar),
                   lambda: op.reference(*_promoted(op, a, np.full(
                       a.shape or (1,), scalar, np.result_type(a, scalar)))).reshape(a.shape))


def _axis(rng, ndim):
    kind = rng.integers(4)
    if kind == 0 or ndim == 0:
        return None
    if kind == 1:
        return tuple(int(d) - (ndim if rng.random() < 0.3 else 0)
                     for d in rng.permutation(ndim)[:rng.integers(0, ndim + 1)])
    return int(rng.integers(-ndim, ndim))


def _wide(a):
    """NumPy's result for a sum-like reduction in our dtypes (ints and bools: int64)."""
    a = np.asarray(a)
    return a.astype(np.int64) if a.dtype.kind in "biu" else a


def _float(a):
    return a if a.dtype.kind == "f" else a.astype(np.float64)


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_reductions_match_numpy(backend, round_):
    rng = _rng(backend, 2, round_)
    for _ in range(60):
        dtype = np.dtype(rng.choice(DTYPES))
        # (no int64 extremes: their float64 mean is all rounding error)
        a = _array(rng, _shape(rng, 5), dtype, specials=dtype.kind == "f")
        if a.dtype.kind == "f" and rng.random() < 0.5:
            a = np.where(np.isfinite(a), a, 1.0).astype(a.dtype)
        la, ax, kd = _layout(rng, a), _axis(rng, a.ndim), bool(rng.random() < 0.5)
        one = ax if not isinstance(ax, tuple) else None
        what = (a.shape, a.dtype, ax, kd)
        _check(("sum",) + what, lambda: tc.sum(_tensor(la), axis=ax, keepdims=kd),
               lambda: _wide(np.sum(a, axis=ax, keepdims=kd)))
        _check(("prod",) + what, lambda: xp.prod(_tensor(la), axis=ax, keepdims=kd),
               lambda: _wide(np.prod(a, axis=ax, keepdims=kd)))
        _check(("mean",) + what, lambda: tc.mean(_tensor(la), axis=ax, keepdims=kd),
               lambda: np.asarray(np.mean(_float(a), axis=ax, keepdims=kd)))
        ddof = int(rng.integers(0, 3))
        _check(("var",) + what, lambda: tc.var(_tensor(la), axis=ax, keepdims=kd, ddof=ddof),
               lambda: np.asarray(np.var(_float(a), axis=ax, keepdims=kd, ddof=ddof)))
        _check(("std",) + what, lambda: xp.std(_tensor(la), axis=ax, keepdims=kd),
               lambda: np.asarray(np.std(_float(a), axis=ax, keepdims=kd)))
        for name in ("max", "min"):
            _check((name,) + what, lambda: getattr(tc, name)(_tensor(la), axis=ax, keepdims=kd),
                   lambda: np.asarray(getattr(np, name)(a, axis=ax, keepdims=kd)))
        for name in ("any", "all"):
            _check((name,) + what, lambda: getattr(xp, name)(_tensor(la), axis=ax, keepdims=kd),
                   lambda: np.asarray(getattr(np, name)(a, axis=ax, keepdims=kd)))
        for name in ("argmax", "argmin"):
            _check((name,) + what,
                   lambda: getattr(tc, name)(_tensor(la), axis=one, keepdims=kd),
                   lambda: _wide(getattr(np, name)(a, axis=one, keepdims=kd)))
        if a.ndim:
            cax = int(rng.integers(-a.ndim, a.ndim))
            _check(("cumsum",) + what, lambda: tc.cumsum(_tensor(la), axis=cax),
                   lambda: _wide(np.cumsum(a, axis=cax)))


def _key(rng, shape):
    """A random NumPy index for `shape`: ints (some out of range), slices, None, Ellipsis,
    integer and bool arrays, in any order."""
    key, dim, ellipsis = [], 0, False
    while dim < len(shape):
        kind, n = int(rng.integers(9)), shape[dim]
        if kind == 0 and n:
            key.append(int(rng.integers(-n, n)))
        elif kind == 1:
            bounds = [None if rng.random() < 0.4 else int(rng.integers(-n - 2, n + 3))
                      for _ in range(2)]
            key.append(slice(*bounds, int(rng.choice([1, 2, 3, -1, -2]))))
        elif kind == 2:
            key.append(None)
            continue
        elif kind == 3 and not ellipsis:
            key.append(Ellipsis)
            ellipsis = True
            dim = len(shape) - int(rng.integers(0, len(shape) - dim + 1))
            continue
        elif kind == 4:
            index_shape = tuple(int(k) for k in rng.integers(0, 3, int(rng.integers(0, 3))))
            key.append(rng.integers(-n, n, index_shape) if n else np.zeros(0, np.int64))
        elif kind == 5:
            key.append(rng.random(n) < 0.5)
        elif kind == 6 and rng.random() < 0.3:
            key.append(int(rng.choice([n, -n - 1, n + 5])))
        else:
            key.append(slice(None))
        dim += 1
    if len(key) == 1 and rng.random() < 0.5:
        return key[0]
    return tuple(key)


def _assigned(a, key, value):
    out = a.copy()
    out[key] = value
    return out


def _written(a, key, value):
    t = tc.tensor(a)
    t[key] = value
    return t


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_indexing_matches_numpy(backend, round_):
    rng = _rng(backend, 3, round_)
    for _ in range(150):
        a = _values(rng, _shape(rng), rng.choice(DTYPES))
        la, key = _layout(rng, a), _key(rng, a.shape)
        _check(("getitem", a.shape, key), lambda: _tensor(la)[key], lambda: np.asarray(a[key]))
        try:
            selected = np.shape(a[key])
        except IndexError:
            selected = ()
        value = _values(rng, selected[int(rng.integers(0, len(selected) + 1)):], a.dtype)
        _check(("setitem", a.shape, key), lambda: _written(a, key, tc.tensor(value)),
               lambda: _assigned(a, key, value))
        _check(("setitem scalar", a.shape, key), lambda: _written(a, key, 3),
               lambda: _assigned(a, key, 3))


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_shape_ops_match_numpy(backend, round_):
    rng = _rng(backend, 4, round_)
    for _ in range(50):
        a = _array(rng, _shape(rng), rng.choice(DTYPES))
        la, nd = _layout(rng, a), a.ndim
        perm = tuple(int(d) for d in rng.permutation(nd))
        new = [int(n) for n in rng.permutation(np.array(a.shape, dtype=np.int64))]
        if new and rng.random() < 0.5:
            new[int(rng.integers(len(new)))] = -1
        _check(("permute+reshape", a.shape, perm, new),
               lambda: tc.reshape(tc.permute_dims(_tensor(la), perm), tuple(new)),
               lambda: np.transpose(a, perm).reshape(tuple(new)))
        ax = None if nd == 0 or rng.random() < 0.3 else int(rng.integers(-nd, nd))
        _check(("flip", a.shape, ax), lambda: xp.flip(_tensor(la), axis=ax),
               lambda: np.flip(a, axis=ax))
        shift = int(rng.integers(-7, 8))
        _check(("roll", a.shape, shift, ax), lambda: xp.roll(_tensor(la), shift, axis=ax),
               lambda: np.roll(a, shift, axis=ax))
        _check(("squeeze", a.shape, ax), lambda: tc.squeeze(_tensor(la), axis=ax),
               lambda: np.squeeze(a, axis=ax))
        new_axis = int(rng.integers(-nd - 1, nd + 1))
        _check(("expand_dims", a.shape, new_axis),
               lambda: tc.expand_dims(_tensor(la), new_axis),
               lambda: np.expand_dims(a, new_axis))
        b = _array(rng, a.shape, rng.choice(DTYPES))
        lb = _layout(rng, b)
        _check(("stack", a.dtype, b.dtype, new_axis),
               lambda: tc.stack([_tensor(la), _tensor(lb), _tensor(la)], axis=new_axis),
               lambda: np.stack([a, b, a], axis=new_axis))
        if nd:
            cax = int(rng.integers(-nd, nd))
            other = list(a.shape)
            other[cax] = int(rng.integers(0, 3))
            c = _array(rng, tuple(other), rng.choice(DTYPES))
            _check(("concatenate", a.dtype, c.dtype, cax),
                   lambda: tc.concatenate([_tensor(la), _tensor(_layout(rng, c))], axis=cax),
                   lambda: np.concatenate([a, c], axis=cax))
        cond = _array(rng, _partner(rng, a.shape), np.bool_)
        other = _array(rng, _partner(rng, a.shape), rng.choice(DTYPES))
        _check(("where", a.dtype, other.dtype),
               lambda: tc.where(_tensor(_layout(rng, cond)), _tensor(la), _tensor(other)),
               lambda: np.where(cond, a, other))
        if a.dtype != np.bool_:
            lo = _array(rng, _partner(rng, a.shape), a.dtype)
            hi = _array(rng, _partner(rng, a.shape), a.dtype)
            _check(("clip", a.dtype), lambda: tc.clip(_tensor(la), _tensor(lo), _tensor(hi)),
                   lambda: np.minimum(np.maximum(a, lo), hi))
        if nd:
            sax = int(rng.integers(-nd, nd))
            _check(("sort", a.shape, sax), lambda: xp.sort(_tensor(la), axis=sax),
                   lambda: np.sort(a, axis=sax))
            _check(("argsort", a.shape, sax), lambda: xp.argsort(_tensor(la), axis=sax),
                   lambda: np.argsort(a, axis=sax, kind="stable").astype(np.int64))
            n = a.shape[sax]
            index = rng.integers(-n, n, int(rng.integers(0, 5))) if n else np.zeros(0, int)
            _check(("take", a.shape, sax, index),
                   lambda: xp.take(_tensor(la), tc.tensor(index), axis=sax),
                   lambda: np.take(a, index, axis=sax))


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_matmul_matches_numpy(backend, round_):
    rng = _rng(backend, 5, round_)
    for _ in range(60):
        m, k, n = (int(v) for v in rng.choice([0, 1, 2, 3, 5, 8, 17, 33], 3))
        batch = _shape(rng, 3)
        other = _partner(rng, batch)
        if rng.random() < 0.5:
            batch, other = other, batch
        sa = (k,) if rng.random() < 0.15 else batch + (m, k)
        sb = (k,) if rng.random() < 0.15 else other + (k, n)
        dtypes = (np.int32, np.int64, np.float32, np.float64)
        a = _values(rng, sa, rng.choice(dtypes), specials=False)
        b = _values(rng, sb, rng.choice(dtypes), specials=False)
        rt = np.result_type(a, b)
        tol = 1e-3 if rt == np.float32 else 1e-9
        _check(("matmul", sa, sb, a.dtype, b.dtype),
               lambda: _tensor(_layout(rng, a)) @ _tensor(_layout(rng, b)),
               lambda: np.matmul(a.astype(rt), b.astype(rt)), tol)


def _weighted(fn, shape_of, rng):
    """fn times fixed random weights, so the checked sum sees the order of the outputs."""
    weights = {}

    def wrapped(*xs):
        out = fn(*xs)
        if out.shape not in weights:
            weights[out.shape] = tc.tensor(rng.uniform(0.5, 2.0, out.shape))
        return out * weights[out.shape]
    return wrapped


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_gradients_outside_the_op_table(backend, round_):
    rng = _rng(backend, 6, round_)
    for _ in range(6):
        shape = tuple(int(n) for n in rng.integers(1, 4, int(rng.integers(1, 4))))
        a = rng.uniform(-2, 2, shape)
        if rng.random() < 0.5:
            a = a.T.copy().T
        nd = a.ndim
        ax = int(rng.integers(-nd, nd))
        axes = tuple(int(d) for d in rng.permutation(nd)[:rng.integers(0, nd + 1)])
        kd = bool(rng.random() < 0.5)
        shift, reps, count = int(rng.integers(-5, 6)), int(rng.integers(1, 3)), \
            int(rng.integers(0, 3))
        n = a.shape[ax]
        index = tc.tensor(rng.integers(-n, n, int(rng.integers(1, 5))))
        mask = tc.tensor(rng.random(shape) < 0.5)
        key = _key(rng, shape)
        cases = {
            "prod": lambda x: xp.prod(x, axis=axes, keepdims=kd),
            "std": lambda x: xp.std(x, keepdims=kd),     # (sqrt's gradient at 0 is inf)
            "logsumexp": lambda x: tc.logsumexp(x, axis=axes, keepdims=kd),
            "cumsum": lambda x: tc.cumsum(x, axis=ax),
            "cumulative_sum": lambda x: xp.cumulative_sum(x, axis=ax, include_initial=kd),
            "sort": lambda x: xp.sort(x, axis=ax, descending=kd),
            "flip": lambda x: xp.flip(x, axis=axes),
            "roll": lambda x: xp.roll(x, shift, axis=ax),
            "take": lambda x: xp.take(x, index, axis=ax),
            "tile": lambda x: tc.tile(x, (reps,) * nd),
            "repeat": lambda x: tc.repeat(x, count, axis=ax),
            "softmax": lambda x: tc.softmax(x, axis=ax),
            "moveaxis": lambda x: xp.moveaxis(x, ax, 0),
            "mask": lambda x: x[mask],
            "getitem": lambda x: x[key],
            "max": lambda x: tc.max(x, axis=axes, keepdims=kd),
        }
        for name, fn in cases.items():
            if name == "std" and a.size == 1:
                continue
            try:
                fn(tc.tensor(a))
            except USER_ERRORS:
                continue          # e.g. an out-of-range int in the random key
            assert gradcheck(_weighted(fn, shape, rng), [a], eps=1e-6, atol=1e-5,
                             rtol=1e-3), (name, shape)
