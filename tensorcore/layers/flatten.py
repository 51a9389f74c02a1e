"""Flatten: reshapes (batch, d1, d2, ...) inputs to (batch, d1 * d2 * ...)."""

from __future__ import annotations

import math

import tensorcore as tc
from tensorcore.layers.base import Layer


class Flatten(Layer):
    """Flattens every axis but the batch axis."""

    def call(self, inputs: tc.Tensor, training: bool = False) -> tc.Tensor:
        """inputs reshaped to (batch, -1)."""
        batch = inputs.shape[0]
        features = math.prod(inputs.shape[1:])
        return inputs.reshape((batch, features))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """(batch, product of the other dimensions)."""
        rest = input_shape[1:]
        features = None if any(d is None for d in rest) else math.prod(rest)
        return (input_shape[0], features)
