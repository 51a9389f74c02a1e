"""Locations of the C header and the plain C library, for embedding tensorcore in C programs.

    gcc prog.c -I"$(python -c 'import tensorcore as tc; print(tc.get_include())')" \\
        "$(python -c 'import tensorcore as tc; print(tc.get_library_path())')"

The library is `libtensorcore` built from csrc/ with the same public header; it does not
depend on Python (see examples/c/README.md).
"""

from __future__ import annotations

import os
import sys

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_CHECKOUT_CSRC = os.path.join(os.path.dirname(_PACKAGE_DIR), "csrc")
_LIBRARY_NAME = "libtensorcore.dylib" if sys.platform == "darwin" else "libtensorcore.so"


def get_include() -> str:
    """The directory holding tensorcore.h (installed copy, else the checkout's csrc/)."""
    for directory in (os.path.join(_PACKAGE_DIR, "include"), _CHECKOUT_CSRC):
        if os.path.isfile(os.path.join(directory, "tensorcore.h")):
            return directory
    raise FileNotFoundError("get_include: tensorcore.h is not installed with this package; "
                            f"expected it in {os.path.join(_PACKAGE_DIR, 'include')}")


def get_library_path() -> str:
    """The full path of the shared C library libtensorcore (link with it, or dlopen it)."""
    path = os.path.join(_PACKAGE_DIR, "lib", _LIBRARY_NAME)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"get_library_path: {path} does not exist; build it with "
                                "`pip install -e .` (or `python setup.py build_ext --inplace`)")
    return path
