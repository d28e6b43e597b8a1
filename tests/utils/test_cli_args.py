"""Command-line parsing shared by the tools: overrides anywhere, size flags, --local_rank."""

from __future__ import annotations

import argparse
import os

import pytest

from yolox.core.train_args import make_train_parser
from yolox.utils.cli_args import add_overrides_arg, add_size_arg, parse_command_line
from yolox.utils.values import arg_type, integer


def _eval_like_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser("t")
    parser.add_argument("-f")
    parser.add_argument("--backend", default="torch")
    add_size_arg(parser)
    add_overrides_arg(parser)
    return parser


def test_overrides_may_come_before_between_and_after_flags():
    args = parse_command_line(
        _eval_like_parser(), ["val_ann", "a.json", "-f", "e.py", "seed", "1", "--backend", "x"]
    )
    assert args.f == "e.py" and args.backend == "x"
    assert args.opts == ["val_ann", "a.json", "seed", "1"]


@pytest.mark.parametrize(
    ("argv", "tsize", "opts"),
    [
        (["--tsize", "256", "val_sets", "val"], [256], ["val_sets", "val"]),
        (["--tsize", "256", "320", "seed", "3"], [256, 320], ["seed", "3"]),
        (["seed", "3", "--tsize", "224", "--backend", "y"], [224], ["seed", "3"]),
    ],
)
def test_a_size_flag_keeps_only_its_leading_integers(argv, tsize, opts):
    args = parse_command_line(_eval_like_parser(), argv)
    assert args.tsize == tsize and args.opts == opts


def test_a_size_flag_without_an_integer_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        parse_command_line(_eval_like_parser(), ["--tsize", "big"])
    assert exc.value.code == 2 and "expected an integer size, got 'big'" in capsys.readouterr().err


def test_local_rank_flag_of_torch_distributed_launch_fills_the_environment(monkeypatch):
    monkeypatch.delenv("LOCAL_RANK", raising=False)
    args = parse_command_line(make_train_parser(), ["--local-rank=1", "-f", "x.py"])
    assert args.exp_file == "x.py" and os.environ["LOCAL_RANK"] == "1"
    monkeypatch.setenv("LOCAL_RANK", "0")  # a launcher's variable wins
    parse_command_line(make_train_parser(), ["--local_rank", "3"])
    assert os.environ["LOCAL_RANK"] == "0"


def test_flag_values_are_checked_by_the_same_rules_as_exp_fields():
    parse = arg_type(integer(1))
    assert parse("3") == 3
    for bad in ("0", "-3", "abc", "2.5"):
        with pytest.raises(argparse.ArgumentTypeError, match="must be an integer >= 1"):
            parse(bad)
