"""Optimizers: the first steps against Keras 3's update formulas written out in NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import tensorcore as tc
from tensorcore import optimizers

# Every test here runs on both backends (the `backend` fixture of conftest.py).
pytestmark = pytest.mark.usefixtures("backend")

RNG = np.random.default_rng(7)
START = RNG.standard_normal((3, 2)).astype(np.float32)
GRADS = [RNG.standard_normal((3, 2)).astype(np.float32) for _ in range(3)]


def _run(optimizer, steps=3):
    variable = tc.tensor(START.copy(), requires_grad=True)
    history = []
    for gradient in GRADS[:steps]:
        optimizer.apply_gradients([(tc.tensor(gradient), variable)])
        history.append(variable.numpy().copy())
    assert variable.dtype == tc.float32
    return history


def _check(history, expected):
    for got, want in zip(history, expected):
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6)


def test_sgd_plain():
    lr = 0.1
    var, expected = START.astype(np.float64), []
    for g in GRADS:
        var = var - lr * g
        expected.append(var)
    _check(_run(optimizers.SGD(learning_rate=lr)), expected)


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum(nesterov):
    lr, mu = 0.05, 0.9
    var, m, expected = START.astype(np.float64), np.zeros_like(START, np.float64), []
    for g in GRADS:
        m = mu * m - lr * g
        var = var + (mu * m - lr * g if nesterov else m)
        expected.append(var)
    _check(_run(optimizers.SGD(learning_rate=lr, momentum=mu, nesterov=nesterov)), expected)


@pytest.mark.parametrize("momentum,centered", [(0.0, False), (0.5, False), (0.0, True)])
def test_rmsprop_keras3_formula(momentum, centered):
    lr, rho, eps = 0.01, 0.9, 1e-7
    var = START.astype(np.float64)
    v, a, m = (np.zeros_like(var) for _ in range(3))
    expected = []
    for g in GRADS:
        v = rho * v + (1 - rho) * g ** 2
        if centered:
            a = rho * a + (1 - rho) * g
            denominator = v - a ** 2 + eps
        else:
            denominator = v + eps
        increment = lr * g / np.sqrt(denominator)
        if momentum:
            m = momentum * m + increment
            var = var - m
        else:
            var = var - increment
        expected.append(var)
    optimizer = optimizers.RMSprop(learning_rate=lr, rho=rho, momentum=momentum,
                                   centered=centered)
    _check(_run(optimizer), expected)


def test_rmsprop_first_step_is_lr_over_sqrt_one_minus_rho():
    # v = 0.1 g^2, so the first step moves every entry by lr*g/sqrt(0.1 g^2) ~ lr*sqrt(10).
    history = _run(optimizers.RMSprop(learning_rate=0.001), steps=1)
    np.testing.assert_allclose(START - history[0], 0.001 * np.sqrt(10) * np.sign(GRADS[0]),
                               rtol=1e-3, atol=2e-6)


def _adam_reference(lr, b1, b2, eps, weight_decay=None):
    var, m, v, expected = START.astype(np.float64), 0.0, 0.0, []
    for step, g in enumerate(GRADS, start=1):
        if weight_decay:
            var = var - var * weight_decay * lr
        alpha = lr * np.sqrt(1 - b2 ** step) / (1 - b1 ** step)
        m = m + (g - m) * (1 - b1)
        v = v + (g ** 2 - v) * (1 - b2)
        var = var - m * alpha / (np.sqrt(v) + eps)
        expected.append(var)
    return expected


def test_adam_bias_corrected():
    _check(_run(optimizers.Adam(learning_rate=0.01)), _adam_reference(0.01, 0.9, 0.999, 1e-7))


def test_adamw_decoupled_weight_decay():
    optimizer = optimizers.AdamW(learning_rate=0.01, weight_decay=0.1)
    _check(_run(optimizer), _adam_reference(0.01, 0.9, 0.999, 1e-7, weight_decay=0.1))
    assert optimizers.AdamW().weight_decay == 0.004


def test_clipnorm_is_per_variable_like_keras():
    lr, clip = 0.1, 0.5
    optimizer = optimizers.SGD(learning_rate=lr, clipnorm=clip)
    history = _run(optimizer, steps=1)
    g = GRADS[0].astype(np.float64)
    clipped = g * clip / max(np.linalg.norm(g), clip)
    np.testing.assert_allclose(history[0], START - lr * clipped, rtol=1e-5)


def test_iterations_count_and_state_built_once():
    optimizer = optimizers.Adam()
    variable = tc.tensor(START.copy(), requires_grad=True)
    optimizer.apply_gradients([(tc.tensor(GRADS[0]), variable)])
    state = optimizer.state_for(variable)
    optimizer.apply_gradients([(tc.tensor(GRADS[1]), variable)])
    assert optimizer.iterations == 2
    assert optimizer.state_for(variable) is state
    assert state["momentum"].dtype == tc.float32 and state["velocity"].dtype == tc.float32


def test_none_gradients_are_skipped_and_shapes_checked():
    optimizer = optimizers.SGD()
    variable = tc.tensor(START.copy(), requires_grad=True)
    optimizer.apply_gradients([(None, variable)])
    np.testing.assert_array_equal(variable.numpy(), START)
    with pytest.raises(ValueError, match=r"gradient shape \(2, 3\) does not match"):
        optimizer.apply_gradients([(tc.tensor(GRADS[0].T.copy()), variable)])


def test_updates_are_not_recorded_on_the_tape():
    variable = tc.tensor(START.copy(), requires_grad=True)
    optimizers.RMSprop().apply_gradients([(tc.tensor(GRADS[0]), variable)])
    assert variable.grad_fn is None and variable.requires_grad


def test_names_and_config_round_trip():
    assert isinstance(optimizers.get("rmsprop"), optimizers.RMSprop)
    assert isinstance(optimizers.get("Adam"), optimizers.Adam)
    assert isinstance(optimizers.get("sgd"), optimizers.SGD)
    assert isinstance(optimizers.get("adamw"), optimizers.AdamW)
    with pytest.raises(ValueError, match="Unknown optimizer: 'adagrad2'"):
        optimizers.get("adagrad2")
    original = optimizers.RMSprop(learning_rate=0.02, rho=0.8, momentum=0.1)
    clone = optimizers.deserialize(optimizers.serialize(original))
    assert clone.get_config() == original.get_config()


def test_state_get_set_round_trip():
    first = optimizers.Adam(learning_rate=0.01)
    variable = tc.tensor(START.copy(), requires_grad=True)
    first.apply_gradients([(tc.tensor(GRADS[0]), variable)])
    saved = first.get_state([variable])
    assert set(saved) == {"iterations", "0/momentum", "0/velocity"}
    second = optimizers.Adam(learning_rate=0.01)
    twin = tc.tensor(variable.numpy().copy(), requires_grad=True)
    second.set_state([twin], saved)
    first.apply_gradients([(tc.tensor(GRADS[1]), variable)])
    second.apply_gradients([(tc.tensor(GRADS[1]), twin)])
    np.testing.assert_array_equal(variable.numpy(), twin.numpy())


@pytest.mark.parametrize("make,message", [
    (lambda: optimizers.SGD(learning_rate=-1), r"learning_rate=-1"),
    (lambda: optimizers.RMSprop(rho=1.5), r"rho=1.5"),
    (lambda: optimizers.Adam(beta_1=1.0), r"beta_1=1.0"),
    (lambda: optimizers.SGD(clipnorm=1.0, clipvalue=1.0), "only one of"),
])
def test_bad_hyperparameters_are_rejected(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_optimizer_state_is_dropped_with_its_variable():
    """State is keyed by the variable's identity and goes with it: the table does not grow
    with every variable ever trained, and a new variable never inherits a dead one's state
    (before, a dict keyed by id() kept every entry and could hand a stale one to a new
    variable that reused the id)."""
    import gc

    opt = optimizers.Adam(learning_rate=0.1)
    for _ in range(5):
        v = tc.tensor(np.ones(3, np.float32), requires_grad=True)
        opt.apply_gradients([(tc.ones(3), v)])
        del v
        gc.collect()
    assert len(opt._state) == 0
    kept = tc.tensor(np.ones(4, np.float32), requires_grad=True)
    opt.apply_gradients([(tc.ones(4), kept)])
    assert len(opt._state) == 1
    assert opt.state_for(kept)["momentum"].shape == (4,)
