"""Callback base class and CallbackList, which fans each event out to several callbacks."""

from __future__ import annotations


class Callback:
    """Base class for objects notified at the start/end of training, epochs and batches."""

    # True for callbacks that record the epoch logs (History): CallbackList tells them about
    # the end of an epoch after the others, so they see values other callbacks add to the
    # logs (e.g. "learning_rate"), as in Keras where History is the last callback.
    _records_epoch_logs = False

    def __init__(self):
        self.model = None
        self.params: dict = {}

    def set_model(self, model) -> None:
        """Attach the model being trained."""
        self.model = model

    def set_params(self, params: dict) -> None:
        """Receive the fit parameters (epochs, steps, verbose)."""
        self.params = params

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Called once before the first epoch."""

    def on_train_end(self, logs: dict | None = None) -> None:
        """Called once after the last epoch."""

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        """Called at the start of an epoch (0-based)."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Called at the end of an epoch with that epoch's loss and metrics."""

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Called before each training batch."""

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Called after each training batch with the running loss and metrics."""


class CallbackList(Callback):
    """Forwards every event to a list of callbacks, in order."""

    def __init__(self, callbacks: list[Callback]):
        super().__init__()
        for callback in callbacks:
            if not isinstance(callback, Callback):
                raise TypeError("callbacks must be Callback instances. "
                                f"Received: {type(callback).__name__}")
        self.callbacks = list(callbacks)

    def set_model(self, model) -> None:
        """Attach the model to every callback."""
        for callback in self.callbacks:
            callback.set_model(model)

    def set_params(self, params: dict) -> None:
        """Pass the fit parameters to every callback."""
        for callback in self.callbacks:
            callback.set_params(params)

    def on_train_begin(self, logs=None) -> None:
        """Forward on_train_begin."""
        for callback in self.callbacks:
            callback.on_train_begin(logs)

    def on_train_end(self, logs=None) -> None:
        """Forward on_train_end."""
        for callback in self.callbacks:
            callback.on_train_end(logs)

    def on_epoch_begin(self, epoch, logs=None) -> None:
        """Forward on_epoch_begin."""
        for callback in self.callbacks:
            callback.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch, logs=None) -> None:
        """Forward on_epoch_end; callbacks that record the logs (History) are told last."""
        for callback in self.callbacks:
            if not callback._records_epoch_logs:
                callback.on_epoch_end(epoch, logs)
        for callback in self.callbacks:
            if callback._records_epoch_logs:
                callback.on_epoch_end(epoch, logs)

    def on_train_batch_begin(self, batch, logs=None) -> None:
        """Forward on_train_batch_begin."""
        for callback in self.callbacks:
            callback.on_train_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None) -> None:
        """Forward on_train_batch_end."""
        for callback in self.callbacks:
            callback.on_train_batch_end(batch, logs)
