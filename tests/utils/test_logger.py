"""The console sink of a command leaves the caller's logging usable afterwards."""

from __future__ import annotations

import io
import sys

from loguru import logger

from yolox.utils.logger import console_logging


def test_the_put_back_default_sink_outlives_a_stream_closed_after_the_command(monkeypatch):
    # a command run while sys.stderr is a temporary stream (a test's capture, a redirect)
    temporary = io.StringIO()
    monkeypatch.setattr(sys, "stderr", temporary)
    with console_logging():
        logger.info("inside the command")
    monkeypatch.undo()
    temporary.close()
    # later log lines must not reach the closed stream (loguru would report a 'Logging error'
    # on the stderr of that moment)
    now = io.StringIO()
    monkeypatch.setattr(sys, "stderr", now)
    logger.warning("after the command")
    monkeypatch.undo()
    assert "Logging error" not in now.getvalue()
