"""Data adapters: what fit / evaluate / predict accept, turned into batches
``(x, y, sample_weight)``.

``make_adapter(...)`` picks the adapter for its input:

- ``ArrayDataAdapter``: NumPy arrays / Tensors (or lists / dicts of them, for models with
  several inputs or outputs), sliced into batches of ``batch_size``, reshuffled every epoch
  with ``tc.random`` when ``shuffle=True``;
- ``PyDatasetAdapter``: a ``tc.utils.PyDataset`` (``__len__`` + ``__getitem__`` giving a
  batch, ``on_epoch_end``), optionally loaded ahead by worker threads or processes;
- ``IterableDataAdapter``: a Python generator, any other iterable, or a ``tc.data.Dataset``,
  yielding ``x``, ``(x, y)`` or ``(x, y, sample_weight)`` batches.

Every adapter has the same surface, which the training loop (and a distributed strategy)
relies on:

- ``adapter.num_batches``: batches in one epoch (``None`` when unknown until the data ends);
- ``adapter.epoch_iterator(steps=None)``: an iterator over the batches of one epoch, each a
  tuple ``(x, y, sample_weight)`` (``y`` and ``sample_weight`` may be ``None``);
- ``adapter.on_epoch_end()``: called by ``fit`` after each epoch;
- ``adapter.close()``: stops any background workers (``fit`` calls it in a ``finally``);
- ``adapter.shard(rank, size)``: data-parallel split for ``size`` processes. Rank ``r`` keeps
  batches ``r, r + size, r + 2 * size, ...`` of every epoch, and every rank gets the same
  number of batches (``num_batches // size``; a ragged tail is dropped) so ranks stay in
  lock-step for gradient averaging. Shuffled array batches are drawn from ``tc.random``:
  seed it identically on every rank (``tc.random.seed(n)``) so the ranks shuffle alike and
  their shards are disjoint.
"""

from __future__ import annotations

import math
import types
import warnings

import numpy as np

import tensorcore as tc
from tensorcore import dtypes
from tensorcore.backend import current as current_backend
from tensorcore.ops_index import gather_array

# ---------------------------------------------------------------------- nested structures


def map_structure(fn, structure):
    """Apply fn to every leaf of a structure of lists, tuples and dicts (None stays None)."""
    if structure is None:
        return None
    if isinstance(structure, dict):
        return {key: map_structure(fn, value) for key, value in structure.items()}
    if isinstance(structure, (list, tuple)):
        return type(structure)(map_structure(fn, value) for value in structure)
    return fn(structure)


def flatten(structure) -> list:
    """The leaves of a structure, in order (dict values in insertion order)."""
    if structure is None:
        return []
    if isinstance(structure, dict):
        return [leaf for value in structure.values() for leaf in flatten(value)]
    if isinstance(structure, (list, tuple)):
        return [leaf for value in structure for leaf in flatten(value)]
    return [structure]


def unpack_x_y_sample_weight(data):
    """Split one batch into ``(x, y, sample_weight)`` as Keras does.

    A tuple of length 1, 2 or 3 is ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``;
    anything else (an array, a list of arrays, a dict) is ``x`` alone. Use a list, not a
    tuple, for the several inputs of a multi-input model: ``([x1, x2], y)``.
    """
    if isinstance(data, tuple):
        if len(data) == 1:
            return data[0], None, None
        if len(data) == 2:
            return data[0], data[1], None
        if len(data) == 3:
            return data[0], data[1], data[2]
        raise ValueError("a batch must be x, (x,), (x, y) or (x, y, sample_weight). "
                         f"Received: a tuple of {len(data)} elements")
    return data, None, None


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """The inverse of unpack_x_y_sample_weight."""
    if y is None:
        return (x,)
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


# ---------------------------------------------------------------------- leaf checks


