"""ModelCheckpoint: save the model (or its weights) at the end of epochs."""

from __future__ import annotations

import math
import os
import warnings

from tensorcore.callbacks.base import Callback
from tensorcore.callbacks.monitoring import check_mode, monitor_prefers_larger


class ModelCheckpoint(Callback):
    """Saves after every epoch, or only when the monitored value improves (save_best_only).

    `filepath` may hold ``str.format`` fields filled with the 1-based epoch number and the
    epoch's logs, e.g. ``"ckpt-{epoch:02d}-{val_loss:.2f}.tcm"``.
    """

    def __init__(self, filepath: str | os.PathLike, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = False,
                 mode: str = "auto", initial_value_threshold: float | None = None):
        super().__init__()
        if not isinstance(filepath, (str, os.PathLike)):
            raise TypeError(f"ModelCheckpoint: filepath must be a str or path. "
                            f"Received: filepath={filepath!r}")
        if not os.fspath(filepath):
            raise ValueError("ModelCheckpoint: filepath must not be empty. Received: filepath=''")
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = bool(save_best_only)
        self.save_weights_only = bool(save_weights_only)
        self.mode = check_mode("ModelCheckpoint", mode)
        self.initial_value_threshold = initial_value_threshold
        self.larger_is_better: bool | None = None
        self.best = math.inf

    def on_train_begin(self, logs=None) -> None:
        """Decide whether larger or smaller is better and set the starting best value."""
        self.larger_is_better = monitor_prefers_larger(self.monitor, self.mode, self.model)
        if self.initial_value_threshold is not None:
            self.best = float(self.initial_value_threshold)
        else:
            self.best = -math.inf if self.larger_is_better else math.inf

    def format_path(self, epoch: int, logs: dict) -> str:
        """The file path for this epoch (epoch shown 1-based, as Keras does)."""
        try:
            return self.filepath.format(epoch=epoch + 1, **logs)
        except (KeyError, IndexError, ValueError) as error:
            raise KeyError(f"ModelCheckpoint: cannot format filepath '{self.filepath}' with "
                           f"epoch and logs {sorted(logs)}: {error}") from None

    def on_epoch_end(self, epoch, logs=None) -> None:
        """Save when due (on rank 0 only when the model trains over several ranks)."""
        writes = getattr(self.model, "_writes_files", None)
        if writes is not None and not writes():
            return
        logs = dict(logs or {})
        path = self.format_path(epoch, logs)
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                warnings.warn(f"ModelCheckpoint: can save best model only with "
                              f"'{self.monitor}' available; skipping", stacklevel=2)
                return
            improved = current > self.best if self.larger_is_better else current < self.best
            if not improved:
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from "
                          f"{self.best:.5f}")
                return
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to "
                      f"{current:.5f}, saving model to {path}")
            self.best = current
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)
