"""Metric classes and the resolution of metric names given to compile()."""

from __future__ import annotations

import numpy as np

import tensorcore as tc
from tensorcore.backend import current as current_backend
from tensorcore.metrics import functions
from tensorcore.metrics.base import Mean, MeanMetricWrapper, Metric
from tensorcore.registry import Registry


class Accuracy(MeanMetricWrapper):
    """Fraction of predictions exactly equal to the labels."""

    direction = "up"

    def __init__(self, name: str = "accuracy"):
        super().__init__(functions.accuracy, name=name)


class CategoricalAccuracy(MeanMetricWrapper):
    """Fraction of samples whose one-hot label matches argmax of the prediction."""

    direction = "up"

    def __init__(self, name: str = "categorical_accuracy"):
        super().__init__(functions.categorical_accuracy, name=name)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Add the batch's hits; unweighted 2-D float batches (fit's every step) take one
        backend pass counting the rows whose argmax agrees, the same count as the
        argmax / compare / sum of categorical_accuracy."""
        if sample_weight is None and self.fn is functions.categorical_accuracy:
            hits = _argmax_hits(y_true, y_pred)
            if hits is not None:
                self.total += float(hits)
                self.count += float(len(y_true))
                return
        super().update_state(y_true, y_pred, sample_weight)


_HIT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _argmax_hits(y_true, y_pred) -> int | None:
    """Rows of two same-shape 2-D float arrays/Tensors whose argmax agrees, from the
    backend's one-pass kernel; None when the kernel does not apply (composite path)."""
    a = y_true.data if isinstance(y_true, tc.Tensor) else y_true
    b = y_pred.data if isinstance(y_pred, tc.Tensor) else y_pred
    if type(a) is not np.ndarray or type(b) is not np.ndarray or a.ndim != 2 \
            or a.shape != b.shape or a.shape[1] == 0 or a.dtype != b.dtype \
            or a.dtype not in _HIT_DTYPES or not (a.flags.c_contiguous and b.flags.c_contiguous):
        return None
    kernel = getattr(current_backend(), "argmax_hits", None)
    return None if kernel is None else kernel(a, b)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """Fraction of samples whose integer label matches argmax of the prediction."""

    direction = "up"

    def __init__(self, name: str = "sparse_categorical_accuracy"):
        super().__init__(functions.sparse_categorical_accuracy, name=name)


class BinaryAccuracy(MeanMetricWrapper):
    """Fraction of binary predictions (y_pred > threshold) equal to 0/1 labels."""

    direction = "up"

    def __init__(self, name: str = "binary_accuracy", threshold: float = 0.5):
        super().__init__(functions.binary_accuracy, name=name, threshold=threshold)
        self.threshold = threshold

    def get_config(self) -> dict:
        """Constructor arguments as a JSON-ready dict."""
        return {**super().get_config(), "threshold": self.threshold}


class MeanAbsoluteError(MeanMetricWrapper):
    """Mean absolute error."""

    def __init__(self, name: str = "mean_absolute_error"):
        super().__init__(functions.mean_absolute_error, name=name)


class MeanSquaredError(MeanMetricWrapper):
    """Mean squared error."""

    def __init__(self, name: str = "mean_squared_error"):
        super().__init__(functions.mean_squared_error, name=name)


class AutoAccuracy(Mean):
    """The "accuracy" of compile(): picks the accuracy that matches the labels on first use.

    Keras decides from the shapes: a prediction with one column is binary, labels with one
    axis fewer than the prediction (or a trailing axis of 1) are sparse, otherwise categorical.
    """

    direction = "up"

    def __init__(self, name: str = "accuracy"):
        super().__init__(name=name)
        self.chosen: MeanMetricWrapper | None = None

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Resolve the concrete accuracy if needed, then delegate."""
        if self.chosen is None:
            true_shape, pred_shape = tuple(y_true.shape), tuple(y_pred.shape)
            if pred_shape[-1:] == (1,):
                self.chosen = BinaryAccuracy(name=self.name)
            elif len(true_shape) < len(pred_shape) or true_shape[-1:] == (1,):
                self.chosen = SparseCategoricalAccuracy(name=self.name)
            else:
                self.chosen = CategoricalAccuracy(name=self.name)
        self.chosen.update_state(y_true, y_pred, sample_weight)

    def result(self) -> float:
        """Current accuracy (0.0 before any update)."""
        return self.chosen.result() if self.chosen is not None else 0.0

    def reset_state(self) -> None:
        """Forget everything accumulated so far."""
        if self.chosen is not None:
            self.chosen.reset_state()


# The built-in metrics by name (class names and mae/mse as aliases), in the one registry
# mechanism of tensorcore/registry.py; user Metric subclasses join with
# @tc.saving.register_serializable.
REGISTRY = Registry("metric", base=Metric)
for _name, _cls, _aliases in (
        ("categorical_accuracy", CategoricalAccuracy, ()),
        ("sparse_categorical_accuracy", SparseCategoricalAccuracy, ()),
        ("binary_accuracy", BinaryAccuracy, ()),
        ("mean_absolute_error", MeanAbsoluteError, ("mae",)),
        ("mean_squared_error", MeanSquaredError, ("mse",))):
    REGISTRY.add(_name, _cls, aliases=(_cls.__name__, *_aliases))
del _name, _cls, _aliases
# Which accuracy "accuracy" means for each built-in loss (Keras's rule).
_ACCURACY_FOR_LOSS = {
    "categorical_crossentropy": CategoricalAccuracy,
    "sparse_categorical_crossentropy": SparseCategoricalAccuracy,
    "binary_crossentropy": BinaryAccuracy,
}
_FUNCTIONS = {
    functions.categorical_accuracy: "categorical_accuracy",
    functions.sparse_categorical_accuracy: "sparse_categorical_accuracy",
    functions.binary_accuracy: "binary_accuracy",
    functions.mean_absolute_error: "mean_absolute_error",
    functions.mean_squared_error: "mean_squared_error",
}


def get(identifier, loss_name: str | None = None) -> Metric:
    """Resolve a metric from a name, a Metric, or a per-sample function.

    ``"accuracy"`` (or ``"acc"``) becomes the accuracy matching the loss named ``loss_name``
    and keeps the name the user wrote, so logs show ``accuracy`` / ``val_accuracy``.
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier in ("accuracy", "acc"):
            chosen = _ACCURACY_FOR_LOSS.get(loss_name)
            return chosen(name=identifier) if chosen else AutoAccuracy(name=identifier)
        cls = REGISTRY.lookup(identifier)
        if cls is None:
            raise ValueError(
                f"Unknown metric: {identifier!r}. Expected 'accuracy' or one of "
                f"{REGISTRY.all_names()}, a Metric or a function."
            )
        return cls(name=identifier)
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        name = _FUNCTIONS.get(identifier)
        if name is not None:
            return REGISTRY.lookup(name)(name=name)
        return MeanMetricWrapper(identifier)
    raise TypeError(
        f"metric must be a string, a Metric or a function. Received: {identifier!r}"
    )
