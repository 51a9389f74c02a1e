"""Model/weights files: round trips, atomic writes, and clear errors for damaged files."""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np
import pytest

import tensorcore as tc
from tensorcore import layers, models, saving

# Every test here runs on both backends (the `backend` fixture of conftest.py).
pytestmark = pytest.mark.usefixtures("backend")

X = np.random.default_rng(0).standard_normal((40, 5)).astype(np.float32)
Y = np.random.default_rng(1).integers(0, 3, 40)


def _trained(optimizer="adam"):
    tc.random.seed(0)
    model = models.Sequential([layers.Dense(8, activation="relu", input_shape=(5,)),
                               layers.Dropout(0.1),
                               layers.Dense(3, activation="softmax")])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(X, Y, epochs=2, batch_size=8, verbose=0)
    return model


@pytest.fixture
def saved(tmp_path):
    model = _trained()
    path = tmp_path / "model.tcm"
    model.save(path)
    return model, path


def test_save_load_round_trip_gives_identical_predictions(saved):
    model, path = saved
    restored = models.load_model(path)
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
    assert [type(layer) for layer in restored.layers] == [type(layer) for layer in model.layers]
    assert restored.loss.name == "sparse_categorical_crossentropy"
    assert restored.metrics_names == ["loss", "accuracy"]


def test_optimizer_state_is_restored_so_training_continues_identically(saved):
    model, path = saved
    restored = models.load_model(path)
    assert restored.optimizer.iterations == model.optimizer.iterations == 10
    tc.random.seed(5)  # same dropout masks in both runs
    model.fit(X, Y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    tc.random.seed(5)
    restored.fit(X, Y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), restored.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_file_is_a_pickle_free_npz_with_json_header(saved):
    _, path = saved
    with np.load(path, allow_pickle=False) as archive:
        header = json.loads(archive[saving.HEADER_KEY].tobytes())
        assert header["format"] == "tensorcore-model" and header["version"] == saving.FORMAT_VERSION
        for name, meta in header["arrays"].items():
            assert saving.array_checksum(archive[name]) == meta["sha256"]


def test_weights_round_trip(tmp_path):
    model = _trained()
    path = tmp_path / "w.tcw"
    model.save_weights(path)
    other = _trained("sgd")
    other.load_weights(path)
    np.testing.assert_array_equal(other.predict(X), model.predict(X))
    wrong = models.Sequential([layers.Dense(4, input_shape=(5,))])
    with pytest.raises(ValueError, match="shapes"):
        wrong.load_weights(path)


def test_truncated_file_fails_clearly(saved):
    _, path = saved
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    # (a save cut short used to be reported as "not a tensorcore file (not a zip archive)")
    with pytest.raises(ValueError, match=r"load_model: cannot load '.*model\.tcm': the file "
                                         r"is truncated or corrupt"):
        models.load_model(path)


def test_flipped_byte_fails_with_checksum_or_corruption_error(saved):
    model, path = saved
    data = bytearray(path.read_bytes())
    kernel = model.get_weights()[0]
    offset = data.find(kernel.tobytes()[:64])
    assert offset > 0
    data[offset + 10] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"model\.tcm.*(checksum|corrupt)"):
        models.load_model(path)


def test_foreign_zip_and_plain_npz_fail_clearly(tmp_path):
    foreign = tmp_path / "foreign.zip"
    with zipfile.ZipFile(foreign, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ValueError, match="foreign.zip"):
        models.load_model(foreign)
    plain = tmp_path / "plain.npz"
    np.savez(plain, a=np.zeros(3))
    with pytest.raises(ValueError, match="no tensorcore header"):
        models.load_model(plain)
    text = tmp_path / "text.tcm"
    text.write_text("not a model at all")
    with pytest.raises(ValueError, match="text.tcm"):
        models.load_model(text)


def test_weights_file_is_not_a_model(tmp_path):
    model = _trained()
    path = tmp_path / "w.tcw"
    model.save_weights(path)
    with pytest.raises(ValueError, match="expected 'model'"):
        models.load_model(path)


