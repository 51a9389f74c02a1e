"""Numerically stable fused crossentropies computed from logits, with hand-written gradients.

Each function computes its forward value with tensorcore kernels and records ONE node on the
autodiff tape (autograd.custom_op) whose backward rule is the closed form of the pair:
d/dz softmax-crossentropy = softmax(z) * sum(y) - y, and d/dz sigmoid-crossentropy =
sigmoid(z) - y. Logits of any magnitude give finite losses and gradients.
"""

from __future__ import annotations

import tensorcore as tc
from tensorcore.autograd import custom_op


def softmax_crossentropy_with_logits(labels: tc.Tensor, logits: tc.Tensor) -> tc.Tensor:
    """Per-sample -sum(labels * log_softmax(logits)) over the last axis; labels get no gradient."""
    _check_same_shape("softmax_crossentropy_with_logits", labels, logits)
    labels = labels.detach()
    with tc.no_grad():
        log_probs = tc.log_softmax(logits.detach(), axis=-1)
        per_sample = -tc.sum(labels * log_probs, axis=-1)

    def backward(grad_out: tc.Tensor) -> tuple[tc.Tensor]:
        label_mass = tc.sum(labels, axis=-1, keepdims=True)
        grad_logits = tc.exp(log_probs) * label_mass - labels
        return (grad_logits * tc.expand_dims(grad_out, -1),)

    return custom_op(per_sample.data, (logits,), backward, "softmax_crossentropy")


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
        grad_logits = (tc.sigmoid(z) - labels) * (1.0 / last_dim)
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
