"""PyDataset: batches by index, optionally loaded ahead by worker threads or processes.

Subclass it with ``__len__`` (batches per epoch) and ``__getitem__(i)`` (batch i as ``x``,
``(x, y)`` or ``(x, y, sample_weight)``); ``on_epoch_end()`` runs after every epoch (reshuffle
there). Pass ``workers=`` / ``use_multiprocessing=`` / ``max_queue_size=`` to
``super().__init__`` to load batches in the background::

    class Batches(tc.utils.PyDataset):
        def __init__(self, x, y, batch_size, **kwargs):
            super().__init__(**kwargs)          # workers=2, use_multiprocessing=True, ...
            self.x, self.y, self.batch_size = x, y, batch_size
        def __len__(self):
            return -(-len(self.x) // self.batch_size)
        def __getitem__(self, i):
            rows = slice(i * self.batch_size, (i + 1) * self.batch_size)
            return self.x[rows], self.y[rows]

Workers are started at the beginning of every epoch and stopped at its end, when a batch
raises (the error is re-raised in the training process), on Ctrl-C, and when ``fit`` stops
early. Worker processes are forked (the dataset is not pickled), ignore Ctrl-C (the parent
stops them) and exit by themselves if the parent process disappears, so none is orphaned.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import threading
import traceback

import numpy as np

_POLL_SECONDS = 0.2


class PyDataset:
    """Base class for datasets that produce batches by index (see the module docstring)."""

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False,
                 max_queue_size: int = 10):
        for name, value, low in (("workers", workers, 0), ("max_queue_size", max_queue_size, 1)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(f"PyDataset: {name} must be an int >= {low}. "
                                 f"Received: {name}={value!r}")
        if not isinstance(use_multiprocessing, bool):
            raise TypeError("PyDataset: use_multiprocessing must be True or False. "
                            f"Received: {use_multiprocessing!r}")
        self.workers = int(workers)
        self.use_multiprocessing = use_multiprocessing
        self.max_queue_size = int(max_queue_size)

    def __len__(self) -> int:
        """Number of batches in an epoch."""
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index: int):
        """Batch `index`: x, (x, y) or (x, y, sample_weight)."""
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def on_epoch_end(self) -> None:
        """Called after every epoch (override to reshuffle)."""

    @property
    def num_batches(self) -> int:
        """len(self)."""
        return len(self)


def _to_numpy(batch):
    """Tensors in a batch become arrays (what crosses a process boundary)."""
    import tensorcore as tc
    from tensorcore.models.data_adapters import map_structure

    return map_structure(lambda v: v.numpy() if isinstance(v, tc.Tensor) else v, batch)


def _process_worker(dataset, tasks, results, parent_pid: int) -> None:
    """Loop of a worker process: fetch batch indices, send back batches or errors."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    while True:
        try:
            task = tasks.get(timeout=_POLL_SECONDS)
        except queue.Empty:
            if os.getppid() != parent_pid:  # the parent died: do not linger as an orphan
                return
            continue
        if task is None:
            return
        position, index = task
        try:
            results.put((position, True, _to_numpy(dataset[index])))
        except BaseException as error:  # noqa: BLE001 - reported to the parent
            results.put((position, False, (type(error).__name__, str(error),
                                           traceback.format_exc())))


def _thread_worker(dataset, tasks, results, stop: threading.Event) -> None:
    """Loop of a worker thread."""
    while not stop.is_set():
        try:
            task = tasks.get(timeout=_POLL_SECONDS)
        except queue.Empty:
            continue
        if task is None:
            return
        position, index = task
        try:
            results.put((position, True, dataset[index]))
        except BaseException as error:  # noqa: BLE001 - re-raised in the consumer
            results.put((position, False, error))


class WorkerError(RuntimeError):
    """A batch failed in a worker process (its traceback is in the message)."""


