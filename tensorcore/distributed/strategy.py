"""DataParallel: the strategy `fit`/`evaluate`/`predict` use when compiled with `distribute=`.

One training step on every rank:

1. the rank takes its contiguous slice of the global batch (rank r of R gets rows
   [n*r//R, n*(r+1)//R) of the batch, so the ranks together see exactly the samples one
   process would see, in the same order);
2. forward, backward and the metric updates run locally;
3. ONE ``Allreduce`` (sum) runs over a single contiguous buffer laid out as
   ``[gradients (P) | non-trainable weight changes (S) | their sample count (1) |
   metric totals and counts (2M) | samples (1) | failure flags (R)]``;
   every gradient is written into its slot already multiplied by the local sample count, so
   after the sum dividing by the summed count gives the gradient of the global batch's mean
   loss, exact also when the slices differ in size;
4. every rank applies the same averaged gradients, so the weights stay identical; the
   non-trainable weights the forward pass changed (BatchNormalization's moving statistics)
   become their value before the step plus the ranks' sample-weighted mean change.

The buffer is a NumPy array handed to MPI through the buffer protocol (no pickle, no lists);
the averaged gradients given to the optimizer are views into it. A rank whose local step
raises still joins the Allreduce with its failure flag set, then re-raises its own
exception; the other ranks raise DistributedError naming it. Anything else that escapes on
one rank aborts all of them (see tensorcore.distributed.init).

With ``overlap=True`` the gradient part is cut into buckets of about ``bucket_bytes``, last
layer first, and each bucket's non-blocking ``Iallreduce`` starts as soon as backward has
produced all of its gradients (``tc.autograd.grad(..., on_ready=...)``) while backward still
runs on the earlier layers; the tail (metrics, count, flags) follows with a blocking
Allreduce, then the step waits for the buckets. Buckets are always started in the same
order on every rank, as MPI requires of collectives.
"""

from __future__ import annotations

import numbers
import time

import numpy as np

import tensorcore as tc
from tensorcore import distributed
from tensorcore.backend import current as current_backend


def _metric_holder(metric):
    """The Mean object holding (total, count) for a compiled metric, or None if none yet."""
    chosen = getattr(metric, "chosen", False)
    if chosen is not False:          # AutoAccuracy: the concrete metric picked on first use
        return chosen
    return metric


class _Layout:
    """Offsets of a list of tensors packed one after another into a flat buffer."""

    def __init__(self, tensors: list):
        self.shapes = [tuple(t.shape) for t in tensors]
        self.offsets = []
        position = 0
        for t in tensors:
            self.offsets.append(position)
            position += int(t.size)
        self.size = position

    def view(self, buffer: np.ndarray, index: int) -> np.ndarray:
        """Slot `index` of the buffer, shaped like its tensor (a view, C-contiguous)."""
        start = self.offsets[index]
        shape = self.shapes[index]
        count = 1
        for n in shape:
            count *= n
        return buffer[start:start + count].reshape(shape)


def _scale_into(source: np.ndarray, factor: float, out: np.ndarray) -> None:
    """out = source * factor with our kernels (source may be `out` itself)."""
    kernels = current_backend()
    if factor == 1.0:
        if source is not out:
            kernels.copy(source, out)
        return
    scalar = np.broadcast_to(np.array(factor, dtype=out.dtype), out.shape)
    kernels.binary("multiply", np.ascontiguousarray(source), scalar, out)


