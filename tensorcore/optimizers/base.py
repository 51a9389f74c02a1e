"""Optimizer base class: per-variable state built on first use, clipping, weight decay, steps."""

from __future__ import annotations

import math
import numbers
import weakref
from typing import Iterable

import numpy as np

import tensorcore as tc
from tensorcore.backend import current as current_backend
from tensorcore.optimizers import schedules

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def fused_update(name: str, variable: tc.Tensor, *arrays_or_tensors):
    """The backend's one-pass update kernel `name`, or None when it cannot be used.

    It applies when the backend has it, the variable owns writeable C-contiguous float
    memory, and every other operand (gradient, state; None entries are skipped) is a
    C-contiguous array of the same dtype. Otherwise the caller runs the composite path.
    """
    backend = current_backend()
    kernel = getattr(backend, name, None)
    data = variable.data
    if kernel is None or data.dtype not in _FLOAT_DTYPES or not data.flags.writeable \
            or not data.flags.c_contiguous:
        return None
    for item in arrays_or_tensors:
        if item is None:
            continue
        array = item.data if isinstance(item, tc.Tensor) else item
        if array.dtype != data.dtype or not array.flags.c_contiguous \
                or array.shape != data.shape:
            return None
    variable._bump_version()  # the caller runs the kernel now: an in-place write
    return kernel


def _check_positive(owner: str, name: str, value, allow_zero: bool = False) -> float:
    """Validate a non-negative (or positive) real hyperparameter and return it as float."""
    bad = isinstance(value, bool) or not isinstance(value, numbers.Real) \
        or not math.isfinite(float(value)) or float(value) < 0 \
        or (float(value) == 0 and not allow_zero)
    if bad:
        kind = "a non-negative" if allow_zero else "a positive"
        raise ValueError(f"{owner}: {name} must be {kind} float. Received: {name}={value!r}")
    return float(value)



class VariableState:
    """Optimizer state per variable, by identity. An entry lives as long as its variable:
    it is dropped when the variable is garbage collected, so the table does not grow with
    every model an optimizer ever saw, and a new variable that reuses a dead one's id()
    never inherits its state."""

    def __init__(self) -> None:
        self._entries: dict[int, tuple[weakref.ref, dict]] = {}

    def get(self, variable: tc.Tensor) -> dict | None:
        entry = self._entries.get(id(variable))
        if entry is None or entry[0]() is not variable:
            return None
        return entry[1]

    def set(self, variable: tc.Tensor, state: dict) -> None:
        key, entries = id(variable), self._entries

        def drop(ref: weakref.ref) -> None:
            current = entries.get(key)
            if current is not None and current[0] is ref:
                del entries[key]

        entries[key] = (weakref.ref(variable, drop), state)

    def __len__(self) -> int:
        return len(self._entries)

