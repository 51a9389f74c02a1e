"""Trainer: compile / fit / evaluate / predict, shared by every model (Sequential, functional,
subclassed).

The loop is built from small overridable steps, Keras-style:

- ``fit`` turns its input into a data adapter (``make_adapter``: arrays, generators and
  iterables, ``tc.utils.PyDataset``, ``tc.data.Dataset``) and calls ``train_step(data)`` once
  per batch, where ``data`` is ``(x, y, sample_weight)``;
- ``train_step(data)`` runs the model, ``compute_loss``, the gradients, then
  ``apply_gradients(grads_and_vars)`` -- the single place the optimizer updates weights --
  and returns ``compute_metrics(...)``, i.e. ``get_metrics_result()``;
- ``test_step(data)`` / ``predict_step(data)`` do the same for evaluate / predict;
- ``make_progbar(steps, verbose)`` builds the progress bar.

Hooks for distributed (data-parallel) training: shard the adapter
(``make_adapter(...).shard(rank, size)``, and pass the adapter as ``x``), average the
gradients in an overridden ``apply_gradients``, reduce the metric states (``total`` and
``count`` of each metric in ``model.metrics``) before ``get_metrics_result()``, and have
``make_progbar`` return a silent bar (``verbose=0``) on every rank but 0.
"""

from __future__ import annotations

import _signal
import contextlib
import signal
import threading
import time
import warnings

import numpy as np

import tensorcore as tc
from tensorcore import activations, losses, optimizers
from tensorcore import metrics as metrics_module
from tensorcore.backend import current as current_backend
from tensorcore.callbacks import Callback, CallbackList, History
from tensorcore.losses.loss import canonical_name
from tensorcore.metrics.base import Mean
from tensorcore.models import data_checks
from tensorcore.models.data_adapters import (
    ArrayDataAdapter,
    DataAdapter,
    flatten,
    is_array_like,
    make_adapter,
    map_structure,
    structure_arrays,
    unpack_x_y_sample_weight,
)
from tensorcore.utils.progbar import Progbar


def _fused_predictions(activation: str, logits: tc.Tensor) -> tc.Tensor:
    """activation(logits), detached: the predictions a fused loss hands to the metrics. A
    softmax of 2-D float logits runs the backend's softmax kernel directly (the one
    tc.softmax runs, same bits) without the op's dispatch; anything else goes through the
    activation."""
    z = logits.data
    if activation == "softmax" and z.ndim == 2 and z.dtype.kind == "f" and z.size:
        out = np.empty(z.shape, z.dtype)
        current_backend().softmax(z, 1, out, False)
        return tc.Tensor._wrap(out)
    with tc.no_grad():
        return activations.get(activation)(logits.detach())


def _as_list(value) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


