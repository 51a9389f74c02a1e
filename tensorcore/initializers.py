"""Weight initializers with Keras's formulas, drawing from tc.random (seed with tc.random.seed)."""

from __future__ import annotations

import math

import tensorcore as tc
from tensorcore.registry import Registry

# Standard deviation of a unit normal truncated to [-2, 2]; dividing by it restores the
# requested variance after truncation (the constant Keras uses).
_TRUNCATED_STD = 0.87962566103423978


def compute_fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """Return (fan_in, fan_out) of a weight shape, the way Keras counts them."""
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


def _truncated_normal(shape: tuple[int, ...], stddev: float) -> tc.Tensor:
    """Normal(0, stddev) samples, redrawn until all lie within two standard deviations."""
    sample = tc.random.normal(shape, dtype=tc.float32)
    while sample.size:
        outside = tc.abs(sample) > 2.0
        if int(tc.sum(outside).item()) == 0:
            break
        sample = tc.where(outside, tc.random.normal(shape, dtype=tc.float32), sample)
    return sample * stddev


class Initializer:
    """Base class: calling an initializer with a shape returns a new float32 Tensor."""

    def __call__(self, shape: tuple[int, ...]) -> tc.Tensor:
        """Return a new tensor of the given shape."""
        raise NotImplementedError

    def get_config(self) -> dict:
        """Return the constructor arguments."""
        return {}


class Zeros(Initializer):
    """All zeros."""

    def __call__(self, shape: tuple[int, ...]) -> tc.Tensor:
        """Return zeros of the given shape."""
        return tc.zeros(shape, dtype=tc.float32)


class Ones(Initializer):
    """All ones."""

    def __call__(self, shape: tuple[int, ...]) -> tc.Tensor:
        """Return ones of the given shape."""
        return tc.ones(shape, dtype=tc.float32)


class RandomNormal(Initializer):
    """Normal distribution with the given mean and standard deviation."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05):
        self.mean = float(mean)
        self.stddev = float(stddev)

    def __call__(self, shape: tuple[int, ...]) -> tc.Tensor:
        """Return normal samples of the given shape."""
        return tc.random.normal(shape, mean=self.mean, std=self.stddev, dtype=tc.float32)

    def get_config(self) -> dict:
        """Return the constructor arguments."""
        return {"mean": self.mean, "stddev": self.stddev}


class GlorotUniform(Initializer):
    """Uniform in [-limit, limit] with limit = sqrt(6 / (fan_in + fan_out))."""

    def __call__(self, shape: tuple[int, ...]) -> tc.Tensor:
        """Return Glorot-uniform samples of the given shape."""
        fan_in, fan_out = compute_fans(shape)
        limit = math.sqrt(6.0 / max(1, fan_in + fan_out))
        return tc.random.uniform(shape, low=-limit, high=limit, dtype=tc.float32)


class GlorotNormal(Initializer):
    """Truncated normal with stddev = sqrt(2 / (fan_in + fan_out))."""

    def __call__(self, shape: tuple[int, ...]) -> tc.Tensor:
        """Return Glorot-normal samples of the given shape."""
        fan_in, fan_out = compute_fans(shape)
        stddev = math.sqrt(2.0 / max(1, fan_in + fan_out)) / _TRUNCATED_STD
        return _truncated_normal(shape, stddev)


class HeUniform(Initializer):
    """Uniform in [-limit, limit] with limit = sqrt(6 / fan_in)."""

    def __call__(self, shape: tuple[int, ...]) -> tc.Tensor:
        """Return He-uniform samples of the given shape."""
        fan_in, _ = compute_fans(shape)
        limit = math.sqrt(6.0 / max(1, fan_in))
        return tc.random.uniform(shape, low=-limit, high=limit, dtype=tc.float32)


class HeNormal(Initializer):
    """Truncated normal with stddev = sqrt(2 / fan_in)."""

    def __call__(self, shape: tuple[int, ...]) -> tc.Tensor:
        """Return He-normal samples of the given shape."""
        fan_in, _ = compute_fans(shape)
        stddev = math.sqrt(2.0 / max(1, fan_in)) / _TRUNCATED_STD
        return _truncated_normal(shape, stddev)


# The built-in initializers by name (tensorcore/registry.py; user Initializer subclasses
# join with @tc.saving.register_serializable).
REGISTRY = Registry("initializer", base=Initializer)
for _name, _cls in (("zeros", Zeros), ("ones", Ones), ("random_normal", RandomNormal),
                    ("glorot_uniform", GlorotUniform), ("glorot_normal", GlorotNormal),
                    ("he_uniform", HeUniform), ("he_normal", HeNormal)):
    REGISTRY.add(_name, _cls)
del _name, _cls


def get(identifier) -> Initializer:
    """Return an initializer for a name, an Initializer instance or a shape-taking callable."""
    if isinstance(identifier, str):
        cls = REGISTRY.lookup(identifier)
        if cls is None:
            raise ValueError(
                f"Unknown initializer: {identifier!r}. Expected one of {REGISTRY.names()}."
            )
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, Initializer) or callable(identifier):
        return identifier
    raise TypeError(
        f"initializer must be a string, an Initializer or a callable. Received: {identifier!r}"
    )


def serialize(initializer) -> dict:
    """Return a JSON-ready description of a built-in or registered initializer."""
    config = REGISTRY.serialize(initializer)
    if config is None:
        raise ValueError(
            "Cannot serialize a custom initializer; only built-in initializers "
            f"{REGISTRY.names()} (and classes registered with "
            f"@tc.saving.register_serializable) can be saved. Received: {initializer!r}"
        )
    return config


def deserialize(config: dict) -> Initializer:
    """Rebuild a built-in or registered initializer from serialize()'s output."""
    name = config.get("class_name") if isinstance(config, dict) else None
    cls = REGISTRY.lookup(name)
    if cls is None:
        raise ValueError(f"Unknown initializer in config: {name!r}")
    return cls(**config.get("config", {}))
