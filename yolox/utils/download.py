"""Fetch a file into the local cache: atomic (temporary file + rename), with a progress bar.

Nothing here runs at import time; a file is only fetched when a caller asks for it. A download
that is cut short, fails its checksum or fails the caller's ``verify`` check never reaches the
cache: it is written to a temporary file beside the target and only renamed when it passed.
"""

from __future__ import annotations

import glob
import hashlib
import http.client
import os
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Optional, Union

from tqdm import tqdm

from .checkpoint import CheckpointError

__all__ = ["DownloadError", "cache_dir", "download_file", "remove_stale_parts"]

CHUNK_BYTES = 1 << 20
#: a ``.part`` file not written for this long belongs to a killed download
STALE_PART_S = 60.0


class DownloadError(CheckpointError):
    """A file could not be fetched, arrived incomplete, or is not what was expected."""


def cache_dir() -> Path:
    """``$YOLOX_HOME`` or ``~/.cache/yolox``: where downloaded weights are kept."""
    return Path(os.environ.get("YOLOX_HOME") or Path.home() / ".cache" / "yolox").expanduser()


def _copy_stream(response, handle, url: str, progress: bool) -> str:
    """Copy the response body into ``handle``; returns its SHA-256. Checks the announced size."""
    announced = response.headers.get("Content-Length") if response.headers else None
    total = int(announced) if announced and announced.isdigit() else None
    digest = hashlib.sha256()
    received = 0
    with tqdm(
        total=total,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        desc=os.path.basename(url) or url,
        disable=not progress,
        leave=False,
    ) as bar:
        while True:
            chunk = response.read(CHUNK_BYTES)
            if not chunk:
                break
            handle.write(chunk)
            digest.update(chunk)
            received += len(chunk)
            bar.update(len(chunk))
    if total is not None and received != total:
        raise DownloadError(
            f"download of {url} is incomplete: received {received} of {total} bytes "
            "(connection dropped?); run again to retry"
        )
    return digest.hexdigest()


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
    target = Path(target)
    created = [p for p in (target.parent, *target.parent.parents) if not p.exists()]
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(target)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    tmp_path = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            try:
                with urllib.request.urlopen(url, timeout=timeout_s) as response:
                    actual = _copy_stream(response, handle, url, progress)
            except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
                raise DownloadError(f"cannot download {url}: {exc}") from exc
            handle.flush()
            os.fsync(handle.fileno())
        if sha256 is not None and actual.lower() != sha256.lower():
            raise DownloadError(
                f"download of {url} has SHA-256 {actual}, expected {sha256.lower()}: "
                "the file is corrupt or not the published one"
            )
        if verify is not None:
            verify(tmp_path)
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
    ``idle_s`` seconds: a download in progress writes every chunk); returns them."""
    target = Path(target)
    now = time.time()
    stale = []
    for path in target.parent.glob(f".{glob.escape(target.name)}.*.part"):
        try:
            if now - path.stat().st_mtime > idle_s:
                path.unlink()
                stale.append(path)
        except FileNotFoundError:
            continue
    return stale
