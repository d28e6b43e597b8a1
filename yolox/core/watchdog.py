"""Heartbeat monitor so that surviving processes exit when a peer dies instead of hanging.

Every process runs a daemon thread that bumps its own counter in a key-value store (a TCP
client of the rendezvous store: the torchrun agent's, or rank 0's in ``-d N`` mode) and reads
everybody else's. A peer whose counter has not moved for ``dead_after`` seconds, a peer that
published a failure, or an unreachable store makes the thread log an error and ``os._exit``
the process. Collectives blocked in C++ release the GIL, so the thread still runs then.
Counters, not wall-clock times, are compared, so clock skew between machines does not matter.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import timedelta

import torch.distributed as dist
from loguru import logger

__all__ = ["Watchdog", "WATCHDOG_EXIT_CODE", "heartbeat_timeout"]

WATCHDOG_EXIT_CODE = 3
_PREFIX = "yolox_watchdog"


def heartbeat_timeout() -> float:
    """Seconds without a heartbeat before a peer is declared dead (YOLOX_DIST_HEARTBEAT_TIMEOUT)."""
    return float(os.environ.get("YOLOX_DIST_HEARTBEAT_TIMEOUT", "60"))


class Watchdog:
    """Start with :meth:`start`; call :meth:`mark_failed` on error and :meth:`stop` on success."""

    def __init__(
        self,
        host: str,
        port: int,
        rank: int,
        world_size: int,
        interval: float = 2.0,
        dead_after: float | None = None,
    ):
        self.rank = rank
        self.world_size = world_size
        self.interval = interval
        self.dead_after = heartbeat_timeout() if dead_after is None else dead_after
        timeout = timedelta(seconds=max(self.dead_after, 10.0))
        client = dist.TCPStore(host, port, is_master=False, timeout=timeout)
        self.store = dist.PrefixStore(_PREFIX, client)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="yolox-watchdog", daemon=True)

    def start(self) -> Watchdog:
        self.store.add(f"hb{self.rank}", 1)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Clean shutdown: peers stop expecting heartbeats from this process."""
        try:
            self.store.set(f"done{self.rank}", "1")
        except Exception:  # the store may already be gone at the very end of a run
            pass
        self._stop.set()

    def mark_failed(self, message: str) -> None:
        """Tell the peers this process is about to exit with an error."""
        try:
            self.store.set("failed", f"rank {self.rank}: {message}"[:500])
        except Exception:
            pass
        self._stop.set()

    def _peer_done(self, rank: int) -> bool:
        return self.store.check([f"done{rank}"])

    def _die(self, reason: str) -> None:
        logger.error(f"[rank {self.rank}] {reason}; exiting instead of waiting for a collective")
        os._exit(WATCHDOG_EXIT_CODE)

    def _run(self) -> None:
        last_value = [-1] * self.world_size
        last_change = [time.monotonic()] * self.world_size
        store_error_since: float | None = None
        while not self._stop.wait(self.interval):
            now = time.monotonic()
            try:
                self.store.add(f"hb{self.rank}", 1)
                if self.store.check(["failed"]):
                    self._die(f"peer failed ({self.store.get('failed').decode(errors='replace')})")
                for peer in range(self.world_size):
                    if peer == self.rank:
                        continue
                    value = self.store.add(f"hb{peer}", 0)
                    if value != last_value[peer]:
                        last_value[peer], last_change[peer] = value, now
                    elif now - last_change[peer] > self.dead_after and not self._peer_done(peer):
                        self._die(f"rank {peer} sent no heartbeat for {self.dead_after:.0f} s")
                store_error_since = None
            except Exception as exc:  # store host (rank 0 / agent) gone
                if self._stop.is_set():
                    return
                store_error_since = store_error_since or now
                if now - store_error_since > self.dead_after:
                    self._die(f"rendezvous store unreachable for {self.dead_after:.0f} s ({exc})")
