"""Activation functions, resolvable by name as in Keras ("relu", "softmax", ...)."""

from __future__ import annotations

from typing import Callable

import tensorcore as tc
from tensorcore.registry import Registry

Activation = Callable[["tc.Tensor"], "tc.Tensor"]


def relu(x: tc.Tensor) -> tc.Tensor:
    """Rectified linear unit: max(x, 0)."""
    return tc.relu(x)


def sigmoid(x: tc.Tensor) -> tc.Tensor:
    """Logistic sigmoid 1 / (1 + exp(-x))."""
    return tc.sigmoid(x)


def tanh(x: tc.Tensor) -> tc.Tensor:
    """Hyperbolic tangent."""
    return tc.tanh(x)


def softmax(x: tc.Tensor, axis: int = -1) -> tc.Tensor:
    """Softmax along the last axis (each row sums to 1)."""
    return tc.softmax(x, axis=axis)


def linear(x: tc.Tensor) -> tc.Tensor:
    """Identity activation: returns x unchanged."""
    return x


# The built-in activations by name (tensorcore/registry.py; a user function joins with
# @tc.saving.register_serializable).
REGISTRY = Registry("activation")
for _function in (relu, sigmoid, tanh, softmax, linear):
    REGISTRY.add(_function.__name__, _function)
del _function


def get(identifier: str | Activation | None) -> Activation:
    """Return the activation function for a name, a callable, or None (linear)."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        function = REGISTRY.lookup(identifier)
        if function is None:
            raise ValueError(
                f"Unknown activation: {identifier!r}. Expected one of {REGISTRY.names()} "
                "or a callable."
            )
        return function
    if callable(identifier):
        return identifier
    raise TypeError(
        "activation must be a string, a callable or None. "
        f"Received: activation={identifier!r}"
    )


def name_of(activation: Activation) -> str | None:
    """The registered name of an activation, or None for an unregistered callable (what a
    layer's output_activation reports to the fused losses)."""
    return REGISTRY.name_of(activation)


def serialize(activation: Activation) -> str:
    """Return the registered name of an activation (for model configs)."""
    name = name_of(activation)
    if name is None:
        raise ValueError(
            "Cannot serialize a custom activation function; only built-in activations "
            f"{REGISTRY.names()} (and functions registered with "
            "@tc.saving.register_serializable) can be saved. "
            f"Received: activation={activation!r}"
        )
    return name
