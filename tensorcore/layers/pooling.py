"""Pooling layers: MaxPooling1D/2D, AveragePooling1D/2D and the global poolings."""

from __future__ import annotations

import tensorcore as tc
from tensorcore.layers.base import Layer
from tensorcore.layers.conv import _tuple
from tensorcore.ops_conv import conv_output_length


def _check_rank(layer: Layer, rank: int, shape: tuple) -> None:
    """ValueError naming the layer unless inputs are (batch, *rank spatial axes, channels)."""
    if len(shape) != rank + 2:
        raise ValueError(f"{layer.name} ({type(layer).__name__}): expected inputs of rank "
                         f"{rank + 2}. Received: input_shape={tuple(shape)}")


class _Pooling(Layer):
    rank = 2
    kind = "max"

    def __init__(self, pool_size=2, strides=None, padding: str = "valid", **kwargs):
        cls = type(self).__name__
        self.pool_size = _tuple(cls, "pool_size", pool_size, self.rank)
        self.strides = self.pool_size if strides is None else \
            _tuple(cls, "strides", strides, self.rank)
        if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
            raise ValueError(f"{cls}: unknown padding {padding!r}; expected 'valid' or 'same'")
        self.padding = padding.lower()
        super().__init__(**kwargs)

    def call(self, inputs: tc.Tensor, training: bool = False) -> tc.Tensor:
        """Pooled inputs."""
        _check_rank(self, self.rank, inputs.shape)
        op = {("max", 1): tc.max_pool1d, ("max", 2): tc.max_pool2d,
              ("avg", 1): tc.avg_pool1d, ("avg", 2): tc.avg_pool2d}[self.kind, self.rank]
        return op(inputs, self.pool_size, self.strides, self.padding)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """(batch, *pooled sizes, channels)."""
        _check_rank(self, self.rank, input_shape)
        sizes = []
        for n, k, s in zip(input_shape[1:-1], self.pool_size, self.strides):
            size = None if n is None else conv_output_length(n, k, s, self.padding)
            if size is not None and size <= 0:
                raise ValueError(f"{self.name} ({type(self).__name__}): pool_size "
                                 f"{self.pool_size} is larger than the input. Received: "
                                 f"input_shape={tuple(input_shape)}")
            sizes.append(size)
        return (input_shape[0],) + tuple(sizes) + (input_shape[-1],)

    def build(self, input_shape: tuple) -> None:
        """No weights; checks the input shape."""
        self.compute_output_shape(input_shape)
        self.built = True

    def get_config(self) -> dict:
        """Constructor arguments as a JSON-ready dict."""
        config = super().get_config()
        config.update({"pool_size": list(self.pool_size), "strides": list(self.strides),
                       "padding": self.padding})
        return config


class MaxPooling2D(_Pooling):
    """Max over pool_size windows of (batch, height, width, channels) inputs."""

    rank, kind = 2, "max"


class AveragePooling2D(_Pooling):
    """Mean over pool_size windows of (batch, height, width, channels) inputs."""

    rank, kind = 2, "avg"


class MaxPooling1D(_Pooling):
    """Max over pool_size windows of (batch, steps, channels) inputs."""

    rank, kind = 1, "max"


class AveragePooling1D(_Pooling):
    """Mean over pool_size windows of (batch, steps, channels) inputs."""

    rank, kind = 1, "avg"


class _GlobalPooling(Layer):
    rank = 2
    kind = "avg"

    def __init__(self, keepdims: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.keepdims = bool(keepdims)

    def call(self, inputs: tc.Tensor, training: bool = False) -> tc.Tensor:
        """Mean or max over the spatial axes."""
        _check_rank(self, self.rank, inputs.shape)
        op = {("avg", 1): tc.global_avg_pool1d, ("avg", 2): tc.global_avg_pool2d,
              ("max", 1): tc.global_max_pool1d, ("max", 2): tc.global_max_pool2d}
        return op[self.kind, self.rank](inputs, keepdims=self.keepdims)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """(batch, channels), or with the spatial axes kept as 1."""
        _check_rank(self, self.rank, input_shape)
        if self.keepdims:
            return (input_shape[0],) + (1,) * self.rank + (input_shape[-1],)
        return (input_shape[0], input_shape[-1])

    def get_config(self) -> dict:
        """Constructor arguments as a JSON-ready dict."""
        config = super().get_config()
        config["keepdims"] = self.keepdims
        return config


class GlobalAveragePooling2D(_GlobalPooling):
    """Mean over height and width: (batch, channels)."""

    rank, kind = 2, "avg"


class GlobalMaxPooling2D(_GlobalPooling):
    """Max over height and width: (batch, channels)."""

    rank, kind = 2, "max"


class GlobalAveragePooling1D(_GlobalPooling):
    """Mean over steps: (batch, channels)."""

    rank, kind = 1, "avg"


class GlobalMaxPooling1D(_GlobalPooling):
    """Max over steps: (batch, channels)."""

    rank, kind = 1, "max"
