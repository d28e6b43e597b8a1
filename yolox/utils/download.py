"""Fetch a file into the local cache through ``torch.hub.download_url_to_file``.

torch does the transfer (temporary file, rename, SHA-256 check, progress bar). What it does not
do is ours: the cache location (:func:`cache_dir`), the known SHA-256 handed to it, a download
cut short (torch keeps whatever arrived; the size the server announced is compared here), the
caller's ``verify`` check before the file reaches the cache, a timeout, leftovers of killed downloads,
and one clear :class:`DownloadError` (a :class:`~yolox.utils.errors.UserError`) for every
failure. Nothing here runs at import time; a file is only fetched when a caller asks for it.
"""

from __future__ import annotations

import contextlib
import glob
import http.client
import os
import socket
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Callable, Iterator, Optional, Union

from .checkpoint import CheckpointError

__all__ = ["DownloadError", "cache_dir", "download_file", "remove_stale_parts"]

#: a ``.part`` file not written for this long belongs to a killed download
STALE_PART_S = 60.0

_NETWORK_ERRORS = (urllib.error.URLError, http.client.HTTPException, OSError, ValueError)


class DownloadError(CheckpointError):
    """A file could not be fetched, arrived incomplete, or is not what was expected."""


def cache_dir() -> Path:
    """``$YOLOX_HOME`` or ``~/.cache/yolox``: where downloaded weights are kept."""
    return Path(os.environ.get("YOLOX_HOME") or Path.home() / ".cache" / "yolox").expanduser()


@contextlib.contextmanager
def _socket_timeout(seconds: float) -> Iterator[None]:
    """torch.hub opens the URL without a timeout: give its sockets one (a dead server fails)."""
    before = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(before)


def _announced_size(url: str, timeout_s: float) -> Optional[int]:
    """The size the server announces for ``url`` (a HEAD request), None where it says none.

    An HTTP error answer (a mirror or CDN that refuses HEAD) only means the size is unknown;
    no answer at all (offline, no such file) is a DownloadError.
    """
    request = urllib.request.Request(url, method="HEAD", headers={"User-Agent": "torch.hub"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            announced = response.headers.get("Content-Length")
    except urllib.error.HTTPError:
        return None
    except _NETWORK_ERRORS as exc:
        raise DownloadError(f"cannot download {url}: {exc}") from exc
    return int(announced) if announced and announced.isdigit() else None


def download_file(
    url: str,
    target: Union[str, os.PathLike],
    *,
    sha256: Optional[str] = None,
    verify: Optional[Callable[[Path], None]] = None,
    progress: bool = True,
    timeout_s: float = 60.0,
) -> Path:
    """Fetch ``url`` (http, https or file) to ``target`` atomically and return ``target``.

    ``sha256`` (hex) is checked when given; ``verify(tmp_path)`` may raise to reject the file
    before it is renamed into place. On any failure the partial file is removed and a
    DownloadError names the URL and what went wrong.
    """
    import torch.hub

    target = Path(target)
    created = [p for p in (target.parent, *target.parent.parents) if not p.exists()]
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(target)
    tmp_path = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
    try:
        expected_size = _announced_size(url, timeout_s)
        if progress:  # torch's bar has no label: say what it counts
            sys.stderr.write(f"downloading {url} to {target}\n")
        expected_sha = sha256.lower() if sha256 is not None else None
        try:
            with _socket_timeout(timeout_s):
                torch.hub.download_url_to_file(
                    url, os.fspath(tmp_path), hash_prefix=expected_sha, progress=progress
                )
        except RuntimeError as exc:  # torch's hash check; it has removed the file
            if expected_sha is None or "hash" not in str(exc):
                raise
            raise DownloadError(
                f"download of {url} does not have the SHA-256 {expected_sha} ({exc}): the file "
                "is corrupt, cut short or not the published one; run again to retry"
            ) from exc
        except _NETWORK_ERRORS as exc:
            raise DownloadError(f"cannot download {url}: {exc}") from exc
        received = tmp_path.stat().st_size
        if expected_size is not None and received != expected_size:
            raise DownloadError(
                f"download of {url} is incomplete: received {received} of {expected_size} bytes "
                "(connection dropped?); run again to retry"
            )
        if verify is not None:
            verify(tmp_path)
        with open(tmp_path, "rb") as handle:  # on disk before the rename makes it the cache's
            os.fsync(handle.fileno())
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()
        if not target.exists():  # failed (offline...): leave no empty cache folder behind
            for folder in created:
                try:
                    folder.rmdir()  # only empty ones, innermost first
                except OSError:
                    break
    return target


def remove_stale_parts(target: Union[str, os.PathLike], idle_s: float = STALE_PART_S) -> list:
    """Delete ``.part`` files of earlier downloads of ``target`` that were killed (no write for
    ``idle_s`` seconds: a download in progress writes every chunk), and torch's ``.partial``
    files inside them; returns them."""
    target = Path(target)
    now = time.time()
    stale = []
    for path in target.parent.glob(f".{glob.escape(target.name)}.*.part*"):
        try:
            if now - path.stat().st_mtime > idle_s:
                path.unlink()
                stale.append(path)
        except FileNotFoundError:
            continue
    return stale
