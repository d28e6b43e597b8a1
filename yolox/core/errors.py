"""Known ways a training run stops (user errors are :class:`yolox.utils.errors.UserError`)."""

from __future__ import annotations

from yolox.utils.errors import RunFailed

__all__ = ["EXIT_DIVERGED", "TrainingDiverged"]

#: exit status of a run stopped by the divergence guard (3 is the watchdog's: a peer failed)
EXIT_DIVERGED = 4


class TrainingDiverged(RunFailed):
    """Loss, predictions, gradients or weights became NaN/Inf; the step was not applied and
    nothing non-finite was saved. ``exit_code`` is the status the command exits with."""

    exit_code = EXIT_DIVERGED
