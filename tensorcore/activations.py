"""Activation functions, resolvable by name as in Keras ("relu", "softmax", ...)."""

from __future__ import annotations

from typing import Callable

import tensorcore as tc

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


_BY_NAME: dict[str, Activation] = {
    "relu": relu,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "softmax": softmax,
    "linear": linear,
}


def get(identifier: str | Activation | None) -> Activation:
    """Return the activation function for a name, a callable, or None (linear)."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        try:
            return _BY_NAME[identifier]
        except KeyError:
            raise ValueError(
                f"Unknown activation: {identifier!r}. Expected one of {sorted(_BY_NAME)} "
                "or a callable."
            ) from None
    if callable(identifier):
        return identifier
    raise TypeError(
        "activation must be a string, a callable or None. "
        f"Received: activation={identifier!r}"
    )


def serialize(activation: Activation) -> str:
    """Return the registered name of an activation (for model configs)."""
    for name, function in _BY_NAME.items():
        if activation is function:
            return name
    raise ValueError(
        "Cannot serialize a custom activation function; only built-in activations "
        f"{sorted(_BY_NAME)} can be saved. Received: activation={activation!r}"
    )
