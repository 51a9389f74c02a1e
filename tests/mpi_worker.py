"""Programs run by tests/test_distributed.py, under mpiexec (or alone, for the reference).

    python tests/mpi_worker.py SCENARIO OUTDIR [--reference | --overlap]

Scenarios:
  train      RMSprop then Adam on the same data: 2 ranks with the global batch split
             (distributed) or, with --reference, one process with the whole batch; writes
             the final weights, evaluate() results and predict() outputs to OUTDIR/<rank>.npz;
             --overlap uses DataParallel(overlap=True) (OUTDIR/<rank>-overlap.npz);
             saves a ModelCheckpoint and a model file named after the rank (only rank 0's
             may appear).
  step-fail  rank 1 raises inside its 3rd training step (--overlap: with overlap).
  abort      rank 1 raises from a callback at the end of epoch 1 (outside any collective).
  mismatch   rank 1 builds a wider hidden layer than rank 0.
  resume     rank 0's optimizer has state (it trained alone first, as after loading a
             checkpoint), rank 1's has none; then a distributed fit; writes each rank's
             weights and step count to OUTDIR/resume-<rank>.npz (--reference: the same
             run in one process).
  optimizer-mismatch  rank 1 compiles Adam with another learning rate than rank 0.
  predict-fresh  ranks initialised differently call evaluate and predict without fit;
             writes OUTDIR/predict-fresh-<rank>.npz.
  batchnorm  a model with BatchNormalization (and a frozen one) trained on 2 ranks, or with
             --reference in one process; writes OUTDIR/batchnorm-<rank>.npz.
"""

from __future__ import annotations

import sys

import numpy as np

import tensorcore as tc
from tensorcore import callbacks, layers, models, optimizers

SAMPLES, FEATURES, CLASSES, GLOBAL_BATCH = 1001, 48, 10, 128


def make_data():
    """A fixed classification problem (same on every rank, independent of tc.random)."""
    generator = np.random.default_rng(1234)
    x = generator.standard_normal((SAMPLES, FEATURES)).astype(np.float32)
    labels = generator.integers(0, CLASSES, SAMPLES)
    y = np.zeros((SAMPLES, CLASSES), dtype=np.float32)
    y[np.arange(SAMPLES), labels] = 1.0
    return x, y


def make_model(hidden: int = 32):
    return models.Sequential([layers.Dense(hidden, activation="relu", input_shape=(FEATURES,)),
                              layers.Dense(CLASSES, activation="softmax")])


def train(outdir: str, reference: bool, overlap: bool) -> None:
    rank = 0 if reference else tc.distributed.rank()
    # Small buckets with overlap, so that each layer's gradients travel on their own.
    strategy = None if reference else (
        tc.distributed.DataParallel(overlap=True, bucket_bytes=1024) if overlap
        else tc.distributed.DataParallel())
    x, y = make_data()
    results: dict[str, np.ndarray] = {}
    for name, optimizer in (("rmsprop", optimizers.RMSprop(learning_rate=0.003)),
                            ("adam", optimizers.Adam(learning_rate=0.003))):
        # Ranks start from different weights on purpose: fit must broadcast rank 0's.
        tc.random.seed(7 + rank)
        model = make_model()
        model.compile(optimizer=optimizer, loss="categorical_crossentropy",
                      metrics=["accuracy"],
                      distribute=strategy)
        checkpoint = callbacks.ModelCheckpoint(f"{outdir}/ckpt-{name}-rank{rank}.tcm",
                                               monitor="loss")
        # Per-sample weights: the weighted mean loss must also split exactly over ranks.
        weights = np.random.default_rng(99).uniform(0.5, 1.5, len(x)).astype(np.float32)
        history = model.fit(x, y, batch_size=GLOBAL_BATCH, epochs=2, verbose=0,
                            sample_weight=weights,
                            validation_split=0.2, callbacks=[checkpoint])
        for i, weight in enumerate(model.get_weights()):
            results[f"{name}/weight{i}"] = weight
        for key, values in history.history.items():
            results[f"{name}/history/{key}"] = np.array(values)
        results[f"{name}/evaluate"] = np.array(model.evaluate(x, y, batch_size=100,
                                                              verbose=0))
        results[f"{name}/predict"] = model.predict(x[:333], batch_size=50)
        model.save(f"{outdir}/model-{name}-rank{rank}.tcm")
        if strategy is not None:
            results[f"{name}/buckets_started_during_backward"] = np.array(
                strategy.buckets_started_during_backward)
    name = "reference" if reference else f"{rank}{'-overlap' if overlap else ''}"
    np.savez(f"{outdir}/{name}.npz", **results)


