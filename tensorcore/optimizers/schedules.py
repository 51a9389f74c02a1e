"""Learning-rate schedules: the learning rate as a function of the optimizer's step.

Pass a schedule as an optimizer's ``learning_rate``; every ``apply_gradients`` call then uses
``schedule(optimizer.iterations)`` (the step count before that update, as in Keras). Every
schedule returns a Python float computed with the ``math`` module, and describes itself with
``get_config()``; ``serialize`` / ``deserialize`` turn the built-in schedules into JSON-ready
dicts and back (only the built-in class names are accepted, so loading never runs code).
"""

from __future__ import annotations

import bisect
import inspect
import math
import numbers

import numpy as np

from tensorcore.registry import Registry

__all__ = ["CosineDecay", "ExponentialDecay", "InverseTimeDecay", "LearningRateSchedule",
           "PiecewiseConstantDecay", "PolynomialDecay", "deserialize", "serialize"]


# ---------------------------------------------------------------------- argument checks
def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_real(owner: str, name: str, value, kind: str, *, low: float | None = None,
                low_inclusive: bool = True, high: float | None = None,
                high_inclusive: bool = True) -> float:
    """A finite real number within the given bounds, as a float.

    Raises TypeError for a non-number and ValueError for a number outside the bounds; the
    message names the owner, the argument, what was received and what was expected (`kind`).
    """
    if not _is_real(value):
        raise TypeError(f"{owner}: {name} must be {kind}. Received: {name}={value!r}")
    number = float(value)
    bad = not math.isfinite(number)
    if low is not None:
        bad = bad or number < low or (number == low and not low_inclusive)
    if high is not None:
        bad = bad or number > high or (number == high and not high_inclusive)
    if bad:
        raise ValueError(f"{owner}: {name} must be {kind}. Received: {name}={value!r}")
    return number


def _check_rate(owner: str, name: str, value) -> float:
    """A learning rate: a finite float >= 0."""
    return _check_real(owner, name, value, "a non-negative float", low=0.0)


def _check_int(owner: str, name: str, value, positive: bool = True) -> int:
    """A (positive, or non-negative) integer, as an int."""
    kind = "a positive integer" if positive else "a non-negative integer"
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{owner}: {name} must be {kind}. Received: {name}={value!r}")
    number = int(value)
    if number < (1 if positive else 0):
        raise ValueError(f"{owner}: {name} must be {kind}. Received: {name}={value!r}")
    return number


def _check_bool(owner: str, name: str, value) -> bool:
    """True or False (Python or NumPy bool)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}: {name} must be True or False. Received: {name}={value!r}")
    return bool(value)


def _check_step(owner: str, step):
    """An optimizer step: a finite number >= 0 (normally the int iteration count)."""
    if isinstance(step, numbers.Integral) and not isinstance(step, bool):
        if step < 0:
            raise ValueError(f"{owner}: step must be a non-negative integer. "
                             f"Received: step={step!r}")
        return int(step)
    return _check_real(owner, "step", step, "a non-negative integer", low=0.0)


def _json_number(value) -> int | float:
    """An int stays an int, anything else real becomes a float (JSON-ready either way)."""
    if isinstance(value, numbers.Integral):
        return int(value)
    return float(value)


# ---------------------------------------------------------------------- schedules
class LearningRateSchedule:
    """Base class: subclasses implement ``__call__(step) -> float`` and ``get_config()``.

    ``from_config(config)`` calls the constructor with the config's entries, so a subclass whose
    ``get_config()`` returns its constructor arguments needs nothing more.
    """

    def __call__(self, step) -> float:
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(step)")

    def get_config(self) -> dict:
        """Constructor arguments as a JSON-ready dict."""
        raise NotImplementedError(f"{type(self).__name__} must implement get_config()")

    @classmethod
    def from_config(cls, config: dict) -> LearningRateSchedule:
        """Create a schedule from get_config()'s output."""
        if not isinstance(config, dict):
            raise TypeError(f"{cls.__name__}.from_config: config must be a dict. "
                            f"Received: config={config!r}")
        return cls(**config)

    def __repr__(self) -> str:
        try:
            config = self.get_config()
        except NotImplementedError:
            return f"<{type(self).__name__}>"
        arguments = ", ".join(f"{key}={value!r}" for key, value in config.items())
        return f"{type(self).__name__}({arguments})"


