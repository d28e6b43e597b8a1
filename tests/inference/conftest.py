"""Fixtures of the inference tests: a nano trained on the generated shapes dataset, a fake
official release of the weights."""

from __future__ import annotations

import pytest
import torch

from yolox.testing.fake_release import release_file
from yolox.testing.shapes_training import TrainedShapes, shapes_exp, train_shapes_nano


@pytest.fixture(scope="session")
def trained_synthetic(tmp_path_factory) -> TrainedShapes:
    """The generated dataset at 128 px, its exp and a nano trained on it for 200 steps (top
    validation scores ~0.7); ``with_attention(name)`` gives each attention type fine-tuned from
    it. Export copies of ``base``: exporting changes the head's decoding flag in place."""
    exp = shapes_exp(str(tmp_path_factory.mktemp("synthetic") / "data"))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # session fixtures start before the autouse single_thread
    try:
        return train_shapes_nano(exp, steps=200)
    finally:
        torch.set_num_threads(threads)


@pytest.fixture
def release(tmp_path, shared_fixtures, monkeypatch):
    """A folder holding yolox_nano.pth; the cache under tmp_path; the URL base pointing at it."""
    folder = tmp_path / "release"
    release_file(shared_fixtures, "yolox_nano", folder / "yolox_nano.pth")
    monkeypatch.setenv("YOLOX_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("YOLOX_WEIGHTS_URL", folder.as_uri())
    return folder
