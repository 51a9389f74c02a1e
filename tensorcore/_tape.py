"""The recording half of autodiff: grad mode, graph nodes (attach) and GradFn.

Ops import this module (not autograd.py) to record themselves, so the core has no import
cycle: autograd.py, which runs backward passes and needs Tensor and the reduce ops, sits
above the ops; this module sits below them and imports nothing of tensorcore.
"""

from __future__ import annotations

import threading
from typing import Callable


class _GradState(threading.local):
    """Per-thread grad mode (on by default in every thread)."""

    enabled = True


_state = _GradState()


def is_grad_enabled() -> bool:
    """True when ops record the graph (the default; off inside `no_grad()`)."""
    return _state.enabled


def _set_grad_enabled(flag: bool) -> bool:
    previous = _state.enabled
    _state.enabled = flag
    return previous


class no_grad:
    """Context manager (and decorator) that turns graph recording off."""

    def __enter__(self) -> None:
        self._previous = _set_grad_enabled(False)

    def __exit__(self, *exc) -> None:
        _set_grad_enabled(self._previous)

    def __call__(self, fn: Callable) -> Callable:
        def wrapper(*args, **kwargs):
            with no_grad():
                return fn(*args, **kwargs)
        wrapper.__name__ = getattr(fn, "__name__", "wrapper")
        wrapper.__doc__ = getattr(fn, "__doc__", None)
        return wrapper


class enable_grad(no_grad):
    """Context manager that turns graph recording back on (inside a no_grad block)."""

    def __enter__(self) -> None:
        self._previous = _set_grad_enabled(True)


class GradFn:
    """A description of the op that produced a tensor (what `tensor.grad_fn` returns)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}Backward>"


def needs_grad(*tensors) -> bool:
    """True when grad mode is on and any of the given tensors requires grad."""
    if not is_grad_enabled():
        return False
    for t in tensors:
        if getattr(t, "requires_grad", False):
            return True
    return False


def attach(out, parents: tuple, backward: Callable, name: str):
    """Record `out` (a Tensor) as produced by `name` from `parents`; returns out.

    `backward(grad, out)` returns one gradient (Tensor or None) per parent; it may return
    gradients in the broadcast output shape (the engine sums them back). The record lives
    on the tensor itself: `_node = (backward, name)` and `_parents`; after a backward pass
    without retain_graph the rule becomes None (released) and the parents are dropped.
    The node also saves the version of each parent and of `out`: backward refuses to run
    the rule once any of them was written in place since (its values are stale)."""
    out.requires_grad = True
    # Spelled out for one and two parents: this runs once per recorded op, and a generator
    # here cost as much as the elementwise kernel call on small tensors.
    if len(parents) == 2:
        versions = (out._version, parents[0]._version, parents[1]._version)
    elif len(parents) == 1:
        versions = (out._version, parents[0]._version)
    else:
        versions = (out._version, *[p._version for p in parents])
    out._node = (backward, name, versions)
    out._parents = parents
    return out
