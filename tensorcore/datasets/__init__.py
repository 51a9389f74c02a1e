"""Datasets shipped with tensorcore (offline, no downloads)."""

from tensorcore.datasets import mnist

__all__ = ["mnist"]
