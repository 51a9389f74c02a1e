"""Saving and loading survive failures: interrupted writes, killed processes, corrupt files.

- A save that fails half-way (disk full inside np.savez, fsync or rename failing) raises, leaves
  the previous file intact and loadable, and leaves no temporary file behind.
- A process SIGKILLed in the middle of writing a large model leaves the previous file intact.
- Flipped bytes anywhere in a file and truncations make loading fail with ValueError (never
  another exception type, never a crash).
- Loading never runs code from the file: pickled object arrays are rejected.
"""

from __future__ import annotations

import errno
import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest

import tensorcore as tc
from tensorcore import layers, models, saving

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HANG_GUARD_S = 600      # stops a stuck child from blocking CI; never a performance limit


def _model(seed: int, units: int = 8) -> models.Sequential:
    tc.random.seed(seed)
    model = models.Sequential([layers.Dense(units, activation="relu", input_shape=(6,)),
                               layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _same(a: list, b: list) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


def _leftovers(directory) -> list:
    return [name for name in os.listdir(directory) if name.endswith(".tmp")]


def _disk_full_savez(real_savez):
    def savez(file, *args, **kwds):
        file.write(b"PK\x03\x04" + b"\0" * 1000)     # part of an archive reaches the disk
        raise OSError(errno.ENOSPC, "No space left on device")
    return savez


@pytest.mark.parametrize("failure", ["savez", "fsync", "replace", "interrupt"])
@pytest.mark.parametrize("kind", ["model", "weights"])
def test_failed_save_keeps_previous_file(tmp_path, monkeypatch, failure, kind):
    """Any failure inside the writer: the old file still loads, no temp file is left."""
    path = tmp_path / "model.tcm"
    first = _model(1)
    (first.save if kind == "model" else first.save_weights)(path)
    before = path.read_bytes()
    second = _model(2)
    if failure == "savez":
        monkeypatch.setattr(np, "savez", _disk_full_savez(np.savez))
    elif failure == "fsync":
        def bad_fsync(fd):
            raise OSError(errno.EIO, "I/O error")
        monkeypatch.setattr(os, "fsync", bad_fsync)
    elif failure == "replace":
        def bad_replace(src, dst):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        monkeypatch.setattr(os, "replace", bad_replace)
    else:
        def interrupted(file, *args, **kwds):
            file.write(b"PK partial")
            raise KeyboardInterrupt
        monkeypatch.setattr(np, "savez", interrupted)
    expected = KeyboardInterrupt if failure == "interrupt" else OSError
    with pytest.raises(expected):
        (second.save if kind == "model" else second.save_weights)(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert _leftovers(tmp_path) == []
    if kind == "model":
        assert _same(models.load_model(path).get_weights(), first.get_weights())
    else:
        fresh = _model(3)
        fresh.load_weights(path)
        assert _same(fresh.get_weights(), first.get_weights())


KILL_SCRIPT = """
import sys
import numpy as np
import tensorcore as tc
from tensorcore import layers, models
path = sys.argv[1]
tc.random.seed(0)
small = models.Sequential([layers.Dense(4, input_shape=(3,))])
small.save(path)
np.save(path + ".expected.npy", small.get_weights()[0])
print("first save done", flush=True)
big = models.Sequential([layers.Dense(3000, input_shape=(3000,)), layers.Dense(2000)])
big.build((None, 3000))
while True:                       # keep saving until killed
    big.save(path)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_process_killed_mid_save_keeps_previous_file(tmp_path):
    """SIGKILL while a ~60 MB model is being written: the previous file is intact."""
    path = tmp_path / "model.tcm"
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    child = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(path)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout.readline().strip() == "first save done"
        # wait until the big model's temporary file exists and has data in it, then kill
        deadline = time.monotonic() + HANG_GUARD_S
        while time.monotonic() < deadline:
            temps = [tmp_path / n for n in _leftovers(tmp_path)]
            if any(t.exists() and t.stat().st_size > 1 << 20 for t in temps):
                break
            assert child.poll() is None, child.stderr.read()
            time.sleep(0.005)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=HANG_GUARD_S)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    loaded = models.load_model(path)        # whichever complete version was last renamed
    weights = loaded.get_weights()
    if weights[0].shape == (3, 4):
        np.testing.assert_array_equal(weights[0], np.load(str(path) + ".expected.npy"))
    else:
        assert weights[0].shape == (3000, 3000)


def _saved_bytes(tmp_path) -> bytes:
    path = tmp_path / "src.tcm"
    model = _model(4, units=5)
    model.fit(np.ones((4, 6), np.float32), np.array([0, 1, 2, 0]), epochs=1, verbose=0)
    model.save(path)
    return path.read_bytes()


def test_flipped_bytes_always_fail_with_value_error(tmp_path):
    """Corrupting any single byte (many offsets over the whole file) raises ValueError."""
    data = _saved_bytes(tmp_path)
    target = tmp_path / "corrupt.tcm"
    offsets = sorted(set(np.linspace(0, len(data) - 1, 300).astype(int).tolist()))
    undetected = []
    for offset in offsets:
        corrupt = bytearray(data)
        corrupt[offset] ^= 0xFF
        target.write_bytes(bytes(corrupt))
        try:
            models.load_model(target)
        except ValueError as error:
            assert "corrupt.tcm" in str(error)
            continue
        # a flip in bytes the zip reader never looks at (e.g. a duplicated local header
        # field) may be harmless; the loaded model must then be exactly the original
        undetected.append(offset)
    original = models.load_model(tmp_path / "src.tcm").get_weights()
    for offset in undetected:
        corrupt = bytearray(data)
        corrupt[offset] ^= 0xFF
        target.write_bytes(bytes(corrupt))
        assert _same(models.load_model(target).get_weights(), original), offset
    print(f"{len(offsets)} offsets flipped, {len(offsets) - len(undetected)} rejected, "
          f"{len(undetected)} harmless")


def test_truncated_files_fail_with_value_error(tmp_path):
    """Every truncation length (sampled) fails with ValueError; so do empty and random files."""
    data = _saved_bytes(tmp_path)
    target = tmp_path / "cut.tcm"
    for length in sorted(set(np.linspace(0, len(data) - 1, 120).astype(int).tolist())):
        target.write_bytes(data[:length])
        with pytest.raises(ValueError):
            models.load_model(target)
    target.write_bytes(np.random.default_rng(0).bytes(5000))
    with pytest.raises(ValueError):
        models.load_model(target)


class _Payload:
    """Unpickling this would create the marker directory (proves code ran)."""

    marker = ""

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def _archive_with_member(path, name: str, array: np.ndarray, header_arrays: dict) -> None:
    header = {"format": saving.FORMAT_NAME, "version": saving.FORMAT_VERSION, "kind": "weights",
              "weight_names": ["w"], "arrays": header_arrays}
    encoded = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **{saving.HEADER_KEY: encoded, name: array})
    path.write_bytes(buffer.getvalue())


def test_pickled_object_array_is_rejected_without_running_code(tmp_path):
    """An archive whose member is a pickled object array is refused; the pickle never runs."""
    marker = tmp_path / "code-ran"
    payload = _Payload()
    payload.marker = str(marker)
    evil = np.empty(1, dtype=object)
    evil[0] = payload
    path = tmp_path / "evil.tcm"
    _archive_with_member(path, "weight.0", evil,
                         {"weight.0": {"dtype": "object", "shape": [1], "sha256": "0"}})
    for load in (models.load_model, lambda p: _model(1).load_weights(p),
                 lambda p: saving.read_archive(p)):
        with pytest.raises(ValueError):
            load(path)
    assert not marker.exists(), "loading executed code from the file"
    # a pickle smuggled in as the header itself
    buffer = io.BytesIO()
    np.savez(buffer, **{saving.HEADER_KEY: evil})
    path.write_bytes(buffer.getvalue())
    with pytest.raises(ValueError):
        models.load_model(path)
    assert not marker.exists()


def test_foreign_members_and_dtypes_are_rejected(tmp_path):
    """A well-formed archive with a mismatching checksum or a disallowed dtype is refused."""
    path = tmp_path / "foreign.tcm"
    good = np.ones((2, 2), np.float32)
    _archive_with_member(path, "weight.0", good, {"weight.0": {
        "dtype": "float32", "shape": [2, 2], "sha256": "0" * 64}})
    with pytest.raises(ValueError, match="checksum"):
        saving.read_archive(path)
    strings = np.array(["a", "b"])
    _archive_with_member(path, "weight.0", strings, {"weight.0": {
        "dtype": str(strings.dtype), "shape": [2], "sha256": saving.array_checksum(strings)}})
    with pytest.raises(ValueError):
        saving.read_archive(path)
    with zipfile.ZipFile(path, "w") as archive:          # a zip that is not an npz at all
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ValueError):
        models.load_model(path)
