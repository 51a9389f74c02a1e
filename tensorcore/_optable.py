"""The op table: one row per elementwise op, from which everything else is derived.

Each row declares an op once: its name, family (``unary``, ``binary``, or ``composed`` when it
is written with other ops), dtype rule, cost class, NumPy reference and gradient rule. From
these rows come

* the public functions ``tensorcore.<name>`` (built in ``ops_elementwise``), the Tensor methods
  (``_methods``) and the entries of ``tensorcore.__all__``;
* the float-only set (ints computed in float64, as NumPy does);
* the op codes of the backends: C uses ``TC_<NAME>`` from the X-macro lists ``TC_UNARY_OPS`` /
  ``TC_BINARY_OPS`` in ``csrc/tensorcore.h`` (a test checks both lists name the same ops in the
  same order); the Numba kernels use the row's position in its family (``code``); the NumPy
  reference backend calls ``reference``;
* the test lists (``tests/op_specs.py`` holds one spec per row and a test fails when a row has
  no spec, or a backend cannot compute a row).

Gradient rules take the op namespace first (``t``, the ``ops_elementwise`` module) so this file
imports nothing of the Tensor layer: a unary rule is ``grad(t, g, out, x) -> gx`` and a binary
rule ``grad(t, g, out, a, b) -> (ga, gb)`` (compute a gradient only for an input whose
``requires_grad`` is set; return None for the other). ``grad=None`` means not differentiable
(comparisons, sign). A composed row has ``impl(t, *inputs)`` and no rule: autodiff
differentiates the ops it is written with. See docs/architecture.md, "Adding an op".

This module imports only NumPy (for the reference column); the core, the kernels and the
backends all import it, so it must stay a leaf.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

UNARY, BINARY, COMPOSED = "unary", "binary", "composed"
# dtype rules: FLOAT: float in, float out (integer inputs are computed in float64, as NumPy);
# NUMERIC: float and integer dtypes; ALL: bool too (see each op's doc for its bool meaning);
# INT: integer dtypes only and INT_BOOL: integers and bool (the bitwise ops; any other dtype
# is a TypeError naming the op).
FLOAT, NUMERIC, ALL, INT, INT_BOOL = "float", "numeric", "all", "int", "int_bool"
# cost classes: how much work one element is, which sets the threading chunk size.
CHEAP, MATH = "cheap", "math"


@dataclass(frozen=True)
class OpDef:
    """One op of the table (see the module docstring for the meaning of each field)."""

    name: str
    family: str
    dtypes: str
    cost: str
    reference: Callable
    doc: str
    grad: Optional[Callable] = None
    impl: Optional[Callable] = None      # composed ops only
    bool_result: bool = False            # comparisons, predicates: bool output whatever the input
    bool_operands: bool = True           # binary: False makes a bool operand (tensor or
    #                                      Python bool) a TypeError even where promotion
    #                                      would give an integer (floor_divide, remainder)
    method: bool = True                  # also a Tensor method

    @property
    def arity(self) -> int:
        return 1 if self.family == UNARY else 2 if self.family == BINARY else \
            self.impl.__code__.co_argcount - 1

    @property
    def c_name(self) -> str:
        """The C enum constant of the op (``TC_<NAME>``)."""
        return "TC_" + self.name.upper()

    @property
    def code(self) -> int:
        """The op code the kernels use: the row's position in its family."""
        return _CODES[self.name]

    @property
    def float_only(self) -> bool:
        return self.dtypes == FLOAT


# ---------------------------------------------------------------------- references
def _np_relu(x):
    if x.dtype.kind != "f":
        return np.maximum(x, 0).astype(x.dtype)
    return np.where((x > 0) | np.isnan(x), x, 0).astype(x.dtype)


def _np_sigmoid(x):
    with np.errstate(over="ignore"):
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype)


def _np_bool_or_int(int_fn, bool_fn):
    return lambda a, b: bool_fn(a, b) if a.dtype == np.bool_ else int_fn(a, b)


