"""Training machinery: the Trainer loop, process launching and failure handling."""

from .errors import TrainingDiverged
from .launch import launch
from .train_options import TrainOptions
from .trainer import Trainer

__all__ = ["Trainer", "TrainOptions", "launch", "TrainingDiverged"]
