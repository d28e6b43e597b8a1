"""loguru sinks: the command line's console sink, and the file sinks of runs and studies.

Library code only adds and removes the sinks it created (by handler id); which console sink a
process has is chosen once, by the command-line entry point (:func:`console_logging`).
"""

from __future__ import annotations

import inspect
import os
import sys
from contextlib import contextmanager
from typing import Iterator, Optional, Sequence

from loguru import logger

__all__ = [
    "setup_logger",
    "remove_sink",
    "console_logging",
    "console_active",
    "LOG_FORMAT",
    "get_caller_name",
    "StreamToLoguru",
    "redirect_sys_output",
    "WandbLogger",
]

LOG_FORMAT = (
    "<green>{time:YYYY-MM-DD HH:mm:ss}</green> | <level>{level: <8}</level> | "
    "<cyan>{name}</cyan>:<cyan>{line}</cyan> - <level>{message}</level>"
)

# loguru's own stderr sink (DEBUG, variable dumps in tracebacks) has id 0 at import; when the
# command line swaps it for its console sink and later puts it back, the new id is kept here.
_library_default_sink = [0]
_console_sinks: list = []  # the console sink of the command running in this process, if any


def setup_logger(
    save_dir: str, distributed_rank: int = 0, filename: str = "log.txt", mode: str = "a"
) -> Optional[int]:
    """Add a file sink ``save_dir/filename`` (INFO) on the main process; returns its handler id.

    Other ranks get no file sink (None). ``mode="o"`` truncates an existing log file. The
    caller removes the sink with :func:`remove_sink` when its run ends; no other sink is touched.
    """
    if distributed_rank != 0:
        return None
    save_file = os.path.join(save_dir, filename)
    os.makedirs(save_dir, exist_ok=True)
    if mode == "o" and os.path.exists(save_file):
        os.remove(save_file)
    return logger.add(save_file, format=LOG_FORMAT, level="INFO", diagnose=False)


def remove_sink(handler_id: Optional[int]) -> None:
    """Remove a sink this code added (None, or one already removed, is a no-op)."""
    if handler_id is None:
        return
    try:
        logger.remove(handler_id)
    except ValueError:
        pass


def console_active() -> bool:
    """Whether a command's console sink is set up in this process (see console_logging)."""
    return bool(_console_sinks)


@contextmanager
def console_logging(rank: Optional[int] = None, level: str = "INFO") -> Iterator[int]:
    """The command line's console sink while a command runs: INFO on rank 0, warnings only on
    other ranks (prefixed ``[rank N]``), tracebacks without variable dumps.

    Replaces loguru's default stderr sink for the duration and puts it back afterwards, so a
    command called from Python leaves the caller's logging as it found it. Nested use (a
    worker body run in the launching process) keeps the outer sink.
    """
    if _console_sinks:
        yield _console_sinks[-1]
        return
    if rank is None:
        rank = int(os.environ.get("RANK", "0") or 0)
    try:
        logger.remove(_library_default_sink[0])
        removed_default = True
    except ValueError:
        removed_default = False
    fmt = LOG_FORMAT if rank == 0 else f"[rank {rank}] " + LOG_FORMAT
    handler = logger.add(
        sys.stderr,
        format=fmt,
        level=level if rank == 0 else "WARNING",
        diagnose=False,
        filter=lambda record: not record["extra"].get("file_only", False),
    )
    _console_sinks.append(handler)
    try:
        yield handler
    finally:
        _console_sinks.pop()
        remove_sink(handler)
        if removed_default:
            _library_default_sink[0] = logger.add(_process_stderr)


def _process_stderr(message: str) -> None:
    """Write to the process's own stderr, like loguru's default sink.

    The put-back default sink must not keep the stream that was ``sys.stderr`` while the
    command ran (a test's capture, a caller's redirect): that stream is closed later, and every
    following log line would become a loguru 'Logging error'.
    """
    (sys.__stderr__ or sys.stderr).write(message)


def get_caller_name(depth: int = 0) -> str:
    """``__name__`` of the module calling this function (depth 0), or of its caller (1), ..."""
    frame = inspect.currentframe()
    assert frame is not None and frame.f_back is not None
    frame = frame.f_back
    for _ in range(depth):
        if frame.f_back is None:
            break
        frame = frame.f_back
    return str(frame.f_globals.get("__name__", ""))


class StreamToLoguru:
    """A file-like stream: prints from the listed packages go to loguru, others to real stdout.

    Official YOLOX routes pycocotools' and apex's prints into the log this way.
    """

    def __init__(self, level: str = "INFO", caller_names: Sequence[str] = ("apex", "pycocotools")):
        self.level = level
        self.linebuf = ""
        self.caller_names = tuple(caller_names)

    def write(self, buf: str) -> None:
        full_name = get_caller_name(depth=1)
        package = full_name.split(".", 1)[0]
        if package in self.caller_names or full_name in self.caller_names:
            for line in buf.rstrip().splitlines():
                logger.opt(depth=2).log(self.level, line.rstrip())
        else:
            sys.__stdout__.write(buf)

    def flush(self) -> None:
        sys.__stdout__.flush()

    def isatty(self) -> bool:
        return sys.__stdout__.isatty()

    def fileno(self) -> int:
        return sys.__stdout__.fileno()


def redirect_sys_output(log_level: str = "INFO") -> None:
    """Replace sys.stdout and sys.stderr by a :class:`StreamToLoguru` (official behaviour)."""
    stream = StreamToLoguru(log_level)
    sys.stderr = stream  # type: ignore[assignment]
    sys.stdout = stream  # type: ignore[assignment]


from .wandb_logger import WandbLogger  # noqa: E402  (official exposes it from this module)
