"""show_config(): what this install of tensorcore runs on."""

from __future__ import annotations

import platform
import sys

import numpy as np

from . import backend as _backend


def config() -> dict:
    """The configuration as a dict: versions, backend, SIMD level, GEMM kernel, threads."""
    from . import __version__
    active = _backend.current()
    info = {"tensorcore": __version__, "python": sys.version.split()[0],
            "numpy": np.__version__, "platform": platform.platform(),
            "active_backend": _backend.get_backend()}
    c_info = _backend._load("c").info()
    info.update({f"c.{k}": v for k, v in c_info.items()})
    if "numba" in _backend.loaded():
        info.update({f"numba.{k}": v for k, v in _backend.loaded()["numba"].info().items()})
    else:
        info["numba"] = "not loaded (imported on first use of the numba backend)"
    info["threads"] = active.get_num_threads()
    return info


def show_config() -> None:
    """Print the configuration: compiled extension, micro-kernel, SIMD level, threads."""
    for key, value in config().items():
        print(f"{key:28s} {value}")