def leaf_array(op: str, name: str, value) -> np.ndarray:
    """A NumPy view of one data leaf (Tensor, ndarray or nested lists) holding numbers."""
    if isinstance(value, tc.Tensor):
        array = value.numpy()
    elif isinstance(value, np.ndarray):
        array = value
    elif isinstance(value, (list, tuple, int, float, np.number)):
        try:
            array = np.asarray(value)
        except ValueError as error:
            raise ValueError(f"{op}: {name} must be a rectangular array: {error}") from None
    else:
        raise TypeError(f"{op}: {name} must be a NumPy array or a Tensor. "
                        f"Received: {name} of type {type(value).__name__}")
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{op}: {name} must hold numbers. Received: {name} with dtype "
                        f"{array.dtype}")
    if array.ndim == 0:
        raise ValueError(f"{op}: {name} must have a batch axis. Received: a scalar {name}")
    return array


def is_container(value) -> bool:
    """True for a dict, or a list/tuple holding arrays, Tensors or containers (not numbers)."""
    if isinstance(value, dict):
        return True
    return isinstance(value, (list, tuple)) and any(
        isinstance(v, (np.ndarray, tc.Tensor)) or is_container(v) for v in value)


def structure_arrays(op: str, name: str, structure):
    """map_structure(leaf_array) with each leaf named after its place (x[0], x['a'], ...)."""
    if structure is None:
        return None
    if isinstance(structure, dict):
        return {k: structure_arrays(op, f"{name}[{k!r}]", v) for k, v in structure.items()}
    if is_container(structure):
        return type(structure)(structure_arrays(op, f"{name}[{i}]", v)
                               for i, v in enumerate(structure))
    return leaf_array(op, name, structure)


def _named_leaves(name: str, structure) -> list[tuple[str, np.ndarray]]:
    if structure is None:
        return []
    if isinstance(structure, dict):
        return [pair for k, v in structure.items() for pair in _named_leaves(f"{name}[{k!r}]", v)]
    if isinstance(structure, (list, tuple)):
        return [pair for i, v in enumerate(structure) for pair in _named_leaves(f"{name}[{i}]", v)]
    return [(name, structure)]


def check_lengths(op: str, x, y, sample_weight) -> int:
    """All leaves of x, y and sample_weight must have the same number of samples."""
    leaves = (_named_leaves("x", x) + _named_leaves("y", y)
              + _named_leaves("sample_weight", sample_weight))
    lengths = {len(array) for _, array in leaves}
    described = ", ".join(f"{name}.shape={tuple(array.shape)}" for name, array in leaves)
    if len(lengths) != 1:
        raise ValueError(f"{op}: x, y and sample_weight must have the same number of samples. "
                         f"Received: {described}")
    count = lengths.pop()
    if count == 0:
        raise ValueError(f"{op}: x is empty. Received: {described}")
    return count


def check_sample_weight(op: str, name: str, weights: np.ndarray) -> np.ndarray:
    """Weights must be one finite, non-negative number per sample (shape (n,) or (n, 1))."""
    if weights.ndim == 2 and weights.shape[1] == 1:
        weights = weights.reshape(-1)
    if weights.ndim != 1:
        raise ValueError(f"{op}: {name} must have one weight per sample, shape (num_samples,). "
                         f"Received: {name}.shape={weights.shape}")
    values = tc.as_tensor(weights).astype(tc.float32)
    nan = values != values  # noqa: PLR0124 - true exactly for NaN
    not_finite = int(tc.sum(nan | (tc.abs(values) == float("inf"))).item())
    if not_finite:
        raise ValueError(f"{op}: {name} must be finite. Received: {not_finite} NaN or "
                         f"infinite weight(s)")
    low = float(tc.min(values).item())
    if low < 0:
        raise ValueError(f"{op}: {name} must be non-negative. Received: a weight of {low:g}")
    return values.numpy()


def _class_ids(op: str, y: np.ndarray) -> tc.Tensor:
    """Integer class of each sample: the label itself, argmax of a one-hot row, or 0/1."""
    labels = tc.as_tensor(y)
    if labels.ndim == 2 and labels.shape[1] > 1:
        return tc.argmax(labels, axis=-1)
    if labels.ndim == 2:
        labels = tc.reshape(labels, (-1,))
    if labels.ndim != 1:
        raise ValueError(f"{op}: class_weight needs labels of shape (num_samples,) or one-hot "
                         f"(num_samples, classes). Received: y.shape={tuple(y.shape)}")
    if labels.dtype in (tc.float32, tc.float64):
        labels = tc.clip(labels + 0.5, 0.0, float("inf")).astype(tc.int64)  # 0.0/1.0 -> 0/1
    return labels.astype(tc.int64)


