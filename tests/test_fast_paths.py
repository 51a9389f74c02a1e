"""Fast paths give what the general paths give (issue #15: small-op overhead, fused step).

The float binary ops take a shortcut for two Tensors of one dtype and shape (no
promotion, no broadcast plan, the tape node recorded inline); the C backend tries one
flat loop first and falls back to the strided one when an operand is not C-contiguous.
Each case here is compared with NumPy and with the general path on both backends.
"""

from __future__ import annotations

import numpy as np
import pytest

import tensorcore as tc

OPS = ["add", "subtract", "multiply", "divide", "maximum", "minimum"]


def _general(op, a, b):
    """The same op through the general path (an ndarray operand is promoted and wrapped)."""
    return getattr(tc, op)(a, b.data)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", OPS)
def test_same_shape_fast_path_matches_general_path(backend, op, dtype):
    rng = np.random.default_rng(0)
    a_np = rng.standard_normal((3, 5)).astype(dtype)
    b_np = rng.standard_normal((3, 5)).astype(dtype) + 3
    a, b = tc.tensor(a_np), tc.tensor(b_np)
    fast, general = getattr(tc, op)(a, b), _general(op, a, b)
    assert fast.dtype == general.dtype == dtype
    np.testing.assert_array_equal(fast.numpy(), general.numpy())
    np.testing.assert_array_equal(fast.numpy(), getattr(np, op)(a_np, b_np))


@pytest.mark.parametrize("make", [lambda x: x.T, lambda x: x[:, ::2], lambda x: x[::-1]],
                         ids=["transposed", "strided", "reversed"])
def test_fast_path_with_non_contiguous_operands(backend, make):
    rng = np.random.default_rng(1)
    a_np = make(rng.standard_normal((6, 6)).astype(np.float32))
    b_np = np.ascontiguousarray(make(rng.standard_normal((6, 6)).astype(np.float32)))
    for x, y in ((a_np, b_np), (b_np, a_np), (a_np, a_np)):
        out = tc.from_numpy(x) * tc.from_numpy(y)
        np.testing.assert_array_equal(out.numpy(), x * y)


def test_fast_path_records_the_tape_and_versions(backend):
    a = tc.tensor(np.arange(6, dtype=np.float32).reshape(2, 3), requires_grad=True)
    b = tc.tensor(np.full((2, 3), 2, np.float32), requires_grad=True)
    out = a * b
    assert out.requires_grad and out.grad_fn is not None
    (out * out).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), 2 * (a.numpy() * 4))
    np.testing.assert_allclose(b.grad.numpy(), 2 * (a.numpy() ** 2) * 2)
    with tc.no_grad():
        assert not (a + b).requires_grad
    e = a * b
    with tc.no_grad():
        b.assign(b + 1)
    with pytest.raises(RuntimeError, match="modified in place"):
        e.sum().backward()


def test_fast_path_empty_and_scalar_shapes(backend):
    empty = tc.tensor(np.zeros((0, 4), np.float32))
    assert (empty + empty).shape == (0, 4)
    s = tc.tensor(np.float64(2.5))
    assert (s * s).item() == 6.25


def test_bad_operands_still_raise_before_any_kernel(backend):
    a = tc.tensor(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match="add: shapes"):
        a + tc.tensor(np.ones((3, 2), np.float32))
    with pytest.raises(TypeError, match="add"):
        a + "text"
    # mixed dtypes leave the fast path and promote as NumPy does
    mixed = a + tc.tensor(np.ones((2, 3), np.float64))
    assert mixed.dtype == np.float64


# ---- the training step's shortcuts -----------------------------------------------------

def test_dense_backward_from_arrays_equals_tensor_op_rule():
    """Without create_graph the fused Dense node computes its gradients straight from the
    backend; with it, through Tensor ops. Same kernels on the same operands: bit-identical."""
    from tensorcore import layers
    rng = np.random.default_rng(2)
    with tc.backend.using("c"):
        for activation in ("relu", None):
            layer = layers.Dense(7, activation=activation)
            layer.build((None, 5))
            x = tc.tensor(rng.standard_normal((6, 5)).astype(np.float32), requires_grad=True)
            upstream = tc.tensor(rng.standard_normal((6, 7)).astype(np.float32))
            targets = [x, layer.kernel, layer.bias]
            direct = tc.autograd.grad((layer(x) * upstream).sum(), targets)
            recorded = tc.autograd.grad((layer(x) * upstream).sum(), targets,
                                        create_graph=True)
            for a, b in zip(direct, recorded):
                assert a.dtype == np.float32 and a.grad_fn is None
                np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("make", [np.ascontiguousarray, lambda a: np.asfortranarray(a)],
                         ids=["c-contiguous", "fortran"])
def test_batch_gather_matches_general_gather(backend, make):
    from tensorcore.models.data_adapters import take_rows
    from tensorcore.ops_index import gather_array
    data = make(np.arange(60, dtype=np.float32).reshape(12, 5))
    order = np.random.default_rng(3).permutation(12)
    for start, stop in ((0, 5), (5, 12), (12, 12)):
        got = take_rows(data, start, stop, order, permutation=True)
        want = gather_array(data, (order[start:stop],), "fit")
        assert got.dtype == data.dtype and got.flags.c_contiguous
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(got, data[order[start:stop]])


