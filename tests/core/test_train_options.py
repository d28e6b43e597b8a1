"""TrainOptions: the Trainer's declared options, checked once, made from the train parser."""

from __future__ import annotations

import argparse
import dataclasses
import warnings

import pytest
from toy_exp import Exp as ToyExp
from toy_exp import make_args

from yolox.core.train_args import make_train_parser
from yolox.core.train_options import TrainOptions
from yolox.core.trainer import Trainer
from yolox.utils.cli_args import parse_command_line
from yolox.utils.errors import UserError


@pytest.mark.parametrize(
    "change, flag",
    [
        ({"batch_size": 0}, "-b/--batch-size"),
        ({"batch_size": 2.5}, "-b/--batch-size"),
        ({"save_interval": -1}, "--save-interval"),
        ({"start_epoch": 0}, "-e/--start_epoch"),
        ({"devices": 0}, "-d/--devices"),
        ({"precision": "fp8"}, "--precision"),
        ({"cache": "gpu"}, "--cache"),
        ({"logger": "csv"}, "-l/--logger"),
        ({"dist_timeout": 0}, "--dist-timeout"),
        ({"dist_timeout": float("inf")}, "--dist-timeout"),
        ({"num_machines": 0}, "--num_machines"),
        ({"fp16": "yes"}, "--fp16"),
        ({"resume": 1}, "--resume"),
        ({"opts": "max_epoch 3"}, "KEY VALUE overrides"),
        ({"machine_rank": 1}, "--machine_rank"),
    ],
)
def test_a_bad_value_is_a_one_line_error_naming_the_flag(change, flag):
    with pytest.raises(UserError) as caught:
        TrainOptions(**change)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(flag)
    assert repr(next(iter(change.values()))) in message or "machine" in message


def test_good_values_are_kept():
    options = TrainOptions(batch_size=8, logger="WandB", cache="disk", opts=("max_epoch", "3"))
    assert (options.batch_size, options.logger, options.cache) == (8, "WandB", "disk")
    assert options.opts == ["max_epoch", "3"]
    assert TrainOptions().opts is not TrainOptions().opts  # no shared mutable default


def test_the_parser_defaults_are_the_declared_defaults():
    parsed = make_train_parser().parse_args([])
    assert TrainOptions.from_namespace(parsed) == TrainOptions()
    for option in dataclasses.fields(TrainOptions):  # None on the parser = "not given"
        value = getattr(parsed, option.name)
        assert value is None or value == getattr(TrainOptions(), option.name), option.name


@pytest.mark.parametrize("argv", [["-f", "x.py"], ["-f", "x.py", "max_epoch", "2", "-b", "8"]])
def test_the_train_command_line_parses_without_warnings(argv):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parsed = parse_command_line(make_train_parser(), argv)
    assert TrainOptions.from_namespace(parsed).opts == argv[2:4]


def test_every_flag_of_the_train_parser_is_a_declared_option():
    dests = {a.dest for a in make_train_parser()._actions if a.dest != "help"}
    assert dests == {option.name for option in dataclasses.fields(TrainOptions)}


def test_a_full_command_line_converts_value_for_value():
    argv = [
        *("-f", "exp.py", "-n", "yolox-s", "-expn", "run", "-b", "8", "-d", "2"),
        *("--dist-backend", "gloo", "--dist-url", "tcp://h:1", "--dist-timeout", "60"),
        *("--resume", "-c", "w.pth", "-e", "3", "--num_machines", "2", "--machine_rank", "1"),
        *("--fp16", "--precision", "bf16", "--cache", "-o", "-l", "mlflow", "--device", "cpu"),
        *("--save-interval", "5", "--sync-bn", "--strict", "max_epoch", "4"),
    ]
    namespace = parse_command_line(make_train_parser(), argv)
    options = TrainOptions.from_namespace(namespace)
    assert dataclasses.asdict(options) == vars(namespace)
    assert options.cache == "ram" and options.opts == ["max_epoch", "4"]


def test_an_unknown_option_in_a_namespace_is_named():
    with pytest.raises(UserError, match="unknown training option 'max_epoch'") as caught:
        TrainOptions.from_namespace(argparse.Namespace(batch_size=2, max_epoch=1))
    assert "\n" not in str(caught.value)
    with pytest.raises(UserError, match="got int"):
        TrainOptions.from_namespace(3)


def test_the_trainer_converts_a_namespace_once_at_its_entry(tmp_path):
    exp = ToyExp()
    exp.output_dir = str(tmp_path)
    trainer = Trainer(exp, make_args("run", save_interval=3))  # a partial namespace
    assert trainer.args == TrainOptions(
        batch_size=2, device="cpu", experiment_name="run", save_interval=3
    )
    assert Trainer(exp, trainer.args).args is trainer.args  # TrainOptions pass through as given
    with pytest.raises(UserError, match="'max_epoch'"):
        Trainer(exp, make_args("run", max_epoch=1))  # an exp field is no training option
    with pytest.raises(UserError, match="-b/--batch-size must be an integer >= 1, got 0"):
        Trainer(exp, make_args("run", batch_size=0))


def test_the_train_command_checks_its_options_first(tmp_path, capsys):
    from yolox.tools.train import main

    missing = str(tmp_path / "no_such_exp.py")  # never read: the options are checked first
    assert main(["-f", missing, "--device", "cpu", "--dist-timeout", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("--dist-timeout must be a finite number > 0, got 0.0")
    assert "\n" not in err
