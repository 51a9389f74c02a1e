"""The chapter-5 listing in PyTorch with Keras's defaults: the accuracy oracle for issue #13.

Same data (the bundled MNIST, reshaped to (n, 28, 28, 1), /255 in float32, one-hot labels),
same network, Glorot-uniform kernels with Keras's fans (receptive field x channels), zero
biases, RMSprop with Keras 3's update (v = rho*v + (1-rho)*g^2; w -= lr*g/sqrt(v + eps)),
learning rate 1e-3, rho 0.9, eps 1e-7, categorical crossentropy averaged over the batch, 5
epochs, batch 64, reshuffled every epoch. Prints the test accuracy of each seed, so the spread
of accuracies a faithful implementation reaches on this data can be compared with
`python -m tensorcore --model convnet --seed S`.

    python scripts/convnet_torch_oracle.py --seeds 0 1 2 [--threads 1] [--epochs 5]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np


def glorot_uniform_(weight, fan_in: int, fan_out: int, generator) -> None:
    """Fill weight with U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out)) (Keras)."""
    import torch

    limit = math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        weight.uniform_(-limit, limit, generator=generator)


def build(generator):
    """The listing's layers in NCHW, initialized as Keras initializes them."""
    import torch
    from torch import nn

    model = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 64, 3), nn.ReLU(),
        nn.Flatten(), nn.Linear(576, 64), nn.ReLU(), nn.Linear(64, 10),
    )
    for module in model:
        if isinstance(module, nn.Conv2d):
            out_ch, in_ch, kh, kw = module.weight.shape
            glorot_uniform_(module.weight, in_ch * kh * kw, out_ch * kh * kw, generator)
        elif isinstance(module, nn.Linear):
            out_f, in_f = module.weight.shape
            glorot_uniform_(module.weight, in_f, out_f, generator)
        else:
            continue
        with torch.no_grad():
            module.bias.zero_()
    return model


def run(seed: int, epochs: int, batch_size: int, data) -> float:
    """Train one model from seed; return its test accuracy."""
    import torch

    (x_train, y_train), (x_test, y_test) = data
    generator = torch.Generator().manual_seed(seed)
    model = build(generator)
    params = list(model.parameters())
    velocity = [torch.zeros_like(p) for p in params]
    lr, rho, eps = 1e-3, 0.9, 1e-7
    n = len(x_train)
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator)
        for start in range(0, n, batch_size):
            index = order[start:start + batch_size]
            logits = model(x_train[index])
            loss = -(y_train[index] * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()
            for p in params:
                p.grad = None
            loss.backward()
            with torch.no_grad():
                for p, v in zip(params, velocity):
                    v.mul_(rho).addcmul_(p.grad, p.grad, value=1 - rho)
                    p.sub_(lr * p.grad / torch.sqrt(v + eps))
    with torch.no_grad():
        predictions = torch.cat([model(x_test[i:i + 1000]).argmax(dim=1)
                                 for i in range(0, len(x_test), 1000)])
    return float((predictions == y_test.argmax(dim=1)).float().mean())


def load():
    """The bundled MNIST prepared as the book prepares it, moved to NCHW torch tensors."""
    import torch

    from tensorcore.datasets import mnist

    (train_images, train_labels), (test_images, test_labels) = mnist.load_data()

    def images(a: np.ndarray):
        a = a.reshape((len(a), 28, 28, 1)).astype(np.float32) / np.float32(255)
        return torch.from_numpy(np.ascontiguousarray(a.transpose(0, 3, 1, 2)))

    def one_hot(labels: np.ndarray):
        return torch.from_numpy(np.eye(10, dtype=np.float32)[labels])

    return ((images(train_images), one_hot(train_labels)),
            (images(test_images), one_hot(test_labels)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    import torch

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    data = load()
    for seed in args.seeds:
        start = time.perf_counter()
        accuracy = run(seed, args.epochs, args.batch_size, data)
        print(f"torch seed {seed}: test accuracy {accuracy:.4f} "
              f"({time.perf_counter() - start:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