class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``.

    With ``staircase=True`` the exponent is floored, so the rate drops every decay_steps steps.
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool = False):
        owner = type(self).__name__
        initial = _check_rate(owner, "initial_learning_rate", initial_learning_rate)
        steps = _check_int(owner, "decay_steps", decay_steps)
        rate = _check_real(owner, "decay_rate", decay_rate, "a positive float", low=0.0,
                           low_inclusive=False)
        stairs = _check_bool(owner, "staircase", staircase)
        self.initial_learning_rate = initial
        self.decay_steps = steps
        self.decay_rate = rate
        self.staircase = stairs

    def __call__(self, step) -> float:
        step = _check_step(type(self).__name__, step)
        exponent = step / self.decay_steps
        if self.staircase:
            exponent = math.floor(exponent)
        try:
            return self.initial_learning_rate * math.pow(self.decay_rate, exponent)
        except OverflowError:           # decay_rate > 1 after very many steps
            return math.inf

    def get_config(self) -> dict:
        """Constructor arguments as a JSON-ready dict."""
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase}


class InverseTimeDecay(LearningRateSchedule):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``.

    With ``staircase=True`` ``step / decay_steps`` is floored.
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool = False):
        owner = type(self).__name__
        initial = _check_rate(owner, "initial_learning_rate", initial_learning_rate)
        steps = _check_int(owner, "decay_steps", decay_steps)
        rate = _check_real(owner, "decay_rate", decay_rate, "a non-negative float", low=0.0)
        stairs = _check_bool(owner, "staircase", staircase)
        self.initial_learning_rate = initial
        self.decay_steps = steps
        self.decay_rate = rate
        self.staircase = stairs

    def __call__(self, step) -> float:
        step = _check_step(type(self).__name__, step)
        fraction = step / self.decay_steps
        if self.staircase:
            fraction = math.floor(fraction)
        return self.initial_learning_rate / (1.0 + self.decay_rate * fraction)

    def get_config(self) -> dict:
        """Constructor arguments as a JSON-ready dict."""
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase}


class PiecewiseConstantDecay(LearningRateSchedule):
    """A constant rate per interval of steps.

    ``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while
    ``boundaries[i-1] < step <= boundaries[i]``, and ``values[-1]`` after the last boundary.
    Boundaries must increase strictly and there must be one more value than boundaries.
    """

    def __init__(self, boundaries, values):
        owner = type(self).__name__
        for name, sequence in (("boundaries", boundaries), ("values", values)):
            if not isinstance(sequence, (list, tuple)):
                raise TypeError(f"{owner}: {name} must be a list of numbers. "
                                f"Received: {name}={sequence!r}")
        if len(boundaries) < 1:
            raise ValueError(f"{owner}: boundaries must hold at least one step. "
                             f"Received: boundaries={boundaries!r}")
        checked_boundaries = []
        for index, boundary in enumerate(boundaries):
            _check_real(owner, f"boundaries[{index}]", boundary, "a finite number")
            if checked_boundaries and not boundary > checked_boundaries[-1]:
                raise ValueError(f"{owner}: boundaries must be strictly increasing. "
                                 f"Received: boundaries={list(boundaries)!r}")
            checked_boundaries.append(_json_number(boundary))
        if len(values) != len(boundaries) + 1:
            raise ValueError(f"{owner}: values must have exactly one more element than "
                             f"boundaries. Received: len(boundaries)={len(boundaries)}, "
                             f"len(values)={len(values)}")
        checked_values = [_check_rate(owner, f"values[{index}]", value)
                          for index, value in enumerate(values)]
        self.boundaries = checked_boundaries
        self.values = checked_values

    def __call__(self, step) -> float:
        step = _check_step(type(self).__name__, step)
        # The number of boundaries strictly below step is the index of the value in use.
        return self.values[bisect.bisect_left(self.boundaries, step)]

    def get_config(self) -> dict:
        """Constructor arguments as a JSON-ready dict."""
        return {"boundaries": list(self.boundaries), "values": list(self.values)}


