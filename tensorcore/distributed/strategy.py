"""DataParallel: the strategy `fit`/`evaluate`/`predict` use when compiled with `distribute=`.

One training step on every rank:

1. the rank takes its contiguous slice of the global batch (rank r of R gets rows
   [n*r//R, n*(r+1)//R) of the batch, so the ranks together see exactly the samples one
   process would see, in the same order);
2. forward, backward and the metric updates run locally;
3. ONE ``Allreduce`` (sum) runs over a single contiguous buffer laid out as
   ``[gradients (P) | metric totals and counts (2M) | samples (1) | failure flags (R)]``;
   every gradient is written into its slot already multiplied by the local sample count, so
   after the sum dividing by the summed count gives the gradient of the global batch's mean
   loss, exact also when the slices differ in size;
4. every rank applies the same averaged gradients, so the weights stay identical.

The buffer is a NumPy array handed to MPI through the buffer protocol (no pickle, no lists);
the averaged gradients given to the optimizer are views into it. A rank whose local step
raises still joins the Allreduce with its failure flag set, then re-raises its own
exception; the other ranks raise DistributedError naming it. Anything else that escapes on
one rank aborts all of them (see tensorcore.distributed.init).
"""

from __future__ import annotations

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

    comm: an mpi4py communicator (default COMM_WORLD).
    """

    def __init__(self, comm=None):
        self._requested_comm = comm
        self._comm = None
        self._grad_layout: _Layout | None = None
        self._grad_weights: list | None = None
        self._buffer: np.ndarray | None = None
        self._metric_snapshot: dict[str, float] | None = None
        # Time spent in gradient communication (the Allreduce call, or waiting for the
        # overlapped buckets) and the number of steps, for benchmarks.
        self.communication_seconds = 0.0
        self.steps = 0

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
        """Check that every rank runs the same model and settings; fit also syncs weights.

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
        if op == "fit":
            self.broadcast_weights(model)
            self._prepare(model)

    @staticmethod
    def _weight_names(model) -> list[str]:
        names = getattr(model, "weight_names", None)
        return list(names) if names is not None else [str(i) for i in range(len(model.weights))]

    def broadcast_weights(self, model) -> None:
        """Give every rank rank 0's weights (one Bcast of one packed buffer per dtype)."""
        weights = model.weights
        by_dtype: dict = {}
        for w in weights:
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
        extra = 2 * len(model.metrics) + 1 + self.size
        self._buffer = np.empty(self._grad_layout.size + extra, dtype=dtype)

    def sync_order(self, order: np.ndarray | None) -> np.ndarray | None:
        """Rank 0's shuffling order, on every rank."""
        if order is None:
            return None
        order = np.ascontiguousarray(order, dtype=np.int64)
        self.comm.Bcast(order, root=0)
        return order

    # ------------------------------------------------------------------ one step
    def reduce_gradients(self, model, grads: list | None, local_samples: int,
                         failed: bool = False) -> list:
        """Average the gradients of all ranks (one Allreduce); returns them as views.

        `grads` are this rank's gradients for model.trainable_weights (None entries, or None
        for all when the rank has no samples or failed, count as zeros). Also reduces the
        metric states, and raises DistributedError when another rank's step failed.
        """
        weights = model.trainable_weights
        if self._buffer is None or weights != self._grad_weights:
            self._prepare(model)
        layout, buffer = self._grad_layout, self._buffer
        mean = model.loss is None or model.loss.reduction != "sum"
        weight = float(local_samples) if mean else 1.0
        begin = time.perf_counter()
        if grads is None or failed:
            buffer[:layout.size].fill(0)
        else:
            for index, grad in enumerate(grads):
                slot = layout.view(buffer, index)
                if grad is None:
                    slot.fill(0)
                else:
                    _scale_into(grad.data if isinstance(grad, tc.Tensor) else grad,
                                weight, slot)
        self._fill_tail(model, weight, failed)
        self.comm.Allreduce(distributed.mpi().IN_PLACE, buffer)
        self.communication_seconds += time.perf_counter() - begin
        self.steps += 1
        total = self._read_tail(model)
        if failed:
            return []
        grad_region = buffer[:layout.size]
        if mean and total > 0:
            _scale_into(grad_region, 1.0 / total, grad_region)
        return [tc.Tensor._wrap(layout.view(buffer, i)) for i in range(len(weights))]

    def _fill_tail(self, model, weight: float, failed: bool) -> None:
        """Metric states, sample count and this rank's failure flag after the gradients."""
        buffer, position = self._buffer, self._grad_layout.size
        for metric in model.metrics:
            holder = _metric_holder(metric)
            buffer[position] = holder.total if holder is not None else 0.0
            buffer[position + 1] = holder.count if holder is not None else 0.0
            position += 2
        buffer[position] = weight if not failed else 0.0
        flags = buffer[position + 1:]
        flags.fill(0)
        flags[self.rank] = 1.0 if failed else 0.0

    def _read_tail(self, model) -> float:
        """Snapshot the reduced metrics, check failure flags; returns the summed count."""
        buffer, position = self._buffer, self._grad_layout.size
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
        return "DataParallel()"
