"""The ablation runner hands the trainer TrainOptions it builds itself, not a parsed argv."""

from __future__ import annotations

import argparse

from yolox.ablation.plan import RunKey, Variant
from yolox.ablation.runner import StudyConfig, _train_args
from yolox.core.train_args import make_train_parser
from yolox.core.train_options import TrainOptions
from yolox.utils.cli_args import parse_command_line


def _config(tmp_path) -> StudyConfig:
    return StudyConfig(
        str(tmp_path / "exp.py"),
        [Variant("none", None)],
        [0],
        str(tmp_path / "study"),
        opts=["max_epoch", "2"],
        batch_size=8,
        device="cpu",
        fp16=True,
        tracker="mlflow",
        ckpt=str(tmp_path / "start.pth"),
    )


def _as_train_py_would(argv) -> TrainOptions:
    """The reference: what ``tools/train.py`` makes of the same request."""
    return TrainOptions.from_namespace(parse_command_line(make_train_parser(), argv))


def test_runner_builds_the_options_train_py_would(tmp_path, monkeypatch):
    config = _config(tmp_path)
    key = RunKey(Variant("none", None), 0)
    common = ["-f", config.exp_file, "-expn", key.name, "-b", "8", "-l", "mlflow"]
    common += ["--device", "cpu", "--fp16", "max_epoch", "2"]
    want_fresh = _as_train_py_would(common + ["-c", config.ckpt])
    want_resumed = _as_train_py_would(common + ["--resume"])  # its own latest, not -c

    def refuse(*args, **kwargs):
        raise AssertionError("the ablation runner parsed a command line")

    monkeypatch.setattr(argparse.ArgumentParser, "parse_known_args", refuse)
    fresh = _train_args(config, key, resume=False)
    resumed = _train_args(config, key, resume=True)
    assert isinstance(fresh, TrainOptions) and isinstance(resumed, TrainOptions)
    assert fresh == want_fresh
    assert resumed == want_resumed