def check_class_weight(op: str, class_weight) -> dict[int, float]:
    """class_weight must map class indices to finite non-negative numbers."""
    if not isinstance(class_weight, dict) or not class_weight:
        raise TypeError(f"{op}: class_weight must be a non-empty dict {{class index: weight}}. "
                        f"Received: class_weight={class_weight!r}")
    table = {}
    for key, value in class_weight.items():
        if isinstance(key, bool) or not isinstance(key, (int, np.integer)) or key < 0:
            raise ValueError(f"{op}: class_weight keys must be class indices (ints >= 0). "
                             f"Received: key {key!r}")
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
                or not math.isfinite(float(value)) or float(value) < 0:
            raise ValueError(f"{op}: class_weight values must be finite non-negative numbers. "
                             f"Received: class_weight[{key}]={value!r}")
        table[int(key)] = float(value)
    return table


def class_weight_to_sample_weight(op: str, class_weight: dict[int, float],
                                  y: np.ndarray) -> np.ndarray:
    """Per-sample weights class_weight[class of sample] (1.0 for classes not listed)."""
    ids = _class_ids(op, y)
    size = max(max(class_weight) + 1, int(tc.max(ids).item()) + 1)
    table = np.ones(size, dtype=np.float32)
    for key, value in class_weight.items():
        table[key] = value
    return tc.as_tensor(table)[ids].numpy()


def take_rows(array: np.ndarray, start: int, stop: int, order: np.ndarray | None,
              permutation: bool = False) -> np.ndarray:
    """Rows start:stop of the array, in shuffled order when `order` is given (a copy then).

    permutation=True promises that `order` is a permutation of range(len(array)) (the
    epoch's shuffle), so the general advanced-index planning is skipped; the backends' row
    gathers still check every index (IndexError for one out of range)."""
    if order is None:
        return array[start:stop]
    rows = np.ascontiguousarray(order[start:stop], dtype=np.int64)
    # Our gather kernels for any dtype and layout (a threaded memcpy per row when the array
    # is C-contiguous: the batch gather is memory-latency bound). `order` is a permutation
    # of the array's rows, so a C-contiguous array goes straight to the row gather (which
    # still checks every index) without planning a general advanced-index key.
    take = getattr(current_backend(), "take_rows", None)
    if permutation and take is not None and array.ndim and array.flags.c_contiguous \
            and array.dtype in dtypes.SUPPORTED and len(order) == len(array):
        out = np.empty((len(rows),) + array.shape[1:], array.dtype)
        if out.size:
            take(array, rows, out)
        return out
    return gather_array(array, (rows,), "fit")


# ---------------------------------------------------------------------- adapters


class DataAdapter:
    """Common surface of the adapters (see the module docstring)."""

    num_batches: int | None = None

    def __init__(self):
        self._rank, self._size = 0, 1

    def shard(self, rank: int, size: int) -> DataAdapter:
        """Keep only this rank's share of every epoch (batches rank, rank+size, ...)."""
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
            raise ValueError(f"shard: size must be a positive int. Received: size={size!r}")
        if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) \
                or not 0 <= rank < size:
            raise ValueError(f"shard: rank must be in [0, {size}). Received: rank={rank!r}")
        self._rank, self._size = int(rank), int(size)
        if self._unsharded_batches is not None:
            self.num_batches = self._unsharded_batches // self._size
            if self.num_batches == 0:
                raise ValueError(f"shard: {self._unsharded_batches} batches cannot be split "
                                 f"over {size} ranks")
        return self

    _unsharded_batches: int | None = None

    def _keep(self, index: int) -> bool:
        """True when global batch `index` belongs to this rank."""
        return index % self._size == self._rank and \
            (self._unsharded_batches is None or self._size == 1
             or index < self.num_batches * self._size)

    def epoch_iterator(self, steps: int | None = None):
        """Batches of one epoch as (x, y, sample_weight) tuples."""
        raise NotImplementedError

    def on_epoch_end(self) -> None:
        """Called by fit after every epoch."""

    def close(self) -> None:
        """Release background resources (workers)."""


