"""Models: Sequential, and load_model for files written by Model.save()."""

from tensorcore.models.sequential import Sequential
from tensorcore.saving import load_model

__all__ = ["Sequential", "load_model"]