class Optimizer:
    """Base class: subclasses declare their state in build_variable and their rule in update_step.

    ``apply_gradients`` clips the gradients (clipnorm per variable, clipvalue, or
    global_clipnorm), applies decoupled weight decay when set (``var -= var * wd * lr``), runs
    ``update_step`` for every variable without recording on the tape, then counts the step.

    ``learning_rate`` is a float or a ``schedules.LearningRateSchedule``. With a schedule, each
    ``apply_gradients`` call uses ``schedule(iterations)`` (the count before that step), and
    reading ``optimizer.learning_rate`` gives that current value as a float (as in Keras 3);
    the schedule itself stays in ``optimizer._learning_rate``. A float learning rate can be
    reassigned at any time (``optimizer.learning_rate = 0.01``, validated); one given as a
    schedule cannot be replaced by a float (TypeError), only by another schedule.
    """

    # Names of the per-variable state tensors, in a fixed order (used for saving).
    state_names: tuple[str, ...] = ()

    def __init__(self, learning_rate: float = 0.001, name: str | None = None,
                 weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None):
        owner = type(self).__name__
        self._learning_rate: float | schedules.LearningRateSchedule = 0.0
        self._learning_rate_schedule: schedules.LearningRateSchedule | None = None
        self._set_learning_rate(learning_rate)
        self.name = name or owner.lower()
        self.weight_decay = (None if weight_decay is None
                             else _check_positive(owner, "weight_decay", weight_decay, True))
        given = [n for n, v in (("clipnorm", clipnorm), ("clipvalue", clipvalue),
                                ("global_clipnorm", global_clipnorm)) if v is not None]
        if len(given) > 1:
            raise ValueError(f"{owner}: only one of clipnorm, clipvalue and global_clipnorm can "
                             f"be set. Received: {', '.join(given)}")
        self.clipnorm = None if clipnorm is None else _check_positive(owner, "clipnorm", clipnorm)
        self.clipvalue = (None if clipvalue is None
                          else _check_positive(owner, "clipvalue", clipvalue))
        self.global_clipnorm = (None if global_clipnorm is None
                                else _check_positive(owner, "global_clipnorm", global_clipnorm))
        self.iterations = 0
        self._state = VariableState()

    # ------------------------------------------------------------------ learning rate
    @property
    def learning_rate(self) -> float:
        """The learning rate the next step will use, as a float (a schedule is evaluated)."""
        if self._learning_rate_schedule is None:
            return self._learning_rate
        return self._scheduled_learning_rate()

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        if self._learning_rate_schedule is not None \
                and not isinstance(value, schedules.LearningRateSchedule):
            raise TypeError(
                f"{type(self).__name__}: this optimizer was created with a learning rate "
                f"schedule ({type(self._learning_rate_schedule).__name__}), so its "
                f"learning_rate cannot be set to a float. Received: learning_rate={value!r}. "
                "Create the optimizer with a float learning_rate to change it during training."
            )
        self._set_learning_rate(value)

    def _set_learning_rate(self, value) -> None:
        """Validate and store a float or LearningRateSchedule learning rate."""
        if isinstance(value, schedules.LearningRateSchedule):
            self._learning_rate = value
            self._learning_rate_schedule = value
            return
        owner = type(self).__name__
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{owner}: learning_rate must be a non-negative float or a "
                            f"LearningRateSchedule. Received: learning_rate={value!r}")
        self._learning_rate = _check_positive(owner, "learning_rate", value, allow_zero=True)
        self._learning_rate_schedule = None

    def _scheduled_learning_rate(self) -> float:
        """The schedule's value at the current step, checked to be a usable rate."""
        schedule = self._learning_rate_schedule
        value = schedule(self.iterations)
        if isinstance(value, bool) or not isinstance(value, numbers.Real) \
                or not math.isfinite(value) or value < 0:
            raise ValueError(f"{type(self).__name__}: the learning rate schedule "
                             f"{type(schedule).__name__} returned {value!r} at step "
                             f"{self.iterations}; expected a finite non-negative float")
        return float(value)

    # ------------------------------------------------------------------ state
    def build_variable(self, variable: tc.Tensor) -> dict[str, tc.Tensor]:
        """Create this optimizer's state for one variable (zeros shaped like it by default)."""
        return {name: tc.zeros(tuple(variable.shape), dtype=variable.dtype)
                for name in self.state_names}

    def state_for(self, variable: tc.Tensor) -> dict[str, tc.Tensor]:
        """The state of a variable, built the first time the variable is seen."""
        state = self._state.get(variable)
        if state is None:
            state = self.build_variable(variable)
            self._state.set(variable, state)
        return state

    def update_step(self, gradient: tc.Tensor, variable: tc.Tensor,
                    learning_rate: float) -> None:
        """Update one variable in place from its gradient (subclasses implement the rule)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ applying
    def apply_gradients(self, grads_and_vars: Iterable) -> int:
        """Apply one step to each (gradient, variable) pair; returns the new iteration count."""
        pairs = [(g, v) for g, v in grads_and_vars if g is not None]
        for gradient, variable in pairs:
            if not isinstance(variable, tc.Tensor):
                raise TypeError(f"{type(self).__name__}.apply_gradients: variables must be "
                                f"Tensors. Received: {type(variable).__name__}")
            if tuple(np.shape(gradient)) != tuple(variable.shape):
                raise ValueError(
                    f"{type(self).__name__}.apply_gradients: gradient shape "
                    f"{tuple(np.shape(gradient))} does not match variable shape "
                    f"{tuple(variable.shape)}"
                )
        # The rate for this step: the float itself, or the schedule at the step count so far.
        learning_rate = (self._learning_rate if self._learning_rate_schedule is None
                         else self._scheduled_learning_rate())
        with tc.no_grad():
            grads = [self._as_gradient(g, v) for g, v in pairs]
            variables = [v for _, v in pairs]
            grads = self._clip(grads)
            if self.weight_decay:
                for variable in variables:
                    variable.assign_sub(variable * (self.weight_decay * learning_rate))
            for gradient, variable in zip(grads, variables):
                self.update_step(gradient, variable, learning_rate)
        self.iterations += 1
        return self.iterations

    def apply(self, grads: list, variables: list) -> int:
        """Same as apply_gradients(zip(grads, variables))."""
        return self.apply_gradients(zip(grads, variables))

    @staticmethod
    def _as_gradient(gradient, variable: tc.Tensor) -> tc.Tensor:
        """Gradient as a detached tensor of the variable's dtype."""
        if gradient.__class__ is tc.Tensor and gradient._node is None \
                and not gradient.requires_grad and gradient.data.dtype == variable.data.dtype:
            return gradient     # already one (what autograd.grad gives): no new wrapper
        return tc.as_tensor(gradient, variable.dtype).detach()

    def _clip(self, grads: list[tc.Tensor]) -> list[tc.Tensor]:
        """Keras-style clipping: g * c / max(||g||, c) per variable, by value, or globally."""
        if self.clipnorm is not None:
            return [g * (self.clipnorm / max(self._norm(g), self.clipnorm)) for g in grads]
        if self.clipvalue is not None:
            return [tc.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        if self.global_clipnorm is not None and grads:
            total = math.sqrt(sum(self._norm(g) ** 2 for g in grads))
            scale = self.global_clipnorm / max(total, self.global_clipnorm)
            return [g * scale for g in grads]
        return grads

    @staticmethod
    def _norm(gradient: tc.Tensor) -> float:
        """L2 norm of a gradient, computed with our kernels."""
        return math.sqrt(float(tc.sum(tc.square(gradient)).item()))

    # ------------------------------------------------------------------ config / saving
    def get_config(self) -> dict:
        """Constructor arguments as a JSON-ready dict."""
        schedule = self._learning_rate_schedule
        return {
            "name": self.name,
            "learning_rate": (self._learning_rate if schedule is None
                              else schedules.serialize(schedule)),
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "clipvalue": self.clipvalue,
            "global_clipnorm": self.global_clipnorm,
        }

    @classmethod
    def from_config(cls, config: dict) -> "Optimizer":
        """Create an optimizer from get_config()'s output (a schedule given as a dict)."""
        if not isinstance(config, dict):
            raise TypeError(f"{cls.__name__}.from_config: config must be a dict. "
                            f"Received: config={config!r}")
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"])
        return cls(**config)

    def get_state(self, variables: list[tc.Tensor]) -> dict[str, np.ndarray]:
        """State as named arrays ("iterations", "<i>/<state name>") for variables in order."""
        arrays = {"iterations": np.array(self.iterations, dtype=np.int64)}
        for index, variable in enumerate(variables):
            state = self._state.get(variable)
            if state is None:
                continue
            for name in self.state_names:
                arrays[f"{index}/{name}"] = state[name].numpy().copy()
        return arrays

    def set_state(self, variables: list[tc.Tensor], arrays: dict[str, np.ndarray]) -> None:
        """Restore state saved by get_state for the same list of variables."""
        owner = type(self).__name__
        restored = VariableState()
        for index, variable in enumerate(variables):
            keys = [f"{index}/{name}" for name in self.state_names]
            present = [key in arrays for key in keys]
            if not any(present):
                continue
            if not all(present):
                raise ValueError(f"{owner}.set_state: incomplete state for variable {index}")
            state = {}
            for name, key in zip(self.state_names, keys):
                array = np.asarray(arrays[key])
                if tuple(array.shape) != tuple(variable.shape):
                    raise ValueError(
                        f"{owner}.set_state: '{key}' has shape {array.shape}, expected "
                        f"{tuple(variable.shape)}"
                    )
                state[name] = tc.tensor(array.copy(), dtype=variable.dtype)
            restored.set(variable, state)
        self._state = restored
        self.iterations = int(np.asarray(arrays.get("iterations", 0)).item())

    def __repr__(self) -> str:
        return f"<{type(self).__name__} learning_rate={self._learning_rate!r}>"
