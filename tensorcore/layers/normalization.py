"""BatchNormalization: batch statistics in training, moving statistics at inference."""

from __future__ import annotations

import numbers

import tensorcore as tc
from tensorcore import initializers
from tensorcore.layers.base import Layer


class BatchNormalization(Layer):
    """Normalizes over every axis but ``axis`` (Keras arguments and defaults).

    training=True (fit): y = gamma * (x - mean_batch) / sqrt(var_batch + epsilon) + beta, and
    moving_mean / moving_variance move toward the batch statistics by (1 - momentum).
    training=False (evaluate / predict) or trainable=False: the moving statistics are used.
    """

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros",
                 moving_variance_initializer="ones", **kwargs):
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            raise TypeError(f"BatchNormalization: axis must be an int. Received: axis={axis!r}")
        for name, value, low in (("momentum", momentum, 0.0), ("epsilon", epsilon, 0.0)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or value < low:
                raise ValueError(f"BatchNormalization: {name} must be a non-negative number. "
                                 f"Received: {name}={value!r}")
        if float(momentum) > 1.0:
            raise ValueError(f"BatchNormalization: momentum must be in [0, 1]. Received: "
                             f"momentum={momentum!r}")
        super().__init__(**kwargs)
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.gamma = self.beta = self.moving_mean = self.moving_variance = None

    def _axis(self, ndim: int) -> int:
        if not -ndim <= self.axis < ndim or ndim < 2:
            raise ValueError(f"{self.name} (BatchNormalization): axis={self.axis} is out of "
                             f"range for inputs of rank {ndim}")
        return self.axis % ndim

    def build(self, input_shape: tuple) -> None:
        """gamma, beta (trainable) and moving_mean, moving_variance, each (channels,)."""
        axis = self._axis(len(input_shape))
        channels = input_shape[axis]
        if channels is None:
            raise ValueError(f"{self.name} (BatchNormalization): the normalized axis must have "
                             f"a known size. Received: input_shape={tuple(input_shape)}")
        shape = (int(channels),)
        if self.scale:
            self.gamma = self.add_weight("gamma", shape, self.gamma_initializer)
        if self.center:
            self.beta = self.add_weight("beta", shape, self.beta_initializer)
        self.moving_mean = self.add_weight("moving_mean", shape, self.moving_mean_initializer,
                                           trainable=False)
        self.moving_variance = self.add_weight("moving_variance", shape,
                                               self.moving_variance_initializer,
                                               trainable=False)
        self.built = True

    def call(self, inputs: tc.Tensor, training: bool = False) -> tc.Tensor:
        """Normalize with batch statistics (training) or the moving ones (inference)."""
        axis = self._axis(inputs.ndim)
        channels = self.moving_mean.shape[0]
        if inputs.shape[axis] != channels:
            raise ValueError(f"{self.name} (BatchNormalization): expected {channels} features "
                             f"on axis {self.axis}. Received: input_shape={tuple(inputs.shape)}")
        shape = [1] * inputs.ndim
        shape[axis] = channels
        shape = tuple(shape)
        if training and self.trainable:
            axes = tuple(d for d in range(inputs.ndim) if d != axis)
            mean = tc.mean(inputs, axis=axes, keepdims=True)
            var = tc.var(inputs, axis=axes, keepdims=True)
            with tc.no_grad():
                keep = self.momentum
                self.moving_mean.assign(self.moving_mean * keep +
                                        mean.reshape((channels,)) * (1.0 - keep))
                self.moving_variance.assign(self.moving_variance * keep +
                                            var.reshape((channels,)) * (1.0 - keep))
        else:
            mean = self.moving_mean.reshape(shape)
            var = self.moving_variance.reshape(shape)
        inv = 1.0 / tc.sqrt(var + self.epsilon)
        if self.gamma is not None:
            inv = inv * self.gamma.reshape(shape)
        outputs = (inputs - mean) * inv
        if self.beta is not None:
            outputs = outputs + self.beta.reshape(shape)
        return outputs

    def get_config(self) -> dict:
        """Constructor arguments as a JSON-ready dict."""
        config = super().get_config()
        config.update({
            "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
            "center": self.center, "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer":
                initializers.serialize(self.moving_variance_initializer),
        })
        return config
