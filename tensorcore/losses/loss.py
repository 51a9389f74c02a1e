"""Loss classes (thin wrappers over the functions) and name resolution."""

from __future__ import annotations

from typing import Callable

import tensorcore as tc
from tensorcore.losses import functions
from tensorcore.registry import Registry


def broadcast_weights(sample_weight, values: tc.Tensor) -> tc.Tensor:
    """Per-sample weights (n,) as a float tensor shaped (n, 1, ...) to multiply `values`."""
    weights = tc.as_tensor(sample_weight)
    if weights.dtype != values.dtype:
        weights = weights.astype(values.dtype)
    if weights.ndim == 2 and weights.shape[1] == 1 and values.ndim == 1:
        weights = tc.reshape(weights, (-1,))
    if weights.ndim == 1 and values.ndim > 1:
        weights = tc.reshape(weights, (weights.shape[0],) + (1,) * (values.ndim - 1))
    if weights.ndim > values.ndim or tuple(weights.shape[:1]) != tuple(values.shape[:1]):
        raise ValueError(f"sample_weight of shape {tuple(weights.shape)} does not match "
                         f"per-sample values of shape {tuple(values.shape)}")
    return weights


class Loss:
    """Base class: call() gives per-sample losses; calling the object gives their batch mean."""

    # Name of the output activation this loss can absorb (see call_fused), or None.
    fused_activation: str | None = None

    def __init__(self, name: str | None = None, reduction: str = "sum_over_batch_size"):
        if reduction not in ("sum_over_batch_size", "sum", "none"):
            raise ValueError(
                "reduction must be 'sum_over_batch_size', 'sum' or 'none'. "
                f"Received: reduction={reduction!r}"
            )
        self.name = name or type(self).__name__
        self.reduction = reduction

    def call(self, y_true, y_pred) -> tc.Tensor:
        """Per-sample loss values."""
        raise NotImplementedError

    def reduce(self, per_sample: tc.Tensor, sample_weight=None) -> tc.Tensor:
        """Apply the reduction to per-sample losses, weighting them first when asked.

        Keras's definitions: the losses are multiplied by ``sample_weight`` (one weight per
        sample, broadcast over any further axes), then "sum_over_batch_size" divides the
        sum of the weighted losses by their number of entries (the batch size for
        per-sample losses, NOT the sum of the weights), "sum" sums them and "none"
        returns them unreduced.
        """
        if sample_weight is not None:
            per_sample = per_sample * broadcast_weights(sample_weight, per_sample)
        if self.reduction == "none":
            return per_sample
        if self.reduction == "sum":
            return tc.sum(per_sample)
        return tc.mean(per_sample)

    def __call__(self, y_true, y_pred, sample_weight=None) -> tc.Tensor:
        """Reduced (optionally sample-weighted) loss of a batch (a scalar tensor by default)."""
        return self.reduce(self.call(y_true, y_pred), sample_weight)

    def can_fuse(self, activation: str | None) -> bool:
        """True when this loss applied after `activation` can be computed from the logits."""
        return (activation is not None and activation == self.fused_activation
                and not getattr(self, "from_logits", True))

    def call_fused(self, y_true, logits: tc.Tensor) -> tc.Tensor:
        """Per-sample loss of activation(logits), computed stably from the logits."""
        raise NotImplementedError

    def get_config(self) -> dict:
        """Constructor arguments as a JSON-ready dict."""
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict) -> "Loss":
        """Create a loss from get_config()'s output."""
        return cls(**config)


class CategoricalCrossentropy(Loss):
    """Crossentropy for one-hot labels."""

    fused_activation = "softmax"

    def __init__(self, from_logits: bool = False, name: str = "categorical_crossentropy",
                 reduction: str = "sum_over_batch_size"):
        super().__init__(name=name, reduction=reduction)
        self.from_logits = bool(from_logits)

    def call(self, y_true, y_pred) -> tc.Tensor:
        """Per-sample categorical crossentropy."""
        return functions.categorical_crossentropy(y_true, y_pred, from_logits=self.from_logits)

    def call_fused(self, y_true, logits: tc.Tensor) -> tc.Tensor:
        """Per-sample crossentropy of softmax(logits)."""
        return functions.categorical_crossentropy(y_true, logits, from_logits=True)

    def get_config(self) -> dict:
        """Constructor arguments as a JSON-ready dict."""
        return {**super().get_config(), "from_logits": self.from_logits}


class SparseCategoricalCrossentropy(Loss):
    """Crossentropy for integer labels."""

    fused_activation = "softmax"

    def __init__(self, from_logits: bool = False,
                 name: str = "sparse_categorical_crossentropy",
                 reduction: str = "sum_over_batch_size"):
        super().__init__(name=name, reduction=reduction)
        self.from_logits = bool(from_logits)

    def call(self, y_true, y_pred) -> tc.Tensor:
        """Per-sample sparse categorical crossentropy."""
        return functions.sparse_categorical_crossentropy(y_true, y_pred,
                                                         from_logits=self.from_logits)

    def call_fused(self, y_true, logits: tc.Tensor) -> tc.Tensor:
        """Per-sample crossentropy of softmax(logits)."""
        return functions.sparse_categorical_crossentropy(y_true, logits, from_logits=True)

    def get_config(self) -> dict:
        """Constructor arguments as a JSON-ready dict."""
        return {**super().get_config(), "from_logits": self.from_logits}


