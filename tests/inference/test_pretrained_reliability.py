"""Weights cache faults (issue 18.10, 21.8): killed downloads, offline runs, a folder named
like a model."""

from __future__ import annotations

import os
import time

import pytest
from loguru import logger

from yolox.inference.pretrained import pretrained_name, pretrained_weights
from yolox.testing.fake_release import cache_files
from yolox.tools.train import main as train_main
from yolox.utils.download import DownloadError


def test_a_killed_downloads_part_files_are_removed_at_next_use(release, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    stale = cache / ".yolox_nano.pth.k1ll3d.part"
    stale.write_bytes(b"half a download")
    hour_ago = time.time() - 3600
    os.utime(stale, (hour_ago, hour_ago))
    active = cache / ".yolox_nano.pth.4ct1v3.part"  # another process downloading right now
    active.write_bytes(b"in progress")
    assert pretrained_weights("yolox-nano", progress=False).is_file()
    assert not stale.exists() and active.exists()
    assert cache_files(tmp_path) == [active.name, "yolox_nano.pth"]


def test_offline_leaves_no_empty_cache_folder(tmp_path, monkeypatch):
    home = tmp_path / "home" / ".cache" / "yolox"
    monkeypatch.setenv("YOLOX_HOME", str(home))
    monkeypatch.setenv("YOLOX_WEIGHTS_URL", str(tmp_path / "no_such_mirror"))
    with pytest.raises(DownloadError, match="offline"):
        pretrained_weights("yolox-s", progress=False)
    assert not (tmp_path / "home").exists()


def test_a_folder_named_like_a_model_says_both_matched_and_uses_the_weights(
    release,
    tmp_path,
    monkeypatch,
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "yolox-nano").mkdir()
    lines: list = []
    sink = logger.add(lambda m: lines.append(str(m)), level="WARNING")
    try:
        assert pretrained_name("yolox-nano") == "yolox-nano"
    finally:
        logger.remove(sink)
    said = " ".join(lines)
    assert "both a folder" in said and "using the official yolox-nano weights" in said
    (tmp_path / "yolox-s").write_bytes(b"")
    assert pretrained_name("yolox-s") is None  # an existing file still wins


def test_train_with_a_model_named_folder_in_cwd_does_not_say_checkpoint_not_found(
    release,
    tmp_path,
    monkeypatch,
    capsys,
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "yolox-nano").mkdir()
    # -e without --resume fails right after -c is resolved: no training starts
    code = train_main(["-n", "yolox-nano", "-c", "yolox-nano", "-e", "2", "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 2 and "checkpoint not found" not in err and "--start_epoch 2" in err
    assert cache_files(tmp_path) == ["yolox_nano.pth"]
