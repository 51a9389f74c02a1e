"""Metric base class and the running-mean metrics built on it."""

from __future__ import annotations

from typing import Callable

import numpy as np

import tensorcore as tc
from tensorcore.losses.loss import broadcast_weights


class Metric:
    """Base class: accumulate with update_state(), read with result(), clear with reset_state()."""

    # "up" when larger is better (accuracy), "down" when smaller is (errors); used by callbacks.
    direction = "down"

    def __init__(self, name: str | None = None):
        self.name = name or type(self).__name__

    def update_state(self, *args, **kwargs) -> None:
        """Accumulate statistics from one batch."""
        raise NotImplementedError

    def result(self) -> float:
        """The metric's current value."""
        raise NotImplementedError

    def reset_state(self) -> None:
        """Forget everything accumulated so far."""
        raise NotImplementedError

    def get_config(self) -> dict:
        """Constructor arguments as a JSON-ready dict."""
        return {"name": self.name}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


class Mean(Metric):
    """Weighted running mean of the values passed to update_state."""

    def __init__(self, name: str = "mean"):
        super().__init__(name=name)
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None) -> None:
        """Add values (a tensor or number) to the mean, weighted by sample_weight.

        A scalar may carry one weight; a tensor of per-sample values takes one weight per
        sample (broadcast over further axes), and the mean is sum(w * v) / sum(w).
        """
        if isinstance(values, tc.Tensor):
            if values.ndim == 0 or values.size == 1:
                value = float(values.item())
                weight = self._one_weight(sample_weight, values.shape)
                self.total += value * weight
                self.count += weight
                return
            if values.dtype != tc.float32:
                values = values.astype(tc.float32)
            if sample_weight is None:
                self.total += float(tc.sum(values).item())
                self.count += float(values.size)
                return
            weights = broadcast_weights(sample_weight, values)
            self.total += float(tc.sum(values * weights).item())
            self.count += float(tc.sum(tc.broadcast_to(weights, values.shape)).item())
            return
        weight = self._one_weight(sample_weight, ())
        self.total += float(values) * weight
        self.count += weight

    def _one_weight(self, sample_weight, shape: tuple) -> float:
        """The weight of a single value: a number, or an array / Tensor of one element
        (a batch of one sample gives its per-sample values with a weight of shape (1,))."""
        if sample_weight is None:
            return 1.0
        weight = sample_weight.data if isinstance(sample_weight, tc.Tensor) else sample_weight
        if isinstance(weight, (list, tuple, np.ndarray)):
            weight = np.asarray(weight)
            if weight.size != 1:
                raise ValueError(f"{self.name}: sample_weight of shape {weight.shape} does not "
                                 f"match one value of shape {tuple(shape)}; expected one "
                                 "weight")
            weight = weight.reshape(()).item()
        return float(weight)

    def result(self) -> float:
        """The mean so far (0.0 before any update)."""
        return self.total / self.count if self.count else 0.0

    def reset_state(self) -> None:
        """Forget everything accumulated so far."""
        self.total = 0.0
        self.count = 0.0


class MeanMetricWrapper(Mean):
    """Mean over samples of a per-sample function fn(y_true, y_pred)."""

    def __init__(self, fn: Callable, name: str | None = None, **fn_kwargs):
        super().__init__(name=name or fn.__name__)
        self.fn = fn
        self.fn_kwargs = fn_kwargs

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Evaluate fn on the batch and add its per-sample values (weighted when asked)."""
        with tc.no_grad():
            Mean.update_state(self, self.fn(y_true, y_pred, **self.fn_kwargs), sample_weight)