class Trainer:
    """Training behaviour shared by models: needs __call__, weights and output_names."""

    def __init__(self):
        self.optimizer: optimizers.Optimizer | None = None
        self.loss = None
        self.loss_kind: str | None = None
        self.loss_weights = None
        self.compiled_metrics: list[metrics_module.Metric] = []
        self.loss_tracker = Mean(name="loss")
        self.stop_training = False
        self.history: History | None = None
        self._compile_identifiers: dict | None = None
        self._output_losses: list | None = None      # one Loss per output, once resolved
        self._output_loss_trackers: list[Mean] = []
        self._metric_slots: list[tuple[int, metrics_module.Metric]] = []
        self._initial_epoch = 0
        self._distribute = None   # a tensorcore.distributed strategy, or None

    # ------------------------------------------------------------------ compile
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                distribute=None) -> None:
        """Choose the optimizer, loss(es) and metrics (names or objects) used by fit/evaluate.

        For a model with several outputs, ``loss`` may be one loss for every output, a list
        (one per output, in order) or a dict keyed by output name; ``loss_weights`` (list or
        dict) scales each output's loss in the total; ``metrics`` may be a list (applied to
        every output, logged as ``<output>_<metric>``) or a dict of lists keyed by output name.
        ``distribute``: a ``tensorcore.distributed.DataParallel()`` to train over MPI ranks.
        """
        if loss is None:
            raise ValueError("compile: a loss is required, e.g. "
                             "loss='sparse_categorical_crossentropy'. Received: loss=None")
        resolved_optimizer = optimizers.get(optimizer)
        if isinstance(loss, (list, tuple, dict)):
            resolved_loss = map_structure(losses.get, dict(loss) if isinstance(loss, dict)
                                          else list(loss))
            kind = None
        else:
            resolved_loss = losses.get(loss)
            kind = self._kind_of(loss, resolved_loss)
        if metrics is None:
            metrics = []
        if isinstance(metrics, (str, metrics_module.Metric)) or callable(metrics):
            metrics = [metrics]
        if not isinstance(metrics, (list, tuple, dict)):
            raise TypeError(f"compile: metrics must be a list. Received: metrics={metrics!r}")
        if loss_weights is not None and not isinstance(loss_weights, (list, tuple, dict)):
            raise TypeError("compile: loss_weights must be a list or a dict keyed by output "
                            f"name. Received: loss_weights={loss_weights!r}")
        for identifier in flatten(metrics if isinstance(metrics, dict) else list(metrics)):
            metrics_module.get(identifier, loss_name=kind)  # unknown names fail before any change
        if distribute is not None:
            from tensorcore.distributed.strategy import DataParallel
            if not isinstance(distribute, DataParallel):
                raise TypeError(f"compile: distribute must be None or a "
                                f"tensorcore.distributed.DataParallel(). "
                                f"Received: distribute={distribute!r}")
        saved = dict(self.__dict__)
        try:
            config = {"optimizer": optimizer, "loss": loss, "metrics": metrics,
                      "loss_weights": loss_weights}
            self._set_compiled(resolved_optimizer, resolved_loss, kind, loss_weights, metrics,
                               distribute, config)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise

    def _set_compiled(self, resolved_optimizer, resolved_loss, kind, loss_weights, metrics,
                      distribute, identifiers) -> None:
        self._distribute = distribute
        self.optimizer = resolved_optimizer
        self.loss = resolved_loss
        self.loss_kind = kind
        self.loss_weights = loss_weights
        self._metrics_spec = metrics
        self.loss_tracker = Mean(name="loss")
        self._compile_identifiers = identifiers
        self._output_losses = None
        self._metric_slots = []
        self.compiled_metrics = []
        names = self._known_output_names()
        if names is not None:
            self._resolve_outputs(names)

    @staticmethod
    def _kind_of(identifier, loss):
        if isinstance(identifier, str):
            return canonical_name(identifier)
        if isinstance(loss, losses.LossFunctionWrapper):
            return None
        return canonical_name(type(loss).__name__)

    def _known_output_names(self) -> list[str] | None:
        """Output names when known before the first call (functional, Sequential)."""
        names = getattr(self, "output_names", None)
        return list(names) if names else None

    def _resolve_outputs(self, names: list[str]) -> None:
        """Match losses, loss weights and metrics to the outputs (done once)."""
        count = len(names)
        loss = self.loss
        if isinstance(loss, dict):
            unknown = sorted(set(loss) - set(names))
            if unknown:
                raise ValueError(f"compile: loss has keys {unknown} that are not output names "
                                 f"{names}")
            per_output = [loss.get(name) for name in names]
        elif isinstance(loss, list):
            if len(loss) != count:
                raise ValueError(f"compile: the model has {count} outputs {names} but "
                                 f"{len(loss)} losses were given")
            per_output = list(loss)
        else:
            per_output = [loss] * count if count == 1 else \
                [losses.get(self._compile_identifiers["loss"]) for _ in names]
        weights = self.loss_weights
        if weights is None:
            weights = [1.0] * count
        elif isinstance(weights, dict):
            weights = [float(weights.get(name, 1.0)) for name in names]
        else:
            if len(weights) != count:
                raise ValueError(f"compile: loss_weights has {len(weights)} entries for "
                                 f"{count} outputs {names}")
            weights = [float(w) for w in weights]
        self._output_losses = per_output
        self._loss_weight_values = weights
        kinds = [self._kind_of(self._loss_identifier(i, names), fn) if fn is not None else None
                 for i, fn in enumerate(per_output)]
        self._output_loss_kinds = kinds
        self._output_loss_trackers = [Mean(name=f"{name}_loss") for name in names] \
            if count > 1 else []
        spec = self._metrics_spec
        slots: list[tuple[int, metrics_module.Metric]] = []
        if isinstance(spec, dict):
            unknown = sorted(set(spec) - set(names))
            if unknown:
                raise ValueError(f"compile: metrics has keys {unknown} that are not output "
                                 f"names {names}")
            for index, name in enumerate(names):
                for identifier in _as_list(spec.get(name, [])):
                    slots.append((index, self._make_metric(identifier, kinds[index],
                                                           name if count > 1 else None)))
        else:
            for index, name in enumerate(names):
                for identifier in spec:
                    slots.append((index, self._make_metric(identifier, kinds[index],
                                                           name if count > 1 else None)))
        metric_names = [m.name for _, m in slots]
        reserved = {"loss"} | {t.name for t in self._output_loss_trackers}
        if len(set(metric_names)) != len(metric_names) or reserved & set(metric_names):
            raise ValueError(f"compile: metric names must be unique and not 'loss'. "
                             f"Received: {metric_names}")
        self._metric_slots = slots
        self.compiled_metrics = [m for _, m in slots]

    def _loss_identifier(self, index: int, names: list[str]):
        loss = self._compile_identifiers["loss"]
        if isinstance(loss, dict):
            return loss.get(names[index])
        if isinstance(loss, (list, tuple)):
            return loss[index]
        return loss

    def _make_metric(self, identifier, loss_kind, prefix):
        metric = metrics_module.get(identifier, loss_name=loss_kind)
        if prefix is not None:
            if isinstance(identifier, metrics_module.Metric):
                raise ValueError("compile: with several outputs give metrics by name (they "
                                 "are created per output). Received: a Metric object")
            metric.name = f"{prefix}_{metric.name}"
        return metric

    @property
    def metrics(self) -> list[metrics_module.Metric]:
        """The loss tracker(s) followed by the compiled metrics (what the logs report)."""
        return [self.loss_tracker, *self._output_loss_trackers, *self.compiled_metrics]

    @property
    def metrics_names(self) -> list[str]:
        """Names as they appear in logs: "loss", then the metrics."""
        return [m.name for m in self.metrics]

    def compile_config(self) -> dict | None:
        """JSON-ready compile settings, or None if not compiled or not serializable."""
        if self.optimizer is None:
            return None
        try:
            identifiers = self._compile_identifiers
            metric_spec = identifiers["metrics"]
            objects = [identifier for identifier in flatten(
                metric_spec if isinstance(metric_spec, (list, dict)) else list(metric_spec))
                if not isinstance(identifier, str)]
            if objects:  # a ValueError: caught below, it turns into the warning
                raise ValueError(f"metric {objects[0]!r} was given as an object")
            loss = map_structure(losses.serialize, self.loss) \
                if isinstance(self.loss, (list, dict)) else losses.serialize(self.loss)
            config = {"optimizer": optimizers.serialize(self.optimizer), "loss": loss,
                      "metrics": metric_spec if isinstance(metric_spec, dict)
                      else list(metric_spec)}
            if self.loss_weights is not None:
                config["loss_weights"] = self.loss_weights if isinstance(
                    self.loss_weights, dict) else list(self.loss_weights)
            return config
        except ValueError as error:
            warnings.warn(f"The compile settings cannot be saved ({error}); the model is saved "
                          "without them and must be compiled again after loading.",
                          stacklevel=3)
            return None

    def compile_from_config(self, config: dict) -> None:
        """Compile from compile_config()'s output."""
        spec = config["loss"]
        if isinstance(spec, list):
            loss = [losses.deserialize(item) for item in spec]
        elif isinstance(spec, dict) and "class_name" not in spec:
            loss = {key: losses.deserialize(item) for key, item in spec.items()}
        else:
            loss = losses.deserialize(spec)
        metrics = config.get("metrics", [])
        self.compile(optimizer=optimizers.deserialize(config["optimizer"]), loss=loss,
                     metrics=metrics if isinstance(metrics, dict) else list(metrics),
                     loss_weights=config.get("loss_weights"))
        if not isinstance(loss, (list, dict)):
            self.loss_kind = canonical_name(type(loss).__name__)

    def _require_compiled(self, op: str) -> None:
        if self.optimizer is None or self.loss is None:
            raise RuntimeError(f"{op}: you must call compile() before {op}().")

    # ------------------------------------------------------------------ forward + loss
    def _forward_for_loss(self, x, training: bool, fuse: list[bool]) -> list[tuple]:
        """[(output tensor, is_logits)] per output. Models that can stop before a final
        activation (Sequential, functional) return logits where ``fuse`` asks for them."""
        return [(out, False) for out in _as_list(self(x, training=training))]

    def _targets_list(self, y, count: int) -> list:
        if count == 1:
            if isinstance(y, (list, tuple)) and len(y) == 1 \
                    and isinstance(y[0], (np.ndarray, tc.Tensor)):
                return [y[0]]
            if isinstance(y, dict) and len(y) == 1:
                return list(y.values())
            return [y]
        names = self.output_names
        if isinstance(y, dict):
            missing = [name for name in names if name not in y]
            if missing:
                raise ValueError(f"the targets dict has no entry for outputs {missing}; "
                                 f"expected keys {names}")
            return [y[name] for name in names]
        if not isinstance(y, (list, tuple)) or len(y) != count:
            raise ValueError(f"the model has {count} outputs {names}: give y as a list of "
                             f"{count} arrays or a dict keyed by output name")
        return list(y)

    def _ensure_outputs_resolved(self, y_pred) -> None:
        if self._output_losses is None:
            count = len(_as_list(y_pred))
            names = self._known_output_names() or \
                (["output"] if count == 1 else [f"output_{i + 1}" for i in range(count)])
            self.output_names = names
            self._resolve_outputs(names)

    def _loss_terms(self, y, outputs: list[tuple], sample_weight, batch_size: int):
        """Total loss tensor and the detached predictions, updating the loss trackers."""
        ys = self._targets_list(y, len(outputs))
        total = None
        predictions = []
        for index, ((out, is_logits), target) in enumerate(zip(outputs, ys)):
            loss = self._output_losses[index]
            if is_logits:
                per_sample = loss.call_fused(target, out)
                predictions.append(_fused_predictions(self._fused_activation(index), out))
            else:
                predictions.append(out.detach() if isinstance(out, tc.Tensor) else out)
                if loss is None:
                    continue
                per_sample = loss.call(target, out)
            if loss.reduction == "none":
                value = tc.mean(per_sample if sample_weight is None else
                                loss.reduce(per_sample, sample_weight))
            else:
                value = loss.reduce(per_sample, sample_weight)
            if self._output_loss_trackers:
                self._output_loss_trackers[index].update_state(
                    float(value.item()), sample_weight=batch_size)
            weight = self._loss_weight_values[index]
            term = value if weight == 1.0 else value * weight
            total = term if total is None else total + term
        if total is None:
            raise ValueError("compile: no output has a loss")
        self.loss_tracker.update_state(float(total.item()), sample_weight=batch_size)
        return total, predictions

    def _uses_fused_loss(self) -> bool:
        """True when the (single) output's activation and loss run as one stable step."""
        return not isinstance(self.loss, (list, dict)) and \
            self.loss.can_fuse(self._fused_activation(0))

    def _fused_activation(self, index: int) -> str | None:
        activations_ = getattr(self, "output_activations", None)
        if activations_ is not None:
            return activations_[index]
        return getattr(self, "output_activation", None)

    def _loss_and_predictions(self, x, y, sample_weight, training: bool):
        """(total loss tensor, detached predictions) for a batch, fusing softmax/sigmoid with
        the crossentropy where the output layer allows it."""
        batch_size = len(flatten(x)[0])
        if self._output_losses is None:
            outputs = [(out, False) for out in _as_list(self(x, training=training))]
            self._ensure_outputs_resolved([o for o, _ in outputs])
        else:
            fuse = [loss is not None and loss.can_fuse(self._fused_activation(i))
                    for i, loss in enumerate(self._output_losses)]
            outputs = self._forward_for_loss(x, training, fuse)
        total, predictions = self._loss_terms(y, outputs, sample_weight, batch_size)
        return total, predictions[0] if len(predictions) == 1 else predictions

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None,
                     training: bool = True) -> tc.Tensor:
        """Total compiled loss of predictions ``y_pred`` against ``y`` (a scalar tensor).

        The sum over outputs of ``loss_weight * loss(y, y_pred, sample_weight)`` with each
        loss's own reduction. Also updates the loss tracker(s) shown as ``loss`` in the logs,
        so a custom ``train_step`` that calls it reports its loss like the built-in one.
        """
        self._ensure_outputs_resolved(y_pred)
        outputs = [(out, False) for out in _as_list(y_pred)]
        batch_size = len(flatten(x)[0]) if x is not None else int(outputs[0][0].shape[0])
        total, _ = self._loss_terms(y, outputs, sample_weight, batch_size)
        return total

    def compute_metrics(self, x, y, y_pred, sample_weight=None) -> dict[str, float]:
        """Update the compiled metrics with a batch's predictions; returns the logs."""
        predictions = _as_list(y_pred)
        targets = self._targets_list(y, len(predictions))
        for index, metric in self._metric_slots:
            metric.update_state(targets[index], predictions[index], sample_weight)
        return self.get_metrics_result()

    def get_metrics_result(self) -> dict[str, float]:
        """Current value of every metric, as the logs dict (``{"loss": ..., ...}``).

        A distributed strategy reduces each metric's state across ranks here.
        """
        if self._distribute is not None:     # distributed hook: values reduced over ranks
            return self._distribute.metric_logs(self.metrics)
        return {metric.name: float(metric.result()) for metric in self.metrics}

    def reset_metrics(self) -> None:
        """Reset the loss tracker(s) and every compiled metric."""
        for metric in self.metrics:
            metric.reset_state()
        if self._distribute is not None:
            self._distribute.forget_metrics()

    _reset_metrics = reset_metrics

    def apply_gradients(self, grads_and_vars) -> None:
        """Apply gradients with the compiled optimizer: the only place weights are updated
        during fit (a data-parallel strategy averages the gradients here).

        A Ctrl-C arriving while the weights are being updated is held until every weight
        has its step, so an interrupted fit never leaves a half-applied step behind.
        """
        with _whole_step():
            self.optimizer.apply_gradients(grads_and_vars)

    def make_progbar(self, steps: int | None, verbose: int) -> Progbar:
        """The progress bar of one epoch / evaluation (override to silence some ranks)."""
        return Progbar(steps, verbose=verbose)

    # ------------------------------------------------------------------ steps
    def train_step(self, data) -> dict[str, float]:
        """One optimizer step on one batch ``data = (x, y, sample_weight)``; returns the logs.

        Override it for a custom training step; see the "Custom training step" section of
        the README for a worked example built on compute_loss, tc.autograd.grad,
        apply_gradients and compute_metrics.
        """
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        if self._distribute is not None:
            return self._distributed_train_step(self._distribute, x, y, sample_weight)
        loss, y_pred = self._loss_and_predictions(x, y, sample_weight, training=True)
        weights = self.trainable_weights
        if weights:
            grads = tc.autograd.grad(loss, weights, allow_unused=True)
            self.apply_gradients(zip(grads, weights))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    # distributed hook: this rank's slice of the global batch, then the strategy's one
    # Allreduce of gradients + metric states, then the same optimizer step on every rank.
    def _distributed_train_step(self, strategy, x, y, sample_weight) -> dict[str, float]:
        weights = self.trainable_weights
        grads = None
        count = len(flatten(x)[0])
        strategy.start_step(self, count)
        try:
            if count:
                loss_value, y_pred = self._loss_and_predictions(x, y, sample_weight,
                                                                training=True)
                if weights:
                    grads = list(tc.autograd.grad(loss_value, weights, allow_unused=True,
                                                  on_ready=strategy.gradient_hook))
                predictions = _as_list(y_pred)
                targets = self._targets_list(y, len(predictions))
                for index, metric in self._metric_slots:
                    metric.update_state(targets[index], predictions[index], sample_weight)
        except Exception as error:  # noqa: BLE001 (re-raised after the Allreduce)
            # Join the step's Allreduce with the failure flag so no rank waits for us.
            strategy.reduce_gradients(self, None, 0, failed=True)
            from tensorcore.distributed import mark_collective
            raise mark_collective(error) from None
        grads = strategy.reduce_gradients(self, grads, count)
        if weights:
            self.apply_gradients(zip(grads, weights))
        return self.get_metrics_result()

    def _writes_files(self) -> bool:
        """False on the ranks other than 0 of a distributed model (rank 0 saves)."""
        return self._distribute is None or self._distribute.is_chief

    def test_step(self, data) -> dict[str, float]:
        """Loss and metric updates on one batch, without training; returns the logs."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        with tc.no_grad():
            _, y_pred = self._loss_and_predictions(x, y, sample_weight, training=False)
            return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data):
        """Model outputs for one batch (x, or a tuple whose first element is x)."""
        x, _, _ = unpack_x_y_sample_weight(data)
        with tc.no_grad():
            return self(x, training=False)

    # ------------------------------------------------------------------ data checks
    def _check_arrays(self, op: str, x, y):
        """Shape/label checks for one input array and one target array (when they apply)."""
        if not isinstance(x, np.ndarray) or not getattr(self, "_checks_shapes", False):
            return x, y
        x = data_checks.check_inputs(op, self, x)
        if y is not None and isinstance(y, np.ndarray) and self.loss is not None \
                and not isinstance(self.loss, (list, dict)):
            y = data_checks.check_targets(op, self, x, y)
        return x, y

    def _adapter(self, op: str, x, y, sample_weight, batch_size, steps, shuffle,
                 class_weight=None, name: str = "x") -> DataAdapter:
        adapter = make_adapter(op, x, y, sample_weight, batch_size=batch_size, steps=steps,
                               shuffle=shuffle, class_weight=class_weight, name=name)
        if isinstance(adapter, ArrayDataAdapter):
            adapter.x, adapter.y = self._check_arrays(op, adapter.x, adapter.y)
        elif getattr(self, "_checks_shapes", False):
            checker = getattr(adapter, "_checker", adapter)
            checker.batch_check = lambda bx, by: self._check_arrays(op, bx, by)
        if steps is not None and adapter.num_batches is None:
            adapter.num_batches = steps
        return adapter

    def _build_from(self, adapter: DataAdapter) -> None:
        if not self.built and isinstance(adapter, ArrayDataAdapter) \
                and isinstance(adapter.x, np.ndarray) and hasattr(self, "build"):
            try:
                self.build((None,) + tuple(adapter.x.shape[1:]))
            except NotImplementedError:
                pass

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None) -> float:
        """One training step on one batch; returns the batch loss."""
        self._require_compiled("train_on_batch")
        adapter = self._adapter("train_on_batch", x, y, sample_weight, None, None, False,
                                class_weight)
        self._build_from(adapter)
        self.reset_metrics()
        if not isinstance(adapter, ArrayDataAdapter):
            raise TypeError("train_on_batch: x must be arrays or Tensors (one batch)")
        return self.train_step((adapter.x, adapter.y, adapter.sample_weight))["loss"]

    def test_on_batch(self, x, y=None, sample_weight=None) -> float:
        """Loss on one batch, without training."""
        self._require_compiled("test_on_batch")
        adapter = self._adapter("test_on_batch", x, y, sample_weight, None, None, False)
        if not isinstance(adapter, ArrayDataAdapter):
            raise TypeError("test_on_batch: x must be arrays or Tensors (one batch)")
        self._build_from(adapter)
        self.reset_metrics()
        return self.test_step((adapter.x, adapter.y, adapter.sample_weight))["loss"]

    def predict_on_batch(self, x):
        """Outputs for one batch as NumPy array(s)."""
        return map_structure(lambda t: t.numpy(), self.predict_step((x,)))

    # ------------------------------------------------------------------ fit
    def fit(self, x=None, y=None, batch_size: int | None = None, epochs: int = 1,
            verbose="auto", callbacks: list[Callback] | None = None,
            validation_split: float = 0.0, validation_data=None, shuffle: bool = True,
            class_weight: dict | None = None, sample_weight=None, initial_epoch: int = 0,
            steps_per_epoch: int | None = None, validation_steps: int | None = None,
            validation_batch_size: int | None = None, validation_freq: int = 1) -> History:
        """Train for `epochs` passes over the data; returns a History of per-epoch logs.

        ``x`` may be arrays / Tensors (or lists / dicts of them), a generator or iterable of
        ``x``, ``(x, y)`` or ``(x, y, sample_weight)`` batches, a ``tc.utils.PyDataset`` or
        a ``tc.data.Dataset``; ``validation_data`` likewise, or ``(x_val, y_val[, w_val])``.
        A one-shot generator needs ``steps_per_epoch`` when ``epochs > 1``.
        """
        op = "fit"
        self._require_compiled(op)
        if batch_size is not None:
            batch_size = data_checks.check_positive_int(op, "batch_size", batch_size)
        epochs = data_checks.check_positive_int(op, "epochs", epochs, allow_zero=True)
        initial_epoch = data_checks.check_positive_int(op, "initial_epoch", initial_epoch,
                                                       allow_zero=True)
        for name, value in (("steps_per_epoch", steps_per_epoch),
                            ("validation_steps", validation_steps),
                            ("validation_batch_size", validation_batch_size)):
            if value is not None:
                data_checks.check_positive_int(op, name, value)
        validation_freq = data_checks.check_positive_int(op, "validation_freq", validation_freq)
        verbose = data_checks.check_verbose(op, verbose)
        validation_split = data_checks.check_validation_split(op, validation_split)
        if not isinstance(shuffle, (bool, np.bool_)):
            raise TypeError(f"{op}: shuffle must be True or False. Received: shuffle={shuffle!r}")
        if callbacks is not None and (not isinstance(callbacks, (list, tuple)) or not all(
                isinstance(c, Callback) for c in callbacks)):
            raise TypeError(f"{op}: callbacks must be a list of Callback instances. "
                            f"Received: callbacks={callbacks!r}")
        if validation_split > 0:
            if not is_array_like(x):
                raise ValueError(f"{op}: validation_split needs x given as arrays; for a "
                                 "generator or dataset pass validation_data. Received: x of "
                                 f"type {type(x).__name__}")
            if validation_data is None:
                (x, y, sample_weight), validation_data = _split(op, x, y, sample_weight,
                                                                validation_split)
        adapter = self._adapter(op, x, y, sample_weight, batch_size or 32, steps_per_epoch,
                                bool(shuffle), class_weight)
        if getattr(adapter, "one_shot", False) and steps_per_epoch is None and epochs > 1:
            raise ValueError(f"{op}: x is a one-shot iterator (a {type(x).__name__}: it can "
                             "be read only once), so fit needs steps_per_epoch to know where "
                             f"each epoch ends. Received: steps_per_epoch=None with "
                             f"epochs={epochs}")
        val_adapter = None
        if validation_data is not None:
            val_adapter = self._validation_adapter(op, validation_data,
                                                   validation_batch_size or batch_size or 32,
                                                   validation_steps, epochs)
        self._build_from(adapter)
        strategy = self._distribute
        if strategy is not None:
            # distributed hook: same model and settings everywhere, rank 0's weights
            self._require_arrays(op, adapter)
            strategy.begin(self, op, {
                "samples": adapter.num_samples, "batch_size": adapter.batch_size,
                "epochs": epochs, "initial_epoch": initial_epoch, "shuffle": bool(shuffle),
                "validation_samples": 0 if val_adapter is None
                else self._require_arrays(op, val_adapter).num_samples})
            adapter.strategy = strategy
            if not strategy.is_chief:
                verbose = 0
        callback_list = CallbackList([History(), *(callbacks or [])])
        steps = adapter.num_batches
        self.history = callback_list.callbacks[0]
        callback_list.set_model(self)
        callback_list.set_params({"epochs": epochs, "steps": steps, "verbose": verbose})
        self.stop_training = False
        self._initial_epoch = initial_epoch
        train_start = time.perf_counter()
        try:
            callback_list.on_train_begin()
            for epoch in range(self._initial_epoch, epochs):
                self.reset_metrics()
                callback_list.on_epoch_begin(epoch)
                if verbose:
                    print(f"Epoch {epoch + 1}/{epochs}", flush=True)
                progbar = self.make_progbar(steps, verbose)
                done = self._run_epoch(adapter, steps_per_epoch, callback_list, progbar)
                if done == 0:
                    if getattr(adapter, "exhausted", False) and epoch > self._initial_epoch:
                        break
                    raise ValueError(f"{op}: x produced no batches in epoch {epoch + 1}")
                epoch_logs = self.get_metrics_result()
                if val_adapter is not None and (epoch + 1) % validation_freq == 0:
                    val_logs = self._evaluate_adapter(val_adapter, validation_steps)
                    epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
                progbar.update(done, epoch_logs, finalize=True)
                adapter.on_epoch_end()
                callback_list.on_epoch_end(epoch, epoch_logs)
                if self.stop_training or getattr(adapter, "exhausted", False):
                    break
        finally:
            adapter.close()
            if val_adapter is not None:
                val_adapter.close()
        callback_list.on_train_end()
        self.history.training_time = time.perf_counter() - train_start
        return self.history

    @staticmethod
    def _require_arrays(op: str, adapter: DataAdapter) -> ArrayDataAdapter:
        if not isinstance(adapter, ArrayDataAdapter):
            raise TypeError(f"{op}: a distributed model trains on arrays (each rank takes its "
                            "slice of every batch); for other data shard a data adapter "
                            "yourself. Received: data of another kind")
        return adapter

    def _validation_adapter(self, op, validation_data, batch_size, steps, epochs):
        if isinstance(validation_data, tuple) and len(validation_data) in (2, 3) \
                and is_array_like(validation_data[0]):
            vx, vy, vw = unpack_x_y_sample_weight(validation_data)
            if isinstance(vx, (np.ndarray, tc.Tensor)):
                vx = data_checks.check_inputs(op, self, vx) \
                    if getattr(self, "_checks_shapes", False) else vx
            adapter = make_adapter(op, vx, vy, vw, batch_size=batch_size, shuffle=False,
                                   name="validation_data")
            adapter.x, adapter.y = self._check_arrays(op, adapter.x, adapter.y)
            return adapter
        if isinstance(validation_data, (tuple, list)) and not is_array_like(validation_data):
            raise ValueError(f"{op}: validation_data must be (x_val, y_val), (x_val, y_val, "
                             "sample_weight_val), a generator, an iterable or a PyDataset. "
                             f"Received: a {type(validation_data).__name__} of "
                             f"{len(validation_data)} elements")
        adapter = make_adapter(op, validation_data, batch_size=batch_size, steps=steps,
                               name="validation_data")
        if isinstance(adapter, ArrayDataAdapter):
            expected = f"{op}: validation_data must be a tuple (x_val, y_val[, sample_weight])"
            if not isinstance(validation_data, (tuple, list)):
                raise TypeError(f"{expected}. Received: validation_data of type "
                                f"{type(validation_data).__name__}")
            # a tuple or list of arrays of the wrong length: the type is right, the value not
            raise ValueError(f"{expected}. Received: a {type(validation_data).__name__} "  # noqa: TRY004
                             f"of {len(validation_data)} element(s)")
        if getattr(adapter, "one_shot", False) and steps is None and epochs > 1:
            raise ValueError(f"{op}: validation_data is a one-shot iterator (a "
                             f"{type(validation_data).__name__}: it can be read only once), so "
                             "fit needs validation_steps. Received: validation_steps=None")
        return adapter

    def _run_epoch(self, adapter: DataAdapter, steps, callback_list, progbar) -> int:
        """Train on one epoch of batches; returns the number of steps done."""
        iterator = adapter.epoch_iterator(steps)
        done = 0
        try:
            for step, data in enumerate(iterator):
                callback_list.on_train_batch_begin(step)
                logs = self.train_step(data)
                done = step + 1
                callback_list.on_train_batch_end(step, logs)
                if progbar.target is None or done < progbar.target:
                    progbar.update(done, logs)
                if self.stop_training:
                    break
        finally:
            iterator.close()
        return done

    # ------------------------------------------------------------------ evaluate / predict
    def _evaluate_adapter(self, adapter: DataAdapter, steps=None,
                          progbar: Progbar | None = None) -> dict[str, float]:
        """Loss and metrics over an adapter's batches, as a logs dict."""
        self.reset_metrics()
        strategy = self._distribute
        if strategy is not None:            # distributed hook: each rank its shard
            adapter = self._require_arrays("evaluate", adapter).rows(
                *strategy.shard(0, adapter.num_samples))
        iterator = adapter.epoch_iterator(steps)
        done = 0
        try:
            for data in iterator:
                logs = self.test_step(data)
                done += 1
                if progbar is not None and (progbar.target is None or done < progbar.target):
                    progbar.update(done, logs)
        finally:
            iterator.close()
        if done == 0 and strategy is None:
            raise ValueError("evaluate: the data produced no batches")
        if strategy is not None:
            strategy.reduce_metrics(self.metrics)
        logs = self.get_metrics_result()
        if progbar is not None:
            progbar.update(done, logs, finalize=True)
        return logs

    def evaluate(self, x=None, y=None, batch_size: int | None = None, verbose="auto",
                 sample_weight=None, steps: int | None = None, return_dict: bool = False):
        """Loss (and metrics) on the data: a float, or [loss, *metrics] when metrics were set.

        Takes the same kinds of data as fit; ``sample_weight`` weights the loss and metrics.
        """
        op = "evaluate"
        self._require_compiled(op)
        if batch_size is not None:
            batch_size = data_checks.check_positive_int(op, "batch_size", batch_size)
        if steps is not None:
            steps = data_checks.check_positive_int(op, "steps", steps)
        verbose = data_checks.check_verbose(op, verbose)
        adapter = self._adapter(op, x, y, sample_weight, batch_size or 32, steps, False)
        self._build_from(adapter)
        if self._distribute is not None:
            self._distribute.begin(self, op, {
                "samples": self._require_arrays(op, adapter).num_samples,
                "batch_size": adapter.batch_size})
            if not self._distribute.is_chief:
                verbose = 0
        progbar = self.make_progbar(adapter.num_batches, verbose) if verbose else None
        try:
            logs = self._evaluate_adapter(adapter, steps, progbar)
        finally:
            adapter.close()
        if return_dict:
            return logs
        values = [logs[name] for name in self.metrics_names]
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size: int | None = None, verbose=0,
                steps: int | None = None):
        """Model outputs for x, computed in batches: a float32 NumPy array (a list of them for
        several outputs). Takes the same kinds of data as fit (targets are ignored)."""
        op = "predict"
        if batch_size is not None:
            batch_size = data_checks.check_positive_int(op, "batch_size", batch_size)
        if steps is not None:
            steps = data_checks.check_positive_int(op, "steps", steps)
        verbose = data_checks.check_verbose(op, verbose)
        adapter = self._adapter(op, x, None, None, batch_size or 32, steps, False)
        self._build_from(adapter)
        strategy = self._distribute
        if strategy is not None:            # distributed hook: predict a shard, then gather
            arrays = self._require_arrays(op, adapter)
            strategy.begin(self, op, {"samples": arrays.num_samples,
                                      "batch_size": arrays.batch_size})
            start, stop = strategy.shard(0, arrays.num_samples)
            row_shape = tuple(self.compute_output_shape((None,) + tuple(arrays.x.shape[1:]))[1:])
            dtype = self.weights[0].dtype if self.weights else np.float32
            local = None
            if stop > start:
                local = self._predict_adapter(arrays.rows(start, stop), None,
                                              verbose if strategy.is_chief else 0)
            return strategy.gather_rows(local, arrays.num_samples, row_shape, dtype)
        return self._predict_adapter(adapter, steps, verbose)

    def _predict_adapter(self, adapter: DataAdapter, steps, verbose):
        """Outputs for every batch of the adapter, joined per output."""
        op = "predict"
        progbar = self.make_progbar(adapter.num_batches, verbose) if verbose else None
        pieces: list[list[np.ndarray]] = []
        iterator = adapter.epoch_iterator(steps)
        try:
            for done, data in enumerate(iterator, start=1):
                outputs = _as_list(self.predict_step(data))
                if not pieces:
                    pieces = [[] for _ in outputs]
                for store, out in zip(pieces, outputs):
                    store.append(out.numpy())
                if progbar is not None:
                    progbar.update(done)
        finally:
            iterator.close()
            adapter.close()
        if not pieces:
            raise ValueError(f"{op}: x produced no batches")
        results = [store[0] if len(store) == 1 else np.concatenate(store) for store in pieces]
        return results[0] if len(results) == 1 else results

    def __getstate__(self):
        raise TypeError("tensorcore models are not picklable; use model.save(path)")


