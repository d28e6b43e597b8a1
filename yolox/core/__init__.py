"""Training machinery: the Trainer loop, process launching and failure handling."""

from .errors import TrainingDiverged
from .launch import launch
from .trainer import Trainer

__all__ = ["Trainer", "launch", "TrainingDiverged"]