def _np_floor_divide(a, b):
    # inf // finite: +-inf, as the array API standard and PyTorch give (NumPy gives nan); the
    # rest is NumPy's own floor_divide (quotient from fmod, so 1.0 // 0.1 is 9, not 10).
    out = np.floor_divide(a, b)
    if out.dtype.kind == "f":
        special = np.isinf(a) & np.isfinite(b) & (b != 0)
        out = np.where(special, np.divide(a, np.where(special, b, 1)), out).astype(out.dtype)
    return out


# ---------------------------------------------------------------------- gradient rules
def _mul_grad(t, g, out, a, b):
    return (t.multiply(g, b) if a.requires_grad else None,
            t.multiply(g, a) if b.requires_grad else None)


def _div_grad(t, g, out, a, b):
    return (t.divide(g, b) if a.requires_grad else None,
            t.negative(t.divide(t.multiply(g, out), b)) if b.requires_grad else None)


def _pow_grad(t, g, out, a, b):
    ga = gb = None
    if a.requires_grad:
        # b * a**(b - 1) is 0 * inf = NaN at a = 0, b = 0; x**0 is constant: 0 (as PyTorch)
        ga = t.where(t.equal(b, 0), 0,
                     t.multiply(g, t.multiply(b, t.power(a, t.subtract(b, 1)))))
    if b.requires_grad:
        base_zero = t.multiply(t.equal(a, 0), t.greater_equal(b, 0))
        gb = t.where(base_zero, 0, t.multiply(g, t.multiply(out, t.log(a))))
    return ga, gb


def _zero_grad(t, g, out, x):
    # piecewise-constant ops (sign, floor, ceil, trunc): zero almost everywhere, as PyTorch
    return t.multiply(g, 0)


def _remainder_grad(t, g, out, a, b):
    # a % b = a - b * floor(a / b): d/da = 1, d/db = -(a // b) (PyTorch's convention)
    return (g if a.requires_grad else None,
            t.negative(t.multiply(g, t.floor_divide(a, b))) if b.requires_grad else None)


def _over(denominator):
    """A unary rule g / denominator(t, x, out)."""
    return lambda t, g, out, x: t.divide(g, denominator(t, x, out))


def _minmax_grad(strict: str):
    def rule(t, g, out, a, b):
        # PyTorch convention: the gradient goes to the winner; ties split it evenly.
        half = t.multiply(g, 0.5)
        tie = t.equal(a, b)
        win = getattr(t, strict)
        return (t.where(win(a, b), g, t.where(tie, half, 0)) if a.requires_grad else None,
                t.where(win(b, a), g, t.where(tie, half, 0)) if b.requires_grad else None)
    return rule


def _atan2_grad(t, g, out, a, b):
    scale = t.divide(g, t.add(t.square(a), t.square(b)))
    return (t.multiply(scale, b) if a.requires_grad else None,
            t.negative(t.multiply(scale, a)) if b.requires_grad else None)


def _logaddexp_grad(t, g, out, a, b):
    # d/da log(e^a + e^b) = e^(a - out): a softmax weight, never overflows
    return (t.multiply(g, t.exp(t.subtract(a, out))) if a.requires_grad else None,
            t.multiply(g, t.exp(t.subtract(b, out))) if b.requires_grad else None)


def _hypot_grad(t, g, out, a, b):
    return (t.multiply(g, t.divide(a, out)) if a.requires_grad else None,
            t.multiply(g, t.divide(b, out)) if b.requires_grad else None)


def _copysign_grad(t, g, out, a, b):
    # |a| carrying b's sign: slope +1 where a and b share a sign bit, -1 elsewhere; b only
    # chooses a sign, so its gradient is 0.
    flip = t.multiply(t.copysign(1.0, a), t.copysign(1.0, b))
    return (t.multiply(g, flip) if a.requires_grad else None,
            t.multiply(g, 0) if b.requires_grad else None)


