"""Model and weight files: a checksummed, pickle-free .npz archive written atomically.

The file is an ordinary NumPy ``.npz`` zip. The member ``__tensorcore__`` holds a UTF-8 JSON
header (stored as a uint8 array) with the format name and version, the kind of file
("model" or "weights"), the model architecture and compile settings, and for every other
member its dtype, shape and SHA-256. Everything is read with ``allow_pickle=False``;
architectures are rebuilt only from the built-in layer/optimizer/loss/metric names, so
loading never runs code taken from the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from tensorcore.registry import register_serializable  # noqa: F401 (tc.saving.register_serializable)

FORMAT_NAME = "tensorcore-model"
FORMAT_VERSION = 2
_READABLE_VERSIONS = (1, 2)  # v1: Sequential only ("layers" list); v2: any model
HEADER_KEY = "__tensorcore__"
_ALLOWED_DTYPES = {"float32", "float64", "int32", "int64"}


def array_checksum(array: np.ndarray) -> str:
    """SHA-256 of an array's bytes in C order."""
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_archive(path: str | os.PathLike, header: dict[str, Any],
                  arrays: dict[str, np.ndarray]) -> None:
    """Write header + arrays to `path` atomically (temp file, fsync, rename)."""
    path = Path(os.fspath(path))
    if HEADER_KEY in arrays:
        raise ValueError(f"array name {HEADER_KEY!r} is reserved")
    header = dict(header)
    header["format"] = FORMAT_NAME
    header["version"] = FORMAT_VERSION
    header["arrays"] = {
        name: {"dtype": str(a.dtype), "shape": list(a.shape), "sha256": array_checksum(a)}
        for name, a in arrays.items()
    }
    encoded = np.frombuffer(json.dumps(header, sort_keys=True).encode("utf-8"), dtype=np.uint8)
    directory = path.parent if str(path.parent) else Path(".")
    directory.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.",
                                         suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            np.savez(stream, **{HEADER_KEY: encoded}, **arrays)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp_name, 0o666 & ~_current_umask())
        os.replace(temp_name, path)
    except BaseException:
        try:
            os.remove(temp_name)
        except FileNotFoundError:
            pass
        raise


