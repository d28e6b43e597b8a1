"""Official weights by name (``-c yolox-nano``, ``Predictor.from_pretrained``), never from the net.

A fake "release" is written from the official key list (shared fixture state_dict_keys/*.json)
and served through ``file://`` or a loopback HTTP server via ``YOLOX_WEIGHTS_URL``.
"""

from __future__ import annotations

import hashlib
import http.server
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from yolox.inference import Predictor
from yolox.inference import pretrained as pretrained_module
from yolox.inference.pretrained import (
    PRETRAINED_FILES,
    pretrained_name,
    pretrained_weights,
    verify_pretrained,
)
from yolox.models.build import MODEL_ZOO
from yolox.testing.fake_release import cache_files, release_file
from yolox.utils.download import DownloadError


def test_every_zoo_model_has_a_release_file():
    assert set(PRETRAINED_FILES) == set(MODEL_ZOO)
    assert PRETRAINED_FILES["yolov3"] == "yolox_darknet.pth"


def test_names_and_existing_files(tmp_path, monkeypatch):
    assert pretrained_name("yolox-s") == "yolox-s"
    assert pretrained_name("YOLOX_Nano") == "yolox-nano"
    assert pretrained_name("yolox_s.pth") is None  # a file name, never a download
    assert pretrained_name(None) is None
    monkeypatch.chdir(tmp_path)
    (tmp_path / "yolox-s").write_bytes(b"")
    assert pretrained_name("yolox-s") is None  # an existing file wins


def test_file_url_fetch_caches_and_predictor_loads_it(release, tmp_path):
    predictor = Predictor.from_pretrained("yolox-nano", device="cpu")
    cached = tmp_path / "cache" / "yolox_nano.pth"
    assert cache_files(tmp_path) == ["yolox_nano.pth"]  # no temporary file left behind
    expected = torch.load(release / "yolox_nano.pth", weights_only=True)["model"]
    got = predictor.model.state_dict()
    assert set(got) == set(expected)
    for key, value in expected.items():
        assert torch.equal(got[key].cpu(), value), key
    assert predictor.test_size == (416, 416) and len(predictor.class_names) == 80
    assert predictor.class_names[0] == "person"  # COCO's names, from the official exp
    # the second time comes from the cache: the release may be gone
    (release / "yolox_nano.pth").unlink()
    assert pretrained_weights("yolox_nano", progress=False) == cached


class _Handler(http.server.SimpleHTTPRequestHandler):
    truncate = False

    def log_message(self, *args):  # keep the test output clean
        pass

    def do_GET(self):
        if not self.truncate:
            return super().do_GET()
        data = (Path(self.directory) / self.path.lstrip("/")).read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])  # the connection drops half way
        self.close_connection = True


@pytest.fixture
def serve(release, monkeypatch):
    """Start a loopback HTTP server on the release folder; ``serve(truncate)`` returns its URL."""
    servers = []

    def start(truncate: bool = False) -> str:
        handler = type(
            "Handler",
            (_Handler,),
            {"truncate": truncate, "__init__": _directory_init(str(release))},
        )
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        url = f"http://127.0.0.1:{server.server_address[1]}"
        monkeypatch.setenv("YOLOX_WEIGHTS_URL", url)
        return url

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _directory_init(directory: str):
    def init(self, *args, **kwargs):
        http.server.SimpleHTTPRequestHandler.__init__(self, *args, directory=directory, **kwargs)

    return init


def test_plain_folder_as_url_base(release, tmp_path, monkeypatch):
    monkeypatch.setenv("YOLOX_WEIGHTS_URL", str(release))
    assert pretrained_weights("yolox-nano", progress=False).is_file()


def test_loopback_http_download(serve, tmp_path, capsys):
    serve()
    path = pretrained_weights("yolox-nano", progress=True)
    assert path == tmp_path / "cache" / "yolox_nano.pth"
    verify_pretrained(path, "yolox-nano")
    assert "yolox_nano.pth" in capsys.readouterr().err  # the tqdm progress bar


def test_truncated_download_fails_and_caches_nothing(serve, tmp_path):
    serve(truncate=True)
    with pytest.raises(DownloadError, match="incomplete"):
        pretrained_weights("yolox-nano", progress=False)
    assert cache_files(tmp_path) == []


