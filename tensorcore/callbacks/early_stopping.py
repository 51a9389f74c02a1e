"""EarlyStopping: stop fit() when a monitored quantity stops improving."""

from __future__ import annotations

import math

from tensorcore.callbacks.base import Callback
from tensorcore.callbacks.monitoring import (check_mode, check_non_negative_int, is_improvement,
                                             monitor_prefers_larger, warn_missing_monitor)


class EarlyStopping(Callback):
    """Stops training after `patience` epochs without an improvement larger than min_delta.

    As in Keras: an improvement resets the wait counter; training stops at the end of an
    epoch (never the first) once `patience` epochs have passed without one; with
    restore_best_weights=True the weights of the best epoch are put back when training ends.
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0,
                 verbose: int = 0, mode: str = "auto", baseline: float | None = None,
                 restore_best_weights: bool = False, start_from_epoch: int = 0):
        super().__init__()
        patience = check_non_negative_int("EarlyStopping", "patience", patience)
        self.monitor = monitor
        self.min_delta = abs(float(min_delta))
        self.patience = patience
        self.verbose = verbose
        self.mode = check_mode("EarlyStopping", mode)
        self.baseline = baseline
        self.restore_best_weights = bool(restore_best_weights)
        self.start_from_epoch = start_from_epoch
        self.larger_is_better: bool | None = None
        self.wait = 0
        self.stopped_epoch = 0
        self.best = math.inf
        self.best_epoch = 0
        self.best_weights = None

    def on_train_begin(self, logs=None) -> None:
        """Reset the counters so the callback can be reused."""
        self.larger_is_better = monitor_prefers_larger(self.monitor, self.mode, self.model)
        self.best = -math.inf if self.larger_is_better else math.inf
        self.wait = 0
        self.stopped_epoch = 0
        self.best_epoch = 0
        self.best_weights = None

    def _is_improvement(self, value: float, reference: float) -> bool:
        return is_improvement(value, reference, self.larger_is_better, self.min_delta)

    def on_epoch_end(self, epoch, logs=None) -> None:
        """Compare the monitored value with the best so far; maybe request a stop."""
        logs = logs or {}
        current = logs.get(self.monitor)
        if current is None:
            warn_missing_monitor("EarlyStopping", self.monitor, logs)
            return
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None) -> None:
        """Report the stop and restore the best weights if asked to."""
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print("Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)
