"""MNIST handwritten digits, loaded from the copy bundled inside the package."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

BUNDLED_PATH = Path(__file__).resolve().parent.parent / "data" / "mnist.npz"

_EXPECTED = {
    "x_train": (60000, 28, 28),
    "y_train": (60000,),
    "x_test": (10000, 28, 28),
    "y_test": (10000,),
}

Split = tuple[np.ndarray, np.ndarray]


def load_data(path: str | os.PathLike | None = None) -> tuple[Split, Split]:
    """Return MNIST as ``((x_train, y_train), (x_test, y_test))`` uint8 NumPy arrays.

    With ``path=None`` the copy shipped with tensorcore is used; otherwise ``path`` names a
    Keras-style ``mnist.npz`` (keys x_train, y_train, x_test, y_test). Nothing is downloaded
    and the file is opened with ``allow_pickle=False``.
    """
    file_path = BUNDLED_PATH if path is None else Path(os.fspath(path))
    if not file_path.is_file():
        hint = (" (the bundled copy is missing; rebuild it with scripts/build_mnist.py)"
                if path is None else "")
        raise FileNotFoundError(f"mnist.load_data: no such file: '{file_path}'{hint}")
    arrays = _read_arrays(file_path)
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def _read_arrays(file_path: Path) -> dict[str, np.ndarray]:
    """Read and check the four arrays, raising ValueError naming the file on any problem."""
    try:
        with np.load(file_path, allow_pickle=False) as archive:
            missing = sorted(set(_EXPECTED) - set(archive.files))
            if missing:
                raise ValueError(
                    f"mnist.load_data: '{file_path}' is not an MNIST .npz file: missing keys "
                    f"{missing} (found {sorted(archive.files)})"
                )
            arrays = {key: archive[key] for key in _EXPECTED}
    except ValueError as error:
        if str(error).startswith("mnist.load_data"):
            raise
        raise ValueError(f"mnist.load_data: cannot read '{file_path}': {error}") from error
    except (OSError, EOFError, zipfile.BadZipFile, KeyError) as error:
        raise ValueError(
            f"mnist.load_data: '{file_path}' is truncated or corrupt: {error}"
        ) from error
    for key, shape in _EXPECTED.items():
        array = arrays[key]
        if array.shape != shape or array.dtype != np.uint8:
            raise ValueError(
                f"mnist.load_data: '{file_path}' holds {key} with shape {array.shape} and "
                f"dtype {array.dtype}; expected shape {shape} and dtype uint8"
            )
    return arrays