_SIGINT = int(signal.SIGINT)


@contextlib.contextmanager
def _whole_step():
    """Hold back KeyboardInterrupt (SIGINT with Python's default handler) until the block
    ends. Only the main thread receives signals; elsewhere, or under a custom SIGINT
    handler, the block runs as is."""
    # _signal: the C functions behind signal.signal/getsignal, without their enum
    # conversions (which cost more than the rest of the guard, once per training step)
    if threading.current_thread() is not threading.main_thread() \
            or _signal.getsignal(_SIGINT) is not _signal.default_int_handler:
        yield
        return
    received = []
    _signal.signal(_SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        _signal.signal(_SIGINT, _signal.default_int_handler)
    if received:
        raise KeyboardInterrupt


def _split(op, x, y, sample_weight, fraction):
    """Keras's split: the LAST `fraction` of the samples (before any shuffling) validates."""
    x = structure_arrays(op, "x", x)
    y = structure_arrays(op, "y", y)
    w = structure_arrays(op, "sample_weight", sample_weight)
    count = len(flatten(x)[0])
    split_at = int(np.floor(count * (1.0 - fraction)))
    if split_at <= 0 or split_at >= count:
        raise ValueError(f"{op}: validation_split={fraction} leaves "
                         f"{split_at} training and {count - split_at} validation samples out "
                         f"of {count}; both must be non-empty")
    from tensorcore.models.data_adapters import check_lengths
    check_lengths(op, x, y, w)

    def head(a):
        return a[:split_at]

    def tail(a):
        return a[split_at:]

    train = (map_structure(head, x), map_structure(head, y), map_structure(head, w))
    validation = (map_structure(tail, x), map_structure(tail, y), map_structure(tail, w))
    return train, validation
