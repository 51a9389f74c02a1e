"""``python -m tensorcore``: train the chapter-2 MNIST network on the bundled data
(``--model convnet``: the chapter-5 convnet).

``python -m tensorcore bench ...`` is reserved for the benchmarks (tensorcore._bench).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
import time

import numpy as np

DESCRIPTION = """\
Train the network of chapter 2 of "Deep Learning with Python" on the MNIST data
shipped with tensorcore: Dense(512, relu) -> Dense(10, softmax), RMSprop,
categorical crossentropy, pixels scaled to [0, 1], one-hot labels. Prints a
live progress bar, then the test accuracy and the training time.

--model convnet trains the convnet of chapter 5 instead: Conv2D(32, 3x3, relu) ->
MaxPooling2D(2) -> Conv2D(64, 3x3, relu) -> MaxPooling2D(2) -> Conv2D(64, 3x3, relu)
-> Flatten -> Dense(64, relu) -> Dense(10, softmax) on 28x28x1 images, batch 64.
"""

EPILOG = """\
subcommands:
  bench       run the benchmarks instead (python -m tensorcore bench --help)

environment:
  TENSORCORE_MNIST_LIMIT=N   use only the first N training and N test images
                             (same as --limit; meant for quick checks)

distributed (needs mpi4py and an MPI: pip install 'tensorcore[mpi]'):
  mpiexec -n 2 python -m tensorcore --distributed
                             every rank trains on its share of each global batch of
                             --batch-size samples; rank 0 prints. Threads per rank default
                             to the machine's cores divided by the ranks on it.

--plot PATH writes a PNG of the loss/accuracy curves and needs matplotlib; when
matplotlib is not installed the command stops with exit status 2 BEFORE
training, so no time is wasted.
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the training command."""
    parser = argparse.ArgumentParser(
        prog="python -m tensorcore", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=5, help="passes over the data (5)")
    parser.add_argument("--model", choices=("dense", "convnet"), default="dense",
                        help="dense: the chapter-2 network (default); convnet: chapter 5")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="samples per step (128 for dense, 64 for convnet)")
    parser.add_argument("--backend", choices=("c", "numba"), default=None,
                        help="kernel backend (default: TENSORCORE_BACKEND or c)")
    parser.add_argument("--threads", type=int, default=None, help="worker threads for kernels")
    parser.add_argument("--plot", metavar="PATH", default=None,
                        help="save loss/accuracy curves as a PNG (needs matplotlib)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed for weight initialization and shuffling (default 0, so "
                             "runs are reproducible; -1 draws a fresh seed)")
    parser.add_argument("--limit", type=int, default=None,
                        help="use only the first N training and test images")
    parser.add_argument("--distributed", action="store_true",
                        help="data-parallel over the MPI ranks (run under mpiexec)")
    parser.add_argument("--overlap", action="store_true",
                        help="with --distributed: reduce gradient buckets during backward")
    parser.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1,
                        help="0 silent, 1 progress bar (default), 2 one line per epoch")
    return parser


def _limit_from_env() -> int | None:
    value = os.environ.get("TENSORCORE_MNIST_LIMIT")
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise SystemExit(f"error: TENSORCORE_MNIST_LIMIT must be an integer. "
                         f"Received: {value!r}") from None


def prepare_mnist(limit: int | None, images_shape: tuple = (28 * 28,)):
    """Chapter-2 preprocessing: flatten to 784 floats in [0, 1] (or reshape each image to
    images_shape, e.g. (28, 28, 1) for the convnet), one-hot labels."""
    import tensorcore as tc
    from tensorcore.datasets import mnist
    from tensorcore.utils import to_categorical

    (train_images, train_labels), (test_images, test_labels) = mnist.load_data()
    if limit is not None:
        train_images, train_labels = train_images[:limit], train_labels[:limit]
        test_images, test_labels = test_images[:limit], test_labels[:limit]

    def scale(images: np.ndarray) -> np.ndarray:
        flat = tc.as_tensor(images.reshape((len(images),) + tuple(images_shape)), tc.float32)
        return (flat / 255.0).numpy()

    return ((scale(train_images), to_categorical(train_labels, 10)),
            (scale(test_images), to_categorical(test_labels, 10)))


def save_plot(history, path: str) -> None:
    """Loss and accuracy per epoch, written as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [e + 1 for e in history.epoch]
    figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(10, 4))
    loss_axes.plot(epochs, history.history["loss"], "o-", label="training loss")
    loss_axes.set_xlabel("epoch")
    loss_axes.set_ylabel("loss")
    loss_axes.legend()
    accuracy_axes.plot(epochs, history.history["accuracy"], "o-", label="training accuracy")
    accuracy_axes.set_xlabel("epoch")
    accuracy_axes.set_ylabel("accuracy")
    accuracy_axes.legend()
    figure.tight_layout()
    figure.savefig(path, format="png")
    plt.close(figure)


