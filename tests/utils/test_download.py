"""Downloads go through torch.hub's transfer; the cache rules around it stay ours.

Served from ``file://`` URLs and a loopback HTTP server: no test here touches the internet.
"""

from __future__ import annotations

import hashlib
import http.server
import os
import threading
import time

import pytest
import torch.hub

from yolox.utils import download as download_module
from yolox.utils.download import DownloadError, download_file, remove_stale_parts

PAYLOAD = bytes(range(256)) * 300


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "release" / "weights.pth"
    path.parent.mkdir()
    path.write_bytes(PAYLOAD)
    return path


def test_the_transfer_is_torch_hubs_and_the_file_lands_atomically(source, tmp_path, monkeypatch):
    calls = []
    real = torch.hub.download_url_to_file

    def spy(url, dst, *args, **kwargs):
        calls.append((url, dst, kwargs))
        return real(url, dst, *args, **kwargs)

    monkeypatch.setattr(torch.hub, "download_url_to_file", spy)
    target = tmp_path / "cache" / "weights.pth"
    digest = hashlib.sha256(PAYLOAD).hexdigest()
    assert download_file(source.as_uri(), target, sha256=digest, progress=False) == target
    assert target.read_bytes() == PAYLOAD
    assert len(calls) == 1 and calls[0][0] == source.as_uri()
    assert calls[0][2]["hash_prefix"] == digest  # torch checks the known SHA-256
    staged = os.path.basename(calls[0][1])  # torch wrote beside the target, not onto it
    assert staged.startswith(".weights.pth.") and staged.endswith(".part")
    assert os.listdir(target.parent) == ["weights.pth"]


def test_checksum_and_verify_reject_before_the_cache(source, tmp_path):
    target = tmp_path / "cache" / "weights.pth"
    with pytest.raises(DownloadError, match="does not have the SHA-256 0{64}"):
        download_file(source.as_uri(), target, sha256="0" * 64, progress=False)

    def refuse(path):
        assert path.read_bytes() == PAYLOAD  # the whole file, before the rename
        raise DownloadError("not the weights")

    with pytest.raises(DownloadError, match="not the weights"):
        download_file(source.as_uri(), target, verify=refuse, progress=False)
    assert not target.parent.exists()  # no file, no empty cache folder


def test_a_killed_torch_partial_is_cleaned_like_our_part(tmp_path):
    target = tmp_path / "weights.pth"
    ours = tmp_path / ".weights.pth.abc.part"
    torchs = tmp_path / ".weights.pth.abc.part.0123abcd.partial"  # torch.hub's inside ours
    for path in (ours, torchs):
        path.write_bytes(b"half")
        os.utime(path, (time.time() - 3600,) * 2)
    assert sorted(remove_stale_parts(target)) == sorted([ours, torchs])
    assert list(tmp_path.iterdir()) == []


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


def _serve(handler_cls):
    server = _Server(("127.0.0.1", 0), handler_cls)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/weights.pth"


class _NoHead(http.server.BaseHTTPRequestHandler):
    """A mirror that refuses HEAD (as some CDNs do) and serves GET."""

    release = threading.Event()

    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self.send_error(405)

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(PAYLOAD)))
        self.end_headers()
        self.wfile.write(PAYLOAD)


class _Stalls(_NoHead):
    """Announces the file, then sends nothing until the test ends."""

    def do_HEAD(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(PAYLOAD)))
        self.end_headers()

    def do_GET(self):
        self.release.wait(30)


def test_a_mirror_without_head_still_downloads(tmp_path):
    server, url = _serve(_NoHead)
    try:
        target = download_file(url, tmp_path / "weights.pth", progress=False)
    finally:
        server.shutdown()
        server.server_close()
    assert target.read_bytes() == PAYLOAD


def test_a_stalled_server_times_out_with_a_clear_error(tmp_path):
    server, url = _serve(_Stalls)
    start = time.monotonic()
    try:
        with pytest.raises(DownloadError, match=f"cannot download {url}"):
            download_file(url, tmp_path / "cache" / "weights.pth", progress=False, timeout_s=0.5)
    finally:
        _Stalls.release.set()
        server.shutdown()
        server.server_close()
    assert time.monotonic() - start < 10
    assert not (tmp_path / "cache").exists()
    assert download_module.socket.getdefaulttimeout() is None  # the process default is restored