class BinaryCrossentropy(Loss):
    """Crossentropy for 0/1 labels, averaged over the last axis."""

    fused_activation = "sigmoid"

    def __init__(self, from_logits: bool = False, name: str = "binary_crossentropy",
                 reduction: str = "sum_over_batch_size"):
        super().__init__(name=name, reduction=reduction)
        self.from_logits = bool(from_logits)

    def call(self, y_true, y_pred) -> tc.Tensor:
        """Per-sample binary crossentropy."""
        return functions.binary_crossentropy(y_true, y_pred, from_logits=self.from_logits)

    def call_fused(self, y_true, logits: tc.Tensor) -> tc.Tensor:
        """Per-sample binary crossentropy of sigmoid(logits)."""
        return functions.binary_crossentropy(y_true, logits, from_logits=True)

    def get_config(self) -> dict:
        """Constructor arguments as a JSON-ready dict."""
        return {**super().get_config(), "from_logits": self.from_logits}


class MeanSquaredError(Loss):
    """Mean of squared differences."""

    def __init__(self, name: str = "mean_squared_error",
                 reduction: str = "sum_over_batch_size"):
        super().__init__(name=name, reduction=reduction)

    def call(self, y_true, y_pred) -> tc.Tensor:
        """Per-sample mean squared error."""
        return functions.mean_squared_error(y_true, y_pred)


class MeanAbsoluteError(Loss):
    """Mean of absolute differences."""

    def __init__(self, name: str = "mean_absolute_error",
                 reduction: str = "sum_over_batch_size"):
        super().__init__(name=name, reduction=reduction)

    def call(self, y_true, y_pred) -> tc.Tensor:
        """Per-sample mean absolute error."""
        return functions.mean_absolute_error(y_true, y_pred)


class LossFunctionWrapper(Loss):
    """Wraps a user function ``fn(y_true, y_pred) -> per-sample tensor`` as a Loss."""

    def __init__(self, fn: Callable, name: str | None = None,
                 reduction: str = "sum_over_batch_size"):
        super().__init__(name=name or getattr(fn, "__name__", "loss"), reduction=reduction)
        self.fn = fn

    def call(self, y_true, y_pred) -> tc.Tensor:
        """Per-sample values from the wrapped function."""
        return self.fn(y_true, y_pred)

    def get_config(self) -> dict:
        """Custom functions cannot be saved."""
        raise ValueError(f"Cannot serialize custom loss function {self.name!r}")


# The built-in losses by name (class names and mse/mae as aliases), in the one registry
# mechanism of tensorcore/registry.py; user Loss subclasses join with
# @tc.saving.register_serializable.
REGISTRY = Registry("loss", base=Loss)
for _name, _cls, _aliases in (
        ("categorical_crossentropy", CategoricalCrossentropy, ()),
        ("sparse_categorical_crossentropy", SparseCategoricalCrossentropy, ()),
        ("binary_crossentropy", BinaryCrossentropy, ()),
        ("mean_squared_error", MeanSquaredError, ("mse",)),
        ("mean_absolute_error", MeanAbsoluteError, ("mae",))):
    REGISTRY.add(_name, _cls, aliases=(_cls.__name__, *_aliases))
del _name, _cls, _aliases
_FUNCTIONS = {
    functions.categorical_crossentropy: "categorical_crossentropy",
    functions.sparse_categorical_crossentropy: "sparse_categorical_crossentropy",
    functions.binary_crossentropy: "binary_crossentropy",
    functions.mean_squared_error: "mean_squared_error",
    functions.mean_absolute_error: "mean_absolute_error",
}


def canonical_name(identifier: str) -> str | None:
    """Return the canonical snake_case loss name for a name or alias, or None."""
    return REGISTRY.canonical(identifier)


def get(identifier) -> Loss:
    """Resolve a loss given as a name ("mse", "categorical_crossentropy"), a Loss, or a function."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        cls = REGISTRY.lookup(identifier)
        if cls is None:
            raise ValueError(
                f"Unknown loss: {identifier!r}. Expected one of "
                f"{REGISTRY.all_names()}, a Loss instance or a function."
            )
        return cls()
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier):
        name = _FUNCTIONS.get(identifier)
        return REGISTRY.lookup(name)() if name else LossFunctionWrapper(identifier)
    raise TypeError(
        f"loss must be a string, a Loss or a function. Received: loss={identifier!r}"
    )


def serialize(loss: Loss) -> dict:
    """Return a JSON-ready description of a built-in or registered loss."""
    config = REGISTRY.serialize(loss)
    if config is None:
        raise ValueError(f"Cannot serialize custom loss {loss!r}; only built-in losses and "
                         "classes registered with @tc.saving.register_serializable can be "
                         "saved")
    return config


def deserialize(config: dict) -> Loss:
    """Rebuild a built-in or registered loss from serialize()'s output."""
    loss = REGISTRY.deserialize(config)
    if loss is None:
        name = config.get("class_name") if isinstance(config, dict) else None
        raise ValueError(f"Unknown loss in config: {name!r}")
    return loss


__all__ = ["Loss", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
           "BinaryCrossentropy", "MeanSquaredError", "MeanAbsoluteError",
           "LossFunctionWrapper", "get", "serialize", "deserialize", "canonical_name"]
