"""Quick standalone benchmarks: ``python -m tensorcore bench [--repeat N] [--only NAME ...]``.

Each case times a tensorcore call and its reference (NumPy, or PyTorch when the target is
against PyTorch) in the same process, in alternating blocks (see `measure`), and prints a
table of medians and the ratio reference / tensorcore against the target. Cases whose
reference (PyTorch) is not installed are reported as skipped. The pytest-benchmark
versions live in bench/ and reuse the case builders defined here.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from typing import Callable

def _usable_cpus() -> int:
    """CPUs this process may run on (the affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


# Threads given to every side (tensorcore, NumPy's BLAS, PyTorch): the usable CPUs unless
# --threads says otherwise (set by main before any case runs).
THREADS = _usable_cpus()
RNG_SEED = 0
# Pause after each timed block (see measure).
SETTLE_SECONDS = 0.25


def _env_for_numpy() -> None:
    """Same thread count on both sides; OpenBLAS tuning variables distort NumPy's GEMM."""
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        os.environ.pop(name, None)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(THREADS))
    os.environ.setdefault("OMP_NUM_THREADS", str(THREADS))


def _torch():
    """The torch module (THREADS threads) or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(THREADS)
    return torch


# ---- case builders: each returns (tensorcore_fn, reference_fn) or None (skip) ---------

def case_gemm(shape: str, backend: str = "c"):
    """GEMM through the backend interface (C or Numba) vs np.matmul into the same out."""
    import numpy as np

    import tensorcore as tc
    from tensorcore.backend import _load

    rng = np.random.default_rng(RNG_SEED)
    r = lambda *s: rng.standard_normal(s).astype(np.float32)  # noqa: E731
    a, b = {
        "1024^3": lambda: (r(1024, 1024), r(1024, 1024)),
        "x@W": lambda: (r(128, 784), r(784, 512)),
        "x.T@dy": lambda: (r(128, 784).T, r(128, 512)),
        "dy@W.T": lambda: (r(128, 512), r(784, 512).T),
    }[shape]()
    out = np.empty((a.shape[0], b.shape[1]), np.float32)
    out_ref = np.empty_like(out)
    module = _load(backend)
    tc.set_num_threads(THREADS)
    module.matmul(a, b, out)          # compile (Numba) / warm up
    return (lambda: module.matmul(a, b, out)), (lambda: np.matmul(a, b, out=out_ref))


def case_broadcast_add():
    """tc.from_numpy(a) + tc.from_numpy(b), 4096x4096 + 4096, vs a + b."""
    import numpy as np

    import tensorcore as tc

    rng = np.random.default_rng(RNG_SEED)
    a = rng.standard_normal((4096, 4096)).astype(np.float32)
    b = rng.standard_normal(4096).astype(np.float32)
    ta, tb = tc.from_numpy(a), tc.from_numpy(b)
    return (lambda: ta + tb), (lambda: a + b)


def case_unary_math(name: str):
    """tc.<name>(x) on 4096x4096 float32 vs np.<name>(x) (both allocate their result)."""
    import numpy as np

    import tensorcore as tc

    rng = np.random.default_rng(RNG_SEED)
    low = 0.01 if name == "log" else -10.0      # log: its domain; sin: several periods
    a = rng.uniform(low, 10.0, (4096, 4096)).astype(np.float32)
    ta = tc.from_numpy(a)
    tc.set_num_threads(THREADS)
    ours, theirs = getattr(tc, name), getattr(np, name)
    return (lambda: ours(ta)), (lambda: theirs(a))


def case_transpose():
    """Materialized transpose of 4096x4096 vs np.ascontiguousarray(a.T)."""
    import numpy as np

    import tensorcore as tc

    a = np.random.default_rng(RNG_SEED).standard_normal((4096, 4096)).astype(np.float32)
    ta = tc.from_numpy(a)
    return (lambda: ta.T.reshape(-1)), (lambda: np.ascontiguousarray(a.T))


def case_sum(axis: int):
    """tc.sum over one axis of 4096x4096 vs a.sum(axis)."""
    import numpy as np

    import tensorcore as tc

    a = np.random.default_rng(RNG_SEED).standard_normal((4096, 4096)).astype(np.float32)
    ta = tc.from_numpy(a)
    return (lambda: tc.sum(ta, axis=axis)), (lambda: a.sum(axis=axis))


def case_small_adds():
    """1000 additions of 4x4 tensors with requires_grad vs the same in PyTorch."""
    import numpy as np

    import tensorcore as tc

    torch = _torch()
    if torch is None:
        return None
    x = tc.tensor(np.ones((4, 4), np.float32), requires_grad=True)
    y = tc.tensor(np.ones((4, 4), np.float32), requires_grad=True)
    tx = torch.ones(4, 4, requires_grad=True)
    ty = torch.ones(4, 4, requires_grad=True)

    def ours():
        for _ in range(1000):
            x + y

    def theirs():
        for _ in range(1000):
            tx + ty
    return ours, theirs


def mnist_arrays():
    """Chapter-2 training data: x (60000, 784) float32 in [0, 1], one-hot y, int labels."""
    import numpy as np

    from tensorcore import datasets, utils

    (x, y), _ = datasets.mnist.load_data()
    x = x.reshape(len(x), 784).astype(np.float32) / 255
    return x, utils.to_categorical(y, 10).astype(np.float32), y.astype(np.int64)


def tc_epoch(x, y_onehot) -> None:
    """One epoch of the chapter-2 network through model.fit (fresh model each call)."""
    from tensorcore import layers, models

    model = models.Sequential([layers.Dense(512, activation="relu"),
                               layers.Dense(10, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y_onehot, epochs=1, batch_size=128, verbose=0)


def torch_epoch(torch, x, labels) -> None:
    """The same network, optimizer, batch and metric in PyTorch eager."""
    net = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(),
                              torch.nn.Linear(512, 10))
    _torch_fit_epoch(torch, net, torch.from_numpy(x), torch.from_numpy(labels), 128)


def _torch_fit_epoch(torch, net, x, labels, batch_size: int) -> None:
    """One shuffled epoch of `net` on torch tensors with the settings of the tensorcore side:
    RMSprop (Keras defaults), crossentropy on logits, loss and accuracy read every batch."""
    optimizer = torch.optim.RMSprop(net.parameters(), lr=0.001, alpha=0.9, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    order = torch.randperm(len(x))
    for start in range(0, len(x), batch_size):
        index = order[start:start + batch_size]
        outputs = net(x[index])
        loss = loss_fn(outputs, labels[index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss.item()
        (outputs.argmax(1) == labels[index]).float().mean().item()


def case_epoch():
    """One chapter-2 MNIST epoch vs PyTorch eager."""
    import tensorcore as tc

    torch = _torch()
    if torch is None:
        return None
    tc.set_num_threads(THREADS)
    x, y_onehot, labels = mnist_arrays()
    return (lambda: tc_epoch(x, y_onehot)), (lambda: torch_epoch(torch, x, labels))


# ---- chapter-5 convnet cases ----------------------------------------------------------

# Conv2D 3x3, 64 -> 64 channels, 28x28 ("same" padding), batch 64: the benchmark tensor.
CONV_SHAPE = (64, 28, 28, 64)
# Multiply-adds x 2 of one forward pass; forward + backward (input and kernel) is 3x.
CONV_FLOPS = 2 * 64 * 28 * 28 * (3 * 3 * 64) * 64


def _conv_tensors(torch):
    """x (N, H, W, C) and w (KH, KW, C, O) for tensorcore, NCHW / OIHW copies for PyTorch."""
    import numpy as np

    rng = np.random.default_rng(RNG_SEED)
    x = rng.standard_normal(CONV_SHAPE).astype(np.float32)
    w = (rng.standard_normal((3, 3, 64, 64)) * 0.05).astype(np.float32)
    tx = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous().requires_grad_()
    tw = torch.from_numpy(w).permute(3, 2, 0, 1).contiguous().requires_grad_()
    return x, w, tx, tw


def case_conv(backward: bool):
    """tc.conv2d 3x3 64->64 on (64, 28, 28, 64), forward or forward + backward (dx, dw),
    vs torch.nn.functional.conv2d on the same tensor in NCHW."""
    import tensorcore as tc

    torch = _torch()
    if torch is None:
        return None
    tc.set_num_threads(THREADS)
    x, w, tx, tw = _conv_tensors(torch)
    ours_x, ours_w = tc.tensor(x, requires_grad=True), tc.tensor(w, requires_grad=True)
    conv = torch.nn.functional.conv2d
    if not backward:
        def ours():
            with tc.no_grad():
                tc.conv2d(ours_x, ours_w, padding="same")

        def theirs():
            with torch.no_grad():
                conv(tx, tw, padding=1)
        return ours, theirs
    grad = tc.ones(CONV_SHAPE)
    tgrad = torch.ones(CONV_SHAPE[0], CONV_SHAPE[3], CONV_SHAPE[1], CONV_SHAPE[2])

    def ours():
        ours_x.grad = ours_w.grad = None
        tc.conv2d(ours_x, ours_w, padding="same").backward(grad)

    def theirs():
        tx.grad = tw.grad = None
        conv(tx, tw, padding=1).backward(tgrad)
    return ours, theirs


def case_maxpool():
    """tc.max_pool2d 2x2 forward + backward on (64, 28, 28, 64) vs PyTorch (NCHW)."""
    import tensorcore as tc

    torch = _torch()
    if torch is None:
        return None
    tc.set_num_threads(THREADS)
    x, _, tx, _ = _conv_tensors(torch)
    ours_x = tc.tensor(x, requires_grad=True)
    grad = tc.ones((64, 14, 14, 64))
    tgrad = torch.ones(64, 64, 14, 14)

    def ours():
        ours_x.grad = None
        tc.max_pool2d(ours_x, 2).backward(grad)

    def theirs():
        tx.grad = None
        torch.nn.functional.max_pool2d(tx, 2).backward(tgrad)
    return ours, theirs


def case_conv_gemm():
    """The GEMM a 3x3 64->64 conv on (64, 28, 28, 64) amounts to (50176x576 @ 576x64),
    through the C backend, vs np.matmul: the conv cases' GFLOP/s next to our GEMM's."""
    import numpy as np

    import tensorcore as tc
    from tensorcore.backend import _load

    rng = np.random.default_rng(RNG_SEED)
    a = rng.standard_normal((64 * 28 * 28, 3 * 3 * 64)).astype(np.float32)
    b = rng.standard_normal((3 * 3 * 64, 64)).astype(np.float32)
    out, out_ref = np.empty((a.shape[0], 64), np.float32), np.empty((a.shape[0], 64), np.float32)
    module = _load("c")
    tc.set_num_threads(THREADS)
    return (lambda: module.matmul(a, b, out)), (lambda: np.matmul(a, b, out=out_ref))


def convnet_arrays(limit: int | None = None):
    """Chapter-5 training data: x (N, 28, 28, 1) float32 in [0, 1], one-hot y, int labels."""
    import numpy as np

    from tensorcore import datasets, utils

    (x, y), _ = datasets.mnist.load_data()
    x, y = x[:limit], y[:limit]
    x = x.reshape(len(x), 28, 28, 1).astype(np.float32) / 255
    return x, utils.to_categorical(y, 10).astype(np.float32), y.astype(np.int64)


def tc_convnet_epoch(x, y_onehot) -> None:
    """One epoch of the chapter-5 convnet through model.fit (fresh model each call)."""
    from tensorcore.__main__ import convnet

    model = convnet()
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y_onehot, epochs=1, batch_size=64, verbose=0)


def torch_convnet_epoch(torch, x_nchw, labels) -> None:
    """The same convnet, optimizer, batch and metric in PyTorch eager (NCHW)."""
    nn = torch.nn
    net = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(64, 64, 3), nn.ReLU(), nn.Flatten(),
                        nn.Linear(576, 64), nn.ReLU(), nn.Linear(64, 10))
    _torch_fit_epoch(torch, net, x_nchw, labels, 64)


def case_convnet_epoch(limit: int | None = None):
    """One chapter-5 convnet epoch (60000 images, batch 64, rmsprop) vs PyTorch eager."""
    import tensorcore as tc

    torch = _torch()
    if torch is None:
        return None
    tc.set_num_threads(THREADS)
    x, y_onehot, labels = convnet_arrays(limit)
    x_nchw = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()
    labels = torch.from_numpy(labels)
    return (lambda: tc_convnet_epoch(x, y_onehot)), \
        (lambda: torch_convnet_epoch(torch, x_nchw, labels))


def import_seconds(module: str) -> float:
    """Wall time of `python -c "import module"` minus `python -c "pass"` (one sample)."""
    def run(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=dict(os.environ))
        return time.perf_counter() - start
    return max(run(f"import {module}") - run("pass"), 1e-6)


def case_import():
    """Fresh-process `import tensorcore` vs `import torch` (ratio target: >= 2)."""
    if _torch() is None:
        return None
    return (lambda: import_seconds("tensorcore")), (lambda: import_seconds("torch"))


# name -> (builder, target ratio, reference name, repeats multiplier)
CASES: dict[str, tuple[Callable, float, str, float]] = {
    "gemm 1024^3 (C)": (lambda: case_gemm("1024^3"), 1.0, "numpy", 1),
    "gemm 1024^3 (Numba)": (lambda: case_gemm("1024^3", "numba"), 0.5, "numpy", 1),
    "gemm x@W 128x784x512": (lambda: case_gemm("x@W"), 1.0, "numpy", 4),
    "gemm x.T@dy 784x128x512": (lambda: case_gemm("x.T@dy"), 1.0, "numpy", 4),
    "gemm dy@W.T 128x512x784": (lambda: case_gemm("dy@W.T"), 1.0, "numpy", 4),
    "broadcast add 4096^2+4096": (case_broadcast_add, 1.4, "numpy", 1),
    "exp 4096^2": (lambda: case_unary_math("exp"), 1.5, "numpy", 1),
    "log 4096^2": (lambda: case_unary_math("log"), 1.5, "numpy", 1),
    "sin 4096^2": (lambda: case_unary_math("sin"), 1.5, "numpy", 1),
    "tanh 4096^2": (lambda: case_unary_math("tanh"), 1.5, "numpy", 1),
    "transpose copy 4096^2": (case_transpose, 4.0, "numpy", 1),
    "sum axis 0 4096^2": (lambda: case_sum(0), 1.0, "numpy", 1),
    "sum axis 1 4096^2": (lambda: case_sum(1), 1.0, "numpy", 1),
    "1000 small adds (grad)": (case_small_adds, 1.0, "torch", 2),
    "import (fresh process)": (case_import, 2.0, "torch", 1),
    "mnist epoch (fit)": (case_epoch, 2.0, "torch", 1),
    "gemm conv 50176x576x64": (case_conv_gemm, 1.0, "numpy", 1),
    "conv2d 3x3 64->64 fwd": (lambda: case_conv(False), 1.0, "torch", 1),
    "conv2d 3x3 64->64 fwd+bwd": (lambda: case_conv(True), 1.0, "torch", 1),
    "max_pool2d 2x2 fwd+bwd": (case_maxpool, 2.0, "torch", 1),
    "convnet epoch (fit)": (case_convnet_epoch, 1.0, "torch", 1 / 3),
}

# Floating-point operations per call of a case: the table adds GFLOP/s for both sides.
FLOPS: dict[str, float] = {
    "gemm conv 50176x576x64": CONV_FLOPS,
    "conv2d 3x3 64->64 fwd": CONV_FLOPS,
    "conv2d 3x3 64->64 fwd+bwd": 3 * CONV_FLOPS,
}


def measure(ours: Callable, theirs: Callable, repeats: int) -> tuple[float, float]:
    """Medians of per-call timings taken in alternating blocks (ours, then the reference).

    Each block runs one side back to back for about 50 ms (at least one call), then pauses so
    that thread pools which keep polling after a call (OpenBLAS's, and ours for about a
    millisecond) go idle before the other side runs; calling the two libraries alternately,
    call by call, would make each pool's polling threads steal a core from the other.
    Callables returning a float report their own duration (the import timings).
    """
    def timed(fn: Callable) -> float:
        start = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - start
        return result if isinstance(result, float) else elapsed

    def block(fn: Callable, calls: int) -> list[float]:
        times = [timed(fn) for _ in range(calls)]
        time.sleep(SETTLE_SECONDS)
        return times

    calls = {id(ours): max(1, min(25, int(0.05 / max(timed(ours), 1e-9)))),
             id(theirs): max(1, min(25, int(0.05 / max(timed(theirs), 1e-9))))}
    time.sleep(SETTLE_SECONDS)
    mine, ref = [], []
    for _ in range(repeats):
        mine += block(ours, calls[id(ours)])
        ref += block(theirs, calls[id(theirs)])
    return statistics.median(mine), statistics.median(ref)


def _format_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.3f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} us"


def run(names: list[str], repeats: int, out=sys.stdout) -> list[tuple]:
    """Run the named cases and print the table, then GFLOP/s of the cases that have a flop
    count (conv cases beside the GEMM of the same shape); returns the table's rows."""
    rows, notes = [], []
    header = (f"| {'case':28s} | {'tensorcore':>11s} | {'reference':>17s} | {'ratio':>5s} "
              f"| {'target':>6s} | {'result':6s} |")
    print(header, file=out)
    print("|" + "|".join("-" * (len(cell)) for cell in header.split("|")[1:-1]) + "|",
          file=out)
    for name in names:
        builder, target, ref_name, scale = CASES[name]
        case = builder()
        if case is None:
            row = (name, None, None, None, target, "skip")
            print(f"| {name:28s} | {'-':>11s} | {ref_name + ' missing':>17s} | {'-':>5s} "
                  f"| {target:6.2f} | skip   |", file=out, flush=True)
            rows.append(row)
            continue
        mine, ref = measure(*case, max(3, int(round(repeats * scale))))
        ratio = ref / mine
        verdict = "pass" if ratio >= target else "MISS"
        rows.append((name, mine, ref, ratio, target, verdict))
        print(f"| {name:28s} | {_format_time(mine):>11s} | "
              f"{ref_name + ' ' + _format_time(ref):>17s} | {ratio:5.2f} | {target:6.2f} "
              f"| {verdict:6s} |", file=out, flush=True)
        if name in FLOPS:
            notes.append(f"{name}: tensorcore {FLOPS[name] / mine / 1e9:.1f} GFLOP/s, "
                         f"{ref_name} {FLOPS[name] / ref / 1e9:.1f} GFLOP/s")
    for note in notes:
        print(note, file=out)
    return rows


