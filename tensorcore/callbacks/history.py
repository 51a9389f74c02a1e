"""History: records the per-epoch logs; fit() returns it."""

from __future__ import annotations

from tensorcore.callbacks.base import Callback


class History(Callback):
    """Keeps ``history`` (metric name -> list of per-epoch values) and ``epoch`` (indices).

    It is told about the end of an epoch after the other callbacks, so values they add to the
    logs (such as the "learning_rate" of LearningRateScheduler/ReduceLROnPlateau) are recorded.
    """

    _records_epoch_logs = True

    def __init__(self):
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None) -> None:
        """Start a fresh record."""
        self.history = {}
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None) -> None:
        """Append this epoch's values."""
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
