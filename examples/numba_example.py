"""Calling tensorcore's C kernels from your own Numba code (nopython mode).

Run: python examples/numba_example.py
"""

import numba
import numpy as np

from tensorcore import numba_interop as tci


@numba.njit
def power_iteration(a, x, steps):
    """Dominant eigenvector of a symmetric matrix: tensorcore's GEMM inside a jitted loop."""
    y = np.empty_like(x)
    for _ in range(steps):
        tci.matmul(a, x, y)
        x[:] = y / np.sqrt((y * y).sum())
    return x


@numba.njit
def scaled_relu_rows(x, scale, out):
    """out = relu(x * scale[None, :]) row by row through the raw-level wrappers."""
    tmp = np.empty(x.shape[1], x.dtype)
    for i in range(x.shape[0]):
        tci.binary(tci.MULTIPLY, x[i], scale, tmp)
        tci.unary(tci.RELU, tmp, out[i])
    return out


@numba.njit
def raw_gemm(a, b, c):
    """The raw C function: data pointers and element strides, status code returned."""
    m, k = a.shape
    n = b.shape[1]
    return tci.tc_gemm(tci.FLOAT64, m, n, k, 1.0, a.ctypes.data, k, 1, b.ctypes.data, n, 1,
                       0.0, c.ctypes.data, n, 1)


def main() -> None:
    """Run the three examples and compare with NumPy."""
    rng = np.random.default_rng(0)
    m = rng.standard_normal((64, 64)).astype(np.float32)
    sym = (m + m.T).astype(np.float32)
    x = power_iteration(sym, np.ones((64, 1), np.float32), 200)
    rayleigh = float((x.T @ sym @ x)[0, 0])
    print("dominant |eigenvalue|:", abs(rayleigh), "numpy:", np.abs(np.linalg.eigvalsh(sym)).max())

    x = rng.standard_normal((5, 7)).astype(np.float32)
    scale = rng.standard_normal(7).astype(np.float32)
    out = scaled_relu_rows(x, scale, np.empty_like(x))
    print("relu rows max error:", np.abs(out - np.maximum(x * scale, 0)).max())

    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    c = np.empty((3, 2))
    print("raw tc_gemm status:", raw_gemm(a, b, c), "max error:", np.abs(c - a @ b).max())


if __name__ == "__main__":
    main()
