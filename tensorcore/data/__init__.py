"""tc.data: a small input pipeline for in-memory data, with augmentation::

    train = (tc.data.Dataset.from_tensor_slices((x, y))
             .shuffle(len(x), seed=0)        # reshuffled every epoch
             .batch(128)
             .map(lambda xb, yb: (augment(xb), yb))
             .prefetch(2))                   # next batches prepared by a background thread
    model.fit(train, epochs=5)

A Dataset is a re-iterable: every ``iter(dataset)`` is one pass (one epoch), so ``fit``
takes it like any iterable of ``(x, y)`` batches (and knows ``len(dataset)`` batches per
epoch). Slicing, shuffling and batching of ``from_tensor_slices`` data work on row indices
and gather each batch in one step (the C core's threaded row gather), so a shuffled pass
over MNIST costs about as much as fit's own shuffling of arrays.
"""

from __future__ import annotations

import queue
import threading

import numpy as np

import tensorcore as tc
from tensorcore.models.data_adapters import (
    flatten,
    is_container,
    map_structure,
    structure_arrays,
    take_rows,
)

__all__ = ["Dataset"]


class Dataset:
    """A re-iterable pipeline of elements (see the module docstring)."""

    def __init__(self, make_iterator, length: int | None, arrays=None, make_indices=None):
        self._make_iterator = make_iterator
        self._length = length
        # Index fast path (from_tensor_slices, then shuffle): rows of `arrays` in the order
        # given by make_indices().
        self._arrays = arrays
        self._make_indices = make_indices

    # ------------------------------------------------------------------ sources
    @staticmethod
    def from_tensor_slices(tensors) -> Dataset:
        """One element per row of the arrays (a structure of arrays of one length)."""
        arrays = structure_arrays("Dataset.from_tensor_slices", "tensors", tensors)
        lengths = {len(a) for a in flatten(arrays)}
        if len(lengths) != 1:
            raise ValueError("Dataset.from_tensor_slices: all arrays must have the same "
                             "length. Received lengths "
                             f"{[len(a) for a in flatten(arrays)]}")
        count = lengths.pop()

        def rows():
            return iter(range(count))

        def elements():
            for i in range(count):
                yield map_structure(lambda a, i=i: a[i], arrays)

        return Dataset(elements, count, arrays=arrays, make_indices=rows)

    # ------------------------------------------------------------------ transformations
    def shuffle(self, buffer_size: int, seed: int | None = None,
                reshuffle_each_iteration: bool = True) -> Dataset:
        """Elements in random order, drawn from a buffer of `buffer_size` (>= the dataset's
        length gives a uniform permutation). With `seed`, the sequence of orders is
        reproducible; without, it follows tc.random (tc.random.seed)."""
        if isinstance(buffer_size, bool) or not isinstance(buffer_size, (int, np.integer)) \
                or buffer_size < 1:
            raise ValueError(f"Dataset.shuffle: buffer_size must be a positive int. "
                             f"Received: buffer_size={buffer_size!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
                                 or seed < 0):
            raise ValueError(f"Dataset.shuffle: seed must be a non-negative int or None. "
                             f"Received: seed={seed!r}")
        own = np.random.default_rng(seed) if seed is not None else None
        fixed: dict[str, int] = {}

        def generator():
            source = own if own is not None else tc.random.generator()
            if reshuffle_each_iteration:
                return source
            if "seed" not in fixed:  # one order, reused by every pass
                fixed["seed"] = int(source.integers(2**63))
            return np.random.default_rng(fixed["seed"])

        def shuffled(source):
            rng = generator()
            if self._length is not None and buffer_size >= self._length:
                items = list(source)
                for i in rng.permutation(len(items)):
                    yield items[i]
                return
            buffer = []
            for item in source:
                if len(buffer) < buffer_size:
                    buffer.append(item)
                    continue
                j = int(rng.integers(len(buffer)))
                yield buffer[j]
                buffer[j] = item
            while buffer:
                j = int(rng.integers(len(buffer)))
                buffer[j], buffer[-1] = buffer[-1], buffer[j]
                yield buffer.pop()

        if self._make_indices is not None:
            indices = self._make_indices
            return Dataset(lambda: self._gather_elements(shuffled(indices())), self._length,
                           arrays=self._arrays, make_indices=lambda: shuffled(indices()))
        return Dataset(lambda: shuffled(iter(self)), self._length)

    def _gather_elements(self, index_iterator):
        arrays = self._arrays
        for i in index_iterator:
            yield map_structure(lambda a, i=i: a[i], arrays)

    def batch(self, batch_size: int, drop_remainder: bool = False) -> Dataset:
        """Consecutive elements stacked into batches of `batch_size` (the last may be short
        unless drop_remainder=True)."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size < 1:
            raise ValueError(f"Dataset.batch: batch_size must be a positive int. "
                             f"Received: batch_size={batch_size!r}")
        length = None
        if self._length is not None:
            length = self._length // batch_size if drop_remainder else \
                -(-self._length // batch_size)
        if self._make_indices is not None:
            arrays, indices = self._arrays, self._make_indices

            def gathered():
                chunk = []
                for i in indices():
                    chunk.append(i)
                    if len(chunk) == batch_size:
                        yield _gather(arrays, chunk)
                        chunk = []
                if chunk and not drop_remainder:
                    yield _gather(arrays, chunk)

            return Dataset(gathered, length)

        def stacked():
            chunk = []
            for element in self:
                chunk.append(element)
                if len(chunk) == batch_size:
                    yield _stack(chunk)
                    chunk = []
            if chunk and not drop_remainder:
                yield _stack(chunk)

        return Dataset(stacked, length)

    def map(self, fn, num_parallel_calls=None) -> Dataset:
        """fn applied to every element (a tuple element is passed as separate arguments)."""
        if not callable(fn):
            raise TypeError(f"Dataset.map: fn must be callable. Received: {fn!r}")

        def mapped():
            for element in self:
                yield fn(*element) if isinstance(element, tuple) else fn(element)

        return Dataset(mapped, self._length)

    def prefetch(self, buffer_size: int = 1) -> Dataset:
        """Prepare up to `buffer_size` elements ahead in a background thread. The thread stops
        at the end of the pass, when the consumer stops early, or on an error (re-raised in
        the consumer)."""
        if isinstance(buffer_size, bool) or not isinstance(buffer_size, (int, np.integer)) \
                or buffer_size < 1:
            raise ValueError(f"Dataset.prefetch: buffer_size must be a positive int. "
                             f"Received: buffer_size={buffer_size!r}")
        return Dataset(lambda: _prefetched(self, int(buffer_size)), self._length)

    # ------------------------------------------------------------------ iteration
    def __iter__(self):
        return iter(self._make_iterator())

    def __len__(self) -> int:
        if self._length is None:
            raise TypeError("this Dataset's length is not known")
        return self._length

    def cardinality(self) -> int:
        """Number of elements, or -2 when unknown."""
        return -2 if self._length is None else self._length

    def as_numpy_iterator(self):
        """Iterate the elements (they are NumPy arrays already)."""
        return iter(self)


def _gather(arrays, rows: list[int]):
    order = np.asarray(rows, dtype=np.int64)
    return map_structure(lambda a: take_rows(a, 0, len(order), order), arrays)


def _stack(elements: list):
    first = elements[0]
    if isinstance(first, dict):
        return {k: _stack([e[k] for e in elements]) for k in first}
    if isinstance(first, (list, tuple)) and (is_container(first) or isinstance(first, tuple)):
        return type(first)(_stack([e[i] for e in elements]) for i in range(len(first)))
    return np.stack([np.asarray(e) for e in elements])


_DONE = object()


def _prefetched(dataset: Dataset, size: int):
    """Iterate `dataset` through a bounded queue filled by a producer thread."""
    buffer: queue.Queue = queue.Queue(maxsize=size)
    stop = threading.Event()

    def produce():
        try:
            for element in dataset:
                while not stop.is_set():
                    try:
                        buffer.put((True, element), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            buffer.put((True, _DONE))
        except BaseException as error:  # noqa: BLE001 - re-raised in the consumer
            buffer.put((False, error))

    thread = threading.Thread(target=produce, daemon=True, name="tensorcore-prefetch")
    thread.start()
    try:
        while True:
            ok, item = buffer.get()
            if not ok:
                raise item
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        while thread.is_alive():
            try:
                buffer.get_nowait()
            except queue.Empty:
                pass
            thread.join(timeout=0.05)
