"""Models: Model (functional or subclassed), Sequential, and load_model for Model.save() files."""

from tensorcore.models.functional import Functional, Input
from tensorcore.models.model import Model
from tensorcore.models.sequential import Sequential
from tensorcore.saving import load_model

__all__ = ["Functional", "Input", "Model", "Sequential", "load_model"]