class PolynomialDecay(LearningRateSchedule):
    """From initial_learning_rate to end_learning_rate over decay_steps along a polynomial.

    ``(initial - end) * (1 - step / decay_steps) ** power + end`` with step capped at
    decay_steps; with ``cycle=True`` decay_steps is instead stretched to the first multiple of
    itself that is >= step (1 * decay_steps at step 0), so the decay restarts each cycle.
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int,
                 end_learning_rate: float = 0.0001, power: float = 1.0, cycle: bool = False):
        owner = type(self).__name__
        initial = _check_rate(owner, "initial_learning_rate", initial_learning_rate)
        steps = _check_int(owner, "decay_steps", decay_steps)
        end = _check_rate(owner, "end_learning_rate", end_learning_rate)
        exponent = _check_real(owner, "power", power, "a positive float", low=0.0,
                               low_inclusive=False)
        cycling = _check_bool(owner, "cycle", cycle)
        self.initial_learning_rate = initial
        self.decay_steps = steps
        self.end_learning_rate = end
        self.power = exponent
        self.cycle = cycling

    def __call__(self, step) -> float:
        step = _check_step(type(self).__name__, step)
        decay_steps = self.decay_steps
        if self.cycle:
            multiplier = 1 if step == 0 else math.ceil(step / decay_steps)
            decay_steps = decay_steps * multiplier
        else:
            step = min(step, decay_steps)
        fraction = step / decay_steps
        return ((self.initial_learning_rate - self.end_learning_rate)
                * (1.0 - fraction) ** self.power + self.end_learning_rate)

    def get_config(self) -> dict:
        """Constructor arguments as a JSON-ready dict."""
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle}


class CosineDecay(LearningRateSchedule):
    """Cosine decay, optionally after a linear warmup (Keras 3's CosineDecay).

    Without warmup_target: with s = min(step, decay_steps),
    ``initial * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps)) + alpha)``.
    With warmup_target: the rate rises linearly from initial_learning_rate to warmup_target
    over warmup_steps steps, then decays from warmup_target by the formula above applied to
    ``step - warmup_steps``.
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int, alpha: float = 0.0,
                 warmup_target: float | None = None, warmup_steps: int = 0):
        owner = type(self).__name__
        initial = _check_rate(owner, "initial_learning_rate", initial_learning_rate)
        steps = _check_int(owner, "decay_steps", decay_steps)
        floor = _check_real(owner, "alpha", alpha, "a float in [0, 1]", low=0.0, high=1.0)
        target = (None if warmup_target is None
                  else _check_rate(owner, "warmup_target", warmup_target))
        warmup = _check_int(owner, "warmup_steps", warmup_steps, positive=False)
        self.initial_learning_rate = initial
        self.decay_steps = steps
        self.alpha = floor
        self.warmup_target = target
        self.warmup_steps = warmup

    def _decayed(self, step, start: float) -> float:
        cosine = 0.5 * (1.0 + math.cos(math.pi * step / self.decay_steps))
        return start * ((1.0 - self.alpha) * cosine + self.alpha)

    def __call__(self, step) -> float:
        step = _check_step(type(self).__name__, step)
        if self.warmup_target is None:
            return self._decayed(min(step, self.decay_steps), self.initial_learning_rate)
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            rise = self.warmup_target - self.initial_learning_rate
            return self.initial_learning_rate + rise * (step / self.warmup_steps)
        return self._decayed(step - self.warmup_steps, self.warmup_target)

    def get_config(self) -> dict:
        """Constructor arguments as a JSON-ready dict."""
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


# ---------------------------------------------------------------------- (de)serialization
# The built-in schedules by class name (tensorcore/registry.py; user subclasses join with
# @tc.saving.register_serializable).
REGISTRY = Registry("learning rate schedule", base=LearningRateSchedule)
for _cls in (ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay, PolynomialDecay,
             CosineDecay):
    REGISTRY.add(_cls.__name__, _cls)
del _cls


def serialize(schedule: LearningRateSchedule) -> dict:
    """``{"class_name": ..., "config": {...}}`` for a built-in schedule."""
    if not isinstance(schedule, LearningRateSchedule):
        raise TypeError(f"serialize: schedule must be a LearningRateSchedule. "
                        f"Received: schedule={schedule!r}")
    config = REGISTRY.serialize(schedule)
    if config is None:
        raise ValueError(f"serialize: cannot serialize custom learning rate schedule "
                         f"{type(schedule).__name__!r}; only the built-in schedules "
                         f"{REGISTRY.names()} (and classes registered with "
                         "@tc.saving.register_serializable) can be serialized")
    return config


def deserialize(config: dict) -> LearningRateSchedule:
    """Rebuild a built-in schedule from serialize()'s output (nothing else is accepted)."""
    if not isinstance(config, dict):
        raise TypeError(f"deserialize: config must be a dict with 'class_name' and 'config'. "
                        f"Received: config={config!r}")
    name = config.get("class_name")
    cls = REGISTRY.lookup(name)
    if cls is None:
        raise ValueError(f"deserialize: unknown learning rate schedule {name!r}. Expected one "
                         f"of {REGISTRY.names()}")
    arguments = config.get("config", {})
    if not isinstance(arguments, dict):
        raise TypeError(f"deserialize: the config of {name} must be a dict. "
                        f"Received: config={arguments!r}")
    parameters = dict(inspect.signature(cls.__init__).parameters)
    parameters.pop("self")
    unknown = sorted(str(key) for key in set(arguments) - set(parameters))
    if unknown:
        raise ValueError(f"deserialize: {name} has no argument(s) {unknown}. Expected a subset "
                         f"of {sorted(parameters)}")
    missing = sorted(key for key, parameter in parameters.items()
                     if parameter.default is inspect.Parameter.empty and key not in arguments)
    if missing:
        raise ValueError(f"deserialize: the config of {name} lacks the required argument(s) "
                         f"{missing}")
    return cls.from_config(arguments)
