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


# Untrusted files: nothing is allocated from a file before its JSON header has been checked.
# Every member's dtype and shape come from the header, must match the member's own .npy
# header, and the declared total must stay under MAX_LOAD_BYTES; reads are sized by the
# header, never by what a (possibly deflated, possibly lying) member expands to.
MAX_LOAD_BYTES = int(os.environ.get("TENSORCORE_MAX_LOAD_BYTES") or 8 << 30)
MAX_HEADER_BYTES = 16 << 20
_NPY_HEADER_MAX = 1 << 16   # an .npy member's own header (magic + dict) is far smaller


def _declared(op_error, expected: dict) -> dict[str, tuple]:
    """The (dtype, shape, nbytes) of each member as the header declares it, checked."""
    declared: dict[str, tuple] = {}
    total = 0
    for name, meta in expected.items():
        if not isinstance(meta, dict):
            raise op_error(f"its header entry for member {name!r} is {type(meta).__name__}, "
                           "expected an object with dtype, shape and sha256")
        dtype, shape = meta.get("dtype"), meta.get("shape")
        if dtype not in _ALLOWED_DTYPES:
            raise op_error(f"member {name!r} declares dtype {dtype!r}; expected one of "
                           f"{sorted(_ALLOWED_DTYPES)}")
        if not isinstance(shape, list) or len(shape) > 32 or not all(
                isinstance(n, int) and not isinstance(n, bool) and 0 <= n for n in shape):
            raise op_error(f"member {name!r} declares shape {shape!r}; expected a list of at "
                           "most 32 non-negative ints")
        nbytes = np.dtype(dtype).itemsize
        for n in shape:
            nbytes *= n
        total += nbytes
        if nbytes > MAX_LOAD_BYTES or total > MAX_LOAD_BYTES:
            raise op_error(f"its members declare {total} bytes (member {name!r} has shape "
                           f"{tuple(shape)}), more than the limit of {MAX_LOAD_BYTES} bytes "
                           "(tensorcore.saving.MAX_LOAD_BYTES / TENSORCORE_MAX_LOAD_BYTES)")
        declared[name] = (np.dtype(dtype), tuple(shape), nbytes)
    return declared


def _read_member(archive: zipfile.ZipFile, name: str, dtype: np.dtype, shape: tuple,
                 nbytes: int) -> np.ndarray:
    """One .npy member, after checking its own header against the declared dtype/shape."""
    info = archive.getinfo(name + ".npy")
    if info.file_size > nbytes + _NPY_HEADER_MAX:
        raise ValueError(f"member {name!r} expands to {info.file_size} bytes but the header "
                         f"declares {nbytes} bytes of data")
    with archive.open(info) as stream:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            found_shape, fortran, found_dtype = np.lib.format.read_array_header_1_0(stream)
        elif version in ((2, 0), (3, 0)):
            found_shape, fortran, found_dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise ValueError(f"member {name!r} has an unknown .npy version {version}")
        if found_dtype != dtype or tuple(found_shape) != shape or fortran:
            raise ValueError(f"member {name!r} has dtype {found_dtype} and shape "
                             f"{tuple(found_shape)}, header says {dtype} {list(shape)}")
        array = np.empty(shape, dtype)
        target = memoryview(array.reshape(-1).view(np.uint8))
        done = 0
        while done < nbytes:  # straight into the array: no second buffer
            count = stream.readinto(target[done:])
            if not count:
                raise ValueError(f"member {name!r} is truncated ({done} of {nbytes} bytes)")
            done += count
    return array


