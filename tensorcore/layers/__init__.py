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

# Built-in layers saved by class name. New layer modules add their classes here (or use
# tc.saving.register_serializable for classes outside the package).
_BY_NAME = {cls.__name__: cls for cls in (
    Activation, Dense, Dropout, Flatten, Add, Concatenate, Conv1D, Conv2D, MaxPooling1D,
    MaxPooling2D, AveragePooling1D, AveragePooling2D, GlobalAveragePooling1D,
    GlobalAveragePooling2D, GlobalMaxPooling1D, GlobalMaxPooling2D, BatchNormalization, Reshape,
    ZeroPadding2D)}


def _model_classes() -> dict:
    """Model classes that nest as layers (imported late: models import layers)."""
    from tensorcore.models.functional import Functional, InputLayer
    from tensorcore.models.sequential import Sequential

    return {"Sequential": Sequential, "Functional": Functional, "InputLayer": InputLayer}


def __getattr__(name: str):
    if name in ("Input", "InputLayer"):
        from tensorcore.models import functional
        return getattr(functional, name)
    raise AttributeError(f"module 'tensorcore.layers' has no attribute {name!r}")


def deserialize(config: dict) -> Layer:
    """Rebuild a built-in layer from ``{"class_name": ..., "config": {...}}``."""
    from tensorcore.registry import get_registered

    name = config.get("class_name") if isinstance(config, dict) else None
    special = _model_classes().get(name) or (get_registered(name) if isinstance(name, str)
                                              else None)
    if special is not None:
        return special.from_config(config.get("config", {}))
    if name not in _BY_NAME:
        raise ValueError(f"Unknown layer class in config: {name!r}; expected one of "
                         f"{sorted(_BY_NAME)}")
    return _BY_NAME[name].from_config(config.get("config", {}))


def serialize(layer: Layer) -> dict:
    """Return a JSON-ready description of a built-in layer."""
    from tensorcore.registry import registered_name

    name = type(layer).__name__
    if _model_classes().get(name) is type(layer):
        return {"class_name": name, "config": layer.get_config()}
    key = registered_name(type(layer))
    if key is not None:
        return {"class_name": key, "config": layer.get_config()}
    if _BY_NAME.get(name) is not type(layer):
        raise ValueError(f"Cannot serialize custom layer class {name}; only {sorted(_BY_NAME)} "
                         "can be saved with the model architecture; register it with "
                         "@tc.saving.register_serializable(package=...) and give it get_config(), "
                         "or use save_weights")
    return {"class_name": name, "config": layer.get_config()}


__all__ = ["Activation", "Add", "AveragePooling1D", "AveragePooling2D", "BatchNormalization",
           "Concatenate", "Conv1D", "Conv2D", "Dense", "Dropout", "Flatten",
           "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D",
           "GlobalMaxPooling2D", "Input", "InputLayer", "Layer", "MaxPooling1D", "MaxPooling2D",
           "Reshape", "ZeroPadding2D", "deserialize", "serialize"]
