"""Scalar building blocks shared by the kernels, specialised per dtype with Numba overloads.

Each helper returns a value of its input's own type (float32 stays float32, int32 results are
computed in int64 and wrap when stored), so one generic kernel with an op-code switch type-checks
for every dtype. The op codes are the rows' codes in the op table (tensorcore/_optable.py): the
branch ``code == LOG`` below is the Numba kernel of the table's ``log`` row. A code without a
branch (or one its dtype does not support) raises ValueError; it never computes another op.
"""

from __future__ import annotations

import math

import numpy as np
from numba import types
from numba.extending import overload
from numba.np import numpy_support

from .. import _optable as optable
from ._jit import jit

# op codes, from the op table (module-level ints: Numba freezes them as constants)
_c = {op.name: op.code for op in optable.primitives()}
# binary arithmetic (out dtype == in dtype)
ADD, SUBTRACT, MULTIPLY, DIVIDE = _c["add"], _c["subtract"], _c["multiply"], _c["divide"]
MAXIMUM, MINIMUM, POWER = _c["maximum"], _c["minimum"], _c["power"]
FLOOR_DIVIDE, REMAINDER = _c["floor_divide"], _c["remainder"]
ATAN2, LOGADDEXP, HYPOT = _c["atan2"], _c["logaddexp"], _c["hypot"]
COPYSIGN, NEXTAFTER = _c["copysign"], _c["nextafter"]
BITWISE_AND, BITWISE_OR, BITWISE_XOR = _c["bitwise_and"], _c["bitwise_or"], _c["bitwise_xor"]
LEFT_SHIFT, RIGHT_SHIFT = _c["bitwise_left_shift"], _c["bitwise_right_shift"]
# comparisons (out dtype bool)
EQUAL, NOT_EQUAL, LESS, LESS_EQUAL = _c["equal"], _c["not_equal"], _c["less"], _c["less_equal"]
GREATER, GREATER_EQUAL = _c["greater"], _c["greater_equal"]
# unary
NEGATIVE, ABS, SQUARE, RELU, SIGN = _c["negative"], _c["abs"], _c["square"], _c["relu"], _c["sign"]
EXP, LOG, SQRT, TANH, SIGMOID = _c["exp"], _c["log"], _c["sqrt"], _c["tanh"], _c["sigmoid"]
RECIPROCAL, LOG1P, EXPM1 = _c["reciprocal"], _c["log1p"], _c["expm1"]
FLOOR, CEIL, TRUNC = _c["floor"], _c["ceil"], _c["trunc"]
SIN, COS, TAN, ASIN, ACOS, ATAN = (_c["sin"], _c["cos"], _c["tan"], _c["asin"], _c["acos"],
                                   _c["atan"])
SINH, COSH, ASINH, ACOSH, ATANH = _c["sinh"], _c["cosh"], _c["asinh"], _c["acosh"], _c["atanh"]
LOG2, LOG10 = _c["log2"], _c["log10"]
ROUND, SIGNBIT, ISNAN, ISINF, ISFINITE = (_c["round"], _c["signbit"], _c["isnan"], _c["isinf"],
                                          _c["isfinite"])
BITWISE_INVERT = _c["bitwise_invert"]
del _c


def _np_type(nb_type):
    """Return the NumPy scalar class for a Numba scalar type."""
    return numpy_support.as_dtype(nb_type).type


@jit
def maximum(x, y):
    """NaN-propagating maximum (np.maximum semantics)."""
    if x != x:
        return x
    if y != y:
        return y
    return x if x > y else y  # equal (+0, -0): the second, as the C core and NumPy


@jit
def minimum(x, y):
    """NaN-propagating minimum (np.minimum semantics)."""
    if x != x:
        return x
    if y != y:
        return y
    return x if x < y else y


def float_divmod(a, b):
    """(a // b, a % b) for two floats of one dtype, as NumPy's divmod computes them."""
    raise NotImplementedError  # compiled through the overload below


@overload(float_divmod, jit_options={"error_model": "numpy"})
def _float_divmod_overload(a, b):
    # The same steps as csrc/elementwise.c, in a's own precision (float32 stays float32 at
    # every step, as NumPy's float32 loop): the remainder from the exact fmod, the quotient
    # from it, so 1.0 // 0.1 is 9 (floor(1.0 / 0.1) is 10); b == 0 gives a / b; inf // finite
    # is +-inf (array API standard; NumPy: NaN); the remainder has the sign of b.
    cast = _np_type(a)

    def impl(a, b):
        zero = cast(0)
        if b == zero:
            return cast(a / b), cast(np.fmod(a, b))
        mod = cast(np.fmod(a, b))
        if math.isinf(a) and math.isfinite(b):
            return cast(a / b), mod
        div = cast(cast(a - mod) / b)
        if mod != zero and ((b < zero) != (mod < zero)):
            mod = cast(mod + b)
            div = cast(div - cast(1))
        elif mod == zero:
            mod = cast(np.copysign(zero, b))
        if div == zero:
            return cast(np.copysign(zero, cast(a / b))), mod
        whole = cast(np.floor(div))
        if cast(div - whole) > cast(0.5):
            whole = cast(whole + cast(1))
        return whole, mod

    return impl
