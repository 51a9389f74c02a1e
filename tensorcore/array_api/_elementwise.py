"""Array API elementwise functions: tensorcore's ops, and a few composed from them."""

from __future__ import annotations

from typing import Any

from .. import ops_elementwise as ew
from .. import ops_shape
from ..tensor import Tensor
from ._creation import zeros_like
from ._dtypes import bool as bool_

# ---------------------------------------------------------------------- direct mappings
def _unary(fn, name: str):
    def function(x: Tensor, /) -> Tensor:
        return fn(x)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = fn.__doc__
    return function


def _binary(fn, name: str):
    def function(x1: Any, x2: Any, /) -> Tensor:
        return fn(x1, x2)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = fn.__doc__
    return function


abs = _unary(ew.abs, "abs")  # noqa: A001
acos = _unary(ew.acos, "acos")
acosh = _unary(ew.acosh, "acosh")
asin = _unary(ew.asin, "asin")
asinh = _unary(ew.asinh, "asinh")
atan = _unary(ew.atan, "atan")
atanh = _unary(ew.atanh, "atanh")
cos = _unary(ew.cos, "cos")
cosh = _unary(ew.cosh, "cosh")
exp = _unary(ew.exp, "exp")
expm1 = _unary(ew.expm1, "expm1")
log = _unary(ew.log, "log")
log1p = _unary(ew.log1p, "log1p")
log2 = _unary(ew.log2, "log2")
log10 = _unary(ew.log10, "log10")
negative = _unary(ew.negative, "negative")
sign = _unary(ew.sign, "sign")
sin = _unary(ew.sin, "sin")
sinh = _unary(ew.sinh, "sinh")
sqrt = _unary(ew.sqrt, "sqrt")
square = _unary(ew.square, "square")
tan = _unary(ew.tan, "tan")
tanh = _unary(ew.tanh, "tanh")
floor = _unary(ew.floor, "floor")
ceil = _unary(ew.ceil, "ceil")
trunc = _unary(ew.trunc, "trunc")
add = _binary(ew.add, "add")
divide = _binary(ew.divide, "divide")
equal = _binary(ew.equal, "equal")
greater = _binary(ew.greater, "greater")
greater_equal = _binary(ew.greater_equal, "greater_equal")
less = _binary(ew.less, "less")
less_equal = _binary(ew.less_equal, "less_equal")
maximum = _binary(ew.maximum, "maximum")
minimum = _binary(ew.minimum, "minimum")
multiply = _binary(ew.multiply, "multiply")
not_equal = _binary(ew.not_equal, "not_equal")
pow = _binary(ew.power, "pow")  # noqa: A001
subtract = _binary(ew.subtract, "subtract")
floor_divide = _binary(ew.floor_divide, "floor_divide")
remainder = _binary(ew.remainder, "remainder")
atan2 = _binary(ew.atan2, "atan2")
logaddexp = _binary(ew.logaddexp, "logaddexp")
hypot = _binary(ew.hypot, "hypot")
copysign = _binary(ew.copysign, "copysign")
nextafter = _binary(ew.nextafter, "nextafter")
bitwise_and = _binary(ew.bitwise_and, "bitwise_and")
bitwise_or = _binary(ew.bitwise_or, "bitwise_or")
bitwise_xor = _binary(ew.bitwise_xor, "bitwise_xor")
bitwise_left_shift = _binary(ew.bitwise_left_shift, "bitwise_left_shift")
bitwise_right_shift = _binary(ew.bitwise_right_shift, "bitwise_right_shift")


def positive(x: Tensor, /) -> Tensor:
    """+x (a copy, differentiable)."""
    return ops_shape.copy_of(x)


# ---------------------------------------------------------------------- complex parts
# No complex dtypes are stored: every array is real, so (as NumPy on real input) real and
# conj are copies and imag is zeros of the same dtype.
def real(x: Tensor, /) -> Tensor:
    """The real part of x: x itself (a copy), since tensorcore arrays are real."""
    return positive(x)


def conj(x: Tensor, /) -> Tensor:
    """The complex conjugate of x: x itself (a copy), since tensorcore arrays are real."""
    return positive(x)


def imag(x: Tensor, /) -> Tensor:
    """The imaginary part of x: zeros of x's dtype, since tensorcore arrays are real."""
    return zeros_like(x)


def clip(x: Tensor, /, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """x limited to [min, max] (either may be None)."""
    if min is None and max is None:
        return positive(x)
    return ew.clip(x, min, max)


# ---------------------------------------------------------------------- logical (bool)
def _need_bool(op: str, *xs: Tensor) -> None:
    for x in xs:
        if getattr(x, "dtype", None) != bool_:
            raise TypeError(f"{op}: expected bool arrays, received dtype "
                            f"{getattr(x, 'dtype', type(x).__name__)}")


def logical_and(x1: Tensor, x2: Tensor, /) -> Tensor:
    """x1 AND x2 (bool multiply)."""
    _need_bool("logical_and", x1, x2)
    return ew.multiply(x1, x2)


def logical_or(x1: Tensor, x2: Tensor, /) -> Tensor:
    """x1 OR x2 (bool add)."""
    _need_bool("logical_or", x1, x2)
    return ew.add(x1, x2)


def logical_xor(x1: Tensor, x2: Tensor, /) -> Tensor:
    """x1 XOR x2 (bool not_equal)."""
    _need_bool("logical_xor", x1, x2)
    return ew.not_equal(x1, x2)


def logical_not(x: Tensor, /) -> Tensor:
    """NOT x (x == False)."""
    _need_bool("logical_not", x)
    return ew.equal(x, False)


# ---------------------------------------------------------------------- classification
isnan = _unary(ew.isnan, "isnan")
isinf = _unary(ew.isinf, "isinf")
isfinite = _unary(ew.isfinite, "isfinite")
signbit = _unary(ew.signbit, "signbit")
round = _unary(ew.round, "round")  # noqa: A001
bitwise_invert = _unary(ew.bitwise_invert, "bitwise_invert")
