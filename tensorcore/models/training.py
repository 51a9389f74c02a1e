"""Trainer: compile / fit / evaluate / predict for models (mixed into Sequential)."""

from __future__ import annotations

import time
import warnings

import numpy as np

import tensorcore as tc
from tensorcore import activations, losses, metrics as metrics_module, optimizers
from tensorcore.callbacks import Callback, CallbackList, History
from tensorcore.layers.base import to_tensor
from tensorcore.losses.loss import canonical_name
from tensorcore.metrics.base import Mean
from tensorcore.models import data_checks
from tensorcore.utils.progbar import Progbar


def _slice(array: np.ndarray, start: int, stop: int, order: np.ndarray | None) -> np.ndarray:
    """Rows start:stop of the array, in shuffled order when `order` is given (a copy then)."""
    if order is None:
        return array[start:stop]
    rows = np.ascontiguousarray(order[start:stop], dtype=np.int64)
    kernels = tc.backend.current()
    if array.ndim >= 1 and array.flags.c_contiguous and hasattr(kernels, "take_rows"):
        # Threaded row gather in the C core (the batch gather is memory-latency bound).
        out = np.empty((rows.size,) + array.shape[1:], array.dtype)
        kernels.take_rows(array, rows, out)
        return out
    return array[rows]


class Trainer:
    """Training behaviour shared by models: needs call(), call_logits(), weights and build()."""

    def __init__(self):
        self.optimizer: optimizers.Optimizer | None = None
        self.loss: losses.Loss | None = None
        self.loss_kind: str | None = None
        self.compiled_metrics: list[metrics_module.Metric] = []
        self.loss_tracker = Mean(name="loss")
        self.stop_training = False
        self.history: History | None = None
        self._compile_identifiers: dict | None = None
        self._distribute = None   # a tensorcore.distributed strategy, or None

    # ------------------------------------------------------------------ compile
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, distribute=None) -> None:
        """Choose the optimizer, loss and metrics (names or objects) used by fit/evaluate.

        `distribute`: a ``tensorcore.distributed.DataParallel()`` to train over MPI ranks.
        """
        if loss is None:
            raise ValueError("compile: a loss is required, e.g. "
                             "loss='sparse_categorical_crossentropy'. Received: loss=None")
        resolved_optimizer = optimizers.get(optimizer)
        resolved_loss = losses.get(loss)
        if isinstance(loss, str):
            kind = canonical_name(loss)
        else:
            kind = canonical_name(type(resolved_loss).__name__) \
                if not isinstance(resolved_loss, losses.LossFunctionWrapper) else None
        if metrics is None:
            metrics = []
        if isinstance(metrics, (str, metrics_module.Metric)) or callable(metrics):
            metrics = [metrics]
        if not isinstance(metrics, (list, tuple)):
            raise TypeError(f"compile: metrics must be a list. Received: metrics={metrics!r}")
        resolved_metrics = [metrics_module.get(m, loss_name=kind) for m in metrics]
        if distribute is not None:
            from tensorcore.distributed.strategy import DataParallel
            if not isinstance(distribute, DataParallel):
                raise TypeError(f"compile: distribute must be None or a "
                                f"tensorcore.distributed.DataParallel(). "
                                f"Received: distribute={distribute!r}")
        names = [m.name for m in resolved_metrics]
        if len(set(names)) != len(names) or "loss" in names:
            raise ValueError(f"compile: metric names must be unique and not 'loss'. "
                             f"Received: {names}")
        self.optimizer = resolved_optimizer
        self.loss = resolved_loss
        self.loss_kind = kind
        self.compiled_metrics = resolved_metrics
        self.loss_tracker = Mean(name="loss")
        self._distribute = distribute
        self._compile_identifiers = {"optimizer": optimizer, "loss": loss,
                                     "metrics": list(metrics)}

    @property
    def metrics(self) -> list[metrics_module.Metric]:
        """The loss tracker followed by the compiled metrics."""
        return [self.loss_tracker, *self.compiled_metrics]

    @property
    def metrics_names(self) -> list[str]:
        """Names as they appear in logs: "loss", then the metrics."""
        return [m.name for m in self.metrics]

    def compile_config(self) -> dict | None:
        """JSON-ready compile settings, or None if not compiled or not serializable."""
        if self.optimizer is None:
            return None
        try:
            metric_names = []
            for identifier, metric in zip(self._compile_identifiers["metrics"],
                                          self.compiled_metrics):
                if not isinstance(identifier, str):
                    raise ValueError(f"metric {metric.name!r} was given as an object")
                metric_names.append(identifier)
            return {"optimizer": optimizers.serialize(self.optimizer),
                    "loss": losses.serialize(self.loss),
                    "metrics": metric_names}
        except ValueError as error:
            warnings.warn(f"The compile settings cannot be saved ({error}); the model is saved "
                          "without them and must be compiled again after loading.",
                          stacklevel=3)
            return None

    def compile_from_config(self, config: dict) -> None:
        """Compile from compile_config()'s output."""
        loss = losses.deserialize(config["loss"])
        kind = canonical_name(type(loss).__name__)
        self.compile(optimizer=optimizers.deserialize(config["optimizer"]),
                     loss=loss, metrics=list(config.get("metrics", [])))
        self.loss_kind = kind

    def _require_compiled(self, op: str) -> None:
        if self.optimizer is None or self.loss is None:
            raise RuntimeError(f"{op}: you must call compile() before {op}().")

    # ------------------------------------------------------------------ one batch
    def _uses_fused_loss(self) -> bool:
        """True when the last activation and the loss are computed as one stable step."""
        return self.loss.can_fuse(self.output_activation)

    def compute_loss(self, x: tc.Tensor, y, training: bool = False):
        """(scalar loss tensor, detached predictions) for one batch."""
        if self._uses_fused_loss():
            logits = self.call_logits(x, training=training)
            per_sample = self.loss.call_fused(y, logits)
            with tc.no_grad():
                y_pred = activations.get(self.output_activation)(logits.detach())
        else:
            y_pred = self(x, training=training)
            per_sample = self.loss.call(y, y_pred)
            y_pred = y_pred.detach()
        if self.loss.reduction == "none":
            loss_value = tc.mean(per_sample)
        else:
            loss_value = self.loss.reduce(per_sample)
        return loss_value, y_pred

    def train_step(self, x_batch: np.ndarray, y_batch: np.ndarray) -> float:
        """Forward, backward and one optimizer update on a batch; updates the metrics."""
        strategy = self._distribute
        if strategy is not None:
            return self._distributed_train_step(strategy, x_batch, y_batch)
        x = to_tensor(x_batch)
        weights = self.trainable_weights
        loss_value, y_pred = self.compute_loss(x, y_batch, training=True)
        if weights:
            grads = tc.autograd.grad(loss_value, weights, allow_unused=True)
            self.optimizer.apply_gradients(zip(grads, weights))
        value = float(loss_value.item())
        self.loss_tracker.update_state(value, sample_weight=len(x_batch))
        for metric in self.compiled_metrics:
            metric.update_state(y_batch, y_pred)
        return value

    # distributed hook: this rank's slice of the global batch, then the strategy's one
    # Allreduce of gradients + metric states, then the same optimizer step on every rank.
    def _distributed_train_step(self, strategy, x_batch: np.ndarray,
                                y_batch: np.ndarray) -> float:
        weights = self.trainable_weights
        grads, value = None, 0.0
        strategy.start_step(self, len(x_batch))
        try:
            if len(x_batch):
                loss_value, y_pred = self.compute_loss(to_tensor(x_batch), y_batch,
                                                       training=True)
                if weights:
                    grads = list(tc.autograd.grad(loss_value, weights, allow_unused=True,
                                                  on_ready=strategy.gradient_hook))
                value = float(loss_value.item())
                self.loss_tracker.update_state(value, sample_weight=len(x_batch))
                for metric in self.compiled_metrics:
                    metric.update_state(y_batch, y_pred)
        except Exception as error:  # noqa: BLE001 (re-raised after the Allreduce)
            # Join the step's Allreduce with the failure flag so no rank waits for us.
            strategy.reduce_gradients(self, None, 0, failed=True)
            from tensorcore.distributed import mark_collective
            raise mark_collective(error)
        grads = strategy.reduce_gradients(self, grads, len(x_batch))
        if weights:
            self.optimizer.apply_gradients(zip(grads, weights))
        return value

    def test_step(self, x_batch: np.ndarray, y_batch: np.ndarray) -> float:
        """Loss and metric updates on a batch, without training."""
        with tc.no_grad():
            loss_value, y_pred = self.compute_loss(to_tensor(x_batch), y_batch, training=False)
            value = float(loss_value.item())
            self.loss_tracker.update_state(value, sample_weight=len(x_batch))
            for metric in self.compiled_metrics:
                metric.update_state(y_batch, y_pred)
        return value

    def train_on_batch(self, x, y) -> float:
        """One training step on one batch; returns the batch loss."""
        self._require_compiled("train_on_batch")
        x = data_checks.check_inputs("train_on_batch", self, x)
        y = data_checks.check_targets("train_on_batch", self, x, y)
        if not self.built:
            self.build((None,) + tuple(x.shape[1:]))
        self._reset_metrics()
        return self.train_step(x, y)

    def _reset_metrics(self) -> None:
        for metric in self.metrics:
            metric.reset_state()
        if self._distribute is not None:
            self._distribute.forget_metrics()

    def _logs(self) -> dict[str, float]:
        if self._distribute is not None:     # distributed hook: values reduced over ranks
            return self._distribute.metric_logs(self.metrics)
        return {metric.name: float(metric.result()) for metric in self.metrics}

    def _writes_files(self) -> bool:
        """False on the ranks other than 0 of a distributed model (rank 0 saves)."""
        return self._distribute is None or self._distribute.is_chief

    # ------------------------------------------------------------------ fit
    def fit(self, x=None, y=None, batch_size: int | None = 32, epochs: int = 1,
            verbose="auto", callbacks: list[Callback] | None = None,
            validation_split: float = 0.0, validation_data=None, shuffle: bool = True,
            initial_epoch: int = 0) -> History:
        """Train for `epochs` passes over (x, y); returns a History of per-epoch logs."""
        op = "fit"
        self._require_compiled(op)
        batch_size = 32 if batch_size is None else batch_size
        batch_size = data_checks.check_positive_int(op, "batch_size", batch_size)
        epochs = data_checks.check_positive_int(op, "epochs", epochs, allow_zero=True)
        initial_epoch = data_checks.check_positive_int(op, "initial_epoch", initial_epoch,
                                                       allow_zero=True)
        verbose = data_checks.check_verbose(op, verbose)
        validation_split = data_checks.check_validation_split(op, validation_split)
        if not isinstance(shuffle, (bool, np.bool_)):
            raise TypeError(f"{op}: shuffle must be True or False. Received: shuffle={shuffle!r}")
        x = data_checks.check_inputs(op, self, x)
        y = data_checks.check_targets(op, self, x, y)
        if validation_data is not None:
            x_val, y_val = data_checks.check_validation_data(op, self, validation_data)
        elif validation_split > 0:
            (x, y), (x_val, y_val) = data_checks.split_for_validation(x, y, validation_split, op)
        else:
            x_val = y_val = None
        callback_list = CallbackList([History(), *(callbacks or [])])
        if not self.built:
            self.build((None,) + tuple(x.shape[1:]))
        strategy = self._distribute
        if strategy is not None:
            # distributed hook: same model and settings everywhere, rank 0's weights
            strategy.begin(self, op, {
                "samples": len(x), "batch_size": batch_size, "epochs": epochs,
                "initial_epoch": initial_epoch, "shuffle": bool(shuffle),
                "validation_samples": 0 if x_val is None else len(x_val)})
            if not strategy.is_chief:
                verbose = 0

        steps = -(-len(x) // batch_size)
        self.history = callback_list.callbacks[0]
        callback_list.set_model(self)
        callback_list.set_params({"epochs": epochs, "steps": steps, "verbose": verbose})
        self.stop_training = False
        callback_list.on_train_begin()
        train_start = time.perf_counter()
        for epoch in range(initial_epoch, epochs):
            self._reset_metrics()
            callback_list.on_epoch_begin(epoch)
            if verbose:
                print(f"Epoch {epoch + 1}/{epochs}", flush=True)
            progbar = Progbar(steps, verbose=verbose)
            order = tc.random.permutation(len(x)) if shuffle else None
            if strategy is not None:
                order = strategy.sync_order(order)
            for step in range(steps):
                callback_list.on_train_batch_begin(step)
                start, stop = step * batch_size, min((step + 1) * batch_size, len(x))
                if strategy is not None:
                    start, stop = strategy.shard(start, stop)
                self.train_step(_slice(x, start, stop, order), _slice(y, start, stop, order))
                batch_logs = self._logs()
                callback_list.on_train_batch_end(step, batch_logs)
                if step + 1 < steps:
                    progbar.update(step + 1, batch_logs)
            epoch_logs = self._logs()
            if x_val is not None:
                val_logs = self._evaluate_arrays(x_val, y_val, batch_size)
                epoch_logs.update({f"val_{name}": value for name, value in val_logs.items()})
            progbar.update(steps, epoch_logs, finalize=True)
            callback_list.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        callback_list.on_train_end()
        self.history.training_time = time.perf_counter() - train_start
        return self.history

    # ------------------------------------------------------------------ evaluate / predict
    def _evaluate_arrays(self, x: np.ndarray, y: np.ndarray, batch_size: int,
                         progbar: Progbar | None = None) -> dict[str, float]:
        """Loss and metrics over (x, y) in batches, as a logs dict."""
        self._reset_metrics()
        strategy = self._distribute
        if strategy is not None:            # distributed hook: each rank its shard
            start, stop = strategy.shard(0, len(x))
            x, y = x[start:stop], y[start:stop]
        steps = -(-len(x) // batch_size)
        for step in range(steps):
            start, stop = step * batch_size, min((step + 1) * batch_size, len(x))
            self.test_step(x[start:stop], y[start:stop])
            if progbar is not None and step + 1 < steps:
                progbar.update(step + 1, self._logs())
        if strategy is not None:
            strategy.reduce_metrics(self.metrics)
        logs = self._logs()
        if progbar is not None:
            progbar.update(steps, logs, finalize=True)
        return logs

    def evaluate(self, x=None, y=None, batch_size: int | None = 32, verbose="auto",
                 return_dict: bool = False):
        """Loss (and metrics) on (x, y): a float, or [loss, *metrics] when metrics were set."""
        op = "evaluate"
        self._require_compiled(op)
        batch_size = 32 if batch_size is None else batch_size
        batch_size = data_checks.check_positive_int(op, "batch_size", batch_size)
        verbose = data_checks.check_verbose(op, verbose)
        x = data_checks.check_inputs(op, self, x)
        y = data_checks.check_targets(op, self, x, y)
        if not self.built:
            self.build((None,) + tuple(x.shape[1:]))
        if self._distribute is not None:
            self._distribute.begin(self, op, {"samples": len(x), "batch_size": batch_size})
            if not self._distribute.is_chief:
                verbose = 0
        steps = -(-len(x) // batch_size)
        progbar = Progbar(steps, verbose=verbose) if verbose else None
        logs = self._evaluate_arrays(x, y, batch_size, progbar)
        if return_dict:
            return logs
        values = [logs[name] for name in self.metrics_names]
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size: int | None = 32, verbose=0) -> np.ndarray:
        """Model outputs for x, computed in batches, as a float32 NumPy array."""
        op = "predict"
        batch_size = 32 if batch_size is None else batch_size
        batch_size = data_checks.check_positive_int(op, "batch_size", batch_size)
        verbose = data_checks.check_verbose(op, verbose)
        x = data_checks.check_inputs(op, self, x)
        if not self.built:
            self.build((None,) + tuple(x.shape[1:]))
        strategy = self._distribute
        if strategy is not None:            # distributed hook: predict a shard, then gather
            strategy.begin(self, op, {"samples": len(x), "batch_size": batch_size})
            start, stop = strategy.shard(0, len(x))
            row_shape = tuple(self.compute_output_shape((None,) + tuple(x.shape[1:]))[1:])
            dtype = self.weights[0].dtype if self.weights else np.float32
            local = self._predict_arrays(x[start:stop], batch_size,
                                         verbose if strategy.is_chief else 0)
            return strategy.gather_rows(local, len(x), row_shape, dtype)
        return self._predict_arrays(x, batch_size, verbose)

    def _predict_arrays(self, x: np.ndarray, batch_size: int, verbose) -> np.ndarray | None:
        """Outputs for x in batches (None when x has no rows)."""
        steps = -(-len(x) // batch_size)
        progbar = Progbar(steps, verbose=verbose) if verbose else None
        result: np.ndarray | None = None
        with tc.no_grad():
            for step in range(steps):
                start, stop = step * batch_size, min((step + 1) * batch_size, len(x))
                batch = self(x[start:stop], training=False).numpy()
                if result is None:
                    result = np.empty((len(x),) + batch.shape[1:], dtype=batch.dtype)
                result[start:stop] = batch
                if progbar is not None:
                    progbar.update(step + 1)
        return result

    def __getstate__(self):
        raise TypeError("tensorcore models are not picklable; use model.save(path)")


