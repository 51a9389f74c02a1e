"""Bad inputs raise clear exceptions (naming the op) before any kernel runs."""

from __future__ import annotations

import numpy as np
import pytest

import tensorcore as tc
from tensorcore import _optable as optable

x23 = lambda: tc.ones((2, 3))  # noqa: E731
i2 = lambda: tc.tensor([1, 2])  # noqa: E731

# public name -> list of (call, exception type, message fragment)
CATALOGUE = {
    "tensor": [(lambda: tc.tensor([[1, 2], [3]]), ValueError, "ragged"),
               (lambda: tc.tensor("abc"), TypeError, "str"),
               (lambda: tc.tensor([1j]), TypeError, "complex"),
               (lambda: tc.tensor(np.array([object()])), TypeError, "dtype"),
               (lambda: tc.tensor([1.0], dtype="complex64"), TypeError, "dtype")],
    "Tensor": [(lambda: tc.Tensor([[1], [2, 3]]), ValueError, "ragged")],
    "as_tensor": [(lambda: tc.as_tensor({"a": 1}), TypeError, "")],
    "from_numpy": [(lambda: tc.from_numpy([1, 2]), TypeError, "from_numpy"),
                   (lambda: tc.from_numpy(np.zeros(2, np.complex64)), TypeError, "from_numpy")],
    "from_dlpack": [(lambda: tc.from_dlpack([1, 2]), TypeError, "from_dlpack")],
    "zeros": [(lambda: tc.zeros((-1, 2)), ValueError, "negative"),
              (lambda: tc.zeros((2.5,)), TypeError, "int")],
    "ones": [(lambda: tc.ones("ab"), TypeError, "ones"),
             (lambda: tc.ones((2,), dtype="str"), TypeError, "dtype")],
    "full": [(lambda: tc.full((2,), "a"), TypeError, "full"),
             (lambda: tc.full((2 ** 40, 2 ** 40), 1.0), ValueError, "too large")],
    "zeros_like": [(lambda: tc.zeros_like([1, 2]), TypeError, "zeros_like")],
    "ones_like": [(lambda: tc.ones_like(3), TypeError, "ones_like")],
    "arange": [(lambda: tc.arange(0, 5, 0), ValueError, "step"),
               (lambda: tc.arange("a"), TypeError, "arange")],
    "eye": [(lambda: tc.eye(-2), ValueError, "eye")],
    "add": [(lambda: tc.add(x23(), tc.ones((4,))), ValueError, "add: shapes (2, 3) and (4,)"),
            (lambda: tc.add(x23(), "s"), TypeError, "add"),
            (lambda: tc.add(x23(), 1j), TypeError, "add"),
            (lambda: tc.add(tc.tensor([1], dtype=tc.int32), 2 ** 40), ValueError, "fit")],
    "subtract": [(lambda: tc.subtract(tc.tensor([True]), tc.tensor([False])), TypeError,
                  "subtract")],
    "multiply": [(lambda: tc.multiply(x23(), tc.ones((3, 2))), ValueError, "multiply")],
    "divide": [(lambda: tc.divide(x23(), object()), TypeError, "divide")],
    "power": [(lambda: tc.power(i2(), tc.tensor([-1, 1])), ValueError, "negative")],
    "negative": [(lambda: tc.negative(tc.tensor([True])), TypeError, "negative")],
    "maximum": [(lambda: tc.maximum(x23(), tc.ones(2)), ValueError, "maximum")],
    "floor_divide": [(lambda: tc.floor_divide(x23(), tc.ones(5)), ValueError, "floor_divide"),
                     (lambda: tc.floor_divide(tc.tensor([True]), 2), TypeError, "boolean"),
                     (lambda: tc.floor_divide(x23(), object()), TypeError, "floor_divide")],
    "remainder": [(lambda: tc.remainder(x23(), tc.ones(5)), ValueError, "remainder"),
                  (lambda: tc.remainder(7, True), TypeError, "remainder"),
                  (lambda: tc.remainder("a", x23()), TypeError, "remainder")],
    "minimum": [(lambda: tc.minimum(x23(), tc.ones(2)), ValueError, "minimum")],
    "equal": [(lambda: tc.equal(x23(), tc.ones(5)), ValueError, "equal")],
    "not_equal": [(lambda: tc.not_equal(x23(), tc.ones(5)), ValueError, "not_equal")],
    "less": [(lambda: tc.less(x23(), tc.ones(5)), ValueError, "less")],
    "less_equal": [(lambda: tc.less_equal(x23(), tc.ones(5)), ValueError, "less_equal")],
    "greater": [(lambda: tc.greater(x23(), tc.ones(5)), ValueError, "greater")],
    "greater_equal": [(lambda: tc.greater_equal(x23(), tc.ones(5)), ValueError,
                       "greater_equal")],
    "exp": [(lambda: tc.exp(object()), TypeError, "exp"),
            (lambda: tc.exp("x"), TypeError, "")],
    "log": [(lambda: tc.log(object()), TypeError, "log")],
    "sqrt": [(lambda: tc.sqrt(object()), TypeError, "sqrt")],
    "abs": [(lambda: tc.abs(object()), TypeError, "abs")],
    "square": [(lambda: tc.square(object()), TypeError, "square")],
    "tanh": [(lambda: tc.tanh(object()), TypeError, "tanh")],
    "sigmoid": [(lambda: tc.sigmoid(object()), TypeError, "sigmoid")],
    "relu": [(lambda: tc.relu(object()), TypeError, "relu")],
    "sign": [(lambda: tc.sign(tc.tensor([True])), TypeError, "sign")],
    "reciprocal": [(lambda: tc.reciprocal(object()), TypeError, "reciprocal")],
    "where": [(lambda: tc.where(x23(), x23(), x23()), TypeError, "bool"),
              (lambda: tc.where(tc.ones(4) > 0, x23(), 0), ValueError, "where")],
    "clip": [(lambda: tc.clip(x23()), ValueError, "clip"),
             (lambda: tc.clip(tc.tensor([True]), 0, 1), TypeError, "clip")],
    "sum": [(lambda: tc.sum(x23(), axis=2), IndexError, "sum: axis 2"),
            (lambda: tc.sum(x23(), axis=(0, 0)), ValueError, "repeated"),
            (lambda: tc.sum(x23(), axis=1.5), TypeError, "axis")],
    "mean": [(lambda: tc.mean(x23(), axis=-3), IndexError, "mean")],
    "max": [(lambda: tc.max(tc.ones((0, 3)), axis=0), ValueError, "size 0"),
            (lambda: tc.max(x23(), axis=5), IndexError, "max")],
    "min": [(lambda: tc.min(tc.ones(0)), ValueError, "min")],
    "var": [(lambda: tc.var(x23(), ddof=-1), ValueError, "ddof"),
            (lambda: tc.var(x23(), axis=3), IndexError, "var")],
    "argmax": [(lambda: tc.argmax(tc.ones(0)), ValueError, "empty"),
               (lambda: tc.argmax(x23(), axis=2), IndexError, "argmax")],
    "argmin": [(lambda: tc.argmin(tc.ones((2, 0)), axis=1), ValueError, "empty")],
    "logsumexp": [(lambda: tc.logsumexp(x23(), axis=(1, -1)), ValueError, "repeated")],
    "reshape": [(lambda: tc.reshape(x23(), (4, 2)), ValueError, "reshape"),
                (lambda: tc.reshape(x23(), (-1, -1)), ValueError, "-1"),
                (lambda: x23().reshape("a"), TypeError, "reshape")],
    "flatten": [(lambda: tc.flatten(object()), TypeError, "flatten")],
    "permute_dims": [(lambda: tc.permute_dims(x23(), (0, 0)), ValueError, "permutation"),
                     (lambda: tc.permute_dims(x23(), (0,)), ValueError, "rank")],
    "transpose": [(lambda: tc.transpose(x23(), (1, 2)), IndexError, "transpose")],
    "swapaxes": [(lambda: tc.swapaxes(x23(), 0, 3), IndexError, "swapaxes")],
    "expand_dims": [(lambda: tc.expand_dims(x23(), 4), IndexError, "expand_dims")],
    "squeeze": [(lambda: tc.squeeze(x23(), 0), ValueError, "squeeze")],
    "broadcast_to": [(lambda: tc.broadcast_to(x23(), (3, 3)), ValueError, "broadcast_to"),
                     (lambda: tc.broadcast_to(x23(), (3,)), ValueError, "broadcast_to")],
    "concatenate": [(lambda: tc.concatenate([]), ValueError, "at least one"),
                    (lambda: tc.concatenate([x23(), tc.ones((3, 3))], axis=1), ValueError,
                     "tensor 1"),
                    (lambda: tc.concatenate(x23()), TypeError, "sequence"),
                    (lambda: tc.concatenate([tc.tensor(1.0)]), ValueError, "zero-dim")],
    "stack": [(lambda: tc.stack([x23(), tc.ones((3, 2))]), ValueError, "same shape"),
              (lambda: tc.stack([x23()], axis=3), IndexError, "stack")],
    "matmul": [(lambda: tc.matmul(x23(), x23()), ValueError, "matmul: inner"),
               (lambda: tc.matmul(tc.tensor(1.0), x23()), ValueError, "1-D"),
               (lambda: tc.matmul(tc.ones((2, 2, 3)), tc.ones((3, 3, 2))), ValueError,
                "broadcast")],
    "softmax": [(lambda: tc.softmax(tc.tensor(1.0)), ValueError, "softmax"),
                (lambda: tc.softmax(x23(), axis=2), IndexError, "softmax")],
    "log_softmax": [(lambda: tc.log_softmax(x23(), axis=-3), IndexError, "log_softmax")],
    "sort": [(lambda: tc.sort(tc.tensor(1.0)), ValueError, "sort: expected an array of rank"),
             (lambda: tc.sort(x23(), axis=2), IndexError, "sort: axis 2"),
             (lambda: tc.sort(object()), TypeError, "sort")],
    "argsort": [(lambda: tc.argsort(tc.tensor(1.0)), ValueError, "argsort"),
                (lambda: tc.argsort(x23(), axis=-3), IndexError, "argsort")],
    "cumsum": [(lambda: tc.cumsum(x23()), ValueError, "cumulative_sum: axis is required"),
               (lambda: tc.cumsum(x23(), axis=5), IndexError, "cumulative_sum")],
    "nonzero": [(lambda: tc.nonzero(tc.tensor(1.0)), ValueError, "nonzero")],
    "searchsorted": [(lambda: tc.searchsorted(x23(), tc.ones(2)), ValueError,
                      "searchsorted: x1 must be 1-D"),
                     (lambda: tc.searchsorted(tc.ones(3), tc.ones(2), side="up"), ValueError,
                      "searchsorted: side")],
    "repeat": [(lambda: tc.repeat(x23(), -1), ValueError, "repeat"),
               (lambda: tc.repeat(x23(), tc.tensor([1, 2]), axis=1), ValueError, "repeat"),
               (lambda: tc.repeat(x23(), tc.ones(2), axis=0), TypeError, "repeat")],
    "tile": [(lambda: tc.tile(x23(), (-1,)), ValueError, "tile"),
             (lambda: tc.tile(x23(), "ab"), TypeError, "tile")],
    "conv2d": [(lambda: tc.conv2d(tc.ones((2, 5, 5)), tc.ones((3, 3, 5, 2))), ValueError,
                "conv2d: input must be 4-D"),
               (lambda: tc.conv2d(tc.ones((1, 5, 5, 2)), tc.ones((3, 3, 3, 2))), ValueError,
                "channels"),
               (lambda: tc.conv2d(tc.ones((1, 5, 5, 2)), tc.ones((3, 3, 2, 2)), strides=0),
                ValueError, "strides")],
    "conv1d": [(lambda: tc.conv1d(tc.ones((1, 2, 5, 5)), tc.ones((3, 5, 2))), ValueError,
                "conv1d: input must be 3-D"),
               (lambda: tc.conv1d(tc.ones((1, 2, 5)), tc.ones((3, 5, 2))), ValueError,
                "larger than the padded input")],
    "max_pool2d": [(lambda: tc.max_pool2d(tc.ones((1, 2, 2, 1)), 3), ValueError, "pool size"),
                   (lambda: tc.max_pool2d(tc.ones((1, 4, 4, 1)), 2, padding="full"),
                    ValueError, "unknown padding")],
    "avg_pool2d": [(lambda: tc.avg_pool2d(tc.ones((4, 4, 1)), 2), ValueError, "4-D")],
    "max_pool1d": [(lambda: tc.max_pool1d(tc.ones((1, 4, 1)), (2, 2)), TypeError, "pool_size")],
    "avg_pool1d": [(lambda: tc.avg_pool1d(tc.ones((1, 4, 1)), 2, strides=-1), ValueError,
                    "strides")],
    "global_avg_pool2d": [(lambda: tc.global_avg_pool2d(tc.ones((4, 4))), ValueError, "4-D")],
    "global_max_pool2d": [(lambda: tc.global_max_pool2d(tc.ones((1, 4, 4, 1), dtype=tc.int32)),
                           TypeError, "int32")],
    "global_avg_pool1d": [(lambda: tc.global_avg_pool1d(tc.ones((4, 4))), ValueError, "3-D")],
    "global_max_pool1d": [(lambda: tc.global_max_pool1d(tc.ones((1, 0, 2))), ValueError,
                           "empty")],
    "set_backend": [(lambda: tc.set_backend("gpu"), ValueError, "set_backend")],
    "set_num_threads": [(lambda: tc.set_num_threads(-1), ValueError, "set_num_threads"),
                        (lambda: tc.set_num_threads(2.5), ValueError, "set_num_threads")],
    "__getitem__": [(lambda: x23()[5], IndexError, "out of bounds"),
                    (lambda: x23()[0, 0, 0], IndexError, "index"),
                    (lambda: x23()[1.5], TypeError, "invalid index"),
                    (lambda: x23()[np.array([0, 9])], IndexError, "out of bounds"),
                    (lambda: x23()[..., ...], IndexError, "ellipsis"),
                    (lambda: x23()[::0], ValueError, "step")],
    "astype": [(lambda: x23().astype("complex128"), TypeError, "astype")],
    "item": [(lambda: x23().item(), ValueError, "item")],
    "random.normal": [(lambda: tc.random.normal((2,), std=-1), ValueError, "std"),
                      (lambda: tc.random.normal((2,), dtype=tc.int32), TypeError, "float")],
    "random.uniform": [(lambda: tc.random.uniform((2,), low=2, high=1), ValueError, "low")],
    "random.seed": [(lambda: tc.random.seed(-5), ValueError, "seed")],
}