class ArrayDataAdapter(DataAdapter):
    """In-memory arrays sliced into batches (reshuffled each epoch when shuffle=True)."""

    def __init__(self, op: str, x, y=None, sample_weight=None, batch_size: int = 32,
                 shuffle: bool = False, class_weight=None):
        super().__init__()
        self.x = structure_arrays(op, "x", x)
        self.y = structure_arrays(op, "y", y)
        weights = structure_arrays(op, "sample_weight", sample_weight)
        self.num_samples = check_lengths(op, self.x, self.y, weights)
        if weights is not None:
            if isinstance(weights, (list, tuple, dict)):
                raise ValueError(f"{op}: sample_weight must be one array of shape "
                                 "(num_samples,), shared by all outputs")
            weights = check_sample_weight(op, "sample_weight", weights)
        if class_weight is not None:
            weights = _apply_class_weight(op, class_weight, self.y, weights)
        self.sample_weight = weights
        self.batch_size = batch_size
        self.shuffle = shuffle
        self._unsharded_batches = -(-self.num_samples // batch_size)
        self.num_batches = self._unsharded_batches

    strategy = None  # a tensorcore.distributed strategy slicing every global batch

    def rows(self, start: int, stop: int) -> ArrayDataAdapter:
        """An unshuffled adapter over samples start:stop (possibly none)."""
        part = object.__new__(ArrayDataAdapter)
        DataAdapter.__init__(part)

        def cut(array):
            return array[start:stop]

        part.x, part.y = map_structure(cut, self.x), map_structure(cut, self.y)
        part.sample_weight = None if self.sample_weight is None else cut(self.sample_weight)
        part.num_samples = max(0, stop - start)
        part.batch_size, part.shuffle = self.batch_size, False
        part._unsharded_batches = part.num_batches = -(-part.num_samples // self.batch_size)
        return part

    def epoch_iterator(self, steps: int | None = None):
        """Batches of one epoch, in a fresh random order when shuffling."""
        order = tc.random.permutation(self.num_samples) if self.shuffle else None
        strategy = self.strategy
        if strategy is not None:
            order = strategy.sync_order(order)
        count = self.num_batches if steps is None else min(steps, self.num_batches)
        bs, n = self.batch_size, self.num_samples
        produced = 0
        index = 0
        while produced < count:
            if self._keep(index):
                start, stop = index * bs, min((index + 1) * bs, n)
                if strategy is not None:
                    start, stop = strategy.shard(start, stop)

                def rows(array, start=start, stop=stop):
                    return take_rows(array, start, stop, order, permutation=True)

                yield (map_structure(rows, self.x), map_structure(rows, self.y),
                       None if self.sample_weight is None else rows(self.sample_weight))
                produced += 1
            index += 1


def _apply_class_weight(op: str, class_weight, y, sample_weight):
    """Sample weights from class_weight (Keras refuses class_weight with sample_weight)."""
    table = check_class_weight(op, class_weight)
    if y is None:
        raise ValueError(f"{op}: class_weight needs targets y. Received: y=None")
    if isinstance(y, (list, tuple, dict)):  # several outputs: a value Keras refuses too
        raise ValueError(f"{op}: class_weight is only supported for models with one output; "  # noqa: TRY004
                         "give sample_weight instead")
    if sample_weight is not None:
        raise ValueError(f"{op}: give class_weight or sample_weight, not both "
                         "(multiply them into sample_weight yourself)")
    return class_weight_to_sample_weight(op, table, y)


def _is_one_shot(iterable) -> bool:
    """True for iterators that can be walked once (generators): iter(it) is it."""
    try:
        return iter(iterable) is iterable
    except TypeError:
        return False


class IterableDataAdapter(DataAdapter):
    """A generator, any iterable, or a tc.data.Dataset yielding x, (x, y) or (x, y, w) batches.

    Re-iterable inputs (a list of batches, a tc.data.Dataset) start over every epoch; a
    one-shot iterator (a generator) is read on across epochs, ``steps`` batches at a time.
    Every batch is checked: lengths of x, y and weights must agree, weights must be finite
    and non-negative, and the per-sample shapes must match the first batch's.
    """

    def __init__(self, op: str, data, steps: int | None = None, class_weight=None,
                 name: str = "x"):
        super().__init__()
        try:
            iter(data)
        except TypeError:
            raise TypeError(f"{op}: {name} must be arrays, a generator, an iterable or a "
                            f"PyDataset. Received: {name} of type {type(data).__name__}") from None
        self.op, self.name, self.data = op, name, data
        self.one_shot = _is_one_shot(data)
        self.class_weight = None if class_weight is None else \
            check_class_weight(op, class_weight)
        self._iterator = iter(data) if self.one_shot else None
        self._signature = None
        self._batches_seen = 0
        self.batch_check = None  # model-level check of (x, y) arrays, set by the trainer
        self.exhausted = False
        length = None
        if not self.one_shot and hasattr(data, "__len__"):
            try:
                length = len(data)
            except TypeError:
                length = None
        self._unsharded_batches = length
        self.num_batches = length if steps is None else steps
        self.steps = steps

    def _signature_of(self, x, y, w):
        def sig(structure):
            return map_structure(lambda a: (tuple(a.shape[1:]), a.dtype.kind), structure)
        return (sig(x), sig(y), w is not None)

    def _check(self, batch):
        op, name = self.op, self.name
        x, y, w = unpack_x_y_sample_weight(batch)
        if x is None:
            raise ValueError(f"{op}: the batch {self._batches_seen} of {name} has no x")
        x = structure_arrays(op, f"{name} batch {self._batches_seen}: x", x)
        y = structure_arrays(op, f"{name} batch {self._batches_seen}: y", y)
        w = structure_arrays(op, f"{name} batch {self._batches_seen}: sample_weight", w)
        check_lengths(f"{op}: {name} batch {self._batches_seen}", x, y, w)
        if w is not None:
            w = check_sample_weight(op, f"sample_weight in batch {self._batches_seen} of {name}",
                                    w)
        if self.batch_check is not None:
            x, y = self.batch_check(x, y)
        if self.class_weight is not None:
            w = _apply_class_weight(op, self.class_weight, y, w)
        signature = self._signature_of(x, y, w)
        if self._signature is None:
            self._signature = signature
        elif signature != self._signature:
            raise ValueError(
                f"{op}: {name} yielded batches of inconsistent shapes: batch "
                f"{self._batches_seen} has (per-sample shape, dtype kind, weighted) "
                f"{signature}, earlier batches had {self._signature}")
        self._batches_seen += 1
        return x, y, w

    def epoch_iterator(self, steps: int | None = None):
        """Batches of one epoch: until the data ends, or `steps` of them."""
        steps = steps if steps is not None else self.steps
        if self._unsharded_batches is not None and self._size > 1:
            steps = self.num_batches if steps is None else min(steps, self.num_batches)
        iterator = self._iterator if self.one_shot else iter(self.data)
        produced = 0
        index = 0
        while steps is None or produced < steps:
            try:
                batch = next(iterator)
            except StopIteration:
                if self.one_shot:
                    self.exhausted = True
                if steps is not None and produced < steps and self.one_shot:
                    warnings.warn(f"{self.op}: {self.name} ran out of data after "
                                  f"{self._batches_seen} batches; training stops. Make sure it "
                                  "can produce steps_per_epoch * epochs batches (a generator "
                                  "with `while True:`, or a PyDataset / tc.data.Dataset).",
                                  stacklevel=3)
                return
            keep = self._size == 1 or index % self._size == self._rank
            index += 1
            if keep:
                yield self._check(batch)
                produced += 1
            elif self._size > 1:
                self._batches_seen += 1


class PyDatasetAdapter(DataAdapter):
    """A tc.utils.PyDataset: batch i is dataset[i]; workers may load batches ahead."""

    def __init__(self, op: str, dataset, steps: int | None = None, class_weight=None,
                 name: str = "x"):
        super().__init__()
        self.op, self.name, self.dataset = op, name, dataset
        try:
            length = len(dataset)
        except TypeError:
            raise TypeError(f"{op}: {name} (a PyDataset) must define __len__") from None
        if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 1:
            raise ValueError(f"{op}: len({name}) must be a positive int. Received: {length!r}")
        self._unsharded_batches = int(length)
        self.num_batches = self._unsharded_batches if steps is None else \
            min(steps, self._unsharded_batches)
        self._checker = IterableDataAdapter(op, [], class_weight=class_weight, name=name)
        self._enqueuer = None

    def epoch_iterator(self, steps: int | None = None):
        """dataset[i] for this epoch's (and this rank's) indices, checked like any batch."""
        from tensorcore.utils.py_dataset import batch_iterator

        count = self.num_batches if steps is None else min(steps, self.num_batches)
        indices = [i for i in range(self._unsharded_batches)
                   if self._size == 1 or i % self._size == self._rank][:count]
        for batch in batch_iterator(self.dataset, indices, self):
            yield self._checker._check(batch)

    def on_epoch_end(self) -> None:
        """Let the dataset reshuffle (dataset.on_epoch_end())."""
        hook = getattr(self.dataset, "on_epoch_end", None)
        if hook is not None:
            hook()

    def close(self) -> None:
        """Stop the workers, if any are running."""
        if self._enqueuer is not None:
            self._enqueuer.stop()
            self._enqueuer = None


def is_array_like(value) -> bool:
    """Arrays, Tensors, and lists/tuples/dicts of them (what ArrayDataAdapter takes)."""
    if isinstance(value, (np.ndarray, tc.Tensor)):
        return True
    if isinstance(value, dict):
        return bool(value) and all(is_array_like(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        if not value:
            return False
        if all(isinstance(v, (np.ndarray, tc.Tensor)) for v in value):
            return True
        # Nested Python lists of numbers (a plain array written as lists).
        try:
            return np.asarray(value).dtype.kind in "biuf"
        except (ValueError, TypeError):
            return False
    return False


def make_adapter(op: str, x, y=None, sample_weight=None, *, batch_size: int | None = 32,
                 steps: int | None = None, shuffle: bool = False, class_weight=None,
                 name: str = "x") -> DataAdapter:
    """The adapter for `x` (arrays, PyDataset, tc.data.Dataset, generator or iterable).

    For anything but arrays, targets and weights come inside the batches, so ``y`` and
    ``sample_weight`` must be None (a clear ValueError names them otherwise).
    """
    from tensorcore.utils.py_dataset import PyDataset

    if x is None:
        raise ValueError(f"{op}: {name} is required. Received: {name}=None")
    if isinstance(x, DataAdapter):
        return x
    if is_array_like(x):
        return ArrayDataAdapter(op, x, y, sample_weight, batch_size=batch_size or 32,
                                shuffle=shuffle, class_weight=class_weight)
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{op}: {name} must be a NumPy array, a Tensor, a generator, an "
                        f"iterable of batches or a PyDataset. Received: {name} of type "
                        f"{type(x).__name__}")
    for argument, value in (("y", y), ("sample_weight", sample_weight)):
        if value is not None:
            raise ValueError(f"{op}: {argument} must not be given when {name} is a "
                             f"{type(x).__name__}; yield (x, y, sample_weight) batches from it "
                             f"instead. Received: {argument} of type {type(value).__name__}")
    if isinstance(x, PyDataset):
        return PyDatasetAdapter(op, x, steps=steps, class_weight=class_weight, name=name)
    if isinstance(x, (str, bytes)) or not (isinstance(x, types.GeneratorType)
                                          or hasattr(x, "__iter__")):
        raise TypeError(f"{op}: {name} must be a NumPy array, a Tensor, a generator, an "
                        f"iterable of batches or a PyDataset. Received: {name} of type "
                        f"{type(x).__name__}")
    return IterableDataAdapter(op, x, steps=steps, class_weight=class_weight, name=name)
