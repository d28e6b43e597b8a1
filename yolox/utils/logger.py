"""loguru set-up: console + file in the output directory, only on the main process."""

from __future__ import annotations

import inspect
import os
import sys

from loguru import logger

__all__ = ["setup_logger", "StreamToLoguru", "redirect_sys_output", "LOG_FORMAT"]

LOG_FORMAT = (
    "<green>{time:YYYY-MM-DD HH:mm:ss}</green> | <level>{level: <8}</level> | "
    "<cyan>{name}</cyan>:<cyan>{line}</cyan> - <level>{message}</level>"
)


class StreamToLoguru:
    """File-like object that forwards writes (e.g. ``print``) to loguru."""

    def __init__(
        self, level: str = "INFO", caller_names: tuple[str, ...] = ("apex", "pycocotools")
    ):
        self.level = level
        self.caller_names = caller_names
        self.linebuf = ""

    def _from_watched_module(self) -> bool:
        frame = inspect.currentframe()
        while frame is not None:
            module = frame.f_globals.get("__name__", "")
            if module.split(".")[0] in self.caller_names:
                return True
            frame = frame.f_back
        return False

    def write(self, buf: str) -> None:
        if self._from_watched_module():
            for line in buf.rstrip().splitlines():
                logger.opt(depth=2).log(self.level, line.rstrip())
        else:
            sys.__stdout__.write(buf)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def redirect_sys_output(level: str = "INFO") -> None:
    """Send prints of watched libraries (pycocotools summaries) into the log file too."""
    stream = StreamToLoguru(level)
    sys.stdout = stream  # type: ignore[assignment]
    sys.stderr = stream  # type: ignore[assignment]


def setup_logger(
    save_dir: str, distributed_rank: int = 0, filename: str = "log.txt", mode: str = "a"
) -> str:
    """Configure loguru: rank 0 logs INFO to stderr and to ``save_dir/filename``.

    Other ranks only print warnings and errors to stderr so a crash on any rank is visible.
    ``mode="o"`` truncates an existing log file. Returns the log file path.
    """
    save_file = os.path.join(save_dir, filename)
    logger.remove()
    if mode == "o" and os.path.exists(save_file) and distributed_rank == 0:
        os.remove(save_file)
    if distributed_rank == 0:
        logger.add(sys.stderr, format=LOG_FORMAT, level="INFO", enqueue=False)
        os.makedirs(save_dir, exist_ok=True)
        logger.add(save_file, format=LOG_FORMAT, level="INFO")
    else:
        logger.add(sys.stderr, format=f"[rank {distributed_rank}] " + LOG_FORMAT, level="WARNING")
    return save_file
