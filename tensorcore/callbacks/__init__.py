"""Callbacks for fit(): History, EarlyStopping, ModelCheckpoint, LearningRateScheduler,
ReduceLROnPlateau and the Callback base class."""

from tensorcore.callbacks.base import Callback, CallbackList
from tensorcore.callbacks.early_stopping import EarlyStopping
from tensorcore.callbacks.history import History
from tensorcore.callbacks.learning_rate import LearningRateScheduler, ReduceLROnPlateau
from tensorcore.callbacks.model_checkpoint import ModelCheckpoint

__all__ = ["Callback", "CallbackList", "EarlyStopping", "History", "LearningRateScheduler",
           "ModelCheckpoint", "ReduceLROnPlateau"]