def _cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what platform reports."""
    import platform
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.split(":")[0].strip() in ("model name", "Model", "Hardware"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def header_lines(names: list[str]) -> list[str]:
    """What the table was measured on: CPU, ISA level, caches, threads, GEMM kernels."""
    from tensorcore.backend import _load

    c = _load("c").info()
    lines = [f"cpu: {_cpu_model()}; simd level {c['simd']}; caches {c['caches']}; "
             f"threads {THREADS}",
             f"C GEMM: {c['gemm_kernel_f32']} ({c['gemm_blocks_f32']}), "
             f"{c['gemm_kernel_f64']} ({c['gemm_blocks_f64']})"]
    if any("numba" in name.lower() for name in names):
        import numpy as np

        from tensorcore.kernels import gemm as numba_gemm

        mr, nr, mc, kc, nc = numba_gemm.blocking(np.float32)
        lines.append(f"Numba GEMM: {numba_gemm.ISA} tile {mr}x{nr} f32 (MC={mc} KC={kc} NC={nc})")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the benchmarks, print the table; exit status 0."""
    global THREADS
    parser = argparse.ArgumentParser(prog="python -m tensorcore bench",
                                     description="tensorcore vs NumPy/PyTorch, as ratios "
                                                 "(reference time / tensorcore time).")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per side (median)")
    parser.add_argument("--only", nargs="*", default=None,
                        help="substrings selecting cases (default: all)")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--threads", type=int, default=None,
                        help=f"threads for every side (default: usable CPUs, {THREADS})")
    args = parser.parse_args([] if argv is None else argv)
    if args.threads is not None:
        if args.threads < 1:
            parser.error(f"--threads must be >= 1, received {args.threads}")
        THREADS = args.threads
    if args.list:
        for name, (_, target, ref_name, _) in CASES.items():
            print(f"{name}  (target >= {target} vs {ref_name})")
        return 0
    _env_for_numpy()
    names = [n for n in CASES
             if not args.only or any(part.lower() in n.lower() for part in args.only)]
    print(f"tensorcore bench: {THREADS} threads, float32, medians of {args.repeat} "
          "alternating blocks; ratio = reference / tensorcore")
    for line in header_lines(names):
        print(line)
    run(names, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
