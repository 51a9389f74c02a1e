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

_BY_NAME = {"sgd": SGD, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW}


def get(identifier) -> Optimizer:
    """Return an optimizer for a name ("rmsprop", "adam", "sgd", "adamw"), an instance, or a
    config dict as returned by serialize()."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier.lower())
        if cls is None:
            raise ValueError(f"Unknown optimizer: {identifier!r}. Expected one of "
                             f"{sorted(_BY_NAME)} or an Optimizer instance.")
        return cls()
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    raise TypeError(f"optimizer must be a string, an Optimizer or a config dict. Received: "
                    f"optimizer={identifier!r}")


def serialize(optimizer: Optimizer) -> dict:
    """Return a JSON-ready description of a built-in optimizer."""
    for name, cls in _BY_NAME.items():
        if type(optimizer) is cls:
            return {"class_name": name, "config": optimizer.get_config()}
    raise ValueError(f"Cannot serialize custom optimizer {optimizer!r}")


def deserialize(config: dict) -> Optimizer:
    """Rebuild a built-in optimizer from serialize()'s output."""
    name = config.get("class_name") if isinstance(config, dict) else None
    if name not in _BY_NAME:
        raise ValueError(f"Unknown optimizer in config: {name!r}")
    return _BY_NAME[name].from_config(config.get("config", {}))


__all__ = ["SGD", "Adam", "AdamW", "Optimizer", "RMSprop", "deserialize", "get", "schedules",
           "serialize"]
