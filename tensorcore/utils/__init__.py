"""Helpers for preparing data: one-hot encoding and normalization."""

from tensorcore.utils.categorical import normalize, to_categorical
from tensorcore.utils.py_dataset import PyDataset


def unpack_x_y_sample_weight(data):
    """Split a batch into (x, y, sample_weight) (see models.data_adapters)."""
    from tensorcore.models.data_adapters import unpack_x_y_sample_weight as unpack

    return unpack(data)

__all__ = ["PyDataset", "normalize", "to_categorical", "unpack_x_y_sample_weight"]