def test_corrupt_file_fails_and_caches_nothing(release, tmp_path):
    (release / "yolox_nano.pth").write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(DownloadError, match="not a usable yolox-nano checkpoint"):
        pretrained_weights("yolox-nano", progress=False)
    assert cache_files(tmp_path) == []


def test_other_model_weights_are_rejected(release, shared_fixtures, tmp_path):
    release_file(shared_fixtures, "yolox_tiny", release / "yolox_nano.pth")
    with pytest.raises(DownloadError, match="keys or shapes differ") as info:
        pretrained_weights("yolox-nano", progress=False)
    assert "file://" in str(info.value)  # names where it came from, not the temporary file
    assert cache_files(tmp_path) == []


def test_checksum_is_checked_when_pinned(release, tmp_path, monkeypatch):
    digest = hashlib.sha256((release / "yolox_nano.pth").read_bytes()).hexdigest()
    monkeypatch.setitem(pretrained_module.PRETRAINED_SHA256, "yolox-nano", "0" * 64)
    with pytest.raises(DownloadError, match="SHA-256"):
        pretrained_weights("yolox-nano", progress=False)
    assert cache_files(tmp_path) == []
    monkeypatch.setitem(pretrained_module.PRETRAINED_SHA256, "yolox-nano", digest.upper())
    assert pretrained_weights("yolox-nano", progress=False).is_file()


def test_bad_cached_file_is_reported_not_used(release, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "yolox_nano.pth").write_bytes(b"half a file")
    with pytest.raises(DownloadError, match="delete .*yolox_nano.pth to download it again"):
        pretrained_weights("yolox-nano", progress=False)


def test_unknown_name_is_a_clear_error():
    with pytest.raises(Exception, match="no official weights for 'yolox-q'"):
        pretrained_weights("yolox-q")


def test_demo_and_export_take_a_zoo_name(release, tmp_path):
    from yolox.tools.demo import main as demo_main
    from yolox.tools.export_onnx import main as export_main

    image = tmp_path / "img.jpg"
    cv2.imwrite(str(image), np.full((64, 80, 3), 90, np.uint8))
    argv = ["image", "-c", "yolox-nano", "--path", str(image), "--device", "cpu"]
    assert demo_main([*argv, "--tsize", "64"]) == 0
    onnx_file = tmp_path / "nano.onnx"
    pytest.importorskip("onnx")
    code = export_main(["-c", "yolox_nano", "--output-name", str(onnx_file), "--tsize", "64"])
    assert code == 0 and onnx_file.is_file()
    assert cache_files(tmp_path) == ["yolox_nano.pth"]


def test_train_fine_tunes_from_a_zoo_name(release, tmp_path):
    from yolox.tools.train import main

    toy = Path(__file__).resolve().parents[1] / "core" / "toy_exp.py"
    argv = ["-f", str(toy), "-c", "yolox-nano", "-b", "2", "--device", "cpu", "-expn", "ft"]
    assert main([*argv, "output_dir", str(tmp_path / "out"), "max_epoch", "1"]) == 0
    assert cache_files(tmp_path) == ["yolox_nano.pth"]
    log = (tmp_path / "out" / "ft" / "train_log.txt").read_text()
    assert str(tmp_path / "cache" / "yolox_nano.pth") in log


def test_identity_attention_exp_starts_from_the_official_outputs(release):
    """The README recipe: an attention exp with init="identity" loads the official weights and,
    before any step, predicts exactly what the official model predicts."""
    from yolox.exp import get_exp
    from yolox.utils.checkpoint import load_checkpoint, load_model_weights

    weights = load_checkpoint(pretrained_weights("yolox-nano", progress=False))
    baseline = get_exp(None, "yolox-nano").get_model()
    assert load_model_weights(baseline, weights).exact
    exp = get_exp(None, "yolox-nano")
    exp.attention = {"type": "cam", "init": "identity"}
    model = exp.get_model()
    report = load_model_weights(model, weights)
    assert report.missing and all(".attention." in key for key in report.missing)
    assert not report.mismatched and not report.unexpected
    images = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(0)) * 255
    with torch.no_grad():
        expected = baseline.eval()(images)
        got = model.eval()(images)
    torch.testing.assert_close(got, expected, rtol=0, atol=0)
