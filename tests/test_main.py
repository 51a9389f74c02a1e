"""`python -m tensorcore`: --help, a quick limited run, --plot handling, the bench subcommand."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tensorcore import __main__ as cli

REPO = Path(__file__).resolve().parent.parent


def _run(*args, **env):
    environment = {**os.environ, **env}
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(REPO), environment.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return subprocess.run([sys.executable, "-m", "tensorcore", *args], capture_output=True,
                          text=True, cwd=REPO, env=environment)


def test_help_lists_the_options():
    result = _run("--help")
    assert result.returncode == 0, result.stderr
    for option in ("--epochs", "--model", "--batch-size", "--backend", "--threads", "--plot",
                   "--seed", "--limit", "bench", "TENSORCORE_MNIST_LIMIT"):
        assert option in result.stdout


def test_quick_run_prints_test_accuracy():
    result = _run("--epochs", "1", "--seed", "0", TENSORCORE_MNIST_LIMIT="600")
    assert result.returncode == 0, result.stderr
    assert "training on 600 MNIST images" in result.stdout
    assert "Epoch 1/1" in result.stdout
    lines = [line for line in result.stdout.splitlines() if line.startswith("test accuracy:")]
    assert len(lines) == 1
    assert 0.5 < float(lines[0].split(":")[1]) <= 1.0
    assert "training time:" in result.stdout


def test_in_process_run_with_limit_option(capsys):
    assert cli.main(["--epochs", "1", "--limit", "300", "--batch-size", "64", "--verbose",
                     "2", "--seed", "1"]) == 0
    output = capsys.readouterr().out
    assert "test accuracy:" in output and "5/5 - " in output


@pytest.mark.skipif(importlib.util.find_spec("matplotlib") is not None,
                    reason="matplotlib is installed")
def test_plot_without_matplotlib_stops_before_training(capsys, tmp_path):
    assert cli.main(["--limit", "10", "--plot", str(tmp_path / "curves.png")]) == 2
    captured = capsys.readouterr()
    assert "matplotlib" in captured.err and "Epoch" not in captured.out


@pytest.mark.parametrize("args", [["--epochs", "0"], ["--batch-size", "-1"], ["--limit", "0"],
                                  ["--backend", "cuda"]])
def test_bad_options_exit_with_usage_error(args):
    with pytest.raises(SystemExit) as info:
        cli.main(args)
    assert info.value.code == 2


def test_bench_subcommand_is_reserved(capsys, monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert cli.main(["bench"]) == 0
    assert "pytest bench/" in capsys.readouterr().out


def test_convnet_listing_on_a_slice(capsys):
    """--model convnet: the chapter-5 listing trains on a slice and learns something."""
    assert cli.main(["--model", "convnet", "--epochs", "1", "--limit", "1024", "--verbose",
                     "0", "--seed", "0"]) == 0
    output = capsys.readouterr().out
    lines = [line for line in output.splitlines() if line.startswith("test accuracy:")]
    assert len(lines) == 1
    # one epoch on 1024 images reaches 0.52-0.64 depending on the seed; chance is 0.1
    assert 0.3 < float(lines[0].split(":")[1]) <= 1.0


def test_convnet_model_is_the_chapter5_listing():
    model = cli.convnet()
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Conv2D", "Flatten",
                     "Dense", "Dense"]
    assert model.count_params() == 93322      # Keras prints the same total for the listing


def test_bench_header_names_cpu_isa_caches_threads_and_kernels():
    """The bench header says what the table was measured on (issue #15 item 5)."""
    from tensorcore import _bench
    from tensorcore.backend import _load

    info = _load("c").info()
    cpu, kernels = _bench.header_lines(["gemm 1024^3 (C)"])
    assert _bench._cpu_model() in cpu
    assert f"simd level {info['simd']}" in cpu and info["caches"] in cpu
    assert f"threads {_bench.THREADS}" in cpu
    assert info["gemm_kernel_f32"] in kernels and info["gemm_kernel_f64"] in kernels
