"""The experiment tracker is chosen by name; a missing package or an unknown name is one clear line."""

import importlib.util

import pytest

from yolox.core.trackers import NullTracker, build_tracker
from yolox.utils.cli_args import LOGGERS
from yolox.utils.errors import UserError


def test_an_unknown_tracker_lists_the_known_ones(tmp_path):
    with pytest.raises(UserError) as caught:
        build_tracker("comet", str(tmp_path), "run", {})
    message = str(caught.value)
    assert "'comet'" in message and all(name in message for name in LOGGERS)


def test_a_tracker_whose_package_is_missing_says_what_to_install(tmp_path, monkeypatch):
    real = importlib.util.find_spec

    def without_wandb(name, *args):
        return None if name == "wandb" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", without_wandb)
    with pytest.raises(UserError, match="pip install wandb"):
        build_tracker("WandB", str(tmp_path), "run", {})


def test_ranks_other_than_zero_write_nothing(tmp_path):
    tracker = build_tracker("tensorboard", str(tmp_path / "tb"), "run", {}, rank=1)
    assert isinstance(tracker, NullTracker)
    assert not (tmp_path / "tb").exists()