# ---------------------------------------------------------------------- the table
# Order within a family is the op code: append new rows at the end of their family and add
# the op at the same place in the matching X-macro list of csrc/tensorcore.h.
OPS: tuple[OpDef, ...] = (
    # ---- unary primitives (C: TC_UNARY_OPS, csrc/unary.c; Numba: kernels/scalar.unary)
    OpDef("negative", UNARY, NUMERIC, CHEAP, np.negative, "-x elementwise.",
          grad=lambda t, g, out, x: t.negative(g)),
    OpDef("abs", UNARY, NUMERIC, CHEAP, np.abs,
          "|x| elementwise (bool: identity, as NumPy).",
          grad=lambda t, g, out, x: t.multiply(g, t.sign(x))),
    OpDef("square", UNARY, NUMERIC, CHEAP, np.square,
          "x * x elementwise (bool: identity, as NumPy).",
          grad=lambda t, g, out, x: t.multiply(g, t.multiply(x, 2))),
    OpDef("relu", UNARY, NUMERIC, CHEAP, _np_relu,
          "max(x, 0) elementwise (gradient 0 at 0, as PyTorch; NaN stays NaN).",
          grad=lambda t, g, out, x: t.where(t.greater(x, 0), g, 0)),
    OpDef("sign", UNARY, NUMERIC, CHEAP, np.sign,
          "-1, 0 or 1 by the sign of x (NaN stays NaN; gradient 0).", grad=_zero_grad),
    OpDef("exp", UNARY, FLOAT, MATH, np.exp, "e ** x elementwise.",
          grad=lambda t, g, out, x: t.multiply(g, out)),
    OpDef("log", UNARY, FLOAT, MATH, np.log, "Natural logarithm elementwise.",
          grad=lambda t, g, out, x: t.divide(g, x)),
    OpDef("sqrt", UNARY, FLOAT, MATH, np.sqrt, "Square root elementwise.",
          grad=lambda t, g, out, x: t.divide(g, t.multiply(out, 2))),
    OpDef("tanh", UNARY, FLOAT, MATH, np.tanh, "Hyperbolic tangent elementwise.",
          grad=lambda t, g, out, x: t.multiply(g, t.subtract(1, t.square(out)))),
    OpDef("sigmoid", UNARY, FLOAT, MATH, _np_sigmoid,
          "1 / (1 + e ** -x) elementwise, stable for large |x|.",
          grad=lambda t, g, out, x: t.multiply(g, t.multiply(out, t.subtract(1, out)))),
    OpDef("reciprocal", UNARY, FLOAT, MATH, np.reciprocal, "1 / x elementwise.",
          grad=lambda t, g, out, x: t.negative(t.multiply(g, t.square(out)))),
    # log1p / expm1: primitives for accuracy near 0, where log(1 + x) and exp(x) - 1 lose
    # every digit of a tiny x (float32 log(1 + 1e-8) is 0; log1p gives 1e-8).
    OpDef("log1p", UNARY, FLOAT, MATH, np.log1p, "log(1 + x), accurate for tiny x.",
          grad=lambda t, g, out, x: t.divide(g, t.add(x, 1))),
    OpDef("expm1", UNARY, FLOAT, MATH, np.expm1, "exp(x) - 1, accurate for tiny x.",
          grad=lambda t, g, out, x: t.multiply(g, t.add(out, 1))),
    # floor / ceil / trunc: primitives for exactness (one instruction each; composing them
    # from casts needs |x| < 2**63 guards and sign-of-zero repairs). Integers: identity.
    OpDef("floor", UNARY, NUMERIC, CHEAP, np.floor,
          "The largest integer <= x, elementwise (-0.0 stays -0.0; gradient 0).",
          grad=_zero_grad),
    OpDef("ceil", UNARY, NUMERIC, CHEAP, np.ceil,
          "The smallest integer >= x, elementwise (gradient 0).", grad=_zero_grad),
    OpDef("trunc", UNARY, NUMERIC, CHEAP, np.trunc,
          "x rounded toward zero, elementwise (gradient 0).", grad=_zero_grad),
    # ---- trigonometric and hyperbolic functions, log2 / log10 (array API standard):
    # libm-accurate loops, special cases (signed zeros, infinities, NaN) as C99 Annex F.
    OpDef("sin", UNARY, FLOAT, MATH, np.sin, "Sine elementwise (radians).",
          grad=lambda t, g, out, x: t.multiply(g, t.cos(x))),
    OpDef("cos", UNARY, FLOAT, MATH, np.cos, "Cosine elementwise (radians).",
          grad=lambda t, g, out, x: t.negative(t.multiply(g, t.sin(x)))),
    OpDef("tan", UNARY, FLOAT, MATH, np.tan, "Tangent elementwise (radians).",
          grad=lambda t, g, out, x: t.multiply(g, t.add(t.square(out), 1))),
    OpDef("asin", UNARY, FLOAT, MATH, np.arcsin, "Inverse sine elementwise, in [-pi/2, pi/2].",
          grad=_over(lambda t, x, out: t.sqrt(t.multiply(t.subtract(1, x), t.add(x, 1))))),
    OpDef("acos", UNARY, FLOAT, MATH, np.arccos, "Inverse cosine elementwise, in [0, pi].",
          grad=lambda t, g, out, x: t.negative(t.divide(
              g, t.sqrt(t.multiply(t.subtract(1, x), t.add(x, 1)))))),
    OpDef("atan", UNARY, FLOAT, MATH, np.arctan,
          "Inverse tangent elementwise, in [-pi/2, pi/2].",
          grad=_over(lambda t, x, out: t.add(t.square(x), 1))),
    # sinh / cosh were (exp(x) +- exp(-x)) / 2: exp overflows first (float32 cosh(89) is
    # 2.2e38, the composition gave inf) and it took five passes over memory.
    OpDef("sinh", UNARY, FLOAT, MATH, np.sinh, "Hyperbolic sine elementwise.",
          grad=lambda t, g, out, x: t.multiply(g, t.cosh(x))),
    OpDef("cosh", UNARY, FLOAT, MATH, np.cosh, "Hyperbolic cosine elementwise.",
          grad=lambda t, g, out, x: t.multiply(g, t.sinh(x))),
    OpDef("asinh", UNARY, FLOAT, MATH, np.arcsinh, "Inverse hyperbolic sine elementwise.",
          grad=_over(lambda t, x, out: t.sqrt(t.add(t.square(x), 1)))),
    OpDef("acosh", UNARY, FLOAT, MATH, np.arccosh,
          "Inverse hyperbolic cosine elementwise (x >= 1).",
          grad=_over(lambda t, x, out: t.sqrt(t.multiply(t.subtract(x, 1), t.add(x, 1))))),
    OpDef("atanh", UNARY, FLOAT, MATH, np.arctanh,
          "Inverse hyperbolic tangent elementwise (|x| <= 1; +-1 give +-inf).",
          grad=_over(lambda t, x, out: t.multiply(t.subtract(1, x), t.add(x, 1)))),
    OpDef("log2", UNARY, FLOAT, MATH, np.log2, "Base-2 logarithm elementwise.",
          grad=_over(lambda t, x, out: t.multiply(x, math.log(2.0)))),
    OpDef("log10", UNARY, FLOAT, MATH, np.log10, "Base-10 logarithm elementwise.",
          grad=_over(lambda t, x, out: t.multiply(x, math.log(10.0)))),
    # ---- rounding, classification and bitwise NOT (array API standard); the predicates
    # give bool tensors (one pass each, where x != x or abs(x) == inf took one or two)
    OpDef("round", UNARY, NUMERIC, CHEAP, np.round,
          "x rounded to the nearest integer, halves to even (gradient 0).", grad=_zero_grad),
    OpDef("signbit", UNARY, FLOAT, CHEAP, np.signbit,
          "True where the sign bit of x is set (-0.0 and negative NaNs included).",
          bool_result=True),
    OpDef("isnan", UNARY, NUMERIC, CHEAP, np.isnan, "True where x is NaN.", bool_result=True),
    OpDef("isinf", UNARY, NUMERIC, CHEAP, np.isinf, "True where x is +inf or -inf.",
          bool_result=True),
    OpDef("isfinite", UNARY, NUMERIC, CHEAP, np.isfinite,
          "True where x is neither infinite nor NaN.", bool_result=True),
    OpDef("bitwise_invert", UNARY, INT_BOOL, CHEAP, np.invert,
          "~x: bitwise NOT of integers, logical NOT of bools.", method=False),

    # ---- binary primitives (C: TC_BINARY_OPS, csrc/elementwise.c; Numba: scalar.arith/compare)
    OpDef("add", BINARY, ALL, CHEAP, _np_bool_or_int(np.add, np.logical_or),
          "a + b, elementwise with broadcasting (bool: logical or).",
          grad=lambda t, g, out, a, b: (g, g)),
    OpDef("subtract", BINARY, NUMERIC, CHEAP, np.subtract,
          "a - b, elementwise with broadcasting.",
          grad=lambda t, g, out, a, b: (g, t.negative(g) if b.requires_grad else None)),
    OpDef("multiply", BINARY, ALL, CHEAP, _np_bool_or_int(np.multiply, np.logical_and),
          "a * b, elementwise with broadcasting (bool: logical and).", grad=_mul_grad),
    OpDef("divide", BINARY, FLOAT, CHEAP, np.divide,
          "a / b (true division: integers give float64).", grad=_div_grad),
    OpDef("power", BINARY, NUMERIC, MATH, np.power,
          "a ** b elementwise (integer bases need non-negative integer exponents).",
          grad=_pow_grad),
    OpDef("maximum", BINARY, ALL, CHEAP, np.maximum,
          "Elementwise maximum (NaN propagates).", grad=_minmax_grad("greater")),
    OpDef("minimum", BINARY, ALL, CHEAP, np.minimum,
          "Elementwise minimum (NaN propagates).", grad=_minmax_grad("less")),
    OpDef("equal", BINARY, ALL, CHEAP, np.equal, "a == b elementwise, as a bool tensor.",
          bool_result=True),
    OpDef("not_equal", BINARY, ALL, CHEAP, np.not_equal,
          "a != b elementwise, as a bool tensor.", bool_result=True),
    OpDef("less", BINARY, ALL, CHEAP, np.less, "a < b elementwise, as a bool tensor.",
          bool_result=True),
    OpDef("less_equal", BINARY, ALL, CHEAP, np.less_equal,
          "a <= b elementwise, as a bool tensor.", bool_result=True),
    OpDef("greater", BINARY, ALL, CHEAP, np.greater, "a > b elementwise, as a bool tensor.",
          bool_result=True),
    OpDef("greater_equal", BINARY, ALL, CHEAP, np.greater_equal,
          "a >= b elementwise, as a bool tensor.", bool_result=True),
    # floor_divide / remainder: primitives for accuracy. floor(a / b) is wrong where a / b
    # rounds up to an integer (1.0 / 0.1 is exactly 10.0, but 1.0 // 0.1 is 9 in NumPy and
    # Python); the kernels follow NumPy's divmod: the remainder from fmod, the quotient from it.
    OpDef("floor_divide", BINARY, NUMERIC, MATH, _np_floor_divide,
          "a // b, rounded toward -inf like NumPy (integer x // 0 gives 0; inf // finite is "
          "+-inf as in the array API standard). Piecewise constant: no gradient.",
          bool_operands=False),
    OpDef("remainder", BINARY, NUMERIC, MATH, np.remainder,
          "a % b with the sign of b, like NumPy (integer x % 0 gives 0). Gradients: d/da = 1, "
          "d/db = -(a // b).", grad=_remainder_grad, bool_operands=False),
    OpDef("atan2", BINARY, FLOAT, MATH, np.arctan2,
          "The angle of the point (b, a) in radians, in [-pi, pi] (quadrant-aware atan(a/b)).",
          grad=_atan2_grad),
    # logaddexp: a primitive for stability (log(exp(a) + exp(b)) overflows for a > 88 in
    # float32, and the shifted composition gives inf - inf = NaN for two infinities).
    OpDef("logaddexp", BINARY, FLOAT, MATH, np.logaddexp,
          "log(exp(a) + exp(b)) elementwise, without overflow.", grad=_logaddexp_grad),
    OpDef("hypot", BINARY, FLOAT, MATH, np.hypot,
          "sqrt(a**2 + b**2) elementwise, without overflow or underflow.", grad=_hypot_grad),
    OpDef("copysign", BINARY, FLOAT, CHEAP, np.copysign,
          "|a| with the sign bit of b (signed zeros and NaN signs included).",
          grad=_copysign_grad),
    OpDef("nextafter", BINARY, FLOAT, CHEAP, np.nextafter,
          "The next representable float after a in the direction of b (not differentiable)."),
    OpDef("bitwise_and", BINARY, INT_BOOL, CHEAP, np.bitwise_and,
          "a & b bitwise on integers (bool: logical and).", method=False),
    OpDef("bitwise_or", BINARY, INT_BOOL, CHEAP, np.bitwise_or,
          "a | b bitwise on integers (bool: logical or).", method=False),
    OpDef("bitwise_xor", BINARY, INT_BOOL, CHEAP, np.bitwise_xor,
          "a ^ b bitwise on integers (bool: logical xor).", method=False),
    OpDef("bitwise_left_shift", BINARY, INT, CHEAP, np.left_shift,
          "a << b on integers; a count outside [0, bits) gives 0 (as NumPy).", method=False),
    OpDef("bitwise_right_shift", BINARY, INT, CHEAP, np.right_shift,
          "a >> b on integers (arithmetic: the sign fills); a count outside [0, bits) gives "
          "0 or -1 by the sign of a (as NumPy).", method=False),

    # ---- composed ops: written with the ops above; autodiff differentiates them
)

