"""Numerically stable fused crossentropies computed from logits, with hand-written gradients.

Each function computes its forward value with tensorcore kernels and records ONE node on the
autodiff tape (autograd.custom_op) whose backward rule is the closed form of the pair:
d/dz softmax-crossentropy = softmax(z) * sum(y) - y, and d/dz sigmoid-crossentropy =
sigmoid(z) - y. Logits of any magnitude give finite losses and gradients.
"""

from __future__ import annotations

import numpy as np

import tensorcore as tc
from tensorcore._dispatch import contiguous, expand
from tensorcore.autograd import custom_op, is_grad_enabled, needs_grad
from tensorcore.backend import current as current_backend

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def softmax_crossentropy_with_logits(labels: tc.Tensor, logits: tc.Tensor) -> tc.Tensor:
    """Per-sample -sum(labels * log_softmax(logits)) over the last axis; labels get no gradient."""
    _check_same_shape("softmax_crossentropy_with_logits", labels, logits)
    fused = _fused_softmax_crossentropy(labels, logits)
    if fused is not None:
        return fused
    labels = labels.detach()
    with tc.no_grad():
        log_probs = tc.log_softmax(logits.detach(), axis=-1)
        per_sample = -tc.sum(labels * log_probs, axis=-1)

    def backward(grad_out: tc.Tensor) -> tuple[tc.Tensor]:
        if is_grad_enabled():
            return (_softmax_crossentropy_grad(labels, logits, grad_out),)
        label_mass = tc.sum(labels, axis=-1, keepdims=True)
        grad_logits = tc.exp(log_probs) * label_mass - labels
        return (grad_logits * tc.expand_dims(grad_out, -1),)

    return custom_op(per_sample.data, (logits,), backward, "softmax_crossentropy")


def _softmax_crossentropy_grad(labels: tc.Tensor, logits: tc.Tensor,
                               grad_out: tc.Tensor) -> tc.Tensor:
    """(softmax(logits) * sum(labels) - labels) * grad_out, recorded from the live logits:
    the rule under create_graph=True, where the saved (constant) gradient would drop the
    softmax's own derivative from second-order gradients."""
    label_mass = tc.sum(labels, axis=-1, keepdims=True)
    return (tc.softmax(logits, axis=-1) * label_mass - labels) * tc.expand_dims(grad_out, -1)


def _fused_softmax_crossentropy(labels: tc.Tensor, logits: tc.Tensor) -> tc.Tensor | None:
    """The backend's one-kernel softmax crossentropy (loss and gradient in one pass), or None
    when it does not apply (no such kernel, not 2-D, mixed or non-float dtypes)."""
    backend = current_backend()
    z, y = logits.data, labels.data
    if (not hasattr(backend, "softmax_crossentropy") or z.ndim != 2 or z.shape[1] == 0
            or z.dtype not in _FLOAT_DTYPES or y.dtype != z.dtype):
        return None
    if not z.flags.c_contiguous:
        z = contiguous(z)
    if not y.flags.c_contiguous:
        y = contiguous(y)
    per_sample = np.empty(z.shape[0], z.dtype)
    grad_logits = np.empty(z.shape, z.dtype) if needs_grad(logits) else None
    backend.softmax_crossentropy(z, y, per_sample, grad_logits, None)
    if grad_logits is None:
        return tc.from_numpy(per_sample)
    saved = tc.from_numpy(grad_logits)

    def backward(grad_out: tc.Tensor) -> tuple[tc.Tensor]:
        g = grad_out.data
        if not is_grad_enabled() and g.dtype == grad_logits.dtype and g.ndim == 1:
            # saved * grad_out[:, None] with the same kernel, without op dispatch
            out = np.empty(grad_logits.shape, grad_logits.dtype)
            backend.binary("multiply", grad_logits,
                           expand(g.reshape(g.shape[0], 1), grad_logits.shape), out)
            return (tc.Tensor._wrap(out),)
        if is_grad_enabled():   # create_graph=True: differentiable in the logits too
            return (_softmax_crossentropy_grad(labels, logits, grad_out),)
        return (saved * tc.expand_dims(grad_out, -1),)

    return custom_op(per_sample, (logits,), backward, "softmax_crossentropy")


def sigmoid_crossentropy_with_logits(labels: tc.Tensor, logits: tc.Tensor) -> tc.Tensor:
    """Mean over the last axis of the binary crossentropy of sigmoid(logits) against labels."""
    _check_same_shape("sigmoid_crossentropy_with_logits", labels, logits)
    labels = labels.detach()
    last_dim = logits.shape[-1] if logits.ndim else 1
    with tc.no_grad():
        z = logits.detach()
        # max(z, 0) - z*y + log(1 + exp(-|z|)) never overflows.
        elementwise = tc.relu(z) - z * labels + tc.log(1.0 + tc.exp(-tc.abs(z)))
        per_sample = tc.mean(elementwise, axis=-1) if logits.ndim else elementwise

    def backward(grad_out: tc.Tensor) -> tuple[tc.Tensor]:
        # with create_graph=True the rule is recorded from the live logits (z is detached)
        grad_logits = (tc.sigmoid(logits if is_grad_enabled() else z) - labels) \
            * (1.0 / last_dim)
        if logits.ndim:
            grad_out = tc.expand_dims(grad_out, -1)
        return (grad_logits * grad_out,)

    return custom_op(per_sample.data, (logits,), backward, "sigmoid_crossentropy")


def _check_same_shape(op: str, labels: tc.Tensor, logits: tc.Tensor) -> None:
    """Raise ValueError unless labels and logits have the same shape."""
    if tuple(labels.shape) != tuple(logits.shape):
        raise ValueError(
            f"{op}: labels and logits must have the same shape. Received: labels.shape="
            f"{tuple(labels.shape)}, logits.shape={tuple(logits.shape)}"
        )