def read_archive(path: str | os.PathLike, kind: str | None = None,
                 op: str = "load") -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read and verify a file written by write_archive; raise ValueError naming it if bad."""
    path = Path(os.fspath(path))
    if not path.is_file():
        raise FileNotFoundError(f"{op}: no such file: '{path}'")

    def error(reason: str) -> ValueError:
        return ValueError(f"{op}: cannot load '{path}': {reason}")

    try:
        if not zipfile.is_zipfile(path):
            with open(path, "rb") as stream:
                magic = stream.read(6)
            if magic.startswith(b"PK\x03\x04"):   # a zip's start without its end
                raise error("the file is truncated or corrupt (a zip archive without its "
                            "central directory)")
            raise error("it is a single .npy array, not a tensorcore archive"
                        if magic == b"\x93NUMPY" else
                        "it is not a tensorcore model/weights file (not a zip archive)")
        with zipfile.ZipFile(path) as archive:
            members = {n[:-4] for n in archive.namelist() if n.endswith(".npy")}
            if HEADER_KEY not in members:
                raise error("it has no tensorcore header (not a tensorcore model/weights "
                            "file)")
            if len(members) != len(archive.namelist()):
                raise error("it holds members that are not .npy arrays")
            info = archive.getinfo(HEADER_KEY + ".npy")
            if info.file_size > MAX_HEADER_BYTES:
                raise error(f"its header is {info.file_size} bytes (limit "
                            f"{MAX_HEADER_BYTES})")
            with archive.open(info) as stream:
                raw = np.lib.format.read_array(stream, allow_pickle=False)
            header = _parse_header(raw)
            expected = header["arrays"]
            declared = _declared(error, expected)
            names = members - {HEADER_KEY}
            if names != set(expected):
                raise error(f"its members {sorted(names)} do not match the header's "
                            f"{sorted(expected)}")
            arrays = {name: _read_member(archive, name, *declared[name])
                      for name in expected}
    except ValueError as exc:
        message = str(exc)
        if message.startswith(f"{op}: cannot load"):
            raise
        raise error(message) from None
    except (OSError, EOFError, zipfile.BadZipFile, KeyError, RuntimeError,
            UnicodeDecodeError) as exc:
        raise error(f"the file is truncated or corrupt ({type(exc).__name__}: "
                    f"{exc})") from None
    for name, meta in expected.items():
        if array_checksum(arrays[name]) != meta.get("sha256"):
            raise error(f"checksum mismatch in member '{name}' (the file is corrupt)")
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
    if not isinstance(header.get("arrays"), dict):  # damaged file content, not an argument
        raise ValueError("its header lists no arrays")  # noqa: TRY004
    return header


# ---------------------------------------------------------------------- models
def _check_save_path(op: str, path: Any) -> None:
    """TypeError/ValueError naming the op for a path no file can be written to."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{op}: filepath must be a str or os.PathLike, received "
                        f"{type(path).__name__}")
    text = os.fspath(path)
    if not isinstance(text, str) or not text or Path(text).is_dir() or \
            text.endswith((os.sep, "/")):
        raise ValueError(f"{op}: filepath {text!r} does not name a file; expected a path "
                         "such as 'model.tcm'")


def save_model(model, path: str | os.PathLike) -> None:
    """Save architecture, weights, compile settings and optimizer state to one file."""
    from tensorcore import layers

    _check_save_path("save", path)
    if not model.built:
        raise ValueError(f"save: model '{model.name}' has no weights yet; build it (call it on "
                         "data or give the first layer input_shape=) before saving")
    spec = layers.serialize(model)
    shape = model.build_input_shape
    # Sequential and functional configs rebuild their own inputs; the top-level shape is for
    # the rest (subclassed models), whose config says nothing about the inputs.
    if not model.config_builds and isinstance(shape, tuple) \
            and all(isinstance(d, int) for d in shape[1:]):
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
    from tensorcore.layers.base import WEIGHT_BUDGET

    header, arrays = read_archive(path, kind="model", op="load_model")
    budget = WEIGHT_BUDGET.set([sum(a.size for k, a in arrays.items()
                                    if k.startswith("weight."))])
    try:
        spec = header["model"]
        shape = spec.get("build_input_shape") if isinstance(spec, dict) else None
        if shape is not None and (not isinstance(shape, list) or not shape or not all(
                isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in shape)):
            raise ValueError(f"build_input_shape {shape!r} is not a list of positive ints")
        if header.get("version") == 1:  # v1 files: a Sequential's layer list
            # by class name, through the layer registry (saving imports no model module)
            model = layers.deserialize({"class_name": "Sequential", "config": {
                "name": spec["name"], "layers": spec["layers"]}})
        else:
            model = layers.deserialize(spec)
        if not model.built and shape is not None:
            model.build((None,) + tuple(shape))
        weights = [arrays[f"weight.{i}"] for i in range(len(header["weight_names"]))]
        model.set_weights(weights)
        compile_config = header.get("compile")
        if compile_config is not None:
            model.compile_from_config(compile_config)
            prefix = "optimizer."
            state = {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
            model.optimizer.set_state(model.trainable_weights, state)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError,
            NotImplementedError) as error:
        raise ValueError(f"load_model: cannot rebuild the model stored in '{path}': "
                         f"{error}") from None
    finally:
        WEIGHT_BUDGET.reset(budget)
    return model


def save_weights(model, path: str | os.PathLike) -> None:
    """Save only the weights of a built model."""
    _check_save_path("save_weights", path)
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
