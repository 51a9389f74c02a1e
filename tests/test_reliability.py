"""Regression tests for issue 17: crashes and silent wrong results found by an adversarial probe.

Crash and hang cases run in a subprocess (a segfault or deadlock there fails the test
instead of killing or stalling the run); the timeouts only detect hangs, they are far above
the normal run time.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tensorcore as tc
from tensorcore import _dispatch

from conftest import assert_close

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HANG_TIMEOUT = 600  # seconds; only reached when the child deadlocks


def _run(code: str, backend: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
               TENSORCORE_BACKEND=backend)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env,
                          capture_output=True, text=True, timeout=HANG_TIMEOUT)


def _record_view(rows: int = 4) -> np.ndarray:
    """rec['a'] of a packed structured array: byte strides (18, 4) for float32 items."""
    rec = np.zeros(rows, [("a", "<f4", (4,)), ("b", "u1", (2,))])
    rec["a"] = np.arange(rows * 4, dtype=np.float32).reshape(rows, 4) / 7 - 1
    view = rec["a"]
    assert view.strides == (18, 4)
    return view


# ---------------------------------------------------------------- 1. segfault on odd strides
@pytest.mark.parametrize("name", ["c", "numba"])
def test_reversed_record_field_sum_does_not_crash(name):
    result = _run("""
        import numpy as np, tensorcore as tc
        rec = np.zeros(10**7, [('a', '<f4'), ('b', 'u1')])
        rec['a'] = 1.0
        v = rec['a'][::-1]
        assert v.strides == (-5,)
        print(float(tc.sum(v).item()), float(tc.max(tc.exp(v)).item()))
    """, name)
    assert result.returncode == 0, result.stderr
    total, top = map(float, result.stdout.split())
    assert total == 10**7 and top == pytest.approx(np.e, rel=1e-6)


# ---------------------------------------------------------------- 2. garbage on odd strides
def test_odd_stride_views_compute_like_numpy(backend):
    v = _record_view()
    ref = np.ascontiguousarray(v)
    assert_close(tc.matmul(v, v), ref @ ref, rtol=1e-5)
    assert_close(tc.sum(v), ref.sum(dtype=np.float32))
    assert_close(tc.exp(v), np.exp(ref))
    e = np.exp(ref - ref.max(1, keepdims=True))
    assert_close(tc.softmax(v, axis=1), e / e.sum(1, keepdims=True))
    assert int(tc.argmax(v).item()) == int(ref.argmax())
    assert_close(tc.tensor(v), ref)
    assert_close(tc.as_tensor(v), ref)
    assert_close(v + tc.ones(4), ref + 1)
    assert_close(tc.zeros((4, 4)).assign(v), ref)
    assert_close(tc.maximum(v[::-1, ::2], 0.0), np.maximum(ref[::-1, ::2], 0))


def test_odd_stride_view_is_refused_where_a_copy_is_wrong(backend):
    v = _record_view()
    with pytest.raises(ValueError, match="from_numpy.*item size"):
        tc.from_numpy(v)
    with pytest.raises(ValueError, match="assign.*item size"):
        tc.Tensor._wrap(v).assign(1.0)


def test_rank_above_32_is_a_clear_error(backend):
    deep = np.zeros((1,) * 33, np.float32)
    for call, name in [(lambda: tc.sum(deep), "sum"), (lambda: tc.tensor(deep), "Tensor"),
                       (lambda: tc.exp(deep), "exp"), (lambda: tc.zeros((1,) * 33), "zeros"),
                       (lambda: tc.ones(1).reshape((1,) * 33), "reshape")]:
        with pytest.raises(ValueError, match=f"{name}: arrays of rank 33"):
            call()
    assert tc.sum(np.ones((1,) * 32, np.float32)).item() == 1.0


# ---------------------------------------------------------------- 3. fork while a thread runs
@pytest.mark.parametrize("name", ["c", "numba"])
def test_fork_while_another_thread_runs_parallel_kernels(name):
    result = _run("""
        import os, threading, numpy as np, tensorcore as tc
        tc.set_num_threads(2)
        a = tc.ones((400, 400))
        stop = threading.Event()
        started = threading.Event()
        def work():
            while not stop.is_set():
                a @ a
                started.set()
        t = threading.Thread(target=work)
        t.start()
        started.wait()
        pids = []
        for _ in range(4):
            pid = os.fork()
            if pid == 0:
                ok = (a @ a).numpy()[0, 0] == 400
                ok = ok and tc.sum(tc.ones(1 << 22)).item() == 1 << 22
                os._exit(0 if ok else 3)
            pids.append(pid)
        stop.set()
        t.join()
        print([os.waitpid(p, 0)[1] for p in pids])
    """, name)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[0, 0, 0, 0]"


# ---------------------------------------------------------------- 4. zero-stride write targets
def test_expanded_torch_tensor_is_not_a_write_target(backend):
    torch = pytest.importorskip("torch")
    b = torch.zeros(3)
    t = tc.from_dlpack(b.expand(4, 3))
    for write in (lambda: t.assign_add(1.0), lambda: t.assign(2.0),
                  lambda: t.assign_sub(tc.ones(3))):
        with pytest.raises(ValueError, match="overlaps itself"):
            write()
    with pytest.raises(ValueError, match="__setitem__.*overlaps itself"):
        t[0] = 5.0
    with pytest.raises(ValueError, match="__setitem__.*overlaps itself"):
        t[[0, 1]] = 5.0
    assert b.tolist() == [0.0, 0.0, 0.0]
    assert_close(t + 1, np.ones((4, 3), np.float32))  # reading stays fine


def test_overlapping_strides_are_not_a_write_target(backend):
    base = np.zeros(8, np.float32)
    window = np.lib.stride_tricks.as_strided(base, shape=(3, 4), strides=(4, 4))
    with pytest.raises(ValueError, match="assign_add.*overlaps itself"):
        tc.from_numpy(window).assign_add(1.0)
    assert not base.any()
    # disjoint strided and reversed targets still work
    grid = np.zeros((4, 6), np.float32)
    tc.from_numpy(grid[::-1, ::2]).assign_add(1.0)
    assert grid.sum() == 12 and grid[:, 1].sum() == 0


@pytest.mark.parametrize("shape, strides, overlaps", [
    ((3, 4), (16, 4), False), ((3, 4), (-16, 4), False), ((3, 4), (4, 12), False),
    ((3, 4), (0, 4), True), ((3, 4), (8, 4), True), ((1, 4), (0, 4), False),
    ((2, 2, 2), (16, 4, 8), False), ((2, 2, 2), (16, 8, 8), True), ((0, 3), (0, 0), False),
])
def test_self_overlap_detection(shape, strides, overlaps):
    array = np.lib.stride_tricks.as_strided(np.zeros(64, np.float32)[16:], shape, strides)
    assert _dispatch.self_overlapping(array) == overlaps


# ---------------------------------------------------------------- 5. version counter
def test_in_place_change_of_a_saved_tensor_raises_at_backward(backend):
    z = tc.tensor([1.0, 2.0], requires_grad=True)
    y = z * 2
    w = y * y
    y.assign(tc.zeros(2))
    with pytest.raises(RuntimeError, match="'multiply' was modified in place"):
        w.sum().backward()


def test_in_place_change_of_an_output_used_by_its_rule_raises(backend):
    x = tc.tensor([0.5, 1.0], requires_grad=True)
    y = tc.exp(x)
    with tc.no_grad():
        y[0] = 3.0
    with pytest.raises(RuntimeError, match="output used by the op 'exp'"):
        y.sum().backward()


def test_optimizer_step_between_forward_and_backward_raises(backend):
    w = tc.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    w.grad = tc.ones(2)
    tc.optimizers.SGD(0.1).apply_gradients([(w.grad, w)])
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()


def test_unmodified_graph_backpropagates_and_versions_count(backend):
    z = tc.tensor([1.0, 2.0], requires_grad=True)
    y = z * 2
    w = y * y
    w.sum().backward()
    assert_close(z.grad, np.array([8.0, 16.0], np.float32))
    assert y._version == 0
    y.assign(tc.zeros(2))
    y.assign_add(1.0)
    with tc.no_grad():
        y[0] = 2.0
    assert y._version == 3


# ---------------------------------------------------------------- 6. Numba interop
@pytest.fixture(scope="module")
def jitted():
    numba = pytest.importorskip("numba")
    from tensorcore import numba_interop as tci

    @numba.njit
    def matmul(a, b, out):
        tci.matmul(a, b, out)

    @numba.njit
    def copy(src, out):
        tci.copy(src, out)

    @numba.njit
    def exp(a, out):
        tci.unary(tci.EXP, a, out)

    @numba.njit
    def add(a, b, out):
        tci.binary(tci.ADD, a, b, out)

    return matmul, copy, exp, add


def test_numba_interop_refuses_aliased_matmul_output(jitted):
    matmul = jitted[0]
    a = np.random.default_rng(0).random((37, 37))
    b = a.copy()
    for out in (a, a[::-1], a.T):
        with pytest.raises(ValueError, match="out overlaps a or b"):
            matmul(a, b, out)
    with pytest.raises(ValueError, match="out overlaps a or b"):
        matmul(b, a, a)
    out = np.empty_like(a)
    matmul(a, b, out)
    np.testing.assert_allclose(out, a @ b, rtol=1e-12)


def test_numba_interop_refuses_odd_strides_and_overlapping_outputs(jitted):
    matmul, copy, exp, add = jitted
    v = _record_view()
    with pytest.raises(ValueError, match="not multiples of its item size"):
        copy(v, np.empty((4, 4), np.float32))
    with pytest.raises(ValueError, match="not multiples of its item size"):
        matmul(v, np.eye(4, dtype=np.float32), np.empty((4, 4), np.float32))
    target = np.lib.stride_tricks.as_strided(np.zeros(3), (4, 3), (0, 8))
    with pytest.raises(ValueError, match="zero or overlapping strides"):
        copy(np.ones((4, 3)), target)
    a = np.arange(10.0)
    with pytest.raises(ValueError, match="partially overlaps"):
        exp(a[1:], a[:-1])
    exp(a, a)  # exactly in place is allowed
    np.testing.assert_allclose(a, np.exp(np.arange(10.0)))
    x = np.arange(6.0)
    add(x, x, x)
    np.testing.assert_array_equal(x, 2 * np.arange(6.0))
    out = np.empty((4, 4), np.float32)
    copy(np.ascontiguousarray(v), out)
    np.testing.assert_array_equal(out, v)


# ---------------------------------------------------------------- 10. // and % with infinities
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_floor_divide_and_remainder_match_numpy_with_infinities(backend, dtype):
    values = np.array([-3.0, -1.0, -0.0, 0.0, 1.0, 2.5, np.inf, -np.inf, np.nan], dtype)
    a, b = np.meshgrid(values, values)
    with np.errstate(all="ignore"):
        expected_q, expected_r = np.floor_divide(a, b), np.remainder(a, b)
    # inf // finite is +-inf by design (array API standard, PyTorch); NumPy gives nan
    inf_by_finite = np.isinf(a) & np.isfinite(b) & (b != 0)
    with np.errstate(all="ignore"):
        expected_q = np.where(inf_by_finite, np.sign(a) * np.sign(b) * np.inf, expected_q)
    assert_close(tc.floor_divide(a, b), expected_q.astype(dtype), rtol=0, atol=0)
    assert_close(tc.remainder(a, b), expected_r, rtol=0, atol=0)
    assert_close(tc.tensor(a) // tc.tensor(b), expected_q.astype(dtype), rtol=0, atol=0)
    assert tc.floor_divide(-1.0, np.inf).item() == -1.0
    assert tc.remainder(-1.0, np.inf).item() == np.inf


# ---------------------------------------------------------------- 8. untrusted model files
def _small_model():
    from tensorcore.layers import Dense
    from tensorcore.models import Sequential
    return Sequential([Dense(4, input_shape=(8,))])


def _rewrite(source, target, edit_header=None, members=None):
    """Copy a model file, editing its JSON header and replacing members."""
    import io
    import json
    import zipfile
    with zipfile.ZipFile(source) as archive:
        contents = {n: archive.read(n) for n in archive.namelist()}
    header = json.loads(np.load(io.BytesIO(contents["__tensorcore__.npy"])).tobytes())
    if edit_header is not None:
        edit_header(header)
    buffer = io.BytesIO()
    np.save(buffer, np.frombuffer(json.dumps(header).encode(), np.uint8))
    contents["__tensorcore__.npy"] = buffer.getvalue()
    contents.update(members or {})
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in contents.items():
            archive.writestr(name, data)
    return str(target)


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "m.tcm"
    _small_model().save(str(path))
    return path


def test_load_model_of_npy_file_is_a_value_error(tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, np.ones(3))
    with pytest.raises(ValueError, match=r"load_model: cannot load .*x\.npy.*single \.npy"):
        tc.models.load_model(str(path))


@pytest.mark.parametrize("edit, message", [
    (lambda h: h["arrays"].__setitem__("weight.0", [1, 2]), "entry for member 'weight.0'"),
    (lambda h: h["arrays"]["weight.0"].__setitem__("shape", [2 ** 40]), "more than the limit"),
    (lambda h: h["arrays"]["weight.0"].__setitem__("shape", [-1, 4]), "declares shape"),
    (lambda h: h["arrays"]["weight.0"].__setitem__("dtype", "object"), "declares dtype"),
    (lambda h: h["arrays"]["weight.0"].__setitem__("shape", [32, 1]), "header says"),
    (lambda h: h["model"]["config"]["layers"][0]["config"].__setitem__("units", 2 ** 31),
     "needs 17179869184 elements"),
    (lambda h: h["model"]["config"]["layers"][0]["config"].__setitem__("input_shape", [0]),
     "input_shape"),
    (lambda h: h["model"].__setitem__("build_input_shape", [-5]), "build_input_shape"),
    (lambda h: h["model"].__setitem__("build_input_shape", [8.5]), "build_input_shape"),
])
def test_crafted_headers_are_refused_before_allocating(model_file, tmp_path, edit, message):
    crafted = _rewrite(model_file, tmp_path / "bad.tcm", edit)
    with pytest.raises(ValueError, match=message) as info:
        tc.models.load_model(crafted)
    assert "bad.tcm" in str(info.value)


def test_deflated_oversized_member_is_refused_without_inflating(model_file, tmp_path):
    import io
    buffer = io.BytesIO()
    np.save(buffer, np.zeros(1 << 26, np.float32))  # 256 MiB of zeros, deflates to ~250 KB
    crafted = _rewrite(model_file, tmp_path / "bomb.tcm",
                       members={"weight.0.npy": buffer.getvalue()})
    with pytest.raises(ValueError, match="expands to 268435584 bytes"):
        tc.models.load_model(crafted)


def test_declared_total_is_limited(model_file, monkeypatch):
    from tensorcore import saving
    monkeypatch.setattr(saving, "MAX_LOAD_BYTES", 100)
    with pytest.raises(ValueError, match="more than the limit of 100 bytes"):
        tc.models.load_model(str(model_file))
    monkeypatch.setattr(saving, "MAX_LOAD_BYTES", 1 << 20)
    assert tc.models.load_model(str(model_file)).build_input_shape == (None, 8)


# ---------------------------------------------------------------- 9. build with another shape
def test_build_with_a_different_shape_after_build_is_refused(tmp_path):
    m = _small_model()
    with pytest.raises(ValueError, match=r"already built for inputs of shape \(None, 8\)"):
        m.build((None, 5))
    m.build((None, 8))  # the same shape again is fine
    assert m.predict(np.ones((2, 8), np.float32)).shape == (2, 4)
    m.save(str(tmp_path / "ok.tcm"))
    assert tc.models.load_model(str(tmp_path / "ok.tcm")).build_input_shape == (None, 8)


# ---------------------------------------------------------------- 11. unclear or missing errors
def _compiled_bce():
    from tensorcore.layers import Dense
    from tensorcore.models import Sequential
    model = Sequential([Dense(1, input_shape=(2,), activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    return model


@pytest.mark.parametrize("call, error, message", [
    (lambda: tc.tensor([True]).assign_sub(True), TypeError, "assign_sub: subtract"),
    (lambda: tc.set_num_threads(2 ** 80), ValueError, "set_num_threads"),
    (lambda: tc.zeros(3, dtype=tc.int64).__setitem__([0], 2 ** 80), ValueError,
     "__setitem__: cannot store"),
    (lambda: tc.zeros(3, dtype=tc.int64).__setitem__(0, 2 ** 80), ValueError, "__setitem__"),
    (lambda: tc.zeros(3, dtype=tc.int32).assign(float("nan")), ValueError,
     "assign: the Python scalar nan"),
    (lambda: _compiled_bce().fit(np.ones((4, 2)), np.ones((4, 1)),
                                 callbacks=tc.callbacks.History(), verbose=0),
     TypeError, "fit: callbacks must be a list"),
    (lambda: _compiled_bce().save(""), ValueError, "save: filepath ''"),
    (lambda: tc.random.uniform((2,), high=None), TypeError, "random.uniform: high"),
    (lambda: tc.random.normal((2,), std="1"), TypeError, "random.normal: std"),
    (lambda: tc.zeros(b"xy"), TypeError, "zeros: shape"),
    (lambda: tc.full((2,), np.datetime64("2020-01-01")), TypeError, "full: fill_value"),
    (lambda: tc.tensor([1.0], dtype=tc.tensor([1.0])), TypeError, "Tensor: dtype"),
    (lambda: tc.tensor([1.0]).astype(None), TypeError, "astype: dtype"),
    (lambda: tc.layers.Dense(3, input_shape=(4.7,)), TypeError, "Dense: input_shape"),
    (lambda: tc.tensor(1.0, requires_grad="abc"), TypeError, "tensor: requires_grad"),
    (lambda: tc.tensor(1.0).requires_grad_("yes"), TypeError, "requires_grad_: flag"),
    (lambda: _compiled_bce().fit(np.ones((4, 2)), np.array([[0.0], [np.nan], [1.0], [0.0]]),
                                 verbose=0), ValueError, "fit: .*contains NaN"),
])
def test_bad_arguments_get_clear_errors(backend, call, error, message):
    with pytest.raises(error, match=message):
        call()
