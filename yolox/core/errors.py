"""Errors the training entry point turns into a one-line message and a non-zero exit code."""

from __future__ import annotations

__all__ = ["EXIT_DIVERGED", "TrainingError", "TrainingDiverged", "UserInputError"]

#: exit status of a run stopped by the divergence guard (3 is the watchdog's: a peer failed)
EXIT_DIVERGED = 4


class TrainingError(RuntimeError):
    """Base class of expected training failures."""


class TrainingDiverged(TrainingError):
    """Loss, predictions, gradients or weights became NaN/Inf; the step was not applied and
    nothing non-finite was saved. ``exit_code`` is the status the command exits with."""

    exit_code = EXIT_DIVERGED


class UserInputError(TrainingError):
    """A wrong command-line value: missing exp file, checkpoint, bad batch size..."""
