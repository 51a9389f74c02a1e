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

_BY_NAME = {cls.__name__: cls for cls in (
    Activation, Dense, Dropout, Flatten, Conv1D, Conv2D, MaxPooling1D, MaxPooling2D,
    AveragePooling1D, AveragePooling2D, GlobalAveragePooling1D, GlobalAveragePooling2D,
    GlobalMaxPooling1D, GlobalMaxPooling2D, BatchNormalization, Reshape, ZeroPadding2D)}


def deserialize(config: dict) -> Layer:
    """Rebuild a built-in layer from ``{"class_name": ..., "config": {...}}``."""
    name = config.get("class_name") if isinstance(config, dict) else None
    if name not in _BY_NAME:
        raise ValueError(f"Unknown layer class in config: {name!r}; expected one of "
                         f"{sorted(_BY_NAME)}")
    return _BY_NAME[name].from_config(config.get("config", {}))


def serialize(layer: Layer) -> dict:
    """Return a JSON-ready description of a built-in layer."""
    name = type(layer).__name__
    if _BY_NAME.get(name) is not type(layer):
        raise ValueError(f"Cannot serialize custom layer class {name}; only {sorted(_BY_NAME)} "
                         "can be saved with the model architecture (use save_weights instead)")
    return {"class_name": name, "config": layer.get_config()}


__all__ = ["Activation", "AveragePooling1D", "AveragePooling2D", "BatchNormalization", "Conv1D",
           "Conv2D", "Dense", "Dropout", "Flatten", "GlobalAveragePooling1D",
           "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "Layer",
           "MaxPooling1D", "MaxPooling2D", "Reshape", "ZeroPadding2D", "deserialize",
           "serialize"]
