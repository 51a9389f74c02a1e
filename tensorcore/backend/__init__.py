"""Backend selection: which kernel library ("c" or "numba") computes each call.

Backends are modules implementing docs/backend-interface.md. They are imported lazily:
the C backend on first use, the Numba backend (and Numba itself) only when selected.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import threading
from types import ModuleType
from typing import Iterator

_MODULES = {"c": "tensorcore.backend.c_backend", "numba": "tensorcore.backend.numba_backend"}
_lock = threading.Lock()
_loaded: dict[str, ModuleType] = {}
_current: ModuleType | None = None
_current_name: str | None = None
_num_threads: int | None = None
MAX_THREADS = 1 << 12


def _load(name: str) -> ModuleType:
    module = _loaded.get(name)
    if module is None:
        with _lock:
            module = _loaded.get(name)
            if module is None:
                module = importlib.import_module(_MODULES[name])
                if _num_threads is not None:
                    module.set_num_threads(_num_threads)
                _loaded[name] = module
    return module


def _check_name(name: object) -> str:
    if not isinstance(name, str) or name.lower() not in _MODULES:
        raise ValueError(f"set_backend: unknown backend {name!r}; expected 'c' or 'numba'")
    return name.lower()


def current() -> ModuleType:
    """Return the active backend module (loading the default one on first use)."""
    if _current is None:
        set_backend(os.environ.get("TENSORCORE_BACKEND", "c") or "c")
    return _current  # type: ignore[return-value]


def set_backend(name: str) -> None:
    """Select the kernel backend for all later calls: "c" (default) or "numba"."""
    global _current, _current_name
    try:
        name = _check_name(name)
    except ValueError:
        if _current is None and name == os.environ.get("TENSORCORE_BACKEND"):
            raise ValueError(f"TENSORCORE_BACKEND={name!r} is not a backend; "
                             "expected 'c' or 'numba'") from None
        raise
    _current = _load(name)
    _current_name = name


def get_backend() -> str:
    """Name of the active backend ("c" or "numba")."""
    current()
    return _current_name  # type: ignore[return-value]


def _use(module: ModuleType, name: str) -> None:
    """Install an arbitrary backend module (tests use the NumPy reference backend)."""
    global _current, _current_name
    _current, _current_name = module, name


@contextlib.contextmanager
def using(backend: "str | ModuleType | object") -> Iterator[ModuleType]:
    """Select a backend for the block, restoring the previous selection on exit.

        with tc.backend.using("numba"):
            y = model(x)

    ``backend`` is "c", "numba", or a module (or object) implementing
    docs/backend-interface.md, such as ``tensorcore.testing.reference_backend``. The
    selection is process-wide, like set_backend: do not switch backends from several
    threads at once.
    """
    global _current, _current_name
    previous = _current, _current_name
    if isinstance(backend, str):
        set_backend(backend)
    else:  # a module (or object) implementing the interface
        name = backend.__name__ if isinstance(backend, ModuleType) else type(backend).__name__
        _use(backend, name.rsplit(".", 1)[-1].replace("_backend", ""))
    try:
        yield _current  # type: ignore[misc]
    finally:
        _current, _current_name = previous


def set_num_threads(n: int) -> None:
    """Set the worker thread count of every backend (loaded now or later)."""
    global _num_threads
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_THREADS:
        raise ValueError(f"set_num_threads: expected a positive int <= {MAX_THREADS}, "
                         f"received {n!r}")
    _num_threads = n
    for module in list(_loaded.values()):
        module.set_num_threads(n)


def get_num_threads() -> int:
    """The worker thread count used by the active backend."""
    return current().get_num_threads()


def loaded() -> dict[str, ModuleType]:
    """The backends imported so far, by name."""
    return dict(_loaded)
