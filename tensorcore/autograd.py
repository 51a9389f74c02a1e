"""The reverse-mode autodiff tape: graph nodes, backward(), grad() and grad-mode switches.

Each differentiable op that produces a tensor from inputs needing gradients attaches a
Node holding its parents (a tuple, in argument order) and a backward rule mapping the
output's gradient to one gradient per parent. Rules are written with Tensor ops, so with
create_graph=True the backward pass is itself recorded (higher-order gradients).

Broadcasting is handled here, once: a parent's gradient that arrives in a broadcast shape
is summed back to the parent's shape by `_sum_to_shape` before it is accumulated.
"""

from __future__ import annotations

from typing import Callable, Iterable, Sequence

import numpy as np

from . import ops_reduce
from ._tape import (GradFn, _set_grad_enabled, _state, attach, enable_grad,  # noqa: F401
                    is_grad_enabled, needs_grad, no_grad)
from .tensor import Tensor, as_tensor, ones_like


def _check_versions(tensor) -> None:
    """RuntimeError naming the op when a tensor the op used changed in place since."""
    node = tensor._node
    saved = node[2] if len(node) > 2 else None
    if saved is None:
        return
    current = (tensor._version,) + tuple(p._version for p in tensor._parents)
    if current == saved:
        return
    for i, (now, then) in enumerate(zip(current, saved)):
        if now != then:
            what = "its output" if i == 0 else f"its input {i - 1} (shape " \
                f"{tensor._parents[i - 1].shape})"
            raise RuntimeError(
                f"backward: {what} used by the op '{node[1]}' was modified in place after "
                f"the op ran (version {now}, saved at version {then}), so its gradient would "
                "be wrong; modify a copy, or run backward before writing in place")


def custom_op(out: np.ndarray, parents: tuple, backward: Callable, name: str = "custom"):
    """Wrap a forward result computed by the caller into a Tensor recorded on the tape.

    `backward(grad_out)` receives the output gradient as a Tensor and returns one gradient
    Tensor (or None) per parent, shaped like that parent, computed with Tensor ops.
    """
    if not isinstance(out, np.ndarray):
        raise TypeError(f"custom_op: out must be a numpy.ndarray, received {type(out).__name__}")
    parents = tuple(parents)
    for p in parents:
        if not isinstance(p, Tensor):
            raise TypeError(f"custom_op: parents must be Tensors, received {type(p).__name__}")
    result = Tensor._wrap(out)
    if needs_grad(*parents):
        attach(result, parents, lambda grad, _out: backward(grad), name)
    return result


