"""Shape layers: Reshape and ZeroPadding2D."""

from __future__ import annotations

import math
import numbers

import numpy as np

import tensorcore as tc
from tensorcore.autograd import custom_op
from tensorcore.backend import current as current_backend
from tensorcore.layers.base import Layer


class Reshape(Layer):
    """Reshapes each sample to target_shape (one entry may be -1)."""

    def __init__(self, target_shape, **kwargs):
        try:
            target = tuple(target_shape)
        except TypeError:
            target = None
        if target is None or any(isinstance(d, bool) or not isinstance(d, numbers.Integral)
                                 or (d < 1 and d != -1) for d in target) \
                or sum(d == -1 for d in target) > 1:
            raise ValueError("Reshape: target_shape must be a tuple of positive ints with at "
                             f"most one -1. Received: target_shape={target_shape!r}")
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target)

    def _resolve(self, sample_shape: tuple) -> tuple:
        if any(d is None for d in sample_shape):
            return tuple(None if d == -1 else d for d in self.target_shape)
        total = math.prod(sample_shape)
        known = math.prod(d for d in self.target_shape if d != -1)
        if -1 in self.target_shape:
            if known == 0 or total % known:
                raise ValueError(f"{self.name} (Reshape): cannot reshape samples of shape "
                                 f"{tuple(sample_shape)} to {self.target_shape}")
            return tuple(total // known if d == -1 else d for d in self.target_shape)
        if known != total:
            raise ValueError(f"{self.name} (Reshape): cannot reshape samples of shape "
                             f"{tuple(sample_shape)} ({total} values) to {self.target_shape} "
                             f"({known} values)")
        return self.target_shape

    def call(self, inputs: tc.Tensor, training: bool = False) -> tc.Tensor:
        """inputs reshaped to (batch,) + target_shape."""
        return inputs.reshape((inputs.shape[0],) + self._resolve(tuple(inputs.shape[1:])))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """(batch,) + target_shape with -1 resolved."""
        return (input_shape[0],) + self._resolve(tuple(input_shape[1:]))

    def get_config(self) -> dict:
        """Constructor arguments as a JSON-ready dict."""
        config = super().get_config()
        config["target_shape"] = list(self.target_shape)
        return config


def _pad_pairs(padding) -> tuple:
    if isinstance(padding, numbers.Integral) and not isinstance(padding, bool):
        pairs = ((padding, padding), (padding, padding))
    else:
        try:
            items = tuple(padding)
        except TypeError:
            items = ()
        if len(items) != 2:
            pairs = None
        elif all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in items):
            pairs = ((items[0], items[0]), (items[1], items[1]))
        else:
            try:
                pairs = tuple(tuple(p) for p in items)
            except TypeError:
                pairs = None
    if pairs is None or any(len(p) != 2 or any(isinstance(v, bool) or
                                               not isinstance(v, numbers.Integral) or v < 0
                                               for v in p) for p in pairs):
        raise ValueError("ZeroPadding2D: padding must be an int, a pair of ints or a pair of "
                         f"(before, after) pairs, all >= 0. Received: padding={padding!r}")
    return tuple((int(a), int(b)) for a, b in pairs)


class ZeroPadding2D(Layer):
    """Adds rows and columns of zeros around (batch, height, width, channels) inputs."""

    def __init__(self, padding=(1, 1), **kwargs):
        self.padding = _pad_pairs(padding)
        super().__init__(**kwargs)

    def call(self, inputs: tc.Tensor, training: bool = False) -> tc.Tensor:
        """The zero-padded inputs (gradient: the inner window of the output gradient)."""
        if inputs.ndim != 4:
            raise ValueError(f"{self.name} (ZeroPadding2D): expected inputs of rank 4. "
                             f"Received: input_shape={tuple(inputs.shape)}")
        (top, bottom), (left, right) = self.padding
        n, h, w, c = inputs.shape
        out = np.zeros((n, h + top + bottom, w + left + right, c), inputs.dtype)
        inner = (slice(None), slice(top, top + h), slice(left, left + w), slice(None))
        if inputs.size:
            current_backend().copy(inputs.data, out[inner])
        return custom_op(out, (inputs,), lambda g: (g[inner],), "zero_padding2d")

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """Height and width grown by the padding."""
        if len(input_shape) != 4:
            raise ValueError(f"{self.name} (ZeroPadding2D): expected inputs of rank 4. "
                             f"Received: input_shape={tuple(input_shape)}")
        (top, bottom), (left, right) = self.padding
        n, h, w, c = input_shape
        return (n, None if h is None else h + top + bottom,
                None if w is None else w + left + right, c)

    def get_config(self) -> dict:
        """Constructor arguments as a JSON-ready dict."""
        config = super().get_config()
        config["padding"] = [list(p) for p in self.padding]
        return config