@pytest.mark.parametrize("bad", [12, -1, 1 << 40])
def test_row_gather_refuses_out_of_range_index(backend, bad):
    """The backend's row gather (C core or Numba kernel) and fit's permutation gather that
    trusts `order` raise IndexError for an index outside [0, len(src)) instead of reading
    past the buffer."""
    from tensorcore.backend import current as current_backend
    from tensorcore.models.data_adapters import take_rows
    data = np.arange(60, dtype=np.float32).reshape(12, 5)
    out = np.empty((3, 5), np.float32)
    with pytest.raises(IndexError, match="take_rows"):
        current_backend().take_rows(data, np.array([0, bad, 1], np.int64), out)
    order = np.arange(12)
    order[4] = bad
    with pytest.raises(IndexError):
        take_rows(data, 0, 6, order, permutation=True)
    np.testing.assert_array_equal(take_rows(data, 5, 12, order, permutation=True),
                                  data[5:12])


@pytest.mark.parametrize("position", [0, 2])
@pytest.mark.parametrize("bad", [12, -1, 1 << 40])
def test_row_scatter_refuses_out_of_range_index_before_writing(backend, bad, position):
    """The backend's row scatter (C core or Numba kernel) raises IndexError naming put_rows,
    the bad index and the valid range, and writes no row, not even those before the bad
    index."""
    from tensorcore.backend import current as current_backend
    out = np.arange(60, dtype=np.float32).reshape(12, 5)
    before = out.copy()
    index = np.array([3, 7, 9], np.int64)
    index[position] = bad
    src = np.full((3, 5), -1.0, np.float32)
    with pytest.raises(IndexError, match=rf"put_rows.*{bad}.*\[0, 12\)"):
        current_backend().put_rows(out, index, src)
    np.testing.assert_array_equal(out, before)
    with pytest.raises(IndexError, match=rf"take_rows.*{bad}.*\[0, 12\)"):
        current_backend().take_rows(out, index, np.empty((3, 5), np.float32))
    index[position] = 11
    current_backend().put_rows(out, index, src)
    before[index] = src
    np.testing.assert_array_equal(out, before)


def test_fused_crossentropy_backward_equals_tensor_op_rule():
    from tensorcore import losses
    rng = np.random.default_rng(4)
    z = (rng.standard_normal((8, 5)) * 3).astype(np.float32)
    y = np.eye(5, dtype=np.float32)[rng.integers(0, 5, 8)]
    weights = tc.tensor(rng.random(8).astype(np.float32))
    with tc.backend.using("c"):
        results = []
        for create_graph in (False, True):
            logits = tc.tensor(z, requires_grad=True)
            per_sample = losses.categorical_crossentropy(y, logits, from_logits=True)
            (g,) = tc.autograd.grad((per_sample * weights).sum(), [logits],
                                    create_graph=create_graph)
            assert g.dtype == np.float32
            results.append(g.numpy())
        # create_graph=True records the rule from the live logits (softmax recomputed, so
        # the second derivative is exact): the same values up to float32 rounding
        np.testing.assert_allclose(results[0], results[1], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_loss_predictions_equal_the_activation(backend, dtype):
    """The predictions fit hands to the metrics after a fused softmax loss come straight
    from the backend's softmax kernel: the same bits as tc.softmax, strided logits too;
    other activations go through the activation function."""
    from tensorcore.models.training import _fused_predictions
    rng = np.random.default_rng(4)
    base = (rng.standard_normal((12, 40)) * 30).astype(dtype)
    base[3, 5] = np.nan
    logits = tc.tensor(base, requires_grad=True)
    for z in (logits, tc.from_numpy(base[:, ::4]), tc.from_numpy(base.T)):
        got = _fused_predictions("softmax", z)
        assert not got.requires_grad
        np.testing.assert_array_equal(got.numpy(), tc.softmax(z.detach(), axis=-1).numpy())
    got = _fused_predictions("sigmoid", logits)
    np.testing.assert_array_equal(got.numpy(), tc.sigmoid(logits.detach()).numpy())
    assert not got.requires_grad


def test_normalize_shape_tuple_fast_path_keeps_the_checks():
    """Tuples and lists of plain ints skip the ABC checks; bools, negatives, NumPy ints,
    too many dims and too many elements still get the general path's answers."""
    from tensorcore._dispatch import MAX_NDIM, normalize_shape
    assert normalize_shape("op", (128, 10)) == (128, 10)
    assert normalize_shape("op", [3, 0, 4]) == (3, 0, 4)
    assert normalize_shape("op", ()) == ()
    assert normalize_shape("op", (np.int64(3), 2)) == (3, 2)
    with pytest.raises(TypeError, match="op: shape entries must be ints"):
        normalize_shape("op", (True, 2))
    with pytest.raises(ValueError, match="op: negative dimension"):
        normalize_shape("op", [2, -1])
    with pytest.raises(ValueError, match="op: arrays of rank"):
        normalize_shape("op", (1,) * (MAX_NDIM + 1))
    with pytest.raises(ValueError, match="too large"):
        normalize_shape("op", (2 ** 40, 2 ** 40))
