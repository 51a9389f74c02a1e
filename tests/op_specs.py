"""One test spec per row of the op table (tensorcore/_optable.py), shared by the op, gradient,
fuzz and error tests: where each input is sampled, which dtypes to try, the tolerance of float32
results and whether a finite-difference gradient check applies.

Adding an op to the table means adding its spec here; tests/test_optable.py fails for a table
row without a spec (and for a spec without a row).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FLOATS = (np.float32, np.float64)
INTS = (np.int32, np.int64)
NUMERIC = FLOATS + INTS
ALL = NUMERIC + (np.bool_,)


@dataclass(frozen=True)
class OpSpec:
    """How to test one op: input domains (one (low, high) per input), dtypes, tolerances."""

    domain: tuple = ((-3.0, 3.0),)
    dtypes: tuple = FLOATS
    rtol32: float = 2e-6          # float32 relative tolerance against the float64 reference
    gradcheck: bool = True        # finite differences (skipped for piecewise-constant ops)
    grad_domain: tuple | None = None  # domain for the gradient check (default: domain)
    # exact: compare bit for bit with the reference computed in the input's own dtype (for
    # rounding ops, whose float32 result is an exact function of float32 inputs that a
    # float64 reference can round to the next integer)
    exact: bool = False

    def sample(self, rng: np.random.Generator, shape: tuple, dtype) -> list:
        """One array per input: uniform in its domain (integers: rounded; bools: random)."""
        arrays = []
        for low, high in self.domain:
            if np.dtype(dtype) == np.bool_:
                arrays.append(rng.random(shape) < 0.5)
            elif np.dtype(dtype).kind == "i":
                arrays.append(rng.integers(int(np.ceil(low)), int(np.floor(high)) + 1,
                                           shape).astype(dtype))
            else:
                arrays.append(rng.uniform(low, high, shape).astype(dtype))
        return arrays


_TWO = ((-3.0, 3.0), (-3.0, 3.0))

SPECS: dict[str, OpSpec] = {
    # ---- unary
    "negative": OpSpec(dtypes=NUMERIC),
    "abs": OpSpec(dtypes=NUMERIC, grad_domain=((0.2, 3.0),)),
    "square": OpSpec(dtypes=NUMERIC),
    "relu": OpSpec(dtypes=NUMERIC, grad_domain=((0.2, 3.0),)),
    "sign": OpSpec(dtypes=NUMERIC, gradcheck=False),
    "exp": OpSpec(dtypes=NUMERIC, rtol32=4e-6),
    "log": OpSpec(domain=((0.05, 5.0),), dtypes=NUMERIC + (), rtol32=4e-6),
    "sqrt": OpSpec(domain=((0.05, 5.0),), dtypes=NUMERIC),
    "tanh": OpSpec(dtypes=NUMERIC, rtol32=4e-6),
    "sigmoid": OpSpec(domain=((-8.0, 8.0),), dtypes=NUMERIC, rtol32=4e-6),
    "reciprocal": OpSpec(domain=((0.2, 3.0),), rtol32=4e-6),
    "log1p": OpSpec(domain=((-0.9, 5.0),), dtypes=NUMERIC[:2] + (np.int64,), rtol32=4e-6),
    "expm1": OpSpec(domain=((-3.0, 3.0),), dtypes=NUMERIC, rtol32=4e-6),
    "floor": OpSpec(domain=((-5.0, 5.0),), dtypes=NUMERIC, gradcheck=False, exact=True),
    "ceil": OpSpec(domain=((-5.0, 5.0),), dtypes=NUMERIC, gradcheck=False, exact=True),
    "trunc": OpSpec(domain=((-5.0, 5.0),), dtypes=NUMERIC, gradcheck=False, exact=True),
    "sin": OpSpec(domain=((-6.0, 6.0),), dtypes=NUMERIC, rtol32=4e-6),
    "cos": OpSpec(domain=((-6.0, 6.0),), dtypes=NUMERIC, rtol32=4e-6),
    "tan": OpSpec(domain=((-1.4, 1.4),), dtypes=NUMERIC[:2] + (np.int64,), rtol32=4e-6),
    "asin": OpSpec(domain=((-0.95, 0.95),), rtol32=4e-6),
    "acos": OpSpec(domain=((-0.95, 0.95),), rtol32=4e-6),
    "atan": OpSpec(domain=((-5.0, 5.0),), dtypes=NUMERIC, rtol32=4e-6),
    "sinh": OpSpec(domain=((-4.0, 4.0),), dtypes=NUMERIC, rtol32=4e-6),
    "cosh": OpSpec(domain=((-4.0, 4.0),), dtypes=NUMERIC, rtol32=4e-6),
    "asinh": OpSpec(domain=((-5.0, 5.0),), dtypes=NUMERIC, rtol32=4e-6),
    "acosh": OpSpec(domain=((1.05, 6.0),), dtypes=NUMERIC, rtol32=4e-6),
    "atanh": OpSpec(domain=((-0.95, 0.95),), rtol32=4e-6),
    "log2": OpSpec(domain=((0.05, 5.0),), dtypes=NUMERIC, rtol32=4e-6),
    "log10": OpSpec(domain=((0.05, 5.0),), dtypes=NUMERIC, rtol32=4e-6),
    # ---- binary
    "add": OpSpec(domain=_TWO, dtypes=ALL),
    "subtract": OpSpec(domain=_TWO, dtypes=NUMERIC),
    "multiply": OpSpec(domain=_TWO, dtypes=ALL),
    "divide": OpSpec(domain=((-3.0, 3.0), (0.5, 3.0)), dtypes=NUMERIC),
    "power": OpSpec(domain=((0.2, 3.0), (0.0, 3.0)), dtypes=NUMERIC, rtol32=1e-5),
    "maximum": OpSpec(domain=_TWO, dtypes=ALL),
    "minimum": OpSpec(domain=_TWO, dtypes=ALL),
    "equal": OpSpec(domain=((-2, 2), (-2, 2)), dtypes=ALL, gradcheck=False),
    "not_equal": OpSpec(domain=((-2, 2), (-2, 2)), dtypes=ALL, gradcheck=False),
    "less": OpSpec(domain=((-2, 2), (-2, 2)), dtypes=ALL, gradcheck=False),
    "less_equal": OpSpec(domain=((-2, 2), (-2, 2)), dtypes=ALL, gradcheck=False),
    "greater": OpSpec(domain=((-2, 2), (-2, 2)), dtypes=ALL, gradcheck=False),
    "greater_equal": OpSpec(domain=((-2, 2), (-2, 2)), dtypes=ALL, gradcheck=False),
    # integer divisors include 0 (x // 0 and x % 0 give 0, as NumPy)
    "floor_divide": OpSpec(domain=((-9.0, 9.0), (-3.0, 3.0)), dtypes=NUMERIC, gradcheck=False,
                           exact=True),
    "remainder": OpSpec(domain=((-9.0, 9.0), (-3.0, 3.0)), dtypes=NUMERIC, exact=True,
                        grad_domain=((-9.0, 9.0), (0.5, 3.0))),
    "atan2": OpSpec(domain=((-3.0, 3.0), (0.3, 3.0)), dtypes=NUMERIC, rtol32=4e-6),
    "logaddexp": OpSpec(domain=_TWO, dtypes=NUMERIC, rtol32=4e-6),
    "hypot": OpSpec(domain=((0.3, 3.0), (-3.0, 3.0)), dtypes=NUMERIC, rtol32=4e-6),
    "copysign": OpSpec(domain=_TWO, dtypes=FLOATS, grad_domain=((0.2, 3.0), (-3.0, -0.2))),
    "nextafter": OpSpec(domain=_TWO, dtypes=FLOATS, gradcheck=False),
    "bitwise_and": OpSpec(domain=((-300, 300), (-300, 300)), dtypes=INTS + (np.bool_,),
                          gradcheck=False),
    "bitwise_or": OpSpec(domain=((-300, 300), (-300, 300)), dtypes=INTS + (np.bool_,),
                         gradcheck=False),
    "bitwise_xor": OpSpec(domain=((-300, 300), (-300, 300)), dtypes=INTS + (np.bool_,),
                          gradcheck=False),
    # counts outside [0, bits) are checked in tests/test_bitwise.py
    "bitwise_left_shift": OpSpec(domain=((-300, 300), (0, 20)), dtypes=INTS, gradcheck=False),
    "bitwise_right_shift": OpSpec(domain=((-300, 300), (0, 20)), dtypes=INTS,
                                  gradcheck=False),
}
