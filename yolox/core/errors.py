"""Errors the training entry point turns into a one-line message and a non-zero exit code."""

from __future__ import annotations

__all__ = ["TrainingError", "NonFiniteLossError", "UserInputError"]


class TrainingError(RuntimeError):
    """Base class of expected training failures."""


class NonFiniteLossError(TrainingError):
    """The loss became NaN or Inf; training stopped before the poisoned step was applied."""


class UserInputError(TrainingError):
    """A wrong command-line value: missing exp file, checkpoint, bad batch size..."""