class Enqueuer:
    """Loads dataset[i] for a list of indices ahead of use, in order, with N workers."""

    def __init__(self, dataset, indices: list[int], workers: int, use_multiprocessing: bool,
                 max_queue_size: int):
        self.dataset = dataset
        self.indices = list(indices)
        self.workers = max(1, workers)
        self.use_multiprocessing = use_multiprocessing
        self.max_queue_size = max_queue_size
        self.threads: list[threading.Thread] = []
        self.processes: list = []
        self._stop = threading.Event()
        self._submitted = 0

    def start(self) -> Enqueuer:
        """Start the workers and queue the first max_queue_size indices."""
        if self.use_multiprocessing:
            context = multiprocessing.get_context("fork")
            self.tasks, self.results = context.Queue(), context.Queue()
            for _ in range(self.workers):
                process = context.Process(target=_process_worker, daemon=True,
                                          args=(self.dataset, self.tasks, self.results,
                                                os.getpid()))
                process.start()
                self.processes.append(process)
        else:
            self.tasks, self.results = queue.Queue(), queue.Queue()
            for _ in range(self.workers):
                thread = threading.Thread(target=_thread_worker, daemon=True,
                                          args=(self.dataset, self.tasks, self.results,
                                                self._stop), name="tensorcore-PyDataset")
                thread.start()
                self.threads.append(thread)
        for _ in range(min(self.max_queue_size, len(self.indices))):
            self._submit()
        return self

    def _submit(self) -> None:
        position = self._submitted
        self.tasks.put((position, self.indices[position]))
        self._submitted += 1

    def _next_result(self):
        while True:
            try:
                return self.results.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                dead = [p for p in self.processes if p.exitcode is not None]
                if dead:
                    raise WorkerError(f"a PyDataset worker process exited unexpectedly "
                                      f"(exit code {dead[0].exitcode})") from None

    def batches(self):
        """The batches, in index order; a worker's exception is raised here."""
        pending = {}
        for position in range(len(self.indices)):
            while position not in pending:
                done, ok, payload = self._next_result()
                pending[done] = (ok, payload)
            ok, payload = pending.pop(position)
            if not ok:
                if isinstance(payload, BaseException):
                    raise payload
                name, message, trace = payload
                raise WorkerError(f"{name} in PyDataset.__getitem__({self.indices[position]}) "
                                  f"in a worker process: {message}\n{trace}")
            if self._submitted < len(self.indices):
                self._submit()
            yield payload

    def stop(self) -> None:
        """Stop every worker and wait for it (processes that do not exit are terminated)."""
        self._stop.set()
        for _ in range(len(self.threads) + len(self.processes)):
            self.tasks.put(None)
        for thread in self.threads:
            thread.join(timeout=5.0)
        for process in self.processes:
            process.join(timeout=2.0)
            if process.is_alive():
                process.terminate()
                process.join(timeout=2.0)
            if process.is_alive():
                process.kill()
                process.join()
        if self.processes:
            # The parent only ever puts a few small task tuples: flush them and wait for the
            # queue's feeder thread, so no thread outlives the epoch.
            self.tasks.close()
            self.tasks.join_thread()
            self.results.cancel_join_thread()
            self.results.close()
        self.threads, self.processes = [], []


def batch_iterator(dataset, indices: list[int], owner=None):
    """dataset[i] for i in indices: directly, or through workers when the dataset asks."""
    workers = getattr(dataset, "workers", 1)
    use_mp = getattr(dataset, "use_multiprocessing", False)
    if workers == 0 or (workers == 1 and not use_mp):
        for index in indices:
            yield dataset[index]
        return
    enqueuer = Enqueuer(dataset, indices, workers, use_mp,
                        getattr(dataset, "max_queue_size", 10))
    if owner is not None:
        owner._enqueuer = enqueuer
    try:
        enqueuer.start()
        yield from enqueuer.batches()
    finally:
        enqueuer.stop()
        if owner is not None:
            owner._enqueuer = None
