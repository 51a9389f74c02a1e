"""Callbacks that change the optimizer's learning rate: LearningRateScheduler, ReduceLROnPlateau.

Both set ``model.optimizer.learning_rate`` to a float, so they need an optimizer created with a
float learning rate (not a ``schedules.LearningRateSchedule``), and both record the rate in
the epoch logs as ``"learning_rate"`` (History therefore keeps it per epoch).
"""

from __future__ import annotations

import inspect
import math
import numbers

from tensorcore.callbacks.base import Callback
from tensorcore.callbacks.monitoring import (check_mode, check_monitor, check_non_negative_int,
                                             is_improvement, monitor_prefers_larger,
                                             warn_missing_monitor)
from tensorcore.optimizers.base import _check_positive
from tensorcore.optimizers.schedules import LearningRateSchedule


def _check_verbose(owner: str, verbose) -> int:
    if isinstance(verbose, bool) or not isinstance(verbose, numbers.Integral) or verbose < 0:
        raise ValueError(f"{owner}: verbose must be a non-negative int. "
                         f"Received: verbose={verbose!r}")
    return int(verbose)


def _float_optimizer(owner: str, model):
    """The model's optimizer, checked to have a settable float learning rate."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not hasattr(optimizer, "learning_rate"):
        raise ValueError(f"{owner}: the model must be compiled with an optimizer that has a "
                         f"learning_rate. Received: optimizer={optimizer!r}")
    schedule = getattr(optimizer, "_learning_rate", None)
    if isinstance(schedule, LearningRateSchedule):
        raise TypeError(f"{owner}: the optimizer's learning rate is a learning rate schedule "
                        f"({type(schedule).__name__}), which cannot be set to a float. "
                        f"Create the optimizer with a float learning_rate to use {owner}.")
    return optimizer


def _takes_two_arguments(function) -> bool:
    """True when `function` can be called with two positional arguments (epoch, lr)."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):     # cannot tell (some built-ins): use the current API
        return True
    positional = 0
    for parameter in signature.parameters.values():
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            return True
        if parameter.kind in (inspect.Parameter.POSITIONAL_ONLY,
                              inspect.Parameter.POSITIONAL_OR_KEYWORD):
            positional += 1
    if positional == 0:
        raise TypeError("LearningRateScheduler: schedule must accept the epoch index (and "
                        f"optionally the current learning rate). Received: schedule="
                        f"{function!r} with signature {signature}")
    return positional >= 2


