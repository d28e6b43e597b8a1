"""The one user-error type and the one place that turns a command's outcome into an exit code.

Every command-line program (train, eval, demo, export, bench, ablate, ...) runs its body
through :func:`run_command`:

- 0: success;
- 2: a :class:`UserError` (bad flag, exp field, file, dataset): its message, no traceback;
- :attr:`RunFailed.exit_code`: a run that stopped for a known reason (e.g. training diverged):
  its message, no traceback (the log file keeps the details);
- 1: anything else, i.e. a bug or an unexpected failure: the full traceback;
- 130: interrupted (Ctrl-C).

Library code at any floor raises :class:`UserError` (or a subclass) when the *input* is wrong;
it lives here, on the lowest floor, so data, models and exps can raise it without importing up.
"""

from __future__ import annotations

import sys
import traceback
from typing import Callable, Optional

from .logger import console_active, console_logging

__all__ = [
    "UserError",
    "RunFailed",
    "run_command",
    "run_worker",
    "EXIT_USER_ERROR",
    "EXIT_INTERRUPTED",
]

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


class UserError(ValueError):
    """Input the user must fix: reported as its message (may be several lines), exit status 2.

    A ``ValueError`` so that callers catching bad values keep working; but only this type, not
    every ``ValueError``, is shown without a traceback.
    """


class RunFailed(RuntimeError):
    """A run that stopped for a known, explained reason; ``exit_code`` says which."""

    exit_code = 1


def _reported_by_worker(status: Optional[int]) -> bool:
    """Whether a spawned worker's exit status is one :func:`run_worker` sets after printing its
    message. (An uncaught exception reaches the parent as ProcessRaisedException instead.)"""
    known, pending = {EXIT_USER_ERROR}, [RunFailed]
    while pending:
        cls = pending.pop()
        known.add(cls.exit_code)
        pending.extend(cls.__subclasses__())
    return status in known


def _print_error(prog: str, message: str) -> None:
    lines = str(message).strip().splitlines() or [""]
    print(f"{prog}: error: {lines[0]}", file=sys.stderr)
    for line in lines[1:]:
        print(f"  {line.rstrip()}", file=sys.stderr)


def run_command(prog: str, body: Callable[[], Optional[int]], interrupted_hint: str = "") -> int:
    """Run a command's ``body`` under the console sink; map its outcome to an exit status.

    A spawned worker that already reported its own error (see :func:`run_worker`) exits with
    that status; it is passed through without a second message.
    """
    from torch.multiprocessing import ProcessExitedException, ProcessRaisedException

    with console_logging():
        try:
            return int(body() or 0)
        except UserError as exc:
            _print_error(prog, str(exc))
            return EXIT_USER_ERROR
        except RunFailed as exc:
            _print_error(prog, str(exc))
            return exc.exit_code
        except ProcessExitedException as exc:
            if _reported_by_worker(exc.exit_code):
                return int(exc.exit_code)  # the worker printed its own message (run_worker)
            _print_error(prog, f"a worker process died: {exc}")  # a signal, os._exit, ...
            return 1
        except ProcessRaisedException as exc:
            print(str(exc), file=sys.stderr)  # the worker's traceback
            _print_error(prog, "a worker process failed (traceback above)")
            return 1
        except KeyboardInterrupt:
            _print_error(prog, f"interrupted{interrupted_hint}")
            return EXIT_INTERRUPTED
        except Exception:
            traceback.print_exc()
            return 1


def run_worker(prog: str, body: Callable[[], object]) -> None:
    """Body of a spawned worker process: console sink of its rank; a user error or a known
    failure is printed here and becomes the process's exit status, which
    :func:`run_command` in the parent passes on. Anything else propagates with its traceback.
    Run in the launching process itself (one process), exceptions go to its run_command."""
    if console_active():
        body()
        return
    with console_logging():
        try:
            body()
        except UserError as exc:
            _print_error(prog, str(exc))
            raise SystemExit(EXIT_USER_ERROR) from exc
        except RunFailed as exc:
            _print_error(prog, str(exc))
            raise SystemExit(exc.exit_code) from exc
