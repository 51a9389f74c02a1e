"""Helpers for preparing data: one-hot encoding and normalization."""

from tensorcore.utils.categorical import normalize, to_categorical

__all__ = ["normalize", "to_categorical"]