class LearningRateScheduler(Callback):
    """Sets the learning rate at the start of every epoch from ``schedule``.

    ``schedule(epoch, lr)`` (epoch 0-based, lr the current learning rate as a float) or, for a
    function taking one parameter, ``schedule(epoch)`` returns the new rate: a finite
    non-negative float. The rate in use is logged as ``"learning_rate"`` at the end of the epoch.
    """

    def __init__(self, schedule, verbose: int = 0):
        super().__init__()
        owner = "LearningRateScheduler"
        if not callable(schedule):
            raise TypeError(f"{owner}: schedule must be a function of (epoch, lr) or (epoch). "
                            f"Received: schedule={schedule!r}")
        two_arguments = _takes_two_arguments(schedule)
        verbose = _check_verbose(owner, verbose)
        self.schedule = schedule
        self.verbose = verbose
        self._two_arguments = two_arguments

    def on_epoch_begin(self, epoch, logs=None) -> None:
        """Compute this epoch's learning rate and give it to the optimizer."""
        optimizer = _float_optimizer("LearningRateScheduler", self.model)
        if self._two_arguments:
            value = self.schedule(epoch, float(optimizer.learning_rate))
        else:
            value = self.schedule(epoch)
        if isinstance(value, bool) or not isinstance(value, numbers.Real) \
                or not math.isfinite(value) or value < 0:
            raise ValueError(f"LearningRateScheduler: the schedule must return a finite "
                             f"non-negative float. Received: {value!r} for epoch {epoch}")
        optimizer.learning_rate = float(value)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                  f"{float(value)}.")

    def on_epoch_end(self, epoch, logs=None) -> None:
        """Log the learning rate used during the epoch."""
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class ReduceLROnPlateau(Callback):
    """Multiplies the learning rate by ``factor`` when ``monitor`` stops improving.

    As in Keras: an epoch improves when the monitored value beats the best so far by more than
    min_delta (smaller is better for losses, larger for accuracy-like metrics in "auto" mode);
    after `patience` epochs without improvement the rate becomes
    ``max(lr * factor, min_lr)`` (if it is above min_lr), then `cooldown` epochs pass before
    counting resumes. The rate used during the epoch is logged as ``"learning_rate"``.
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10,
                 verbose: int = 0, mode: str = "auto", min_delta: float = 1e-4,
                 cooldown: int = 0, min_lr: float = 0.0):
        super().__init__()
        owner = "ReduceLROnPlateau"
        monitor = check_monitor(owner, monitor)
        if isinstance(factor, bool) or not isinstance(factor, numbers.Real):
            raise TypeError(f"{owner}: factor must be a float in [0, 1). "
                            f"Received: factor={factor!r}")
        if not 0.0 <= float(factor) < 1.0:
            raise ValueError(f"{owner}: factor must be a float in [0, 1) (a factor >= 1.0 would "
                             f"not reduce the learning rate). Received: factor={factor!r}")
        patience = check_non_negative_int(owner, "patience", patience)
        verbose = _check_verbose(owner, verbose)
        mode = check_mode(owner, mode)
        min_delta = _check_positive(owner, "min_delta", min_delta, allow_zero=True)
        cooldown = check_non_negative_int(owner, "cooldown", cooldown)
        min_lr = _check_positive(owner, "min_lr", min_lr, allow_zero=True)
        self.monitor = monitor
        self.factor = float(factor)
        self.patience = patience
        self.verbose = verbose
        self.mode = mode
        self.min_delta = min_delta
        self.cooldown = cooldown
        self.min_lr = min_lr
        self.larger_is_better = False
        self.best = math.inf
        self.wait = 0
        self.cooldown_counter = 0
        self._reset()

    def _reset(self) -> None:
        """Direction, best value and counters for a fresh run."""
        self.larger_is_better = monitor_prefers_larger(self.monitor, self.mode, self.model)
        self.best = -math.inf if self.larger_is_better else math.inf
        self.wait = 0
        self.cooldown_counter = 0

    def in_cooldown(self) -> bool:
        """True while epochs right after a reduction are being skipped."""
        return self.cooldown_counter > 0

    def on_train_begin(self, logs=None) -> None:
        """Reset the counters (the callback can be reused) and check the optimizer."""
        _float_optimizer("ReduceLROnPlateau", self.model)
        self._reset()

    def on_epoch_end(self, epoch, logs=None) -> None:
        """Log the learning rate; reduce it after `patience` epochs without improvement."""
        logs = logs if logs is not None else {}
        optimizer = self.model.optimizer
        logs["learning_rate"] = float(optimizer.learning_rate)
        current = logs.get(self.monitor)
        if current is None:
            warn_missing_monitor("ReduceLROnPlateau", self.monitor, logs)
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if is_improvement(current, self.best, self.larger_is_better, self.min_delta):
            self.best = current
            self.wait = 0
            return
        if self.in_cooldown():
            return
        self.wait += 1
        if self.wait < self.patience:
            return
        old_lr = float(optimizer.learning_rate)
        if old_lr > self.min_lr:
            new_lr = max(old_lr * self.factor, self.min_lr)
            _float_optimizer("ReduceLROnPlateau", self.model).learning_rate = new_lr
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to "
                      f"{new_lr}.")
            self.cooldown_counter = self.cooldown
            self.wait = 0
