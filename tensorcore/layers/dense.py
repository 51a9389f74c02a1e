"""Dense: a fully connected layer, activation(inputs @ kernel + bias)."""

from __future__ import annotations

import numpy as np

import tensorcore as tc
from tensorcore import activations, initializers
from tensorcore.autograd import custom_op, is_grad_enabled
from tensorcore.backend import current as current_backend
from tensorcore.layers.base import Layer

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
# Activations the fused forward applies inside the bias pass (None = linear).
_FUSED_ACTIVATIONS = (None, "relu")


def _relu_mask(grad: tc.Tensor, output: np.ndarray) -> tc.Tensor:
    """grad where output > 0 else 0 (output: a relu result), recorded as one tape node."""
    grad_data = grad.data
    if not grad_data.flags.c_contiguous or grad_data.dtype != output.dtype:
        return tc.where(tc.from_numpy(output) > 0, grad, 0)
    out = np.empty(output.shape, output.dtype)
    current_backend().relu_backward(grad_data, output, out)
    # d(out)/d(grad) is the same mask, so the rule is linear in its input.
    return custom_op(out, (grad,), lambda g: (_relu_mask(g, output),), "relu_mask")


def _dense_backward_arrays(backend, grad: np.ndarray, out: np.ndarray, x: np.ndarray,
                           w: np.ndarray, activation: str | None, want_x: bool,
                           want_w: bool, want_b: bool) -> tuple:
    """The dense node's gradients straight from the backend: the same kernels on the same
    operands as the Tensor-op rule below (relu mask, grad @ W.T, x.T @ grad, column sum),
    so the results are identical, without the per-op dispatch, validation and wrapping.
    Every operand was checked when the forward ran (the engine has checked versions)."""
    wrap = tc.Tensor._wrap
    grad_x = grad_w = grad_b = None
    if activation == "relu":
        grad_z = np.empty(out.shape, out.dtype)
        if want_b and hasattr(backend, "relu_backward_colsum"):
            # the bias gradient's column sum in the relu mask's pass (same bits)
            grad_b = np.empty(out.shape[1], out.dtype)
            backend.relu_backward_colsum(grad, out, grad_z, grad_b)
            grad_b = wrap(grad_b)
            want_b = False
        else:
            backend.relu_backward(grad, out, grad_z)
    else:
        grad_z = grad
    if want_x:
        grad_x = np.empty(x.shape, out.dtype)
        if grad_x.size:
            backend.matmul(grad_z, w.T, grad_x)
        grad_x = wrap(grad_x)
    if want_w:
        grad_w = np.empty(w.shape, out.dtype)
        if grad_w.size:
            backend.matmul(x.T, grad_z, grad_w)
        grad_w = wrap(grad_w)
    if want_b:
        grad_b = np.empty((1, out.shape[1]), out.dtype)
        backend.reduce("sum", grad_z, (0,), grad_b)
        grad_b = wrap(grad_b.reshape(out.shape[1]))
    return grad_x, grad_w, grad_b


def _dense_fused(inputs: tc.Tensor, kernel: tc.Tensor, bias: tc.Tensor,
                 activation: str | None) -> tc.Tensor:
    """activation(inputs @ kernel + bias) as one tape node: GEMM, then one bias (+relu)
    pass over the hot output; the backward uses the saved output for the relu mask."""
    backend = current_backend()
    x, w = inputs.data, kernel.data
    out = np.empty((x.shape[0], w.shape[1]), x.dtype)
    backend.matmul(x, w, out)
    backend.bias_act(out, bias.data, activation)

    def backward(grad: tc.Tensor) -> tuple:
        g = grad.data
        if not is_grad_enabled() and g.dtype == out.dtype and g.flags.c_contiguous:
            return _dense_backward_arrays(backend, g, out, x, w, activation,
                                          inputs.requires_grad, kernel.requires_grad,
                                          bias.requires_grad)
        # create_graph=True (the rule itself recorded) or an unusual gradient layout
        grad_z = _relu_mask(grad, out) if activation == "relu" else grad
        grad_x = tc.matmul(grad_z, kernel.T) if inputs.requires_grad else None
        grad_w = tc.matmul(inputs.T, grad_z) if kernel.requires_grad else None
        grad_b = tc.sum(grad_z, axis=0) if bias.requires_grad else None
        return grad_x, grad_w, grad_b

    return custom_op(out, (inputs, kernel, bias), backward, "dense")


class KernelBiasLayer(Layer):
    """Settings shared by the layers computing ``activation(f(inputs, kernel) + bias)``
    (Dense, Conv1D, Conv2D): activation, use_bias, the two initializers, and the fused-loss
    hook output_activation."""

    def _set_kernel_bias(self, activation, use_bias: bool, kernel_initializer,
                         bias_initializer) -> None:
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel: tc.Tensor | None = None
        self.bias: tc.Tensor | None = None

    @property
    def output_activation(self) -> str | None:
        """Name of the built-in (or registered) activation, or None for a custom one."""
        return activations.name_of(self.activation)

    def _kernel_bias_config(self) -> dict:
        return {"activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer)}


class Dense(KernelBiasLayer):
    """Densely connected layer: ``activation(inputs @ kernel + bias)``."""

    def __init__(self, units: int, activation=None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 input_shape=None, **kwargs):
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(f"Dense: units must be a positive int. Received: units={units!r}")
        super().__init__(input_shape=input_shape, **kwargs)
        self.units = int(units)
        self._set_kernel_bias(activation, use_bias, kernel_initializer, bias_initializer)

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
        self._check_inputs(inputs)
        if self._can_fuse(inputs, None):
            return _dense_fused(inputs, self.kernel, self.bias, None)
        outputs = tc.matmul(inputs, self.kernel)
        if self.bias is not None:
            outputs = outputs + self.bias
        return outputs

    def call(self, inputs: tc.Tensor, training: bool = False) -> tc.Tensor:
        """activation(inputs @ kernel + bias)."""
        self._check_inputs(inputs)
        activation = self.output_activation
        if activation in ("relu", "linear") and self._can_fuse(inputs, activation):
            return _dense_fused(inputs, self.kernel, self.bias,
                                None if activation == "linear" else activation)
        return self.activation(self.call_logits(inputs, training))

    def _check_inputs(self, inputs: tc.Tensor) -> None:
        """Raise ValueError unless the last input dimension matches the kernel."""
        if inputs.ndim == 0 or inputs.shape[-1] != self.kernel.shape[0]:
            raise ValueError(
                f"{self.name}: expected inputs with last dimension {self.kernel.shape[0]}. "
                f"Received: inputs with shape {tuple(inputs.shape)}"
            )

    def _can_fuse(self, inputs: tc.Tensor, activation: str | None) -> bool:
        """True when the backend's fused bias/activation kernels apply to these operands:
        2-D float inputs, a bias, one dtype throughout, C-contiguous operands."""
        bias = self.bias
        if bias is None or inputs.ndim != 2 or not hasattr(current_backend(), "bias_act"):
            return False
        x, w, b = inputs.data, self.kernel.data, bias.data
        return (x.dtype in _FLOAT_DTYPES and x.dtype == w.dtype == b.dtype
                and x.flags.c_contiguous and b.flags.c_contiguous
                and x.shape[0] > 0 and (activation is None
                                        or hasattr(current_backend(), "relu_backward")))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """Same as the input shape with the last axis replaced by units."""
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self) -> dict:
        """Constructor arguments as a JSON-ready dict."""
        config = super().get_config()
        config["units"] = self.units
        config.update(self._kernel_bias_config())
        return config
