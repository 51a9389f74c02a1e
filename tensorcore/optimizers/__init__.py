"""Optimizers: SGD, RMSprop, Adam, AdamW, resolvable by name in compile().

Learning-rate schedules (``ExponentialDecay`` etc.) live in ``tensorcore.optimizers.schedules``
and can be passed as any optimizer's ``learning_rate``.
"""

from tensorcore.optimizers import schedules
from tensorcore.optimizers.adam import Adam
from tensorcore.optimizers.adamw import AdamW
from tensorcore.optimizers.base import Optimizer
from tensorcore.optimizers.rmsprop import RMSprop
from tensorcore.optimizers.sgd import SGD
from tensorcore.registry import Registry

# The built-in optimizers by name (tensorcore/registry.py; user Optimizer subclasses join
# with @tc.saving.register_serializable).
REGISTRY = Registry("optimizer", base=Optimizer)
for _name, _cls in (("sgd", SGD), ("rmsprop", RMSprop), ("adam", Adam), ("adamw", AdamW)):
    REGISTRY.add(_name, _cls)
del _name, _cls


def get(identifier) -> Optimizer:
    """Return an optimizer for a name ("rmsprop", "adam", "sgd", "adamw"), an instance, or a
    config dict as returned by serialize()."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = REGISTRY.lookup(identifier.lower()) or REGISTRY.lookup(identifier)
        if cls is None:
            raise ValueError(f"Unknown optimizer: {identifier!r}. Expected one of "
                             f"{REGISTRY.names()} or an Optimizer instance.")
        return cls()
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    raise TypeError(f"optimizer must be a string, an Optimizer or a config dict. Received: "
                    f"optimizer={identifier!r}")


def serialize(optimizer: Optimizer) -> dict:
    """Return a JSON-ready description of a built-in or registered optimizer."""
    config = REGISTRY.serialize(optimizer)
    if config is None:
        raise ValueError(f"Cannot serialize custom optimizer {optimizer!r}")
    return config


def deserialize(config: dict) -> Optimizer:
    """Rebuild a built-in or registered optimizer from serialize()'s output."""
    optimizer = REGISTRY.deserialize(config)
    if optimizer is None:
        name = config.get("class_name") if isinstance(config, dict) else None
        raise ValueError(f"Unknown optimizer in config: {name!r}")
    return optimizer


__all__ = ["SGD", "Adam", "AdamW", "Optimizer", "RMSprop", "deserialize", "get", "schedules",
           "serialize"]
