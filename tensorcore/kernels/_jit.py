"""One place that decides how every kernel is compiled: lazy @njit, disk cache, threading layer.

Cache location, in order of preference:
1. ``NUMBA_CACHE_DIR`` when the user set it (Numba then uses it for everything);
2. the package's own ``__pycache__`` (Numba's in-tree cache) when it is writable;
3. ``$XDG_CACHE_HOME/tensorcore/numba`` (default ``~/.cache/tensorcore/numba``);
4. no disk cache at all (kernels still compile and run, just on every new process).

Threading layer: ``tbb`` when the ``tbb`` package is importable and usable, else ``workqueue``
(the ``omp`` layer kills forked children). An explicit ``NUMBA_THREADING_LAYER`` wins.
"""

from __future__ import annotations

import functools
import glob
import hashlib
import importlib.util
import os
import threading
import tempfile
from typing import Any, Callable, Optional

import numba

__all__ = ["jit", "prange", "cache_dir", "threading_layer"]

prange = numba.prange

# Held while a parallel kernel runs when the threading layer is not thread-safe (workqueue).
_PARALLEL_LAUNCH_LOCK = threading.Lock()


def _reset_after_fork() -> None:
    """In a forked child: a fresh launch lock. The thread that held the parent's lock does
    not exist in the child, so an inherited locked lock would deadlock the first parallel
    kernel forever."""
    global _PARALLEL_LAUNCH_LOCK
    _PARALLEL_LAUNCH_LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)

_KERNEL_DIR = os.path.dirname(os.path.abspath(__file__))


def _dir_writable(path: str) -> bool:
    """Return True when ``path`` exists (or can be created) and a file can be written in it."""
    try:
        os.makedirs(path, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
        return True
    except OSError:
        return False


def _user_cache_dir() -> str:
    """Return the per-user fallback cache directory."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "tensorcore", "numba")


def _choose_cache_dir() -> Optional[str]:
    """Pick the cache directory (see module docstring); None means compile without a cache."""
    if numba.config.CACHE_DIR:
        return str(numba.config.CACHE_DIR)
    in_tree = os.path.join(_KERNEL_DIR, "__pycache__")
    if _dir_writable(in_tree):
        return in_tree
    user_dir = _user_cache_dir()
    if _dir_writable(user_dir):
        numba.config.CACHE_DIR = user_dir
        return user_dir
    return None


def _tbb_usable() -> bool:
    """Return True when Numba's TBB threading layer can be loaded."""
    if importlib.util.find_spec("tbb") is None:
        return False
    try:
        from numba.np.ufunc import parallel as _parallel

        _parallel._check_tbb_version_compatible()
        from numba.np.ufunc import tbbpool  # noqa: F401
    except Exception:  # any failure just means: not usable here
        return False
    return True


def _choose_threading_layer() -> str:
    """Set numba.config.THREADING_LAYER before any parallel kernel runs and return it."""
    if os.environ.get("NUMBA_THREADING_LAYER"):
        return str(numba.config.THREADING_LAYER)
    layer = "tbb" if _tbb_usable() else "workqueue"
    numba.config.THREADING_LAYER = layer
    return layer


def _sources_digest() -> str:
    """A hash of every kernel source and of the op table (whose codes kernels freeze in)."""
    digest = hashlib.sha256()
    paths = sorted(glob.glob(os.path.join(_KERNEL_DIR, "*.py")))
    paths.append(os.path.join(os.path.dirname(_KERNEL_DIR), "_optable.py"))
    for path in paths:
        try:
            with open(path, "rb") as handle:
                digest.update(handle.read())
        except OSError:
            digest.update(path.encode())
    return digest.hexdigest()


def _kernel_cache_path(directory: str) -> str:
    """Where Numba writes the cached kernels of this package inside ``directory``: the
    directory itself for the in-tree ``__pycache__``; under a ``NUMBA_CACHE_DIR`` (the user's,
    or ours from _choose_cache_dir) a subdirectory of its own, named as Numba names it
    (``<parent dir>_<sha1 of the source dir>``), holding nothing but these kernels."""
    if not numba.config.CACHE_DIR:
        return directory
    return os.path.join(directory, "kernels_" + hashlib.sha1(_KERNEL_DIR.encode()).hexdigest())


def _drop_stale_cache(directory: Optional[str]) -> None:
    """Numba keys a cached kernel on its own file's timestamp only, so a kernel inlining a
    helper from another file (scalar.py) or an op code from the op table would be reused
    stale after those change (an upgrade that changed only scalar.py would keep computing
    the old op). The cache path of our kernels carries a stamp of all those sources; when it
    differs, the compiled kernels there are dropped. Under a user's ``NUMBA_CACHE_DIR`` this
    touches only the subdirectory Numba gives this package's kernels, never other caches."""
    if directory is None:
        return
    path = _kernel_cache_path(directory)
    stamp = os.path.join(path, "tensorcore-kernels.stamp")
    current = _sources_digest()
    try:
        with open(stamp, encoding="ascii") as handle:
            if handle.read() == current:
                return
    except OSError:
        pass
    try:
        os.makedirs(path, exist_ok=True)
        for name in os.listdir(path):
            if name.endswith((".nbi", ".nbc")):
                os.remove(os.path.join(path, name))
        with open(stamp, "w", encoding="ascii") as handle:
            handle.write(current)
    except OSError:
        pass  # a read-only cache: Numba itself will not write to it either


_CACHE_DIR = _choose_cache_dir()
_drop_stale_cache(_CACHE_DIR)
_THREADING_LAYER = _choose_threading_layer()


def cache_dir() -> Optional[str]:
    """Return the directory compiled kernels are cached in (None: no disk cache)."""
    return _CACHE_DIR


def threading_layer() -> str:
    """Return the threading layer actually in use (or the configured one before first use)."""
    try:
        return str(numba.threading_layer())
    except ValueError:
        return _THREADING_LAYER


def jit(fn: Optional[Callable[..., Any]] = None, *, parallel: bool = False,
        fastmath: Any = False) -> Any:
    """Decorate a kernel: lazy ``@njit`` with the disk cache when available, NumPy error model.

    ``fastmath`` is passed to Numba (for example ``{"contract"}`` to allow fused multiply-add).
    """

    def compile_lazily(func: Callable[..., Any]) -> Any:
        options = {"nogil": True, "error_model": "numpy", "parallel": parallel,
                   "fastmath": fastmath}
        if _CACHE_DIR is not None:
            try:
                return numba.njit(cache=True, **options)(func)
            except RuntimeError:  # "cannot cache function ...: no locator available"
                pass
        return numba.njit(**options)(func)

    def decorate(func: Callable[..., Any]) -> Any:
        dispatcher = compile_lazily(func)
        if not parallel or _THREADING_LAYER == "tbb":
            return dispatcher
        # The workqueue layer aborts the whole process when two Python threads launch
        # parallel regions at once: serialize the launches (parallel kernels are only
        # called from Python, never from other jitted code).
        @functools.wraps(func)
        def serialized(*args: Any) -> Any:
            with _PARALLEL_LAUNCH_LOCK:  # looked up per call: replaced after a fork
                return dispatcher(*args)

        serialized.dispatcher = dispatcher  # type: ignore[attr-defined]
        return serialized

    if fn is not None:
        return decorate(fn)
    return decorate