def test_missing_file():
    with pytest.raises(FileNotFoundError):
        models.load_model("/nonexistent/model.tcm")


def test_failed_save_leaves_no_partial_file(tmp_path, monkeypatch):
    model = _trained()
    path = tmp_path / "model.tcm"
    model.save(path)
    before = path.read_bytes()

    def explode(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", explode)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.tcm"]


def test_header_cannot_name_code(tmp_path, saved):
    _, path = saved
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    header = json.loads(arrays[saving.HEADER_KEY].tobytes())
    header["model"]["config"]["layers"][0]["class_name"] = "os.system"
    arrays[saving.HEADER_KEY] = np.frombuffer(json.dumps(header).encode(), np.uint8)
    evil = tmp_path / "evil.tcm"
    with open(evil, "wb") as stream:
        np.savez(stream, **arrays)
    with pytest.raises(ValueError, match="Unknown layer class"):
        models.load_model(evil)


@pytest.mark.parametrize("name,kwargs", [("SGD", {"momentum": 0.9}), ("Adam", {})],
                         ids=["sgd-momentum", "adam"])
def test_model_compiled_with_a_schedule_saves_loads_and_continues(tmp_path, name, kwargs):
    from tensorcore import optimizers
    from tensorcore.optimizers import schedules

    schedule = schedules.ExponentialDecay(0.05, decay_steps=3, decay_rate=0.7, staircase=True)
    model = _trained(getattr(optimizers, name)(learning_rate=schedule, **kwargs))
    path = tmp_path / "scheduled.tcm"
    model.save(path)
    with np.load(path, allow_pickle=False) as archive:
        header = json.loads(archive[saving.HEADER_KEY].tobytes())
    assert header["compile"]["optimizer"]["config"]["learning_rate"] == \
        schedules.serialize(schedule)
    restored = models.load_model(path)
    assert type(restored.optimizer) is type(model.optimizer)
    assert isinstance(restored.optimizer._learning_rate, schedules.ExponentialDecay)
    assert restored.optimizer._learning_rate.get_config() == schedule.get_config()
    assert restored.optimizer.iterations == model.optimizer.iterations == 10
    assert restored.optimizer.learning_rate == model.optimizer.learning_rate == schedule(10)
    tc.random.seed(5)  # same dropout masks in both runs
    model.fit(X, Y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    tc.random.seed(5)
    restored.fit(X, Y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    assert restored.optimizer.iterations == model.optimizer.iterations == 15
    for a, b in zip(model.get_weights(), restored.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_header_records_the_input_shape_once(tmp_path):
    """build_input_shape is stored where the model is rebuilt from, not twice."""

    def header_of(model, name):
        model.save(tmp_path / name)
        with zipfile.ZipFile(tmp_path / name) as archive:
            raw = archive.read("__tensorcore__.npy")
        return raw.count(b"build_input_shape"), models.load_model(tmp_path / name)

    sequential = models.Sequential([layers.Dense(2, input_shape=(5,))])
    inputs = tc.Input((5,))
    functional = models.Model(inputs, layers.Dense(2)(inputs))
    for model, name, count in ((sequential, "s.tcm", 1), (functional, "f.tcm", 0)):
        stored, loaded = header_of(model, name)
        assert stored == count and loaded.built
        np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_version_1_files_still_load(tmp_path, monkeypatch):
    """Files of format v1 (a Sequential's layer list at the top of the header) load."""
    tc.random.seed(3)
    model = models.Sequential([layers.Dense(4, activation="relu", input_shape=(3,)),
                               layers.Dense(2)], name="old")
    header = {"kind": "model", "weight_names": model.weight_names,
              "model": {"name": "old", "layers": [layers.serialize(x) for x in model.layers],
                        "build_input_shape": [3]}}
    monkeypatch.setattr(saving, "FORMAT_VERSION", 1)
    path = tmp_path / "v1.tcm"
    saving.write_archive(path, header, {f"weight.{i}": w
                                        for i, w in enumerate(model.get_weights())})
    monkeypatch.undo()
    loaded = models.load_model(path)
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
