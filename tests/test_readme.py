"""The README's Python examples run (the MNIST ones on a subset, to stay fast) and do what the
README says they do."""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


@pytest.fixture(scope="module")
def readme_run():
    """Run every block in order in one namespace; (namespace, printed text)."""
    import contextlib
    import io

    import tensorcore as tc
    from tensorcore.datasets import mnist
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    subset = ((x_train[:1000], y_train[:1000]), (x_test[:500], y_test[:500]))
    original = mnist.load_data
    mnist.load_data = lambda path=None: subset
    tc.random.seed(0)
    namespace: dict = {}
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            for block in _blocks():
                code = (block.replace("(60000, 28 * 28)", "(1000, 28 * 28)")
                        .replace("(10000, 28 * 28)", "(500, 28 * 28)")
                        .replace("tc.set_backend(\"numba\")", "tc.set_backend(\"c\")"))
                exec(compile(code, str(README), "exec"), namespace)  # noqa: S102 - our README
    finally:
        mnist.load_data = original
        tc.set_backend("c")
    return namespace, printed.getvalue()


def test_readme_has_examples():
    assert len(_blocks()) >= 13


def test_chapter2_examples(readme_run):
    namespace, out = readme_run
    assert "test_acc:" in out
    losses = [float(v) for v in re.findall(r"epoch \d: loss ([0-9.]+)", out)]
    assert len(losses) == 5 and losses[-1] < losses[0]
    assert isinstance(namespace["x"], np.ndarray)


def test_data_pipeline_example_learns(readme_run):
    namespace, _ = readme_run
    assert namespace["pipeline_accuracy"] > 0.6   # 1000 images, 4 epochs; chance is 0.1
    assert np.isfinite(namespace["weighted_loss"])


def test_functional_example_round_trips(readme_run):
    namespace, _ = readme_run
    model, restored = namespace["two_inputs"], namespace["restored"]
    images, hints = namespace["images"][:5], namespace["hints"][:5]
    digit, even = model.predict({"image": images, "hint": hints})
    np.testing.assert_array_equal(digit, namespace["digit_probabilities"])
    np.testing.assert_array_equal(even, namespace["even_probability"])
    assert digit.shape == (5, 10) and even.shape == (5, 1)
    assert restored.get_layer("merged").name == "merged"


def test_custom_train_step_example_clips_and_reports(readme_run, tmp_path):
    namespace, out = readme_run
    history = namespace["clipped_history"].history
    assert set(history) == {"loss", "mae", "grad_norm"}
    assert history["loss"][-1] < history["loss"][0]
    assert "'grad_norm':" in out
    # One step with SGD(learning_rate=1) on targets far off: the raw gradient norm is
    # above 1, so the weights move by exactly a unit step.
    import tensorcore as tc
    regressor_class = namespace["ClippedRegressor"]
    tc.random.seed(5)
    model = regressor_class(units=4)
    model.compile(optimizer=tc.optimizers.SGD(learning_rate=1.0), loss="mse")
    x = namespace["inputs"][:32]
    model.predict(x)
    before = model.get_weights()
    logs = model.train_on_batch(x, np.full((32, 1), 50.0, np.float32))
    assert logs > 1.0
    moved = sum(float(((a.astype(np.float64) - b) ** 2).sum())
                for a, b in zip(model.get_weights(), before))
    assert model.norm_tracker.result() > 1.0
    assert np.sqrt(moved) == pytest.approx(1.0, rel=1e-4)
    # registered, with a get_config: the whole model saves and loads
    path = tmp_path / "clipped.tcm"
    namespace["regressor"].save(path)
    loaded = tc.models.load_model(path)
    assert isinstance(loaded, regressor_class) and loaded.units == 16
    np.testing.assert_array_equal(loaded.predict(x), namespace["regressor"].predict(x))


def test_callbacks_example_logs_every_epoch(readme_run):
    namespace, out = readme_run
    assert len(re.findall(r"epoch \d, accuracy [0-9.]+", out)) == 3
    with open(os.path.join(namespace["logs_dir"], "training.csv"), newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["epoch"] for row in rows] == ["0", "1", "2"]
    assert not os.path.exists(os.path.join(namespace["logs_dir"], "backup", "backup.tcm"))