def _sum_to_shape(grad, shape: tuple):
    """Sum a gradient produced in a broadcast shape back down to `shape`."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1)
    summed = ops_reduce.sum(grad, axis=axes, keepdims=True) if axes else grad
    if lead:
        summed = summed.reshape(shape)
    elif summed.shape != shape:
        summed = summed.reshape(shape)
    return summed


def _topological_order(roots: Sequence) -> list:
    """Tensors reachable from roots through recorded nodes, parents before children."""
    order: list = []
    visited: set[int] = set()
    for root in roots:
        if id(root) in visited or root._node is None:
            continue
        stack = [(root, False)]
        while stack:
            tensor, expanded = stack.pop()
            if expanded:
                order.append(tensor)
                continue
            if id(tensor) in visited:
                continue
            visited.add(id(tensor))
            stack.append((tensor, True))
            node = tensor._node
            if node is not None:
                if node[0] is None:
                    raise RuntimeError(
                        "backward: the graph through this tensor was already freed by an "
                        "earlier backward(); pass retain_graph=True to the first call to "
                        "backpropagate through it twice")
                for parent in reversed(tensor._parents):
                    if parent._node is not None and id(parent) not in visited:
                        stack.append((parent, False))
    return order


def _pending_uses(order: list, capture: dict[int, object]) -> dict[int, int]:
    """For each captured leaf: how many recorded edges will still deliver into it."""
    uses = {key: 0 for key in capture}
    for tensor in order:
        for parent in tensor._parents:
            if parent._node is None and id(parent) in uses and parent.requires_grad:
                uses[id(parent)] += 1
    return uses


def _run_backward(roots: Sequence, root_grads: Sequence, retain_graph: bool,
                  create_graph: bool, capture: dict[int, object] | None,
                  on_ready: Callable | None = None):
    """Propagate gradients from roots; into .grad of leaves, or into `capture` if given.

    `on_ready(key)` (with `capture` only) is called once a captured leaf's gradient is
    complete, i.e. the last recorded edge into it has been processed, while the rest of
    the backward pass still runs.
    """
    order = _topological_order(roots)
    uses = _pending_uses(order, capture) if on_ready is not None else None
    grads: dict[int, Tensor] = {}
    delivered: set[int] = set()
    for root, grad in zip(roots, root_grads):
        _accumulate(grads, root, grad)
    previous = _set_grad_enabled(create_graph)
    try:
        # Leaf roots (a leaf differentiated with respect to itself) never enter `order`.
        for root in roots:
            if root._node is None:
                _deliver(root, grads.pop(id(root), None), capture, delivered)
        for tensor in reversed(order):
            grad = grads.pop(id(tensor), None)
            if capture is not None and id(tensor) in capture:
                capture[id(tensor)] = _add(capture[id(tensor)], grad)
            if grad is None:
                continue
            _check_versions(tensor)
            parent_grads = tensor._node[0](grad, tensor)
            if not isinstance(parent_grads, tuple):
                parent_grads = (parent_grads,)
            for parent, pgrad in zip(tensor._parents, parent_grads):
                if pgrad is None or not parent.requires_grad:
                    continue
                if not isinstance(pgrad, Tensor):
                    pgrad = Tensor._wrap(np.asarray(pgrad))
                # (attribute reads of .data: the shape/dtype properties cost a call each,
                # and this runs once per edge of every backward pass)
                target = parent.data
                if pgrad.data.shape != target.shape:
                    pgrad = _sum_to_shape(pgrad, target.shape)
                if pgrad.data.dtype != target.dtype:
                    pgrad = pgrad.astype(target.dtype)
                if parent._node is None:
                    _deliver(parent, pgrad, capture, delivered)
                else:
                    _accumulate(grads, parent, pgrad)
            if uses is not None:
                for parent in tensor._parents:
                    key = id(parent)
                    if parent._node is None and key in uses and parent.requires_grad:
                        uses[key] -= 1
                        if uses[key] == 0:
                            on_ready(key)
            if not retain_graph:
                tensor._node = (None, tensor._node[1])
                tensor._parents = ()
    finally:
        _set_grad_enabled(previous)


def _add(current, grad):
    if grad is None:
        return current
    if current is None:
        return grad
    return current + grad


def _accumulate(grads: dict, tensor, grad) -> None:
    key = id(tensor)
    grads[key] = _add(grads.get(key), grad)


def _deliver(leaf, grad, capture, delivered: set) -> None:
    """Give a leaf its gradient: into capture (grad()) or accumulated into .grad."""
    if grad is None:
        return
    if capture is not None:
        if id(leaf) in capture:
            capture[id(leaf)] = _add(capture[id(leaf)], grad)
        return
    if leaf.grad is None:
        # .grad must own its memory: not a view, not an object handed to another leaf.
        if not is_grad_enabled():
            grad = grad._owned_copy(force=id(grad) in delivered)
        elif id(grad) in delivered or grad.data.base is not None:
            grad = grad * 1.0   # create_graph: a recorded copy, still part of the graph
        delivered.add(id(grad))
        leaf.grad = grad
    else:
        leaf.grad = leaf.grad + grad


def _check_roots(op: str, outputs, grad_outputs):
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, (Tensor, np.ndarray)) or np.isscalar(grad_outputs):
        grad_outputs = [grad_outputs]
    else:
        grad_outputs = list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"{op}: got {len(outputs)} outputs but {len(grad_outputs)} "
                         "grad_outputs; expected one per output")
    roots, root_grads = [], []
    for out, g in zip(outputs, grad_outputs):
        if not isinstance(out, Tensor):
            raise TypeError(f"{op}: outputs must be Tensors, received {type(out).__name__}")
        if not out.requires_grad:
            raise RuntimeError(f"{op}: the tensor (shape {out.shape}) does not require grad "
                               "and has no graph; set requires_grad=True on its inputs")
        if g is None:
            if out.size != 1:
                raise RuntimeError(
                    f"{op}: grad can be implicitly created only for scalar outputs; received "
                    f"an output of shape {out.shape}; pass grad= (a tensor of that shape)")
            g = ones_like(out)
        else:
            g = as_tensor(g, dtype=out.dtype)
            if g.shape != out.shape:
                raise ValueError(f"{op}: grad has shape {g.shape} but the output has shape "
                                 f"{out.shape}; expected the same shape")
        roots.append(out)
        root_grads.append(g)
    return roots, root_grads


def backward(tensor, grad=None, retain_graph: bool = False, create_graph: bool = False) -> None:
    """Accumulate d(tensor)/d(leaf) into `.grad` of every leaf that requires grad."""
    roots, root_grads = _check_roots("backward", tensor, None if grad is None else [grad])
    _run_backward(roots, root_grads, retain_graph or create_graph, create_graph, None)


def grad(outputs, inputs, grad_outputs=None, create_graph: bool = False,
         retain_graph: bool | None = None, allow_unused: bool = False,
         on_ready: Callable | None = None):
    """Return d(outputs)/d(inputs) as a tuple of Tensors, without touching `.grad`.

    `on_ready(i, gradient)` is called for each leaf input i as soon as its gradient is
    complete, while backward still runs on earlier layers (data-parallel training starts
    communicating it there); unused inputs are not reported.
    """
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    for t in inputs:
        if not isinstance(t, Tensor):
            raise TypeError(f"grad: inputs must be Tensors, received {type(t).__name__}")
        if not t.requires_grad:
            raise RuntimeError(f"grad: an input (shape {t.shape}) does not require grad")
    roots, root_grads = _check_roots("grad", outputs, grad_outputs)
    if retain_graph is None:
        retain_graph = create_graph
    capture: dict[int, object] = {id(t): None for t in inputs}
    report = None
    if on_ready is not None:
        if not callable(on_ready):
            raise TypeError(f"grad: on_ready must be callable. Received: {on_ready!r}")
        positions: dict[int, list[int]] = {}
        for i, t in enumerate(inputs):
            positions.setdefault(id(t), []).append(i)

        def report(key: int) -> None:
            for i in positions[key]:
                on_ready(i, capture[key])
    _run_backward(roots, root_grads, retain_graph, create_graph, capture, report)
    results = []
    for i, t in enumerate(inputs):
        g = capture[id(t)]
        if g is None and not allow_unused:
            raise RuntimeError(f"grad: input {i} (shape {t.shape}) was not used to compute the "
                               "outputs; pass allow_unused=True to get None for it")
        results.append(g)
    return tuple(results)


def iter_graph(tensor) -> Iterable:
    """The recorded tensors behind `tensor`, parents first (for inspection and tests)."""
    return iter(_topological_order([tensor]))
