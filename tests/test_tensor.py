"""Creation, properties, conversions, repr, dtype rules, in-place assignment, config."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import tensorcore as tc


def test_creation_dtypes(backend):
    assert tc.tensor(1.5).dtype == tc.float32 and tc.tensor(1.5).ndim == 0
    assert tc.tensor([1, 2]).dtype == tc.int64
    assert tc.tensor([True]).dtype == tc.bool
    assert tc.tensor(np.zeros(2, np.float64)).dtype == tc.float64
    assert tc.tensor(np.zeros(2, np.int32)).dtype == tc.int32
    assert tc.tensor(np.zeros(2, np.uint8)).dtype == tc.int32  # widened on entry
    assert tc.tensor([1, 2], dtype=tc.float64).dtype == tc.float64
    assert tc.tensor([1.7, -1.7], dtype="int32").tolist() == [1, -1]
    assert tc.Tensor([[1.0]]).shape == (1, 1)


@pytest.mark.parametrize("foreign", [np.uint8, np.int8, np.int16, np.uint16, np.uint32,
                                     np.float16, np.bool_])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
def test_foreign_array_operands_promote_like_numpy(backend, foreign, dtype):
    """Promotion sees a NumPy operand's own dtype (before it is widened for storage): a
    float32 tensor times a uint8 array stays float32, as in NumPy."""
    t = tc.tensor(np.arange(1, 7, dtype=dtype).reshape(2, 3))
    arr = (np.arange(6) % 3 + 1).astype(foreign).reshape(2, 3)
    expected = np.result_type(dtype, foreign)  # always one of the five stored dtypes here
    for result, reference in ((t * arr, t.numpy() * arr), (arr + t, arr + t.numpy()),
                              (t @ arr.T, t.numpy() @ arr.T)):
        assert result.dtype == np.dtype(expected), (result.dtype, expected)
        np.testing.assert_allclose(result.numpy(), reference, rtol=1e-6)


@pytest.mark.parametrize("data,dtype", [
    ([2 ** 63], None), (2 ** 63, None), ([[2 ** 64 - 1, 2 ** 63]], None),   # NumPy: uint64
    ([2 ** 40], "int32"), ([1, -2 ** 31 - 1], "int32"), ([2 ** 63], "int64"),
    ([2.5e10], "int32"), ([float("nan")], "int32"), ([float("inf")], "int64"),
])
def test_python_data_out_of_the_dtype_range_raises(backend, data, dtype):
    # tc.tensor([2**63]) was -2**63 and tc.tensor([2**40], dtype=tc.int32) was 0, silently
    with pytest.raises(ValueError, match=r"Tensor: .*(int64 range|as int)"):
        tc.tensor(data, dtype=dtype)


def test_python_data_in_range_with_a_dtype(backend):
    assert tc.tensor([2 ** 31 - 1, -2 ** 31], dtype=tc.int32).tolist() == [2 ** 31 - 1, -2 ** 31]
    assert tc.tensor([2.7, -2.7], dtype=tc.int32).tolist() == [2, -2]   # truncation, as NumPy
    assert tc.tensor([2 ** 63], dtype=tc.float64).item() == 2.0 ** 63
    assert tc.tensor([-2 ** 63]).item() == -2 ** 63


def test_rank_0_to_6(backend):
    for rank in range(7):
        shape = tuple(range(1, rank + 1))
        t = tc.ones(shape)
        assert t.shape == shape and t.ndim == rank and t.size == int(np.prod(shape))
        assert t.sum().item() == t.size


def test_factories(backend):
    np.testing.assert_array_equal(tc.zeros((2, 3)).numpy(), np.zeros((2, 3), np.float32))
    np.testing.assert_array_equal(tc.ones(4, dtype=tc.int32).numpy(), np.ones(4, np.int32))
    np.testing.assert_array_equal(tc.full((2,), 7).numpy(), [7, 7])
    assert tc.full((2,), 7).dtype == tc.int64
    np.testing.assert_array_equal(tc.arange(5).numpy(), np.arange(5))
    np.testing.assert_allclose(tc.arange(0, 1, 0.25).numpy(), [0, 0.25, 0.5, 0.75])
    np.testing.assert_array_equal(tc.arange(10, 0, -3).numpy(), [10, 7, 4, 1])
    np.testing.assert_array_equal(tc.eye(3, 2).numpy(), np.eye(3, 2, dtype=np.float32))
    x = tc.tensor([[1, 2]], dtype=tc.float64)
    assert tc.zeros_like(x).dtype == tc.float64 and tc.ones_like(x).shape == (1, 2)


def test_random(backend):
    tc.random.seed(3)
    a = tc.random.normal((1000,), mean=2.0, std=0.5)
    tc.random.seed(3)
    b = tc.random.normal((1000,), mean=2.0, std=0.5)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert a.dtype == tc.float32 and abs(a.mean().item() - 2.0) < 0.1
    u = tc.random.uniform((2, 500), low=-1, high=3, dtype=tc.float64)
    assert u.dtype == tc.float64 and u.min().item() >= -1 and u.max().item() < 3


def test_numpy_interop_zero_copy(backend):
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = tc.from_numpy(a)
    assert np.shares_memory(t.numpy(), a) and np.shares_memory(np.asarray(t), a)
    a[0, 0] = 42
    assert t[0, 0].item() == 42
    assert t.tolist() == a.tolist()
    assert len(t) == 2 and float(t[1, 2]) == 5.0
    copied = tc.tensor(a)
    assert not np.shares_memory(copied.numpy(), a)


def test_repr(backend):
    assert repr(tc.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert "dtype=float64" in repr(tc.tensor([1.0], dtype=tc.float64))
    assert "requires_grad=True" in repr(tc.tensor([1.0], requires_grad=True))
    assert "grad_fn" in repr(tc.tensor([1.0], requires_grad=True) * 2)


def test_assign_in_place(backend):
    t = tc.zeros((2, 3))
    t.assign(1.5)
    t.assign_add(tc.tensor([1.0, 2.0, 3.0]))
    t.assign_sub(np.ones((2, 3), np.float32))
    np.testing.assert_allclose(t.numpy(), np.array([[1.5, 2.5, 3.5]] * 2))
    t[0, 1:] = 9
    assert t.tolist()[0] == [1.5, 9, 9]
    with pytest.raises(ValueError, match="broadcast"):
        t.assign(tc.ones(4))


def test_item_and_bool(backend):
    assert tc.tensor([[3]]).item() == 3
    with pytest.raises(ValueError, match="one-element"):
        tc.tensor([1, 2]).item()
    with pytest.raises(ValueError, match="ambiguous"):
        bool(tc.tensor([1, 2]))
    assert bool(tc.tensor([1.0]) > 0)
    with pytest.raises(TypeError, match="0-d"):
        len(tc.tensor(1.0))


def test_backend_switch_and_threads():
    previous = tc.get_backend()
    tc.set_backend("c")
    assert tc.get_backend() == "c"
    n = tc.get_num_threads()
    tc.set_num_threads(1)
    assert tc.get_num_threads() == 1
    tc.set_num_threads(n)
    with pytest.raises(ValueError, match="backend"):
        tc.set_backend("cuda")
    with pytest.raises(ValueError, match="positive"):
        tc.set_num_threads(0)
    tc.set_backend(previous)


def test_extension_is_compiled_cffi_module():
    from tensorcore import _C
    assert _C.__file__.endswith(".so") or _C.__file__.endswith(".pyd")
    assert hasattr(_C, "ffi") and hasattr(_C, "lib")
    assert type(_C.ffi).__module__ == "_cffi_backend"


def _run(code: str, **env) -> str:
    import os
    environment = dict(os.environ, **env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env=environment).stdout


def test_import_compiles_and_loads_no_numba():
    out = _run("import sys, tensorcore as tc; tc.ones(3) + 1; print('numba' in sys.modules)")
    assert out.strip() == "False"


def test_env_var_selects_backend():
    out = _run("import tensorcore as tc; print(tc.get_backend())", TENSORCORE_BACKEND="numba")
    assert out.strip() == "numba"


def test_show_config_reports_extension_and_kernel():
    out = _run("import tensorcore as tc; tc.show_config()")
    assert "c.compiled_module" in out and "_C" in out
    assert "gemm_kernel" in out and "simd" in out


def test_dlpack_and_array_interface_share_memory(backend):
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    t = tc.from_numpy(a)[:, ::2]
    exported = np.from_dlpack(t)
    assert np.shares_memory(exported, a) and exported.strides == t.numpy().strides
    back = tc.from_dlpack(exported)
    assert np.shares_memory(back.numpy(), a)
    via_interface = np.asarray(t)
    assert np.shares_memory(via_interface, a)
    assert t.__dlpack_device__() == (1, 0)


def test_dlpack_with_torch(backend):
    torch = pytest.importorskip("torch")
    a = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    t = tc.from_dlpack(a)
    a[0, 0] = 7
    assert t[0, 0].item() == 7
    b = torch.from_dlpack(t)
    b[1, 1] = -1
    assert t[1, 1].item() == -1


def test_setitem_scalar_position(backend):
    t = tc.zeros(3)
    t[1] = 5
    m = tc.zeros((2, 2), dtype=tc.int64)
    m[1, 0] = 7
    m[..., 1] = tc.tensor([1, 2])
    assert t.tolist() == [0, 5, 0] and m.tolist() == [[0, 1], [7, 2]]


def test_assign_accepts_foreign_numpy_dtypes(backend):
    t = tc.zeros(3)
    t.assign(np.array([1, 2, 3], np.uint8))
    t.assign_add(np.array([1, 1, 1], np.int16))
    assert t.tolist() == [2, 3, 4] and t.dtype == tc.float32
    with pytest.raises(TypeError, match="dtype"):
        t.assign(np.array([1j, 2j, 3j]))


def test_float64_target_keeps_python_floats_exact(backend):
    # tc.tensor(python float, dtype=float64) once went through float32 (2e-9 error).
    v = 0.12345678901234567
    for data in (v, [v, -v], np.float64(v)):
        t = tc.tensor(data, dtype=tc.float64)
        assert t.dtype == tc.float64
        np.testing.assert_array_equal(t.numpy(), np.asarray(data, dtype=np.float64))
    assert tc.tensor(v).dtype == tc.float32
