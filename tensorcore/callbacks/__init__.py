"""Callbacks for fit(): History, EarlyStopping, ModelCheckpoint, LearningRateScheduler,
ReduceLROnPlateau, CSVLogger, TerminateOnNaN, LambdaCallback, BackupAndRestore and the
Callback base class."""

from tensorcore.callbacks.base import Callback, CallbackList
from tensorcore.callbacks.early_stopping import EarlyStopping
from tensorcore.callbacks.extra import BackupAndRestore, CSVLogger, LambdaCallback, TerminateOnNaN
from tensorcore.callbacks.history import History
from tensorcore.callbacks.learning_rate import LearningRateScheduler, ReduceLROnPlateau
from tensorcore.callbacks.model_checkpoint import ModelCheckpoint

__all__ = ["BackupAndRestore", "CSVLogger", "Callback", "CallbackList", "LambdaCallback",
           "TerminateOnNaN", "EarlyStopping", "History", "LearningRateScheduler",
           "ModelCheckpoint", "ReduceLROnPlateau"]
