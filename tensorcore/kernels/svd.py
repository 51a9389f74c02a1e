"""Singular values by one-sided Jacobi (the Numba twin of csrc/svdvals.c).

Each matrix's min(m, n) columns (of A, or of A^T when m < n) are copied into a double
buffer scaled by a power of two so the largest |a| lies in [0.5, 1), then every column pair
not yet orthogonal to working precision is rotated until all are; the column norms are then
the singular values (descending). NaN or infinite entries give NaN; a zero matrix zeros.
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import jit

_MAX_SWEEPS = 60
_EPS = 2.0 ** -52


@jit
def _jacobi_columns(w, sv):
    """Orthogonalize the rows of w (k, length) by plane rotations; sv = their norms, descending."""
    k, length = w.shape
    tol = length * _EPS
    for _ in range(_MAX_SWEEPS):
        rotated = False
        for p in range(k - 1):
            for q in range(p + 1, k):
                alpha = 0.0
                beta = 0.0
                gamma = 0.0
                for i in range(length):
                    alpha += w[p, i] * w[p, i]
                    beta += w[q, i] * w[q, i]
                    gamma += w[p, i] * w[q, i]
                if gamma == 0.0 or abs(gamma) <= tol * math.sqrt(alpha * beta):
                    continue
                rotated = True
                zeta = (beta - alpha) / (2.0 * gamma)
                t = 1.0 / (abs(zeta) + math.hypot(1.0, zeta))
                if zeta < 0.0:
                    t = -t
                c = 1.0 / math.sqrt(1.0 + t * t)
                s = c * t
                for i in range(length):
                    xp = w[p, i]
                    xq = w[q, i]
                    w[p, i] = c * xp - s * xq
                    w[q, i] = s * xp + c * xq
        if not rotated:
            break
    for j in range(k):
        total = 0.0
        for i in range(length):
            total += w[j, i] * w[j, i]
        v = math.sqrt(total)
        at = j
        while at > 0 and sv[at - 1] < v:
            sv[at] = sv[at - 1]
            at -= 1
        sv[at] = v


@jit
def svdvals(a, out):
    """out[b] = singular values of a[b] (a: (batch, m, n), out: (batch, min(m, n)))."""
    batch, m, n = a.shape
    k = min(m, n)
    length = max(m, n)
    w = np.empty((k, length), np.float64)
    sv = np.empty(k, np.float64)
    for b in range(batch):
        big = 0.0
        finite = True
        for i in range(m):
            for j in range(n):
                v = float(a[b, i, j])
                if not math.isfinite(v):
                    finite = False
                big = max(big, abs(v))
                if m >= n:
                    w[j, i] = v
                else:
                    w[i, j] = v
        if not finite or big == 0.0:
            for j in range(k):
                out[b, j] = 0.0 if finite else math.nan
            continue
        e = math.frexp(big)[1]
        for j in range(k):
            for i in range(length):
                w[j, i] = math.ldexp(w[j, i], -e)
        _jacobi_columns(w, sv)
        for j in range(k):
            out[b, j] = math.ldexp(sv[j], e)