def read_archive(path: str | os.PathLike, kind: str | None = None,
                 op: str = "load") -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read and verify a file written by write_archive; raise ValueError naming it if bad."""
    path = Path(os.fspath(path))
    if not path.is_file():
        raise FileNotFoundError(f"{op}: no such file: '{path}'")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise ValueError("it is a single .npy array, not a tensorcore archive")
            if HEADER_KEY not in archive.files:
                raise ValueError("it has no tensorcore header (not a tensorcore model/weights "
                                 "file)")
            header = _parse_header(archive[HEADER_KEY])
            expected = header["arrays"]
            names = set(archive.files) - {HEADER_KEY}
            if names != set(expected):
                raise ValueError(f"its members {sorted(names)} do not match the header's "
                                 f"{sorted(expected)}")
            arrays = {name: archive[name] for name in expected}
    except ValueError as error:
        raise ValueError(f"{op}: cannot load '{path}': {error}") from None
    except (OSError, EOFError, zipfile.BadZipFile, KeyError, RuntimeError,
            UnicodeDecodeError) as error:
        raise ValueError(f"{op}: cannot load '{path}': the file is truncated or corrupt "
                         f"({type(error).__name__}: {error})") from None
    for name, meta in expected.items():
        array = arrays[name]
        if str(array.dtype) != meta.get("dtype") or list(array.shape) != meta.get("shape") \
                or str(array.dtype) not in _ALLOWED_DTYPES:
            raise ValueError(f"{op}: cannot load '{path}': member '{name}' has dtype "
                             f"{array.dtype} and shape {array.shape}, header says "
                             f"{meta.get('dtype')} {meta.get('shape')}")
        if array_checksum(array) != meta.get("sha256"):
            raise ValueError(f"{op}: cannot load '{path}': checksum mismatch in member "
                             f"'{name}' (the file is corrupt)")
    if kind is not None and header.get("kind") != kind:
        raise ValueError(f"{op}: '{path}' holds {header.get('kind')!r} data, expected {kind!r}")
    return header, arrays


def _parse_header(raw: np.ndarray) -> dict[str, Any]:
    """Decode and sanity-check the JSON header."""
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise ValueError("its header is malformed")
    try:
        header = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError("its header is not valid JSON") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise ValueError("it is not a tensorcore model/weights file")
    if header.get("version") not in _READABLE_VERSIONS:
        raise ValueError(f"it has format version {header.get('version')!r}; this tensorcore "
                         f"reads versions {list(_READABLE_VERSIONS)}")
    if not isinstance(header.get("arrays"), dict):
        raise ValueError("its header lists no arrays")
    return header


# ---------------------------------------------------------------------- models
def save_model(model, path: str | os.PathLike) -> None:
    """Save architecture, weights, compile settings and optimizer state to one file."""
    from tensorcore import layers

    if not model.built:
        raise ValueError(f"save: model '{model.name}' has no weights yet; build it (call it on "
                         "data or give the first layer input_shape=) before saving")
    spec = layers.serialize(model)
    shape = model.build_input_shape
    if isinstance(shape, tuple) and all(isinstance(d, int) for d in shape[1:]):
        spec["build_input_shape"] = list(shape[1:])
    header: dict[str, Any] = {"kind": "model", "model": spec,
                              "weight_names": model.weight_names}
    arrays = {f"weight.{i}": w for i, w in enumerate(model.get_weights())}
    compile_config = model.compile_config()
    if compile_config is not None:
        header["compile"] = compile_config
        state = model.optimizer.get_state(model.trainable_weights)
        header["optimizer_state"] = sorted(state)
        arrays.update({f"optimizer.{name}": value for name, value in state.items()})
    write_archive(path, header, arrays)


def load_model(path: str | os.PathLike):
    """Load a model saved with Model.save(): a ready-to-use (and compiled, if it was) model."""
    from tensorcore import layers
    from tensorcore.models.sequential import Sequential

    header, arrays = read_archive(path, kind="model", op="load_model")
    try:
        spec = header["model"]
        if header.get("version") == 1:  # v1 files: a Sequential's layer list
            model = Sequential([layers.deserialize(c) for c in spec["layers"]],
                               name=spec["name"])
        else:
            model = layers.deserialize(spec)
        if not model.built and spec.get("build_input_shape") is not None:
            model.build((None,) + tuple(int(d) for d in spec["build_input_shape"]))
        weights = [arrays[f"weight.{i}"] for i in range(len(header["weight_names"]))]
        model.set_weights(weights)
        compile_config = header.get("compile")
        if compile_config is not None:
            model.compile_from_config(compile_config)
            prefix = "optimizer."
            state = {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
            model.optimizer.set_state(model.trainable_weights, state)
    except (KeyError, TypeError, ValueError, NotImplementedError) as error:
        raise ValueError(f"load_model: cannot rebuild the model stored in '{path}': "
                         f"{error}") from None
    return model


def save_weights(model, path: str | os.PathLike) -> None:
    """Save only the weights of a built model."""
    if not model.built:
        raise ValueError(f"save_weights: model '{model.name}' has no weights yet")
    header = {"kind": "weights", "weight_names": model.weight_names}
    arrays = {f"weight.{i}": w for i, w in enumerate(model.get_weights())}
    write_archive(path, header, arrays)


def load_weights(model, path: str | os.PathLike) -> None:
    """Load weights saved by save_weights() (or save()) into a built model of the same shape."""
    header, arrays = read_archive(path, op="load_weights")
    count = len(header.get("weight_names", []))
    weights = [arrays.get(f"weight.{i}") for i in range(count)]
    if any(w is None for w in weights):
        raise ValueError(f"load_weights: '{path}' is missing weight arrays")
    if not model.built:
        raise ValueError(f"load_weights: model '{model.name}' is not built yet; call it on "
                         "data or give the first layer input_shape= before loading weights")
    expected = [tuple(w.shape) for w in model.weights]
    received = [tuple(w.shape) for w in weights]
    if expected != received:
        raise ValueError(f"load_weights: '{path}' holds weights of shapes {received}, the "
                         f"model expects {expected}")
    model.set_weights(weights)