# NumPy's names of rows named as the array API standard names them: tc.arcsin is tc.asin.
ALIASES: dict[str, str] = {
    "arcsin": "asin", "arccos": "acos", "arctan": "atan",
    "arcsinh": "asinh", "arccosh": "acosh", "arctanh": "atanh",
}

_BY_NAME = {op.name: op for op in OPS}
_CODES: dict[str, int] = {}
for _family in (UNARY, BINARY):
    for _i, _op in enumerate(op for op in OPS if op.family == _family):
        _CODES[_op.name] = _i
if len(_BY_NAME) != len(OPS):
    raise RuntimeError("tensorcore op table: duplicate op names")
if set(ALIASES) & set(_BY_NAME) or not set(ALIASES.values()) <= set(_BY_NAME):
    raise RuntimeError("tensorcore op table: an alias shadows a row or names no row")
del _family, _i, _op


def get(name: str) -> OpDef:
    """The row of op ``name`` (KeyError naming the known ops otherwise)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"{name!r} is not in the op table; known ops: "
                       f"{', '.join(sorted(_BY_NAME))}") from None


def family(kind: str) -> tuple[OpDef, ...]:
    """The rows of one family, in code order."""
    return tuple(op for op in OPS if op.family == kind)


def primitives() -> tuple[OpDef, ...]:
    """The rows every backend must compute (unary and binary), in table order."""
    return tuple(op for op in OPS if op.family != COMPOSED)


def float_only() -> frozenset:
    """Names of the ops whose integer inputs are computed in float64."""
    return frozenset(op.name for op in OPS if op.dtypes == FLOAT)


def names() -> tuple[str, ...]:
    """Public function names of every row (``tensorcore.<name>``)."""
    return tuple(op.name for op in OPS)


def method_names() -> tuple[str, ...]:
    """Names of the rows that are also Tensor methods."""
    return tuple(op.name for op in OPS if op.method)

