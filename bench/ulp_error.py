"""Largest error, in float32 ulps, of tensorcore's float32 exp, log, sin, cos, tanh, sigmoid.

Inputs: every `--step`-th float32 bit pattern (default 61: 70.4 million values, both signs,
subnormals, infinities and NaN included), computed by tensorcore (C backend, contiguous:
the SIMD loops) and compared with NumPy's float64 result of the same inputs. An error is
|ours - reference| / ulp(float32(reference)); a NaN or infinity must match exactly (an
error of 1e9 ulps is reported otherwise). Run: `python bench/ulp_error.py [--step N]`.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import tensorcore as tc  # noqa: E402

NAMES = ("exp", "log", "sin", "cos", "tanh", "sigmoid")


def _reference(name: str, x64: np.ndarray) -> np.ndarray:
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-x64))
    return getattr(np, name)(x64)


def ulp_errors(name: str, x: np.ndarray) -> np.ndarray:
    """Error of tc.<name>(x) in ulps of the float32-rounded float64 reference."""
    got32 = getattr(tc, name)(tc.from_numpy(x)).numpy()
    with np.errstate(all="ignore"):      # signalling NaN inputs warn when widened
        got = got32.astype(np.float64)
        ref = _reference(name, x.astype(np.float64))
        ref32 = ref.astype(np.float32)
        ulp = np.spacing(np.abs(ref32)).astype(np.float64)
        err = np.abs(got - ref) / ulp
    special = ~np.isfinite(ref32)
    same = (np.isnan(got) & np.isnan(ref32)) | (got == ref32)
    err[special] = np.where(same[special], 0.0, 1e9)
    return err


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step", type=int, default=61)
    args = parser.parse_args(argv)
    tc.set_backend("c")
    chunk = 1 << 22
    worst = {name: (0.0, 0.0) for name in NAMES}
    count = 0
    for start in range(0, 1 << 32, chunk * args.step):
        bits = np.arange(start, min(start + chunk * args.step, 1 << 32), args.step,
                         dtype=np.uint64).astype(np.uint32)
        x = bits.view(np.float32)
        count += x.size
        for name in NAMES:
            err = ulp_errors(name, x)
            i = int(np.argmax(err))
            if err[i] > worst[name][0]:
                worst[name] = (float(err[i]), float(x[i]))
    print(f"{count} float32 inputs (every {args.step}th bit pattern), C core SIMD level "
          f"{_simd_level()}")
    for name, (err, at) in worst.items():
        print(f"{name:8s} max error {err:.3f} ulp (at x = {at!r})")
    return 0


def _simd_level() -> str:
    from tensorcore._C import ffi, lib
    return ffi.string(lib.tc_simd_level()).decode()


if __name__ == "__main__":
    sys.exit(main())