# Every op-table row without a hand-written case gets the generic one: a non-tensor operand
# raises TypeError naming the op (so a new op is covered without editing this file).
for _op in optable.OPS:
    CATALOGUE.setdefault(_op.name, [(
        lambda name=_op.name, arity=_op.arity: getattr(tc, name)(*[object()] * arity),
        TypeError, _op.name)])
for _alias, _name in optable.ALIASES.items():   # tc.arcsin is tc.asin: the error names asin
    CATALOGUE.setdefault(_alias, [(lambda alias=_alias: getattr(tc, alias)(object()),
                                   TypeError, _name)])

CASES = [(name, i, *case) for name, cases in CATALOGUE.items() for i, case in enumerate(cases)]


@pytest.mark.parametrize("name,i,call,exc,fragment", CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_bad_input(backend, name, i, call, exc, fragment):
    with pytest.raises(exc) as info:
        call()
    assert fragment in str(info.value)


def test_catalogue_covers_every_public_function():
    public = {n for n in tc.__all__ if callable(getattr(tc, n)) and not isinstance(
        getattr(tc, n), type(tc.float32)) and n not in (
        "no_grad", "enable_grad", "is_grad_enabled", "get_backend", "get_num_threads",
        "show_config", "float32", "float64", "int32", "int64", "bool")}
    missing = public - set(CATALOGUE)
    assert not missing, f"no bad-input test for: {sorted(missing)}"


def test_failed_op_leaves_inputs_unchanged(backend):
    a = tc.tensor([[1.0, 2.0, 3.0]])
    before = a.numpy().copy()
    with pytest.raises(ValueError):
        tc.add(a, tc.ones((2, 2)))
    with pytest.raises(ValueError):
        a.assign(tc.ones((5,)))
    np.testing.assert_array_equal(a.numpy(), before)


def test_read_only_inputs_are_never_written(backend):
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    a.flags.writeable = False
    t = tc.from_numpy(a)
    out = (t * 2 + 1).sum(axis=0)
    np.testing.assert_allclose(out.numpy(), (a * 2 + 1).sum(axis=0))
    with pytest.raises(ValueError, match="read-only"):
        t.assign(0)


def test_nan_and_inf_follow_numpy(backend):
    a = np.array([np.nan, np.inf, -np.inf, 1.0], np.float32)
    t = tc.tensor(a)
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(tc.max(t).numpy(), np.max(a))
        np.testing.assert_array_equal((t * 0).numpy(), a * 0)
        np.testing.assert_array_equal(tc.argmax(t).item(), np.argmax(a))
        np.testing.assert_allclose(tc.exp(t).numpy(), np.exp(a), rtol=1e-6)
        np.testing.assert_array_equal((t > 0).numpy(), a > 0)
