"""Dropout: zeroes a random fraction of inputs during training (inverted scaling)."""

from __future__ import annotations

import numbers

import tensorcore as tc
from tensorcore.layers.base import Layer


class Dropout(Layer):
    """Sets a fraction `rate` of inputs to 0 in training and scales the rest by 1/(1-rate)."""

    def __init__(self, rate: float, **kwargs):
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real) \
                or not 0.0 <= float(rate) < 1.0:
            raise ValueError(
                f"Dropout: rate must be a float in [0, 1). Received: rate={rate!r}"
            )
        super().__init__(**kwargs)
        self.rate = float(rate)

    def call(self, inputs: tc.Tensor, training: bool = False) -> tc.Tensor:
        """Identity at inference; random mask and 1/(1-rate) scaling in training."""
        if not training or self.rate == 0.0:
            return inputs
        keep = tc.random.uniform(tuple(inputs.shape), dtype=tc.float32) >= self.rate
        scale = 1.0 / (1.0 - self.rate)
        return inputs * (keep.astype(tc.float32) * scale)

    def get_config(self) -> dict:
        """Constructor arguments as a JSON-ready dict."""
        config = super().get_config()
        config["rate"] = self.rate
        return config
