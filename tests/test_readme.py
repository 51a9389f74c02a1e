"""The README's Python examples run (the MNIST listing on a subset, to stay fast)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parent.parent / "README.md"


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_examples():
    assert len(_blocks()) >= 8


def test_readme_examples_run(monkeypatch, capsys):
    import tensorcore as tc
    from tensorcore.datasets import mnist
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    subset = ((x_train[:1000], y_train[:1000]), (x_test[:500], y_test[:500]))
    monkeypatch.setattr(mnist, "load_data", lambda path=None: subset)
    tc.random.seed(0)
    namespace: dict = {}
    for block in _blocks():
        code = (block.replace("(60000, 28 * 28)", "(1000, 28 * 28)")
                .replace("(10000, 28 * 28)", "(500, 28 * 28)")
                .replace("tc.set_backend(\"numba\")", "tc.set_backend(\"c\")"))
        exec(compile(code, str(README), "exec"), namespace)  # noqa: S102 - our own README
    out = capsys.readouterr().out
    assert "test_acc:" in out
    losses = [float(v) for v in re.findall(r"epoch \d: loss ([0-9.]+)", out)]
    assert len(losses) == 5 and losses[-1] < losses[0]
    assert isinstance(namespace["x"], np.ndarray)
