"""Numba kernels behind the Numba backend.

Importing this package imports nothing heavy: Numba is only imported when one of the kernel
modules (``elementwise``, ``reduce``, ``gemm``, ...) is imported, which happens when
``tensorcore.backend.numba_backend`` is first loaded.
"""
