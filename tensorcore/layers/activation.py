"""Activation: applies an activation function as a layer of its own."""

from __future__ import annotations

import tensorcore as tc
from tensorcore import activations
from tensorcore.layers.base import Layer


class Activation(Layer):
    """Applies an activation function (a name such as "relu", or a callable)."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs: tc.Tensor, training: bool = False) -> tc.Tensor:
        """activation(inputs)."""
        return self.activation(inputs)

    def call_logits(self, inputs: tc.Tensor, training: bool = False) -> tc.Tensor:
        """The inputs, unchanged (they are the logits of the activation)."""
        return inputs

    @property
    def output_activation(self) -> str | None:
        """Name of the built-in (or registered) activation, or None for a custom one."""
        return activations.name_of(self.activation)

    def get_config(self) -> dict:
        """Constructor arguments as a JSON-ready dict."""
        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config
