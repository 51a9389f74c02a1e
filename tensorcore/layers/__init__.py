"""Keras-style layers: Dense, Activation, Dropout, Flatten, convolution, pooling,
BatchNormalization, Reshape, ZeroPadding2D and the Layer base class."""

from tensorcore.layers.activation import Activation
from tensorcore.layers.base import Layer
from tensorcore.layers.conv import Conv1D, Conv2D
from tensorcore.layers.dense import Dense
from tensorcore.layers.dropout import Dropout
from tensorcore.layers.flatten import Flatten
from tensorcore.layers.normalization import BatchNormalization
from tensorcore.layers.pooling import (AveragePooling1D, AveragePooling2D, GlobalAveragePooling1D,
                                       GlobalAveragePooling2D, GlobalMaxPooling1D,
                                       GlobalMaxPooling2D, MaxPooling1D, MaxPooling2D)
from tensorcore.layers.reshaping import Reshape, ZeroPadding2D
from tensorcore.layers.merge import Add, Concatenate
from tensorcore.registry import Registry

# Built-in layers saved by class name, in the one registry mechanism of
# tensorcore/registry.py (new layer modules add their classes here; classes outside the
# package use @tc.saving.register_serializable). Models nest as layers: their classes join
# on first use (models import layers, so they are imported late).
REGISTRY = Registry("layer", base=Layer)
for _cls in (Activation, Dense, Dropout, Flatten, Add, Concatenate, Conv1D, Conv2D, MaxPooling1D,
             MaxPooling2D, AveragePooling1D, AveragePooling2D, GlobalAveragePooling1D,
             GlobalAveragePooling2D, GlobalMaxPooling1D, GlobalMaxPooling2D,
             BatchNormalization, Reshape, ZeroPadding2D):
    REGISTRY.add(_cls.__name__, _cls)
del _cls


def _registry() -> Registry:
    """REGISTRY, with the model classes that nest as layers added on first use."""
    if REGISTRY.lookup("Sequential") is None:
        from tensorcore.models.functional import Functional, InputLayer
        from tensorcore.models.sequential import Sequential

        for cls in (Sequential, Functional, InputLayer):
            REGISTRY.add(cls.__name__, cls)
    return REGISTRY


def __getattr__(name: str):
    if name in ("Input", "InputLayer"):
        from tensorcore.models import functional
        return getattr(functional, name)
    raise AttributeError(f"module 'tensorcore.layers' has no attribute {name!r}")


def deserialize(config: dict) -> Layer:
    """Rebuild a built-in or registered layer (or model) from
    ``{"class_name": ..., "config": {...}}``."""
    layer = _registry().deserialize(config)
    if layer is None:
        name = config.get("class_name") if isinstance(config, dict) else None
        raise ValueError(f"Unknown layer class in config: {name!r}; expected one of "
                         f"{REGISTRY.names()}")
    return layer


def serialize(layer: Layer) -> dict:
    """Return a JSON-ready description of a built-in or registered layer (or model)."""
    config = _registry().serialize(layer)
    if config is None:
        raise ValueError(f"Cannot serialize custom layer class {type(layer).__name__}; only "
                         f"{REGISTRY.names()} can be saved with the model architecture; "
                         "register it with @tc.saving.register_serializable(package=...) and "
                         "give it get_config(), or use save_weights")
    return config


__all__ = ["Activation", "Add", "AveragePooling1D", "AveragePooling2D", "BatchNormalization",
           "Concatenate", "Conv1D", "Conv2D", "Dense", "Dropout", "Flatten",
           "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D",
           "GlobalMaxPooling2D", "Input", "InputLayer", "Layer", "MaxPooling1D", "MaxPooling2D",
           "Reshape", "ZeroPadding2D", "deserialize", "serialize"]