class DataParallel:
    """Synchronous data parallelism over MPI ranks (see the module docstring).

    overlap: start each bucket's Iallreduce during backward (default False: on the machine
        measured, one Allreduce after backward was as fast or faster; docs/distributed.md).
    bucket_bytes: target bucket size with overlap (default 1 MiB).
    comm: an mpi4py communicator (default COMM_WORLD).
    """

    def __init__(self, overlap: bool = False, bucket_bytes: int = 1 << 20, comm=None):
        if not isinstance(overlap, (bool, np.bool_)):
            raise TypeError(f"DataParallel: overlap must be True or False. "
                            f"Received: overlap={overlap!r}")
        if isinstance(bucket_bytes, bool) or not isinstance(bucket_bytes, numbers.Integral) \
                or bucket_bytes < 1:
            raise ValueError(f"DataParallel: bucket_bytes must be a positive integer. "
                             f"Received: bucket_bytes={bucket_bytes!r}")
        self.overlap = bool(overlap)
        self.bucket_bytes = int(bucket_bytes)
        self._buckets: list[tuple[int, int]] = []      # slot ranges [first, stop)
        self._bucket_of: list[int] = []
        self._step_open = False
        self._step_weight = 1.0
        self._written: list[bool] = []
        self._missing: list[int] = []
        self._issued = 0
        self._requests: list = []
        self._requested_comm = comm
        self._comm = None
        self._grad_layout: _Layout | None = None
        self._grad_weights: list | None = None
        self._buffer: np.ndarray | None = None
        self._state_weights: list = []
        self._state_layout = _Layout([])
        self._state_before = np.empty(0, dtype=np.float32)
        self._state_saved = False
        self._step_samples = 0.0
        self._metric_snapshot: dict[str, float] | None = None
        # Time spent in gradient communication (the Allreduce call, or waiting for the
        # overlapped buckets) and the number of steps, for benchmarks.
        self.communication_seconds = 0.0
        self.steps = 0
        # Buckets whose Iallreduce started while backward was still running (overlap).
        self.buckets_started_during_backward = 0

    # ------------------------------------------------------------------ ranks
    @property
    def comm(self):
        """The communicator (MPI is initialised on first access)."""
        if self._comm is None:
            self._comm = distributed.init(self._requested_comm)
        return self._comm

    @property
    def rank(self) -> int:
        """This process's rank."""
        return self.comm.Get_rank()

    @property
    def size(self) -> int:
        """Number of ranks."""
        return self.comm.Get_size()

    @property
    def is_chief(self) -> bool:
        """True on rank 0, the rank that prints and writes files."""
        return self.rank == 0

    def shard(self, start: int, stop: int) -> tuple[int, int]:
        """This rank's contiguous part [lo, hi) of the rows [start, stop)."""
        count = stop - start
        return (start + count * self.rank // self.size,
                start + count * (self.rank + 1) // self.size)

    # ------------------------------------------------------------------ start-up
    def begin(self, model, op: str, settings: dict) -> None:
        """Check that every rank runs the same model and settings, then give every rank rank
        0's weights (fit: also its optimizer state).

        Raises ValueError on every rank (not only the odd one) when they disagree.
        """
        if op == "fit":
            for metric in model.metrics:
                if not isinstance(metric, tc.metrics.Mean):
                    raise TypeError(f"{op}: DataParallel reduces metrics that keep a "
                                    f"(total, count) state (tensorcore.metrics.Mean and its "
                                    f"subclasses). Received: {type(metric).__name__} "
                                    f"{metric.name!r}")
        signature = {
            "weights": [f"{name}:{tuple(w.shape)}:{w.dtype}"
                        for name, w in zip(self._weight_names(model), model.weights)],
            **settings,
        }
        slots: list = []
        if op == "fit":
            slots = self._optimizer_slots(model)
            signature["optimizer"] = self._optimizer_description(model.optimizer)
            signature["optimizer_state"] = [f"{label}:{tuple(t.shape)}:{t.dtype}"
                                            for label, t in slots]
        everyone = self.comm.allgather(signature)
        for other_rank, other in enumerate(everyone):
            if other != everyone[0]:
                differing = sorted(key for key in set(other) | set(everyone[0])
                                   if other.get(key) != everyone[0].get(key))
                details = "; ".join(f"{key}: rank 0 has {everyone[0].get(key)!r}, rank "
                                    f"{other_rank} has {other.get(key)!r}"
                                    for key in differing)
                raise distributed.mark_collective(ValueError(
                    f"{op}: the {self.size} ranks must run the same model on data of the "
                    f"same size with the same settings, but they differ. {details}"))
        # Every collective call runs rank 0's model: evaluate and predict too, or a rank
        # that initialised (or loaded) differently would contribute another model's rows.
        self.broadcast_weights(model)
        if op == "fit":
            self._broadcast_optimizer_state(model.optimizer, [t for _, t in slots])
            self._prepare(model)

    @staticmethod
    def _weight_names(model) -> list[str]:
        names = getattr(model, "weight_names", None)
        return list(names) if names is not None else [str(i) for i in range(len(model.weights))]

    @staticmethod
    def _optimizer_description(optimizer) -> object:
        """The optimizer's class and settings (ranks must agree), or its class name when
        it cannot be serialized."""
        try:
            return tc.optimizers.serialize(optimizer)
        except (ValueError, TypeError):
            return type(optimizer).__name__

    @staticmethod
    def _optimizer_slots(model) -> list[tuple[str, tc.Tensor]]:
        """(label, state tensor) for every slot of every trainable weight, in a fixed order.

        A weight the optimizer has not stepped yet gets its state built now (the zeros its
        first step would build), so every rank has the same slots to receive rank 0's."""
        optimizer = model.optimizer
        slots = []
        for index, weight in enumerate(model.trainable_weights):
            state = optimizer.state_for(weight)
            for key in sorted(state):
                if isinstance(state[key], tc.Tensor):
                    slots.append((f"{index}/{key}", state[key]))
        return slots

    def _broadcast_optimizer_state(self, optimizer, slots: list) -> None:
        """Give every rank rank 0's optimizer step count and state (momentum, velocity...):
        a rank resumed from a checkpoint and a fresh one would otherwise apply different
        updates to the same averaged gradients and their weights would drift apart."""
        iterations = np.array([optimizer.iterations], dtype=np.int64)
        self.comm.Bcast(iterations, root=0)
        optimizer.iterations = int(iterations[0])
        self._broadcast_tensors(slots)

    def broadcast_weights(self, model) -> None:
        """Give every rank rank 0's weights (one Bcast of one packed buffer per dtype)."""
        self._broadcast_tensors(model.weights)

    def _broadcast_tensors(self, tensors: list) -> None:
        """Overwrite the tensors with rank 0's values (one Bcast per dtype)."""
        by_dtype: dict = {}
        for w in tensors:
            by_dtype.setdefault(np.dtype(w.dtype), []).append(w)
        for dtype, group in by_dtype.items():
            layout = _Layout(group)
            buffer = np.empty(layout.size, dtype=dtype)
            if self.is_chief:
                for index, w in enumerate(group):
                    current_backend().copy(w.data, layout.view(buffer, index))
            self.comm.Bcast(buffer, root=0)
            if not self.is_chief:
                with tc.no_grad():
                    for index, w in enumerate(group):
                        w.assign(layout.view(buffer, index))

    def _prepare(self, model) -> None:
        """Allocate the step buffer for the model's trainable weights."""
        weights = model.trainable_weights
        dtypes = {np.dtype(w.dtype) for w in weights}
        if len(dtypes) > 1:
            raise TypeError(f"fit: DataParallel needs trainable weights of one dtype. "
                            f"Received: {sorted(str(d) for d in dtypes)}")
        dtype = dtypes.pop() if dtypes else np.dtype(np.float32)
        self._grad_weights = list(weights)
        self._grad_layout = _Layout(weights)
        # Non-trainable weights that the forward pass updates in place (BatchNormalization's
        # moving statistics) travel after the gradients: each rank sends its step's change
        # times its sample count, every rank adds the weighted mean change. Without it each
        # rank kept the statistics of its own slices and the ranks' models drifted apart.
        self._state_weights = [w for w in model.non_trainable_weights
                               if np.dtype(w.dtype) == dtype]
        self._state_layout = _Layout(self._state_weights)
        self._state_before = np.empty(self._state_layout.size, dtype=dtype)
        self._state_saved = False
        extra = self._state_layout.size + 1 + 2 * len(model.metrics) + 1 + self.size
        self._buffer = np.empty(self._grad_layout.size + extra, dtype=dtype)
        self._make_buckets(dtype.itemsize)

    def _make_buckets(self, itemsize: int) -> None:
        """Consecutive slots grouped from the last one backwards, ~bucket_bytes each."""
        shapes = self._grad_layout.shapes
        self._buckets, self._bucket_of = [], [0] * len(shapes)
        stop, size = len(shapes), 0
        for index in range(len(shapes) - 1, -1, -1):
            count = 1
            for n in shapes[index]:
                count *= n
            size += count * itemsize
            self._bucket_of[index] = len(self._buckets)
            if size >= self.bucket_bytes or index == 0:
                self._buckets.append((index, stop))
                stop, size = index, 0

    def sync_order(self, order: np.ndarray | None) -> np.ndarray | None:
        """Rank 0's shuffling order, on every rank."""
        if order is None:
            return None
        order = np.ascontiguousarray(order, dtype=np.int64)
        self.comm.Bcast(order, root=0)
        return order

    # ------------------------------------------------------------------ one step
    def start_step(self, model, local_samples: int) -> None:
        """Open a training step on this rank (before its forward pass)."""
        if not self._prepared_for(model.trainable_weights):
            self._prepare(model)
        mean = getattr(model.loss, "reduction", None) != "sum"
        self._step_weight = float(local_samples) if mean else 1.0
        self._step_open = True
        self._step_samples = float(local_samples)
        kernels = current_backend()
        for index, weight in enumerate(self._state_weights):
            kernels.copy(weight.data, self._state_layout.view(self._state_before, index))
        self._state_saved = True
        if self.overlap:
            self._written = [False] * len(self._grad_layout.shapes)
            self._missing = [stop - first for first, stop in self._buckets]
            self._issued = 0
            self._requests = []

    def _prepared_for(self, weights: list) -> bool:
        """True when the step buffer was laid out for exactly these weight tensors."""
        known = self._grad_weights
        return self._buffer is not None and known is not None and len(known) == len(weights) \
            and all(a is b for a, b in zip(known, weights))

    @property
    def gradient_hook(self):
        """The `on_ready` callback for tc.autograd.grad (None without overlap)."""
        return self._gradient_ready if self.overlap else None

    def _gradient_ready(self, index: int, grad) -> None:
        """Backward finished slot `index`: store it scaled, start the buckets now complete."""
        begin = time.perf_counter()
        slot = self._grad_layout.view(self._buffer, index)
        if grad is None:
            slot.fill(0)
        else:
            _scale_into(grad.data, self._step_weight, slot)
        self._written[index] = True
        self._missing[self._bucket_of[index]] -= 1
        self.buckets_started_during_backward += self._start_buckets(force=False)
        if self._requests:
            distributed.mpi().Request.Testall(self._requests)   # lets MPI progress them
        self.communication_seconds += time.perf_counter() - begin

    def _start_buckets(self, force: bool) -> int:
        """Iallreduce the next buckets in order while complete (all of them when forced).

        Returns how many were started."""
        MPI = distributed.mpi()
        layout, buffer = self._grad_layout, self._buffer
        started = self._issued
        while self._issued < len(self._buckets) and (force or not self._missing[self._issued]):
            first, stop = self._buckets[self._issued]
            for index in range(first, stop):
                if not self._written[index]:
                    layout.view(buffer, index).fill(0)
            end = layout.offsets[stop] if stop < len(layout.offsets) else layout.size
            region = buffer[layout.offsets[first]:end]
            self._requests.append(self.comm.Iallreduce(MPI.IN_PLACE, region))
            self._issued += 1
        return self._issued - started

    def _finish_overlapped(self, model, failed: bool) -> None:
        """Start what is left, reduce the tail, wait for every bucket."""
        if failed:
            self._written = [False] * len(self._written)   # send zeros for the rest
        self._start_buckets(force=True)
        self._fill_tail(model, self._step_weight, failed)
        MPI = distributed.mpi()
        self.comm.Allreduce(MPI.IN_PLACE, self._buffer[self._grad_layout.size:])
        MPI.Request.Waitall(self._requests)
        self._requests = []

    def reduce_gradients(self, model, grads: list | None, local_samples: int,
                         failed: bool = False) -> list:
        """Average the gradients of all ranks (one Allreduce); returns them as views.

        `grads` are this rank's gradients for model.trainable_weights (None entries, or None
        for all when the rank has no samples or failed, count as zeros). Also reduces the
        metric states, and raises DistributedError when another rank's step failed.
        """
        weights = model.trainable_weights
        if not self._prepared_for(weights):
            self._prepare(model)
        layout, buffer = self._grad_layout, self._buffer
        mean = getattr(model.loss, "reduction", None) != "sum"
        weight = float(local_samples) if mean else 1.0
        begin = time.perf_counter()
        overlapped = self.overlap and self._step_open
        self._step_open = False
        if overlapped:
            self._finish_overlapped(model, failed)
        elif grads is None or failed:
            buffer[:layout.size].fill(0)
        else:
            for index, grad in enumerate(grads):
                slot = layout.view(buffer, index)
                if grad is None:
                    slot.fill(0)
                else:
                    _scale_into(grad.data if isinstance(grad, tc.Tensor) else grad,
                                weight, slot)
        if not overlapped:
            self._fill_tail(model, weight, failed)
            self.comm.Allreduce(distributed.mpi().IN_PLACE, buffer)
        self.communication_seconds += time.perf_counter() - begin
        self.steps += 1
        total = self._read_tail(model)
        if failed:
            return []
        self._apply_state_changes()
        grad_region = buffer[:layout.size]
        if mean and total > 0:
            _scale_into(grad_region, 1.0 / total, grad_region)
        return [tc.Tensor._wrap(layout.view(buffer, i)) for i in range(len(weights))]

    def _fill_tail(self, model, weight: float, failed: bool) -> None:
        """Non-trainable weight changes, metric states, sample count and this rank's failure
        flag after the gradients."""
        buffer, position = self._buffer, self._grad_layout.size
        kernels, layout = current_backend(), self._state_layout
        samples = self._step_samples if self._state_saved and not failed else 0.0
        region = buffer[position:position + layout.size]
        if samples:
            # (current - before) * samples, per weight, with our kernels
            for index, weight_tensor in enumerate(self._state_weights):
                slot = layout.view(region, index)
                kernels.binary("subtract", weight_tensor.data,
                               layout.view(self._state_before, index), slot)
            _scale_into(region, samples, region)
        else:
            region.fill(0)
        buffer[position + layout.size] = samples
        position += layout.size + 1
        for metric in model.metrics:
            holder = _metric_holder(metric)
            buffer[position] = holder.total if holder is not None else 0.0
            buffer[position + 1] = holder.count if holder is not None else 0.0
            position += 2
        buffer[position] = weight if not failed else 0.0
        flags = buffer[position + 1:]
        flags.fill(0)
        flags[self.rank] = 1.0 if failed else 0.0

    def _apply_state_changes(self) -> None:
        """Non-trainable weights = their value before the step + the ranks' sample-weighted
        mean change (unchanged weights stay bit-identical: every change is exactly 0)."""
        layout = self._state_layout
        position = self._grad_layout.size
        region = self._buffer[position:position + layout.size]
        samples = float(self._buffer[position + layout.size])
        self._state_saved = False
        if not samples or not layout.size:
            return
        kernels = current_backend()
        _scale_into(region, 1.0 / samples, region)
        kernels.binary("add", region, self._state_before, region)
        with tc.no_grad():
            for index, weight in enumerate(self._state_weights):
                weight.assign(layout.view(region, index))

    def _read_tail(self, model) -> float:
        """Snapshot the reduced metrics, check failure flags; returns the summed count."""
        buffer = self._buffer
        position = self._grad_layout.size + self._state_layout.size + 1
        snapshot = {}
        for metric in model.metrics:
            total, count = float(buffer[position]), float(buffer[position + 1])
            snapshot[metric.name] = total / count if count else 0.0
            position += 2
        self._metric_snapshot = snapshot
        total_samples = float(buffer[position])
        flags = buffer[position + 1:]
        failed_ranks = [r for r in range(self.size) if float(flags[r]) != 0.0]
        if failed_ranks and self.rank not in failed_ranks:
            names = ", ".join(str(r) for r in failed_ranks)
            raise distributed.mark_collective(distributed.DistributedError(
                f"fit: rank {names} raised an exception during training step "
                f"{self.steps} (its traceback is printed by that rank); all {self.size} "
                f"ranks stop"))
        return total_samples

    # ------------------------------------------------------------------ metrics
    def forget_metrics(self) -> None:
        """Drop the reduced snapshot (called when the metrics are reset)."""
        self._metric_snapshot = None

    def metric_logs(self, metrics: list) -> dict[str, float]:
        """Metric values reduced over all ranks (local values before any reduction)."""
        if self._metric_snapshot is None:
            return {metric.name: float(metric.result()) for metric in metrics}
        return dict(self._metric_snapshot)

    def reduce_metrics(self, metrics: list) -> dict[str, float]:
        """Sum every metric's (total, count) over the ranks (one float64 Allreduce)."""
        state = np.zeros(2 * len(metrics), dtype=np.float64)
        for i, metric in enumerate(metrics):
            holder = _metric_holder(metric)
            if holder is not None:
                state[2 * i], state[2 * i + 1] = holder.total, holder.count
        self.comm.Allreduce(distributed.mpi().IN_PLACE, state)
        self._metric_snapshot = {
            metric.name: (float(state[2 * i]) / float(state[2 * i + 1])
                          if state[2 * i + 1] else 0.0)
            for i, metric in enumerate(metrics)}
        return dict(self._metric_snapshot)

    # ------------------------------------------------------------------ predict
    def gather_rows(self, local: np.ndarray, total_rows: int, row_shape: tuple,
                    dtype) -> np.ndarray:
        """Concatenate every rank's rows (in rank order) on every rank (one Allgatherv)."""
        dtype = np.dtype(dtype)
        row_size = 1
        for n in row_shape:
            row_size *= int(n)
        counts = [(self.shard_rows(total_rows, r)[1] - self.shard_rows(total_rows, r)[0])
                  * row_size for r in range(self.size)]
        displacements = [0] * self.size
        for r in range(1, self.size):
            displacements[r] = displacements[r - 1] + counts[r - 1]
        result = np.empty((total_rows,) + tuple(row_shape), dtype=dtype)
        send = np.ascontiguousarray(local, dtype=dtype) if local is not None \
            else np.empty((0,) + tuple(row_shape), dtype=dtype)
        self.comm.Allgatherv(send, [result, (counts, displacements)])
        return result

    def shard_rows(self, total_rows: int, which: int) -> tuple[int, int]:
        """Rows [lo, hi) of rank `which` when total_rows are split over the ranks."""
        return (total_rows * which // self.size, total_rows * (which + 1) // self.size)

    def __repr__(self) -> str:
        return f"DataParallel(overlap={self.overlap}, bucket_bytes={self.bucket_bytes})"
