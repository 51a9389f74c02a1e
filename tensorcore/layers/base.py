"""The Layer base class: settings in __init__, weights in build(), math in call()."""

from __future__ import annotations

import contextvars
import re
from typing import Any

import numpy as np

import tensorcore as tc
from tensorcore import initializers

_NAME_COUNTS: dict[str, int] = {}


def _snake_case(class_name: str) -> str:
    """CamelCase class name -> snake_case layer name prefix, as Keras spells it (Conv2D ->
    conv2d, MaxPooling2D -> max_pooling2d, BatchNormalization -> batch_normalization)."""
    words = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", class_name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", words).lower()


def unique_name(prefix: str) -> str:
    """Return prefix, prefix_1, prefix_2, ... on successive calls (as Keras names layers)."""
    count = _NAME_COUNTS.get(prefix, 0)
    _NAME_COUNTS[prefix] = count + 1
    return prefix if count == 0 else f"{prefix}_{count}"


def to_tensor(value: Any, dtype=None) -> tc.Tensor:
    """Turn layer input into a float tensor: `dtype` when given; else float32 and float64
    keep their dtype and everything else (ints, bools, lists) becomes float32."""
    if dtype is None:
        current = getattr(value, "dtype", None)
        keep = current is not None and np.dtype(current) in (np.float32, np.float64)
        dtype = np.dtype(current) if keep else tc.float32
    return tc.as_tensor(value, dtype)


_LAYER_DTYPES = {"float32": np.dtype(np.float32), "float64": np.dtype(np.float64)}


def _layer_dtype(owner: str, dtype) -> np.dtype:
    """The compute and weight dtype of a layer: float32 (default) or float64."""
    if dtype is None:
        return _LAYER_DTYPES["float32"]
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        resolved = None
    if resolved not in _LAYER_DTYPES.values():
        raise ValueError(f"{owner}: dtype must be 'float32' or 'float64'. Received: "
                         f"dtype={dtype!r}")
    return resolved


def is_symbolic(value) -> bool:
    """True for a functional-API symbolic tensor, or a list/dict holding one."""
    if isinstance(value, (list, tuple)):
        return any(is_symbolic(item) for item in value)
    if isinstance(value, dict):
        return any(is_symbolic(item) for item in value.values())
    return getattr(value, "_is_symbolic_tensor", False)


def _normalize_input_shape(input_shape, op: str = "Layer") -> tuple[int, ...] | None:
    """Validate the input_shape argument (per-sample shape, without the batch axis)."""
    if input_shape is None:
        return None
    if isinstance(input_shape, (int, np.integer)):
        input_shape = (input_shape,)
    try:
        shape = tuple(input_shape)
        if any(isinstance(d, bool) or not isinstance(d, (int, np.integer)) for d in shape):
            raise TypeError
        shape = tuple(int(dim) for dim in shape)
    except (TypeError, ValueError):
        raise TypeError(
            f"{op}: input_shape must be a tuple of positive ints. "
            f"Received: input_shape={input_shape!r}"
        ) from None
    if any(dim <= 0 for dim in shape):
        raise ValueError(
            f"{op}: input_shape must be a tuple of positive ints. "
            f"Received: input_shape={input_shape!r}"
        )
    return shape


# While a model is rebuilt from a file: [elements its weight arrays still hold], else None.
WEIGHT_BUDGET: contextvars.ContextVar = contextvars.ContextVar("tensorcore_weight_budget",
                                                              default=None)


