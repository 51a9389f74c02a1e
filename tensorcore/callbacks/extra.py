"""CSVLogger, TerminateOnNaN, LambdaCallback and BackupAndRestore."""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import tensorcore as tc
from tensorcore.callbacks.base import Callback


class CSVLogger(Callback):
    """Appends one row per epoch (epoch, then the logs in sorted order) to a CSV file."""

    def __init__(self, filename, separator: str = ",", append: bool = False):
        super().__init__()
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError(f"CSVLogger: separator must be one character. Received: "
                             f"separator={separator!r}")
        self.filename = os.fspath(filename)
        self.separator = separator
        self.append = bool(append)
        self.keys: list[str] | None = None
        self._file = None
        self._writer = None

    def on_train_begin(self, logs=None) -> None:
        """Open the file (appending keeps the existing header)."""
        has_rows = self.append and os.path.exists(self.filename) \
            and os.path.getsize(self.filename) > 0
        self._file = open(self.filename, "a" if self.append else "w", newline="",  # noqa: SIM115
                          encoding="utf-8")
        self._writer = None
        self._header_written = has_rows
        self.keys = None

    def on_epoch_end(self, epoch, logs=None) -> None:
        """Write the epoch's row (and the header before the first row)."""
        logs = dict(logs or {})
        if self.keys is None:
            self.keys = sorted(logs)
            self._writer = csv.DictWriter(self._file, fieldnames=["epoch", *self.keys],
                                          delimiter=self.separator)
            if not self._header_written:
                self._writer.writeheader()
        row = {"epoch": epoch}
        row.update({key: logs.get(key, "NA") for key in self.keys})
        self._writer.writerow(row)
        self._file.flush()

    def on_train_end(self, logs=None) -> None:
        """Close the file."""
        if self._file is not None:
            self._file.close()
            self._file = None


class TerminateOnNaN(Callback):
    """Stops training as soon as a batch's loss is NaN or infinite."""

    def on_train_batch_end(self, batch, logs=None) -> None:
        """Check the running loss."""
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            print(f"Batch {batch}: invalid loss {loss}, terminating training", flush=True)
            self.model.stop_training = True


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``.

    on_epoch_begin/on_epoch_end take (epoch, logs), on_train_batch_begin/on_train_batch_end
    take (batch, logs), on_train_begin/on_train_end take (logs).
    """

    _EVENTS = ("on_epoch_begin", "on_epoch_end", "on_train_begin", "on_train_end",
               "on_train_batch_begin", "on_train_batch_end")

    def __init__(self, **functions):
        super().__init__()
        unknown = sorted(set(functions) - set(self._EVENTS))
        if unknown:
            raise TypeError(f"LambdaCallback: unknown events {unknown}; expected some of "
                            f"{list(self._EVENTS)}")
        for name, function in functions.items():
            if function is not None and not callable(function):
                raise TypeError(f"LambdaCallback: {name} must be callable. Received: "
                                f"{function!r}")
            if function is not None:
                setattr(self, name, function)


class BackupAndRestore(Callback):
    """Backs up the training state after every epoch; a new fit resumes from the last backup.

    The backup (one atomically replaced file in ``backup_dir``) holds the weights, the
    optimizer state, the number of finished epochs and the state of tc.random (so the next
    epochs shuffle as an uninterrupted run would). If the process dies -- even by SIGKILL --
    running the same ``fit`` again with the same callback continues after the last finished
    epoch. The backup is deleted when fit finishes, unless ``delete_checkpoint=False``.
    """

    def __init__(self, backup_dir, delete_checkpoint: bool = True):
        super().__init__()
        if backup_dir is None or not str(backup_dir):
            raise ValueError("BackupAndRestore: backup_dir is required")
        self.backup_dir = Path(os.fspath(backup_dir))
        self.delete_checkpoint = bool(delete_checkpoint)
        self.restored_epoch: int | None = None

    @property
    def path(self) -> Path:
        """The backup file."""
        return self.backup_dir / "backup.tcm"

    def on_train_begin(self, logs=None) -> None:
        """Restore the last backup, if there is one, and move fit's start epoch after it."""
        from tensorcore import saving

        self.restored_epoch = None
        if not self.path.exists():
            return
        header, arrays = saving.read_archive(self.path, kind="backup", op="BackupAndRestore")
        model = self.model
        count = len(header["weight_names"])
        model.set_weights([arrays[f"weight.{i}"] for i in range(count)])
        prefix = "optimizer."
        state = {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
        if state:
            model.optimizer.set_state(model.trainable_weights, state)
        random_state = header.get("random_state")
        if random_state is not None:
            tc.random.generator().bit_generator.state = random_state
        self.restored_epoch = int(header["epoch"])
        model._initial_epoch = self.restored_epoch

    def on_epoch_end(self, epoch, logs=None) -> None:
        """Write the state after this epoch."""
        from tensorcore import saving

        writes = getattr(self.model, "_writes_files", None)
        if writes is not None and not writes():
            return
        model = self.model
        arrays = {f"weight.{i}": w for i, w in enumerate(model.get_weights())}
        state = model.optimizer.get_state(model.trainable_weights)
        arrays.update({f"optimizer.{name}": value for name, value in state.items()})
        header = {"kind": "backup", "epoch": epoch + 1, "weight_names": model.weight_names,
                  "random_state": tc.random.generator().bit_generator.state}
        saving.write_archive(self.path, header, arrays)

    def on_train_end(self, logs=None) -> None:
        """Training finished: the backup is no longer needed."""
        if self.delete_checkpoint and self.path.exists():
            self.path.unlink()
