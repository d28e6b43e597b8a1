"""Shared test fixtures: where the read-only shared data lives, and small-thread CPU settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def _env_path(var: str, default_child: str) -> Path | None:
    """A directory named by ``var``, or the sibling default when only YOLOX_SHARED is set."""
    value = os.environ.get(var)
    if value:
        return Path(value).resolve()  # absolute: tests also run tools from other folders
    shared = os.environ.get("YOLOX_SHARED")
    if shared:
        return (Path(shared) / default_child).resolve()
    return None


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """`../shared/datasets`, named by YOLOX_TEST_DATA (or YOLOX_SHARED/datasets); skip otherwise."""
    path = _env_path("YOLOX_TEST_DATA", "datasets")
    if path is None or not path.is_dir():
        pytest.skip("shared datasets not available: set YOLOX_TEST_DATA=../shared/datasets")
    return path


@pytest.fixture(scope="session")
def shared_fixtures() -> Path:
    """`../shared/fixtures`, named by YOLOX_TEST_FIXTURES (or YOLOX_SHARED/fixtures); skip otherwise."""
    path = _env_path("YOLOX_TEST_FIXTURES", "fixtures")
    if path is None or not path.is_dir():
        pytest.skip("official fixtures not available: set YOLOX_TEST_FIXTURES=../shared/fixtures")
    return path


# Test folders of small-model inference and tool runs: one intra-op thread there, because two
# spinning OpenMP threads on a shared, loaded 2-core machine make these models several times
# slower. Results must not depend on it (other folders run with the default).
ONE_THREAD_FOLDERS = ("inference", "deploy", "tools")


@pytest.fixture(autouse=True)
def single_thread(request):
    if request.path.parent.name not in ONE_THREAD_FOLDERS:
        yield
        return
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def trained_synthetic(tmp_path_factory):
    """The generated dataset at 128 px, its exp and a nano trained on it for 200 steps (top
    validation scores ~0.7); ``with_attention(name)`` gives each attention type fine-tuned from
    it. Export copies of ``base``: exporting changes the head's decoding flag in place. Shared
    by tests/inference (bf16) and tests/deploy (int8 agreement)."""
    import torch

    from yolox.testing.shapes_training import shapes_exp, train_shapes_nano

    exp = shapes_exp(str(tmp_path_factory.mktemp("synthetic") / "data"))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # session fixtures start before the autouse single_thread
    try:
        return train_shapes_nano(exp, steps=200)
    finally:
        torch.set_num_threads(threads)