@jit
def logaddexp(x, y):
    """log(e^x + e^y) as max + log1p(e^-|x - y|); equal arguments (infinities of one sign
    included) give x + ln 2, so +-inf stays +-inf; NaN propagates."""
    if x != x or y != y:
        return x + y
    if x == y:
        return x + math.log(2.0)
    hi = x if x > y else y
    return hi + math.log1p(math.exp(-abs(x - y)))


@jit
def left_shift(x, y, width):
    """x << y; a count outside [0, width) gives 0 (NumPy's rule, as the C core)."""
    if y < 0 or y >= width:
        return x - x
    return x << y


@jit
def right_shift(x, y, width):
    """x >> y (arithmetic); a count outside [0, width) gives the sign fill, 0 or -1."""
    if y < 0 or y >= width:
        return x - x - 1 if x < 0 else x - x
    return x >> y


def arith(code, x, y):
    """Apply binary arithmetic op ``code`` to two scalars of one dtype."""
    raise NotImplementedError  # compiled through the overload below


@overload(arith, jit_options={"error_model": "numpy"})
def _arith_overload(code, x, y):
    if isinstance(x, types.Boolean):
        def bool_impl(code, x, y):
            if code == ADD or code == MAXIMUM:
                return x or y
            if code == MULTIPLY or code == MINIMUM or code == BITWISE_AND:
                return x and y
            if code == BITWISE_OR:
                return x or y
            if code == BITWISE_XOR:
                return x != y
            raise ValueError("tensorcore numba kernel: unknown bool binary op code")
        return bool_impl

    if isinstance(x, types.Integer):
        width = x.bitwidth

        def int_impl(code, x, y):
            if code == ADD:
                return x + y
            if code == SUBTRACT:
                return x - y
            if code == MULTIPLY:
                return x * y
            if code == MAXIMUM:
                return x if x >= y else y
            if code == MINIMUM:
                return x if x <= y else y
            if code == FLOOR_DIVIDE:    # x // 0 is 0 (NumPy); -1 by negation (no trap)
                if y == 0:
                    return x - x
                if y == -1:
                    return -x
                return x // y
            if code == REMAINDER:
                if y == 0 or y == -1:
                    return x - x
                return x % y
            if code == POWER:
                result = x - x + 1
                base = x
                exponent = y
                while exponent > 0:
                    if exponent & 1:
                        result = result * base
                    base = base * base
                    exponent >>= 1
                return result
            if code == BITWISE_AND:
                return x & y
            if code == BITWISE_OR:
                return x | y
            if code == BITWISE_XOR:
                return x ^ y
            if code == LEFT_SHIFT:
                return left_shift(x, y, width)
            if code == RIGHT_SHIFT:
                return right_shift(x, y, width)
            raise ValueError("tensorcore numba kernel: unknown integer binary op code")

        return int_impl

    cast = _np_type(x)

    def float_impl(code, x, y):
        if code == ADD:
            return cast(x + y)
        if code == SUBTRACT:
            return cast(x - y)
        if code == MULTIPLY:
            return cast(x * y)
        if code == DIVIDE:
            return cast(x / y)
        if code == MAXIMUM:
            return cast(maximum(x, y))
        if code == MINIMUM:
            return cast(minimum(x, y))
        if code == POWER:
            return cast(x ** y)
        if code == FLOOR_DIVIDE:
            return float_divmod(x, y)[0]
        if code == REMAINDER:
            return float_divmod(x, y)[1]
        if code == ATAN2:
            return cast(math.atan2(x, y))
        if code == LOGADDEXP:
            return cast(logaddexp(x, y))
        if code == HYPOT:
            return cast(math.hypot(x, y))
        if code == COPYSIGN:
            return cast(math.copysign(x, y))
        if code == NEXTAFTER:
            return cast(np.nextafter(x, y))
        raise ValueError("tensorcore numba kernel: unknown float binary op code")

    return float_impl


