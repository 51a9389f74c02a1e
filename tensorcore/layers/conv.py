"""Conv1D and Conv2D: channels-last convolutions, activation(conv(inputs, kernel) + bias)."""

from __future__ import annotations

import numbers

import numpy as np

import tensorcore as tc
from tensorcore import activations
from tensorcore.autograd import custom_op, needs_grad
from tensorcore.backend import current as current_backend
from tensorcore.layers.dense import KernelBiasLayer, _relu_mask
from tensorcore.ops_conv import conv_output_length

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _tuple(layer: str, name: str, value, rank: int) -> tuple:
    items = (value,) * rank if isinstance(value, (numbers.Integral, np.integer)) else value
    try:
        items = tuple(items)
    except TypeError:
        items = ()
    if len(items) != rank or any(isinstance(v, bool) or
                                 not isinstance(v, (numbers.Integral, np.integer)) or v < 1
                                 for v in items):
        raise ValueError(f"{layer}: {name} must be a positive int or a tuple of {rank} "
                         f"positive ints. Received: {name}={value!r}")
    return tuple(int(v) for v in items)


def bias_activation(z: tc.Tensor, bias: tc.Tensor | None, activation) -> tc.Tensor:
    """activation(z + bias) over the last axis of a freshly computed z.

    With a backend that has the fused kernels (C), z's buffer is updated in place in one
    pass and the node's backward uses the saved output for the relu mask. z must be a
    temporary nobody else reads (the layers pass the conv result straight in)."""
    name = None
    try:
        name = activations.serialize(activation)
    except ValueError:
        pass
    backend = current_backend()
    data = z.data
    if (bias is not None and name in ("relu", "linear") and hasattr(backend, "bias_act")
            and data.dtype in _FLOAT_DTYPES and data.dtype == bias.dtype
            and data.flags.c_contiguous and data.size and bias.data.flags.c_contiguous):
        act = None if name == "linear" else "relu"
        out = data   # in place: z is a temporary whose values its own backward never reads
        backend.bias_act(out.reshape(-1, out.shape[-1]), bias.data, act)
        axes = tuple(range(out.ndim - 1))

        def backward(grad: tc.Tensor) -> tuple:
            grad_z = _relu_mask(grad, out) if act == "relu" else grad
            grad_b = tc.sum(grad_z, axis=axes) if bias.requires_grad else None
            return grad_z, grad_b

        if needs_grad(z, bias):
            return custom_op(out, (z, bias), backward, "bias_activation")
        return tc.Tensor._wrap(out)
    if bias is not None:
        z = z + bias
    return activation(z)


class _Conv(KernelBiasLayer):
    """Shared body of Conv1D / Conv2D."""

    rank = 2

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid",
                 dilation_rate=1, groups: int = 1, activation=None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 input_shape=None, **kwargs):
        cls = type(self).__name__
        if isinstance(filters, bool) or not isinstance(filters, (int, np.integer)) \
                or filters <= 0:
            raise ValueError(f"{cls}: filters must be a positive int. Received: "
                             f"filters={filters!r}")
        modes = ("valid", "same", "causal") if self.rank == 1 else ("valid", "same")
        if not isinstance(padding, str) or padding.lower() not in modes:
            raise ValueError(f"{cls}: unknown padding {padding!r}; expected one of {modes}")
        if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
            raise ValueError(f"{cls}: groups must be a positive int. Received: groups={groups!r}")
        if filters % groups:
            raise ValueError(f"{cls}: filters={filters} is not divisible by groups={groups}")
        self.kernel_size = _tuple(cls, "kernel_size", kernel_size, self.rank)
        self.strides = _tuple(cls, "strides", strides, self.rank)
        self.dilation_rate = _tuple(cls, "dilation_rate", dilation_rate, self.rank)
        super().__init__(input_shape=input_shape, **kwargs)
        self.filters = int(filters)
        self.padding = padding.lower()
        self.groups = int(groups)
        self._set_kernel_bias(activation, use_bias, kernel_initializer, bias_initializer)

    def _check_shape(self, shape: tuple) -> None:
        rank = self.rank + 2
        layout = "(batch, steps, channels)" if self.rank == 1 else \
            "(batch, height, width, channels)"
        if len(shape) != rank or shape[-1] is None:
            raise ValueError(f"{self.name} ({type(self).__name__}): expected inputs of rank "
                             f"{rank} {layout} with known channels. Received: input_shape="
                             f"{tuple(shape)}")
        if self.kernel is not None and shape[-1] != self.kernel.shape[-2] * self.groups:
            raise ValueError(f"{self.name} ({type(self).__name__}): expected "
                             f"{self.kernel.shape[-2] * self.groups} input channels. "
                             f"Received: input_shape={tuple(shape)}")

    def build(self, input_shape: tuple) -> None:
        """Create kernel (*kernel_size, channels / groups, filters) and bias (filters,)."""
        self._check_shape(input_shape)
        channels = int(input_shape[-1])
        if channels % self.groups:
            raise ValueError(f"{self.name} ({type(self).__name__}): {channels} input channels "
                             f"are not divisible by groups={self.groups}")
        self.compute_output_shape(input_shape)     # rejects a kernel larger than the input
        self.kernel = self.add_weight(
            "kernel", self.kernel_size + (channels // self.groups, self.filters),
            self.kernel_initializer)
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.filters,), self.bias_initializer)
        self.built = True

    def _conv(self, inputs: tc.Tensor) -> tc.Tensor:
        self._check_shape(tuple(inputs.shape))
        op = tc.conv1d if self.rank == 1 else tc.conv2d
        return op(inputs, self.kernel, self.strides, self.padding, self.dilation_rate,
                  self.groups)

    def call(self, inputs: tc.Tensor, training: bool = False) -> tc.Tensor:
        """activation(conv(inputs, kernel) + bias)."""
        return bias_activation(self._conv(inputs), self.bias, self.activation)

    def call_logits(self, inputs: tc.Tensor, training: bool = False) -> tc.Tensor:
        """conv(inputs, kernel) + bias, before the activation."""
        return bias_activation(self._conv(inputs), self.bias, activations.get("linear"))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """(batch, *spatial output sizes, filters)."""
        self._check_shape(input_shape)
        sizes = []
        for n, k, s, d in zip(input_shape[1:-1], self.kernel_size, self.strides,
                              self.dilation_rate):
            if n is None:
                sizes.append(None)
                continue
            size = conv_output_length(n, k, s, self.padding, d)
            if size <= 0:
                raise ValueError(f"{self.name} ({type(self).__name__}): kernel_size "
                                 f"{self.kernel_size} (dilation {self.dilation_rate}) is larger "
                                 f"than the input. Received: input_shape={tuple(input_shape)}")
            sizes.append(size)
        return (input_shape[0],) + tuple(sizes) + (self.filters,)

    def get_config(self) -> dict:
        """Constructor arguments as a JSON-ready dict."""
        config = super().get_config()
        config.update({
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "dilation_rate": list(self.dilation_rate),
            "groups": self.groups,
        })
        config.update(self._kernel_bias_config())
        return config


class Conv2D(_Conv):
    """2-D convolution over (batch, height, width, channels) inputs (Keras arguments)."""

    rank = 2


class Conv1D(_Conv):
    """1-D convolution over (batch, steps, channels) inputs; padding also "causal"."""

    rank = 1
