"""Fixtures of the inference tests: a fake official release of the weights."""

from __future__ import annotations

import pytest

from yolox.testing.fake_release import release_file


@pytest.fixture
def release(tmp_path, shared_fixtures, monkeypatch):
    """A folder holding yolox_nano.pth; the cache under tmp_path; the URL base pointing at it."""
    folder = tmp_path / "release"
    release_file(shared_fixtures, "yolox_nano", folder / "yolox_nano.pth")
    monkeypatch.setenv("YOLOX_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("YOLOX_WEIGHTS_URL", folder.as_uri())
    return folder