@jit
def compare(code, x, y):
    """Apply comparison ``code`` to two scalars; NaN compares like NumPy."""
    if code == EQUAL:
        return x == y
    if code == NOT_EQUAL:
        return x != y
    if code == LESS:
        return x < y
    if code == LESS_EQUAL:
        return x <= y
    if code == GREATER:
        return x > y
    if code == GREATER_EQUAL:
        return x >= y
    raise ValueError("tensorcore numba kernel: unknown comparison op code")


def unary(code, x):
    """Apply unary op ``code`` to a scalar."""
    raise NotImplementedError  # compiled through the overload below


@overload(unary, jit_options={"error_model": "numpy"})
def _unary_overload(code, x):
    # Predicates (isnan, signbit, ...) return 1 or 0 in x's type; the kernel stores them
    # into a bool output array.
    if isinstance(x, types.Boolean):
        def bool_impl(code, x):
            if code == BITWISE_INVERT:
                return not x
            raise ValueError("tensorcore numba kernel: unknown bool unary op code")
        return bool_impl

    if isinstance(x, types.Integer):
        def int_impl(code, x):
            if code == NEGATIVE:
                return -x
            if code == ABS:
                return x if x >= 0 else -x
            if code == SQUARE:
                return x * x
            if code == RELU:
                return x if x > 0 else x - x
            if code == SIGN:
                if x > 0:
                    return x - x + 1
                if x < 0:
                    return x - x - 1
                return x - x
            if code == ROUND:
                return x
            if code == ISNAN or code == ISINF:
                return x - x
            if code == ISFINITE:
                return x - x + 1
            if code == BITWISE_INVERT:
                return ~x
            if code == FLOOR or code == CEIL or code == TRUNC:
                return x        # integers are integral
            raise ValueError("tensorcore numba kernel: unknown integer unary op code")

        return int_impl

    if not isinstance(x, types.Float):
        return None
    cast = _np_type(x)

    def float_impl(code, x):
        zero = cast(0)
        one = cast(1)
        if code == NEGATIVE:
            return cast(-x)
        if code == ABS:
            return cast(abs(x))
        if code == SQUARE:
            return cast(x * x)
        if code == RELU:
            return x if (x > zero or x != x) else zero
        if code == SIGN:
            if x > zero:
                return one
            if x < zero:
                return -one
            return x if x != x else zero
        if code == EXP:
            return cast(math.exp(x))
        if code == LOG:
            return cast(math.log(x))
        if code == SQRT:
            return cast(math.sqrt(x))
        if code == TANH:
            return cast(math.tanh(x))
        if code == SIGMOID:
            # in float64 and rounded once: a float32 result is within about 0.5 ulp (in
            # float32 the exp, add and divide roundings added up to 2.3 ulp)
            xd = np.float64(x)
            if xd >= 0.0:
                return cast(1.0 / (1.0 + math.exp(-xd)))
            e = math.exp(xd)
            return cast(e / (1.0 + e))
        if code == RECIPROCAL:
            return cast(one / x)
        if code == LOG1P:
            return cast(math.log1p(x))
        if code == EXPM1:
            return cast(math.expm1(x))
        if code == FLOOR:       # np.floor keeps the float type (math.floor gives an int)
            return cast(np.floor(x))
        if code == CEIL:
            return cast(np.ceil(x))
        if code == TRUNC:
            return cast(np.trunc(x))
        if code == SIN:
            return cast(math.sin(x))
        if code == COS:
            return cast(math.cos(x))
        if code == TAN:
            return cast(math.tan(x))
        if code == ASIN:
            return cast(math.asin(x))
        if code == ACOS:
            return cast(math.acos(x))
        if code == ATAN:
            return cast(math.atan(x))
        if code == SINH:
            return cast(math.sinh(x))
        if code == COSH:
            return cast(math.cosh(x))
        if code == ASINH:
            return cast(math.asinh(x))
        if code == ACOSH:
            return cast(math.acosh(x))
        if code == ATANH:
            return cast(math.atanh(x))
        if code == LOG2:
            return cast(math.log2(x))
        if code == LOG10:
            return cast(math.log10(x))
        if code == ROUND:
            return cast(np.rint(x))
        if code == SIGNBIT:
            return one if math.copysign(one, x) < zero else zero
        if code == ISNAN:
            return one if x != x else zero
        if code == ISINF:
            return one if abs(x) == cast(math.inf) else zero
        if code == ISFINITE:
            return one if abs(x) < cast(math.inf) else zero
        raise ValueError("tensorcore numba kernel: unknown float unary op code")

    return float_impl


def widen(x):
    """Return x as float64 (floats) or int64 (ints, bools): the accumulator type for sums."""
    raise NotImplementedError  # compiled through the overload below


@overload(widen)
def _widen_overload(x):
    if isinstance(x, types.Float):
        return lambda x: np.float64(x)
    return lambda x: np.int64(x)