def convnet():
    """The chapter-5 listing, as written in the book (only the imports changed)."""
    from tensorcore import layers, models

    model = models.Sequential()
    model.add(layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation="relu"))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation="relu"))
    model.add(layers.Flatten())
    model.add(layers.Dense(64, activation="relu"))
    model.add(layers.Dense(10, activation="softmax"))
    return model


def train(argv: list[str]) -> int:
    """Parse the options, train, evaluate, report. Returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    limit = args.limit if args.limit is not None else _limit_from_env()
    if args.epochs < 1:
        parser.error(f"--epochs must be a positive integer. Received: {args.epochs}")
    if args.batch_size is None:
        args.batch_size = 64 if args.model == "convnet" else 128
    if args.batch_size < 1:
        parser.error(f"--batch-size must be a positive integer. Received: {args.batch_size}")
    if args.threads is not None and args.threads < 1:
        parser.error(f"--threads must be a positive integer. Received: {args.threads}")
    if limit is not None and limit < 1:
        parser.error(f"--limit must be a positive integer. Received: {limit}")
    if args.overlap and not args.distributed:
        parser.error("--overlap needs --distributed")
    if args.plot and importlib.util.find_spec("matplotlib") is None:
        print("error: --plot needs matplotlib, which is not installed "
              "(pip install matplotlib); nothing was trained.", file=sys.stderr)
        return 2

    import tensorcore as tc
    from tensorcore import layers, models

    strategy, ranks, chief = None, 1, True
    if args.distributed:
        from tensorcore import distributed

        try:
            strategy = distributed.DataParallel(overlap=args.overlap)
            ranks, chief = strategy.size, strategy.is_chief
        except ImportError as error:
            print(f"error: --distributed: {error}", file=sys.stderr)
            return 2
        if args.threads is None:   # share the machine's cores between its ranks
            args.threads = max(1, (os.cpu_count() or 1) // distributed.local_size())
    if args.backend is not None:
        tc.set_backend(args.backend)
    if args.threads is not None:
        tc.set_num_threads(args.threads)
    if args.seed is not None and args.seed >= 0:
        tc.random.seed(args.seed)

    shape = (28, 28, 1) if args.model == "convnet" else (28 * 28,)
    (train_images, train_labels), (test_images, test_labels) = prepare_mnist(limit, shape)
    model = convnet() if args.model == "convnet" else models.Sequential([
        layers.Dense(512, activation="relu", input_shape=(28 * 28,)),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"],
                  distribute=strategy)
    where = (f"{ranks} ranks x {tc.get_num_threads()} threads" if strategy is not None
             else f"{tc.get_num_threads()} threads")
    if chief:
        print(f"tensorcore: training on {len(train_images)} MNIST images "
              f"(backend {tc.get_backend()}, {where})", flush=True)
    start = time.perf_counter()
    history = model.fit(train_images, train_labels, epochs=args.epochs,
                        batch_size=args.batch_size, verbose=args.verbose)
    training_time = time.perf_counter() - start
    test_loss, test_accuracy = model.evaluate(test_images, test_labels, batch_size=512,
                                              verbose=0)
    if not chief:
        return 0
    if strategy is not None and strategy.steps:
        print(f"allreduce: {strategy.communication_seconds / strategy.steps * 1e3:.2f} ms "
              f"per step ({strategy.steps} steps, "
              f"{4 * model.count_params() / 1e6:.2f} MB of gradients per step)")
    print(f"test loss: {test_loss:.4f}")
    print(f"test accuracy: {test_accuracy:.4f}")
    print(f"training time: {training_time:.1f} s "
          f"({training_time / args.epochs:.1f} s per epoch)")
    if args.plot:
        save_plot(history, args.plot)
        print(f"plot saved to {args.plot}")
    return 0


def bench(argv: list[str]) -> int:
    """Run tensorcore._bench.main(argv) when available."""
    if importlib.util.find_spec("tensorcore._bench") is not None:
        module = importlib.import_module("tensorcore._bench")
        return int(module.main(argv) or 0)
    print("benchmarks: run  pytest bench/ --benchmark-only")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point: dispatch `bench`, otherwise train."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "bench":
        return bench(argv[1:])
    return train(argv)


if __name__ == "__main__":
    sys.exit(main())
