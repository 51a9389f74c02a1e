"""Hypothesis strategies for differential fuzzing: strided views and short op programs.

A *view* is a NumPy array of a requested shape whose memory layout is drawn at random:
C-contiguous, transposed (an axis permutation of a contiguous base), sliced with positive or
negative steps, or broadcast (zero strides, made with ``np.broadcast_to``; read-only).

A *program* is a start view plus 2-5 op *steps*. Steps are drawn one at a time against the
current NumPy value (so every step is valid for the shape and dtype it will see) and are plain
data (op name + parameters + extra operand arrays), so the same program can be replayed on
every backend and against NumPy. ``describe`` prints a program for a failure report.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st

DTYPES = [np.float32, np.float64, np.int32, np.int64, np.bool_]
FLOATS = (np.float32, np.float64)
INTS = (np.int32, np.int64)
MAX_SIDE = 4
MAX_ELEMENTS = 4096            # keeps values (and int wrap-around) easy to compare

ARITH = ["add", "subtract", "multiply", "maximum", "minimum", "divide", "power"]
COMPARE = ["equal", "not_equal", "less", "less_equal", "greater", "greater_equal"]
UNARY_ANY = ["negative", "abs", "square", "relu", "sign"]
UNARY_FLOAT = ["exp", "log", "sqrt", "tanh", "sigmoid", "reciprocal"]
REDUCE = ["sum", "mean", "max", "min", "var", "logsumexp", "argmax", "argmin"]
FAMILIES = ["binary", "unary", "reduce", "reshape", "transpose", "matmul", "softmax", "where",
            "clip", "index", "concatenate", "astype"]

shapes = st.lists(st.integers(0, MAX_SIDE), min_size=0, max_size=5).map(tuple)


def _kind(dtype) -> str:
    return np.dtype(dtype).kind


@st.composite
def values(draw, dtype, shape, seed=None):
    """A contiguous array of `shape`/`dtype` with small values, from a drawn NumPy seed."""
    seed = draw(st.integers(0, 2 ** 32 - 1)) if seed is None else seed
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return rng.integers(0, 2, size=shape).astype(np.bool_)
    if dtype.kind == "i":
        return rng.integers(-5, 6, size=shape).astype(dtype)
    data = rng.uniform(-4.0, 4.0, size=shape)
    # some exact small integers and zeros make ties, sign(0) and relu(0) likely
    mask = rng.random(size=shape) < 0.3
    data[mask] = np.round(data[mask])
    return data.astype(dtype)


@st.composite
def record_field(draw, dtype, shape):
    """A view of one field of a packed structured array: byte strides that are NOT
    multiples of the item size (rec['a'] with a 1-3 byte neighbour field), optionally
    reversed along some axes. The kernels cannot take it as is (issue 17)."""
    shape = tuple(shape)
    pad = draw(st.integers(1, 3))
    first = draw(st.booleans())
    fields = [("a", dtype), ("pad", "u1", (pad,))] if first else \
        [("pad", "u1", (pad,)), ("a", dtype)]
    rows = int(np.prod(shape)) if shape else 1
    rec = np.zeros(rows, fields)
    rec["a"] = draw(values(dtype, (rows,)))
    view = rec["a"].reshape(shape) if shape else rec["a"].reshape(())
    if shape:
        flips = tuple(slice(None, None, -1) if draw(st.booleans()) else slice(None)
                      for _ in shape)
        view = view[flips]
    return view


@st.composite
def views(draw, dtype, shape, allow_broadcast=True, allow_record=False):
    """An array of exactly `shape` with a randomly drawn layout (see module docstring);
    allow_record adds views of structured-array fields (misaligned byte strides)."""
    shape = tuple(shape)
    layouts = ["c", "transposed", "sliced", "reversed"]
    if allow_broadcast:
        layouts.append("broadcast")
    if allow_record:
        layouts.append("record")
    layout = draw(st.sampled_from(layouts))
    ndim = len(shape)
    if layout == "record":
        view = draw(record_field(dtype, shape))
    elif layout == "transposed" and ndim >= 2:
        perm = draw(st.permutations(range(ndim)))
        inverse = np.argsort(perm)
        base = draw(values(dtype, tuple(shape[p] for p in perm)))
        view = base.transpose(inverse)
    elif layout == "sliced" and ndim:
        steps = [draw(st.sampled_from([1, 2, 3, -1, -2])) for _ in shape]
        base_shape = tuple(abs(s) * n + 1 for s, n in zip(steps, shape))
        base = draw(values(dtype, base_shape))
        key = []
        for n, step in zip(shape, steps):
            if step > 0:
                key.append(slice(1, 1 + step * n, step))
            else:
                key.append(slice(abs(step) * n, 0 if n else None, step) if n else slice(0, 0))
        view = base[tuple(key)]
    elif layout == "reversed" and ndim:
        base = draw(values(dtype, shape))
        view = base[tuple(slice(None, None, -1) for _ in shape)]
    elif layout == "broadcast" and ndim:
        small = tuple(n if draw(st.booleans()) else 1 for n in shape)
        # a broadcast view may also lack leading dims entirely
        drop = draw(st.integers(0, ndim))
        view = np.broadcast_to(draw(values(dtype, small[drop:])), shape)
    else:
        view = draw(values(dtype, shape))
    assert view.shape == shape, (view.shape, shape, layout)
    return view


def broadcastable_to(draw, shape: tuple) -> tuple:
    """A shape that broadcasts against `shape` to exactly `shape`."""
    drop = draw(st.integers(0, len(shape)))
    return tuple(n if draw(st.booleans()) else 1 for n in shape[drop:])


@dataclass
class Step:
    """One op of a program: a family, its parameters and any extra operand arrays."""

    family: str
    op: str
    params: dict = field(default_factory=dict)
    operands: list = field(default_factory=list)

    def __repr__(self) -> str:
        ops = ", ".join(f"array(shape={a.shape}, dtype={a.dtype}, strides={a.strides})"
                        for a in self.operands)
        return f"Step({self.family}:{self.op}, {self.params}, [{ops}])"


@dataclass
class Program:
    """A start array and the steps applied to it in order."""

    start: np.ndarray
    steps: list

    def __repr__(self) -> str:
        lines = [f"start: shape={self.start.shape} dtype={self.start.dtype} "
                 f"strides={self.start.strides}"]
        lines += [f"  {i}: {step!r}" for i, step in enumerate(self.steps)]
        return "\n".join(lines)


# ------------------------------------------------------------------ step drawing
def _draw_axis(draw, ndim: int) -> int:
    axis = draw(st.integers(0, ndim - 1))
    return axis - ndim if draw(st.booleans()) else axis


def _draw_reshape(draw, shape: tuple) -> tuple:
    size = int(np.prod(shape, dtype=np.int64))
    if size == 0:
        target = list(draw(shapes))
        if 0 not in target:
            target.append(0)
        return tuple(draw(st.permutations(target)))
    factors = []
    remaining = size
    for _ in range(draw(st.integers(0, 4))):
        divisors = [d for d in range(1, remaining + 1) if remaining % d == 0]
        d = draw(st.sampled_from(divisors))
        factors.append(d)
        remaining //= d
    factors.append(remaining)
    factors = list(draw(st.permutations(factors)))
    if draw(st.booleans()):
        factors[draw(st.integers(0, len(factors) - 1))] = -1
    return tuple(factors)


def _draw_index(draw, shape: tuple) -> tuple:
    key: list[Any] = []
    dims = list(shape)
    consumed = 0
    used_ellipsis = False
    used_array = False
    while consumed < len(dims) and draw(st.integers(0, 3)) > 0:
        n = dims[consumed]
        choice = draw(st.sampled_from(["int", "slice", "none", "ellipsis", "array"]))
        if choice == "int" and n > 0:
            key.append(draw(st.integers(-n, n - 1)))
            consumed += 1
        elif choice == "none":
            key.append(None)
        elif choice == "ellipsis" and not used_ellipsis:
            used_ellipsis = True
            key.append(Ellipsis)
            consumed = len(dims)     # the rest is taken by the ellipsis
        elif choice == "array" and n > 0 and not used_array:
            used_array = True
            count = draw(st.integers(0, 5))
            key.append(np.array([draw(st.integers(-n, n - 1)) for _ in range(count)],
                                dtype=np.int64))
            consumed += 1
        else:
            start = draw(st.one_of(st.none(), st.integers(-n - 1, n + 1)))
            stop = draw(st.one_of(st.none(), st.integers(-n - 1, n + 1)))
            step = draw(st.sampled_from([None, 1, 2, -1, -3]))
            key.append(slice(start, stop, step))
            consumed += 1
    return tuple(key)


@st.composite
def step_for(draw, current: np.ndarray) -> Step:
    """Draw one step that is valid for an input like `current` (NumPy value)."""
    dtype = current.dtype
    shape = current.shape
    ndim = current.ndim
    kind = dtype.kind
    families = ["binary", "reduce", "reshape", "transpose", "where", "index", "concatenate",
                "astype"]
    if kind != "b":
        families += ["unary", "clip"]
    if kind != "b" and ndim >= 1:
        families.append("matmul")
    if kind == "f" and ndim >= 1:
        families.append("softmax")
    family = draw(st.sampled_from(families))

    if family == "binary":
        ops = [op for op in ARITH + COMPARE if not (kind == "b" and op in (
            "subtract", "divide", "power")) and not (kind == "i" and op == "divide")]
        op = draw(st.sampled_from(ops))
        other_shape = broadcastable_to(draw, shape)
        other = draw(views(dtype, other_shape))
        if op == "power" and kind == "i":
            other = np.asarray(np.abs(other) % 4)      # dispatch rejects negative integer exponents
        swap = op not in ("power",) and draw(st.booleans())
        return Step(family, op, {"swap": swap}, [other])
    if family == "unary":
        ops = UNARY_ANY + (UNARY_FLOAT if kind == "f" else [])
        return Step(family, draw(st.sampled_from(ops)))
    if family == "reduce":
        ops = REDUCE if kind == "f" else [op for op in REDUCE
                                          if op not in ("mean", "var", "logsumexp")]
        if kind == "b":
            ops = ["sum", "max", "min", "argmax", "argmin"]
        op = draw(st.sampled_from(ops))
        keepdims = draw(st.booleans())
        if op in ("argmax", "argmin"):
            axis = None if ndim == 0 or draw(st.booleans()) else _draw_axis(draw, ndim)
        elif ndim == 0 or draw(st.integers(0, 3)) == 0:
            axis = None
        elif draw(st.booleans()):
            axis = _draw_axis(draw, ndim)
        else:
            axis = tuple(draw(st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim)))
        params = {"axis": axis, "keepdims": keepdims}
        if op == "var":
            params["ddof"] = draw(st.integers(0, 1))
        return Step(family, op, params)
    if family == "reshape":
        return Step(family, "reshape", {"shape": _draw_reshape(draw, shape)})
    if family == "transpose":
        if ndim >= 2 and draw(st.booleans()):
            return Step(family, "transpose", {"axes": tuple(draw(st.permutations(range(ndim))))})
        return Step(family, "transpose", {"axes": None})
    if family == "matmul":
        k = shape[-1]
        n = draw(st.integers(0, MAX_SIDE))
        if ndim == 1 or draw(st.integers(0, 2)) > 0:
            other_shape = (k, n) if draw(st.integers(0, 3)) else (k,)
        else:
            batch = broadcastable_to(draw, shape[:-2])
            other_shape = batch + (k, n)
        return Step(family, "matmul", {"swap": False}, [draw(views(dtype, other_shape))])
    if family == "softmax":
        return Step(family, draw(st.sampled_from(["softmax", "log_softmax"])),
                    {"axis": _draw_axis(draw, ndim)})
    if family == "where":
        cond = draw(views(np.bool_, broadcastable_to(draw, shape)))
        other = draw(views(dtype, broadcastable_to(draw, shape)))
        return Step(family, "where", {"swap": draw(st.booleans())}, [cond, other])
    if family == "clip":
        cast = int if kind == "i" else float
        lo = draw(st.one_of(st.none(), st.integers(-3, 1)))
        hi = draw(st.one_of(st.none(), st.integers(0, 4))) if lo is not None \
            else draw(st.integers(0, 4))
        return Step(family, "clip", {"lo": None if lo is None else cast(lo),
                                     "hi": None if hi is None else cast(hi)})
    if family == "index":
        return Step(family, "getitem", {"key": _draw_index(draw, shape)})
    if family == "concatenate":
        if ndim == 0:
            return Step("reshape", "reshape", {"shape": (1, 1)})
        axis = _draw_axis(draw, ndim)
        other_shape = list(shape)
        other_shape[axis] = draw(st.integers(0, MAX_SIDE))
        other = draw(views(dtype, tuple(other_shape)))
        return Step(family, draw(st.sampled_from(["concatenate", "stack"])) if
                    other_shape[axis] == shape[axis] else "concatenate",
                    {"axis": axis, "swap": draw(st.booleans())}, [other])
    # astype: float -> int only when NumPy's cast is well defined (finite, in range)
    targets = [d for d in DTYPES if np.dtype(d) != dtype]
    if kind == "f":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            finite = bool(np.all(np.isfinite(current))) and \
                (current.size == 0 or float(np.max(np.abs(current))) < 2 ** 31 - 1)
        if not finite:
            targets = [d for d in targets if np.dtype(d).kind in "fb"]
    return Step(family, "astype", {"dtype": np.dtype(draw(st.sampled_from(targets))).name})


@st.composite
def programs(draw, min_steps=2, max_steps=5, run_numpy=None):
    """A start view and a valid sequence of steps; `run_numpy(value, step)` guides drawing."""
    shape = draw(shapes)
    dtype = draw(st.sampled_from(DTYPES))
    start = draw(views(dtype, shape))
    steps = []
    current = start
    for _ in range(draw(st.integers(min_steps, max_steps))):
        step = draw(step_for(current))
        steps.append(step)
        try:
            current = run_numpy(current, step)
        except (ValueError, IndexError, TypeError):
            break                    # an erroring step ends the program (checked by the test)
        if current.size > MAX_ELEMENTS:
            break
    return Program(start, steps)
