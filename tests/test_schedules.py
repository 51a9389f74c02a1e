"""Learning-rate schedules: values against hand-written formulas, optimizers driven by them,
config round trips and argument checks."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import tensorcore as tc
from tensorcore import optimizers
from tensorcore.optimizers import schedules

# Every test here runs on both backends (the `backend` fixture of conftest.py).
pytestmark = pytest.mark.usefixtures("backend")

RNG = np.random.default_rng(11)
START = RNG.standard_normal((4, 3)).astype(np.float32)
GRADS = [RNG.standard_normal((4, 3)).astype(np.float32) for _ in range(7)]


def _close(got, want):
    assert isinstance(got, float)
    assert got == pytest.approx(want, rel=1e-12, abs=1e-15)


# ---------------------------------------------------------------------- values
def test_exponential_decay_values():
    schedule = schedules.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)
    _close(schedule(0), 0.1)
    _close(schedule(1), 0.1 * 0.5 ** 0.5)
    _close(schedule(2), 0.05)
    _close(schedule(3), 0.1 * 0.5 ** (3 / 2))
    _close(schedule(10), 0.1 * 0.5 ** 5)


def test_exponential_decay_staircase():
    schedule = schedules.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5, staircase=True)
    assert [schedule(s) for s in range(6)] == [0.1, 0.1, 0.05, 0.05, 0.025, 0.025]


def test_exponential_decay_growth_overflow_is_inf():
    assert schedules.ExponentialDecay(1.0, 1, 2.0)(5000) == math.inf


def test_inverse_time_decay_values():
    schedule = schedules.InverseTimeDecay(0.5, decay_steps=4, decay_rate=2.0)
    _close(schedule(0), 0.5)
    _close(schedule(1), 0.5 / (1 + 2.0 * 0.25))
    _close(schedule(6), 0.5 / (1 + 2.0 * 1.5))
    stairs = schedules.InverseTimeDecay(0.5, decay_steps=4, decay_rate=2.0, staircase=True)
    _close(stairs(3), 0.5)
    _close(stairs(4), 0.5 / 3)
    _close(stairs(7), 0.5 / 3)
    _close(stairs(8), 0.5 / 5)


def test_piecewise_constant_decay_at_and_between_boundaries():
    schedule = schedules.PiecewiseConstantDecay([3, 7], [1.0, 0.5, 0.1])
    expected = {0: 1.0, 2: 1.0, 3: 1.0, 4: 0.5, 6: 0.5, 7: 0.5, 8: 0.1, 1000: 0.1}
    for step, value in expected.items():
        assert schedule(step) == value, step
    assert isinstance(schedule(0), float)
    floats = schedules.PiecewiseConstantDecay([2.5], [0.2, 0.02])
    assert (floats(2), floats(3)) == (0.2, 0.02)


def test_polynomial_decay_values():
    schedule = schedules.PolynomialDecay(0.1, decay_steps=10, end_learning_rate=0.01, power=2.0)
    _close(schedule(0), 0.1)
    _close(schedule(4), (0.1 - 0.01) * (1 - 0.4) ** 2 + 0.01)
    _close(schedule(10), 0.01)
    _close(schedule(25), 0.01)
    linear = schedules.PolynomialDecay(1.0, decay_steps=4)
    _close(linear(1), (1.0 - 0.0001) * 0.75 + 0.0001)


def test_polynomial_decay_cycle():
    schedule = schedules.PolynomialDecay(0.1, decay_steps=10, end_learning_rate=0.01, cycle=True)
    _close(schedule(0), 0.1)
    _close(schedule(10), 0.01)                              # ceil(10/10) = 1 -> end
    _close(schedule(15), 0.09 * (1 - 15 / 20) + 0.01)       # decay_steps stretched to 20
    _close(schedule(20), 0.01)
    _close(schedule(21), 0.09 * (1 - 21 / 30) + 0.01)


def test_cosine_decay_values():
    schedule = schedules.CosineDecay(0.2, decay_steps=8, alpha=0.1)
    for step in (0, 2, 5, 8, 12):
        s = min(step, 8)
        cosine = 0.5 * (1 + math.cos(math.pi * s / 8))
        _close(schedule(step), 0.2 * ((1 - 0.1) * cosine + 0.1))
    _close(schedule(4), 0.2 * (0.9 * 0.5 + 0.1))
    _close(schedule(8), 0.2 * 0.1)


def test_cosine_decay_with_linear_warmup():
    schedule = schedules.CosineDecay(0.0, decay_steps=10, warmup_target=1.0, warmup_steps=4)
    _close(schedule(0), 0.0)
    _close(schedule(1), 0.25)
    _close(schedule(3), 0.75)
    _close(schedule(4), 1.0)                                 # decay starts from the target
    _close(schedule(9), 0.5 * (1 + math.cos(math.pi * 5 / 10)))
    _close(schedule(14), 0.0)
    _close(schedule(100), 0.0)
    rising = schedules.CosineDecay(0.1, decay_steps=2, warmup_target=0.5, warmup_steps=2)
    _close(rising(1), 0.1 + (0.5 - 0.1) * 0.5)


# ---------------------------------------------------------------------- config
ALL = [
    schedules.ExponentialDecay(0.1, 3, 0.9, staircase=True),
    schedules.InverseTimeDecay(0.2, 5, 0.5),
    schedules.PiecewiseConstantDecay([10, 20], [0.1, 0.01, 0.001]),
    schedules.PolynomialDecay(0.3, 7, end_learning_rate=0.001, power=0.5, cycle=True),
    schedules.CosineDecay(0.01, 9, alpha=0.2, warmup_target=0.1, warmup_steps=3),
]


@pytest.mark.parametrize("schedule", ALL, ids=lambda s: type(s).__name__)
def test_config_and_serialize_round_trip(schedule):
    config = schedule.get_config()
    json.dumps(config)
    twin = type(schedule).from_config(config)
    assert twin.get_config() == config
    payload = json.loads(json.dumps(schedules.serialize(schedule)))
    assert payload["class_name"] == type(schedule).__name__
    clone = schedules.deserialize(payload)
    assert type(clone) is type(schedule) and clone.get_config() == config
    assert [clone(s) for s in range(30)] == [schedule(s) for s in range(30)]
    assert type(schedule).__name__ in repr(schedule)


def test_deserialize_accepts_only_built_in_names():
    with pytest.raises(ValueError, match="'os.system'"):
        schedules.deserialize({"class_name": "os.system", "config": {}})
    with pytest.raises(ValueError, match="LearningRateSchedule"):
        schedules.deserialize({"class_name": "LearningRateSchedule", "config": {}})
    with pytest.raises(ValueError, match="surprise"):
        schedules.deserialize({"class_name": "ExponentialDecay",
                               "config": {"initial_learning_rate": 0.1, "decay_steps": 2,
                                          "decay_rate": 0.5, "surprise": 1}})
    with pytest.raises(ValueError, match="decay_rate"):
        schedules.deserialize({"class_name": "ExponentialDecay",
                               "config": {"initial_learning_rate": 0.1, "decay_steps": 2}})
    with pytest.raises(TypeError, match="config"):
        schedules.deserialize("ExponentialDecay")


def test_custom_schedule_works_but_cannot_be_serialized():
    class Halving(schedules.LearningRateSchedule):
        def __call__(self, step):
            return 0.5 ** step

    assert Halving()(2) == 0.25
    with pytest.raises(ValueError, match="Halving"):
        schedules.serialize(Halving())
    with pytest.raises(TypeError, match="schedule"):
        schedules.serialize(0.1)
    with pytest.raises(NotImplementedError, match="LearningRateSchedule"):
        schedules.LearningRateSchedule()(0)


# ---------------------------------------------------------------------- bad arguments
BAD = [
    (lambda: schedules.ExponentialDecay(0.1, 0, 0.5), ValueError,
     ["ExponentialDecay", "decay_steps must be a positive integer", "decay_steps=0"]),
    (lambda: schedules.ExponentialDecay(0.1, 2.5, 0.5), TypeError,
     ["ExponentialDecay", "decay_steps", "2.5"]),
    (lambda: schedules.ExponentialDecay(-0.1, 2, 0.5), ValueError,
     ["ExponentialDecay", "initial_learning_rate", "-0.1", "non-negative"]),
    (lambda: schedules.ExponentialDecay("0.1", 2, 0.5), TypeError,
     ["ExponentialDecay", "initial_learning_rate", "'0.1'"]),
    (lambda: schedules.ExponentialDecay(0.1, 2, 0.0), ValueError,
     ["ExponentialDecay", "decay_rate", "0.0", "positive"]),
    (lambda: schedules.ExponentialDecay(0.1, 2, float("nan")), ValueError,
     ["ExponentialDecay", "decay_rate", "nan"]),
    (lambda: schedules.ExponentialDecay(0.1, 2, 0.5, staircase="yes"), TypeError,
     ["ExponentialDecay", "staircase", "'yes'"]),
    (lambda: schedules.InverseTimeDecay(0.1, -1, 0.5), ValueError,
     ["InverseTimeDecay", "decay_steps", "-1"]),
    (lambda: schedules.InverseTimeDecay(0.1, 2, -0.5), ValueError,
     ["InverseTimeDecay", "decay_rate", "-0.5"]),
    (lambda: schedules.InverseTimeDecay(0.1, True, 0.5), TypeError,
     ["InverseTimeDecay", "decay_steps", "True"]),
    (lambda: schedules.PiecewiseConstantDecay([1, 2], [0.1, 0.2]), ValueError,
     ["PiecewiseConstantDecay", "values", "len(boundaries)=2", "len(values)=2"]),
    (lambda: schedules.PiecewiseConstantDecay([5, 2], [0.1, 0.2, 0.3]), ValueError,
     ["PiecewiseConstantDecay", "boundaries", "increasing", "[5, 2]"]),
    (lambda: schedules.PiecewiseConstantDecay([], [0.1]), ValueError,
     ["PiecewiseConstantDecay", "boundaries", "[]"]),
    (lambda: schedules.PiecewiseConstantDecay(5, [0.1, 0.2]), TypeError,
     ["PiecewiseConstantDecay", "boundaries", "5"]),
    (lambda: schedules.PiecewiseConstantDecay([1], [0.1, -0.2]), ValueError,
     ["PiecewiseConstantDecay", "values[1]", "-0.2"]),
    (lambda: schedules.PiecewiseConstantDecay([1, "x"], [0.1, 0.2, 0.3]), TypeError,
     ["PiecewiseConstantDecay", "boundaries[1]", "'x'"]),
    (lambda: schedules.PolynomialDecay(0.1, 0), ValueError, ["PolynomialDecay", "decay_steps"]),
    (lambda: schedules.PolynomialDecay(0.1, 5, end_learning_rate=-1.0), ValueError,
     ["PolynomialDecay", "end_learning_rate", "-1.0"]),
    (lambda: schedules.PolynomialDecay(0.1, 5, power=0), ValueError,
     ["PolynomialDecay", "power", "power=0"]),
    (lambda: schedules.PolynomialDecay(0.1, 5, cycle=1), TypeError,
     ["PolynomialDecay", "cycle", "cycle=1"]),
    (lambda: schedules.CosineDecay(0.1, 0), ValueError, ["CosineDecay", "decay_steps"]),
    (lambda: schedules.CosineDecay(0.1, 5, alpha=1.5), ValueError,
     ["CosineDecay", "alpha", "1.5", "[0, 1]"]),
    (lambda: schedules.CosineDecay(0.1, 5, warmup_target=-1.0, warmup_steps=2), ValueError,
     ["CosineDecay", "warmup_target", "-1.0"]),
    (lambda: schedules.CosineDecay(0.1, 5, warmup_target=0.2, warmup_steps=-3), ValueError,
     ["CosineDecay", "warmup_steps", "-3"]),
    (lambda: schedules.CosineDecay(0.1, 5)(-1), ValueError, ["CosineDecay", "step", "-1"]),
    (lambda: schedules.ExponentialDecay(0.1, 5, 0.5)("3"), TypeError,
     ["ExponentialDecay", "step", "'3'"]),
]


@pytest.mark.parametrize("make,exc,fragments", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_arguments_name_the_class_argument_and_value(make, exc, fragments):
    with pytest.raises(exc) as caught:
        make()
    for fragment in fragments:
        assert fragment in str(caught.value), (str(caught.value), fragment)


# ---------------------------------------------------------------------- optimizers
def _trajectory(optimizer, set_rate=None):
    variable = tc.tensor(START.copy(), requires_grad=True)
    history = []
    for step, gradient in enumerate(GRADS):
        if set_rate is not None:
            optimizer.learning_rate = set_rate(step)
        optimizer.apply_gradients([(tc.tensor(gradient), variable)])
        assert variable.dtype == tc.float32
        history.append(variable.numpy().copy())
    return history


def _exponential(step):
    return 0.1 * 0.5 ** (step / 2)


@pytest.mark.parametrize("make", [
    lambda lr: optimizers.SGD(learning_rate=lr),
    lambda lr: optimizers.SGD(learning_rate=lr, momentum=0.9, nesterov=True),
    lambda lr: optimizers.RMSprop(learning_rate=lr, momentum=0.5),
    lambda lr: optimizers.Adam(learning_rate=lr),
    lambda lr: optimizers.AdamW(learning_rate=lr, weight_decay=0.1),
], ids=["sgd", "sgd-nesterov", "rmsprop", "adam", "adamw"])
def test_schedule_matches_setting_the_float_by_hand_each_step(make):
    scheduled = make(schedules.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5))
    by_hand = make(0.1)
    got = _trajectory(scheduled)
    want = _trajectory(by_hand, set_rate=_exponential)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)
    assert scheduled.iterations == len(GRADS)
    assert scheduled.learning_rate == _exponential(len(GRADS))


def test_sgd_schedule_against_numpy_reference():
    schedule = schedules.PiecewiseConstantDecay([1, 3], [0.5, 0.1, 0.01])
    got = _trajectory(optimizers.SGD(learning_rate=schedule))
    var = START.astype(np.float64)
    for step, (gradient, value) in enumerate(zip(GRADS, got)):
        rate = 0.5 if step <= 1 else (0.1 if step <= 3 else 0.01)
        var = var - rate * gradient
        np.testing.assert_allclose(value, var, rtol=1e-5, atol=1e-6)


def test_float64_variables_stay_float64():
    variable = tc.tensor(START.astype(np.float64), requires_grad=True)
    optimizer = optimizers.SGD(learning_rate=schedules.InverseTimeDecay(0.1, 1, 1.0))
    optimizer.apply_gradients([(tc.tensor(GRADS[0].astype(np.float64)), variable)])
    assert variable.dtype == tc.float64


def test_learning_rate_property_and_setter():
    optimizer = optimizers.SGD(learning_rate=0.1)
    optimizer.learning_rate = 0.01
    assert optimizer.learning_rate == 0.01 and isinstance(optimizer.learning_rate, float)
    optimizer.learning_rate = 1                      # ints are accepted, stored as float
    assert optimizer.learning_rate == 1.0 and isinstance(optimizer.learning_rate, float)
    for bad, exc in ((-0.5, ValueError), (float("nan"), ValueError), ("fast", TypeError),
                     (None, TypeError), (True, TypeError)):
        with pytest.raises(exc, match="SGD: learning_rate"):
            optimizer.learning_rate = bad
        assert optimizer.learning_rate == 1.0
    schedule = schedules.ExponentialDecay(0.1, 2, 0.5)
    optimizer.learning_rate = schedule               # a schedule may replace a float
    assert optimizer.learning_rate == 0.1
    assert optimizer._learning_rate is schedule
    with pytest.raises(TypeError, match="SGD: .*schedule.*ExponentialDecay"):
        optimizer.learning_rate = 0.05               # but not the other way round (Keras)
    assert optimizer._learning_rate is schedule


def test_schedule_returning_garbage_fails_before_any_update():
    class Broken(schedules.LearningRateSchedule):
        def __call__(self, step):
            return float("nan")

    variable = tc.tensor(START.copy(), requires_grad=True)
    optimizer = optimizers.SGD(learning_rate=Broken())
    with pytest.raises(ValueError, match="SGD: the learning rate schedule Broken returned nan"):
        optimizer.apply_gradients([(tc.tensor(GRADS[0]), variable)])
    np.testing.assert_array_equal(variable.numpy(), START)
    assert optimizer.iterations == 0


@pytest.mark.parametrize("schedule", ALL, ids=lambda s: type(s).__name__)
def test_optimizer_config_round_trip_with_schedule(schedule):
    original = optimizers.Adam(learning_rate=schedule, beta_1=0.8)
    config = original.get_config()
    json.dumps(config)
    assert config["learning_rate"] == schedules.serialize(schedule)
    clone = optimizers.Adam.from_config(json.loads(json.dumps(config)))
    assert clone.get_config() == config
    assert type(clone._learning_rate) is type(schedule)
    via_get = optimizers.get(json.loads(json.dumps(optimizers.serialize(original))))
    assert isinstance(via_get, optimizers.Adam) and via_get.get_config() == config
    got = _trajectory(clone)
    want = _trajectory(optimizers.Adam(learning_rate=schedule, beta_1=0.8))
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)


def test_float_config_still_a_float():
    config = optimizers.SGD(learning_rate=0.05).get_config()
    assert config["learning_rate"] == 0.05
    assert optimizers.SGD.from_config(config).learning_rate == 0.05


def test_custom_schedule_optimizer_cannot_be_serialized():
    class Constant(schedules.LearningRateSchedule):
        def __call__(self, step):
            return 0.1

    with pytest.raises(ValueError, match="Constant"):
        optimizers.SGD(learning_rate=Constant()).get_config()
