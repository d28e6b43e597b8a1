"""One mapping from failures to exit codes for the training-type commands (train, ablate).

0 success; 2 wrong input (a one-line message, no traceback); 4 training diverged (NaN/Inf
loss, predictions, gradients or weights: a one-line message naming the last good checkpoint);
1 a run that failed (a crashed worker process, any other exception, logged with its
traceback); 130 interrupted.
"""

from __future__ import annotations

import sys
from typing import Callable, Tuple, Type

from loguru import logger

from yolox.utils.checkpoint import CheckpointError

from .errors import TrainingDiverged, UserInputError

__all__ = ["run_with_exit_codes", "one_line"]


def one_line(exc: BaseException) -> str:
    """The last line of an exception's message (worker tracebacks arrive as long strings)."""
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__


def run_with_exit_codes(
    body: Callable[[], object],
    what: str,
    user_errors: Tuple[Type[BaseException], ...] = (),
    interrupted_hint: str = "",
) -> int:
    """Run ``body`` and turn its outcome into an exit code, printing ``error: ...`` on failure."""
    from torch.multiprocessing import ProcessExitedException, ProcessRaisedException

    try:
        body()
    except (UserInputError, CheckpointError, *user_errors) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except TrainingDiverged as exc:
        logger.error(str(exc))
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except (ProcessRaisedException, ProcessExitedException) as exc:
        print(f"error: a {what} process failed: {one_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"error: interrupted{interrupted_hint}", file=sys.stderr)
        return 130
    except Exception as exc:
        logger.exception(f"{what} failed")
        print(f"error: {what} failed: {type(exc).__name__}: {one_line(exc)}", file=sys.stderr)
        return 1
    return 0