def step_fail(overlap: bool) -> None:
    """Rank 1 raises in its 3rd step: in the loss, or with overlap in the middle of backward
    (after the last layer's bucket has started its Iallreduce)."""
    rank = tc.distributed.rank()
    x, y = make_data()
    model = make_model()
    strategy = tc.distributed.DataParallel(overlap=overlap, bucket_bytes=1024)
    model.compile(optimizer="adam", loss="categorical_crossentropy", distribute=strategy)
    calls = [0]
    compute_loss = model._loss_and_predictions  # the loss of the built-in train_step
    gradient_ready = strategy._gradient_ready

    def failing_compute_loss(*args, **kwargs):
        calls[0] += 1
        if rank == 1 and calls[0] == 3 and not overlap:
            raise ArithmeticError("injected failure in rank 1's step")
        return compute_loss(*args, **kwargs)

    def failing_gradient_ready(index, grad):
        if rank == 1 and calls[0] == 3 and index == 0:
            assert strategy._issued >= 1, "no bucket in flight"
            raise ArithmeticError("injected failure in rank 1's step")
        gradient_ready(index, grad)

    model._loss_and_predictions = failing_compute_loss
    strategy._gradient_ready = failing_gradient_ready
    model.fit(x, y, batch_size=GLOBAL_BATCH, epochs=1, verbose=0)
    print(f"rank {rank}: fit returned", flush=True)


class _FailOnRankOne(callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if tc.distributed.rank() == 1:
            raise LookupError("injected failure outside the training step")


def abort() -> None:
    x, y = make_data()
    model = make_model()
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy",
                  distribute=tc.distributed.DataParallel())
    model.fit(x, y, batch_size=GLOBAL_BATCH, epochs=3, verbose=0,
              callbacks=[_FailOnRankOne()])
    print(f"rank {tc.distributed.rank()}: fit returned", flush=True)


def mismatch() -> None:
    x, y = make_data()
    model = make_model(32 if tc.distributed.rank() == 0 else 33)
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy",
                  distribute=tc.distributed.DataParallel())
    model.fit(x, y, batch_size=GLOBAL_BATCH, epochs=1, verbose=0)


def resume(outdir: str, reference: bool) -> None:
    rank = 0 if reference else tc.distributed.rank()
    x, y = make_data()
    tc.random.seed(7)
    model = make_model()
    model.compile(optimizer=optimizers.Adam(learning_rate=0.003),
                  loss="categorical_crossentropy")
    if rank == 0:
        model.fit(x[:512], y[:512], batch_size=GLOBAL_BATCH, epochs=1, verbose=0)
    model.compile(optimizer=model.optimizer, loss="categorical_crossentropy",
                  distribute=None if reference else tc.distributed.DataParallel())
    model.fit(x, y, batch_size=GLOBAL_BATCH, epochs=1, verbose=0, shuffle=False)
    results = {f"weight{i}": w for i, w in enumerate(model.get_weights())}
    results["iterations"] = np.array(model.optimizer.iterations)
    np.savez(f"{outdir}/resume-{'reference' if reference else rank}.npz", **results)


def batchnorm(outdir: str, reference: bool) -> None:
    rank = 0 if reference else tc.distributed.rank()
    x, y = make_data()
    x = x * np.linspace(0.5, 3.0, SAMPLES, dtype=np.float32)[:, None]  # slices differ
    tc.random.seed(7)
    frozen = layers.BatchNormalization(moving_mean_initializer="ones")
    frozen.trainable = False
    model = models.Sequential([layers.Dense(32, activation="relu", input_shape=(FEATURES,)),
                               layers.BatchNormalization(momentum=0.9), frozen,
                               layers.Dense(CLASSES, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy",
                  distribute=None if reference else tc.distributed.DataParallel())
    model.fit(x, y, batch_size=GLOBAL_BATCH, epochs=2, verbose=0, shuffle=False)
    results = dict(zip(model.weight_names, model.get_weights()))
    results["predict"] = model.predict(x[:300], batch_size=50)
    np.savez(f"{outdir}/batchnorm-{'reference' if reference else rank}.npz", **results)


def predict_fresh(outdir: str) -> None:
    rank = tc.distributed.rank()
    x, y = make_data()
    tc.random.seed(100 + rank)     # different weights on each rank, and no fit
    model = make_model()
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"],
                  distribute=tc.distributed.DataParallel())
    predicted = model.predict(x[:101], batch_size=32)
    evaluated = np.array(model.evaluate(x, y, verbose=0))
    with tc.no_grad():        # this rank's own model, after predict: one process's answer
        own = model(tc.tensor(x[:101])).numpy()
    np.savez(f"{outdir}/predict-fresh-{rank}.npz", predict=predicted, evaluate=evaluated,
             own=own)


def optimizer_mismatch() -> None:
    x, y = make_data()
    model = make_model()
    rate = 0.003 if tc.distributed.rank() == 0 else 0.01
    model.compile(optimizer=optimizers.Adam(learning_rate=rate),
                  loss="categorical_crossentropy", distribute=tc.distributed.DataParallel())
    model.fit(x, y, batch_size=GLOBAL_BATCH, epochs=1, verbose=0)


if __name__ == "__main__":
    scenario, *rest = sys.argv[1:]
    if scenario == "train":
        train(rest[0], "--reference" in rest, "--overlap" in rest)
    elif scenario == "predict-fresh":
        predict_fresh(rest[0])
    elif scenario in ("resume", "batchnorm"):
        {"resume": resume, "batchnorm": batchnorm}[scenario](rest[0], "--reference" in rest)
    else:
        {"step-fail": lambda: step_fail("--overlap" in rest), "abort": abort,
         "mismatch": mismatch, "optimizer-mismatch": optimizer_mismatch}[scenario]()