class Layer:
    """Base class of all layers: holds weights, builds them lazily, and is callable."""

    def __init__(self, name: str | None = None, input_shape=None, trainable: bool = True,
                 dtype=None, **kwargs):
        if kwargs:
            raise TypeError(
                f"{type(self).__name__}: unexpected keyword arguments {sorted(kwargs)}"
            )
        self.name = name if name is not None else unique_name(_snake_case(type(self).__name__))
        self.trainable = bool(trainable)
        # weights are created in, and inputs cast to, this dtype (Keras' layer dtype)
        self.dtype = _layer_dtype(type(self).__name__, dtype)
        self.built = False
        self.input_shape_arg = _normalize_input_shape(input_shape, type(self).__name__)
        self._weight_names: list[str] = []
        self._weight_tensors: list[tc.Tensor] = []
        self._weight_trainable: list[bool] = []

    # ------------------------------------------------------------------ weights
    def add_weight(self, name: str, shape: tuple[int, ...], initializer="glorot_uniform",
                   trainable: bool = True) -> tc.Tensor:
        """Create, register and return a weight tensor of the layer's dtype."""
        budget = WEIGHT_BUDGET.get()
        if budget is not None:
            # Loading an untrusted file: refuse, before allocating, weights larger than
            # what the file itself declares (a config with units=2**31, say).
            count = 1
            for n in shape:
                count *= int(n)
            if count > budget[0]:
                raise ValueError(f"{self.name}: weight '{name}' of shape {tuple(shape)} needs "
                                 f"{count} elements but the file's weights hold only "
                                 f"{budget[0]} more; the architecture does not match them")
            budget[0] -= count
        value = initializers.get(initializer)(tuple(shape))
        if not isinstance(value, tc.Tensor):
            value = tc.as_tensor(np.asarray(value), self.dtype)
        if value.dtype != self.dtype:
            value = value.astype(self.dtype)
        if tuple(value.shape) != tuple(shape):
            raise ValueError(f"{self.name}: initializer for '{name}' returned shape "
                             f"{value.shape}, expected {tuple(shape)}")
        weight = tc.tensor(value.numpy(), dtype=self.dtype, requires_grad=trainable)
        self._weight_names.append(name)
        self._weight_tensors.append(weight)
        self._weight_trainable.append(trainable)
        return weight

    @property
    def weights(self) -> list[tc.Tensor]:
        """All weight tensors, trainable first (Keras order)."""
        return self.trainable_weights + self.non_trainable_weights

    @property
    def trainable_weights(self) -> list[tc.Tensor]:
        """Weights updated by the optimizer."""
        if not self.trainable:
            return []
        return [w for w, t in zip(self._weight_tensors, self._weight_trainable) if t]

    @property
    def non_trainable_weights(self) -> list[tc.Tensor]:
        """Weights the optimizer leaves alone."""
        if not self.trainable:
            return list(self._weight_tensors)
        return [w for w, t in zip(self._weight_tensors, self._weight_trainable) if not t]

    @property
    def weight_names(self) -> list[str]:
        """Names of self.weights, in the same order, prefixed by the layer name."""
        order = {id(w): n for w, n in zip(self._weight_tensors, self._weight_names)}
        return [f"{self.name}/{order[id(w)]}" for w in self.weights]

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the weights as NumPy arrays, in self.weights order."""
        return [w.numpy().copy() for w in self.weights]

    def set_weights(self, weights: list) -> None:
        """Overwrite the weights from a list of arrays (same order and shapes as get_weights)."""
        current = self.weights
        if len(weights) != len(current):
            raise ValueError(
                f"{self.name}: set_weights expected a list of {len(current)} arrays. "
                f"Received: a list of {len(weights)}"
            )
        arrays = [np.asarray(w.numpy() if isinstance(w, tc.Tensor) else w) for w in weights]
        for target, array, label in zip(current, arrays, self.weight_names):
            if tuple(array.shape) != tuple(target.shape):
                raise ValueError(
                    f"{self.name}: set_weights got shape {array.shape} for '{label}', "
                    f"expected {tuple(target.shape)}"
                )
        for target, array in zip(current, arrays):
            target.assign(tc.as_tensor(array, target.dtype))

    def count_params(self) -> int:
        """Total number of scalars in the weights."""
        return sum(int(w.size) for w in self.weights)

    # ------------------------------------------------------------------ computation
    def build(self, input_shape: tuple) -> None:
        """Create the weights for inputs of this shape (batch axis included, may be None)."""
        self.built = True

    def call(self, inputs: tc.Tensor, training: bool = False) -> tc.Tensor:
        """The layer's math, on a tensor; subclasses override this."""
        return inputs

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """Output shape for an input shape (batch axis included, may be None)."""
        return tuple(input_shape)

    # True for layers called on a list of tensors (Concatenate, Add).
    _multi_input = False

    def __call__(self, inputs, training: bool = False) -> tc.Tensor:
        """Build on first use, then apply call(). On symbolic inputs (tc.Input), record the
        call in the functional graph and return a symbolic output instead."""
        if is_symbolic(inputs):
            from tensorcore.models.functional import symbolic_call
            return symbolic_call(self, inputs)
        if self._multi_input:
            inputs = [to_tensor(item, self.dtype) for item in inputs]
            if not self.built:
                self.build([(None,) + tuple(item.shape[1:]) for item in inputs])
                self.built = True
            return self.call(inputs, training=training)
        inputs = to_tensor(inputs, self.dtype)
        if not self.built:
            self.build((None,) + tuple(inputs.shape[1:]))
            self.built = True
        return self.call(inputs, training=training)

    # ------------------------------------------------------------------ fused losses
    @property
    def output_activation(self) -> str | None:
        """Name of the activation applied last by call() ("softmax", "sigmoid", ...), if any."""
        return None

    def call_logits(self, inputs: tc.Tensor, training: bool = False) -> tc.Tensor:
        """call() without its final activation (used to fuse softmax with crossentropy)."""
        raise NotImplementedError(f"{type(self).__name__} has no separate final activation")

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict:
        """Constructor arguments as a JSON-ready dict."""
        config: dict[str, Any] = {"name": self.name, "trainable": self.trainable}
        if self.input_shape_arg is not None:
            config["input_shape"] = list(self.input_shape_arg)
        if self.dtype != np.float32:
            config["dtype"] = self.dtype.name
        return config

    @classmethod
    def from_config(cls, config: dict) -> Layer:
        """Create a layer from get_config()'s output."""
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} built={self.built}>"
