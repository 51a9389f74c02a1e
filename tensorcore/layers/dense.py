"""Dense: a fully connected layer, activation(inputs @ kernel + bias)."""

from __future__ import annotations

import numpy as np

import tensorcore as tc
from tensorcore import activations, initializers
from tensorcore.layers.base import Layer


class Dense(Layer):
    """Densely connected layer: ``activation(inputs @ kernel + bias)``."""

    def __init__(self, units: int, activation=None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 input_shape=None, **kwargs):
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(f"Dense: units must be a positive int. Received: units={units!r}")
        super().__init__(input_shape=input_shape, **kwargs)
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel: tc.Tensor | None = None
        self.bias: tc.Tensor | None = None

    def build(self, input_shape: tuple) -> None:
        """Create kernel (input_dim, units) and bias (units,)."""
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(
                f"{self.name}: Dense needs inputs with a known last dimension, shaped "
                f"(batch, ..., features). Received: input_shape={tuple(input_shape)}"
            )
        input_dim = int(input_shape[-1])
        self.kernel = self.add_weight("kernel", (input_dim, self.units), self.kernel_initializer)
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.units,), self.bias_initializer)
        self.built = True

    def call_logits(self, inputs: tc.Tensor, training: bool = False) -> tc.Tensor:
        """inputs @ kernel + bias, before the activation."""
        if inputs.shape[-1] != self.kernel.shape[0]:
            raise ValueError(
                f"{self.name}: expected inputs with last dimension {self.kernel.shape[0]}. "
                f"Received: inputs with shape {tuple(inputs.shape)}"
            )
        outputs = tc.matmul(inputs, self.kernel)
        if self.bias is not None:
            outputs = outputs + self.bias
        return outputs

    def call(self, inputs: tc.Tensor, training: bool = False) -> tc.Tensor:
        """activation(inputs @ kernel + bias)."""
        return self.activation(self.call_logits(inputs, training))

    @property
    def output_activation(self) -> str | None:
        """Name of the built-in activation, or None for a custom one."""
        try:
            return activations.serialize(self.activation)
        except ValueError:
            return None

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """Same as the input shape with the last axis replaced by units."""
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self) -> dict:
        """Constructor arguments as a JSON-ready dict."""
        config = super().get_config()
        config.update({
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
        })
        return config
