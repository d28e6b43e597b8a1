"""One set of CLI flags (issue 19.4): each flag defined once, the same default and check in every
tool, and the official YOLOX command lines parse as official YOLOX parses them."""

from __future__ import annotations

import argparse
import ast
import importlib
import re
from pathlib import Path

import pytest

from yolox.utils import cli_args
from yolox.utils.cli_args import parse_command_line

PACKAGE = Path(__file__).resolve().parents[2] / "yolox"

#: every tool module with a make_parser (the train parser is yolox.core.train_args's)
TOOLS = (
    "ablate",
    "bench",
    "check_data",
    "demo",
    "eval",
    "export_onnx",
    "export_openvino",
    "export_torchscript",
    "train",
    "visualize_attention",
)

#: option strings that name different things in different tools, each defined once per meaning
HOMONYMS = {
    "-o": "train --occupy and export_onnx --opset, both official YOLOX",
    "--output-dir": "where each tool writes (demo results, bench tables, a study, maps)",
    "--path": "demo's image/folder/video, visualize_attention's one image",
}


def _parser(tool: str) -> argparse.ArgumentParser:
    return importlib.import_module(f"yolox.tools.{tool}").make_parser()


def _flag_definitions() -> dict:
    """Option string -> every ``add_argument`` call in the package that defines it."""
    found: dict = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (
                isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_argument"
            ):
                continue
            for arg in node.args:
                if isinstance(arg, ast.Constant) and str(arg.value).startswith("-"):
                    where = f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
                    found.setdefault(arg.value, []).append(where)
    return found


def test_each_flag_is_defined_in_one_place():
    twice = {
        flag: places
        for flag, places in _flag_definitions().items()
        if len(places) > 1 and flag not in HOMONYMS
    }
    assert not twice, "flags defined more than once (use a builder of yolox.utils.cli_args):\n" + (
        "\n".join(f"{flag}: {', '.join(places)}" for flag, places in sorted(twice.items()))
    )


def _actions(parser: argparse.ArgumentParser) -> dict:
    return {opt: action for action in parser._actions for opt in action.option_strings}


@pytest.mark.parametrize("tool", TOOLS)
def test_every_tool_takes_its_shared_flags_from_the_builders(tool):
    """Same default, type and choices as the builder's own parser: the flag came from it."""
    reference = argparse.ArgumentParser()
    cli_args.add_exp_args(reference)
    cli_args.add_dist_args(reference)
    cli_args.add_device_arg(reference)
    cli_args.add_logger_arg(reference)
    shared = _actions(reference)
    actions = _actions(_parser(tool))
    for flag in ("--device", "-f", "-n", "-c", "-expn", "-d", "--dist-backend", "--logger"):
        if flag not in actions:
            continue
        ours, built = actions[flag], shared[flag]
        assert (ours.dest, ours.type, ours.choices) == (built.dest, built.type, built.choices), (
            tool,
            flag,
        )
        assert ours.option_strings == built.option_strings, (tool, flag)
    if "--device" in actions:  # one default rule: auto = CUDA when available, else CPU
        assert actions["--device"].default == "auto", tool
    assert "--static" not in actions or actions["--static"].help == argparse.SUPPRESS


@pytest.mark.parametrize("tool", [t for t in TOOLS if t not in ("check_data",)])
def test_every_tool_but_check_data_chooses_a_device(tool):
    assert "--device" in _actions(_parser(tool)), tool


@pytest.mark.parametrize("tool", ["train", "ablate"])
def test_logger_is_checked_by_the_parser(tool, capsys):
    argv = ["-l", "comet"] + (["-f", "e.py", "--variants", "none"] if tool == "ablate" else [])
    with pytest.raises(SystemExit) as info:
        parse_command_line(_parser(tool), argv)
    assert info.value.code == 2
    assert "argument -l/--logger: invalid choice: 'comet'" in capsys.readouterr().err
    assert parse_command_line(_parser(tool), [*argv[2:], "-l", "WandB"]).logger == "wandb"


# Official YOLOX v0.3.0 habits, with what official's own parser makes of each flag.
OFFICIAL_HABITS = [
    (
        "train",
        "-f exps/default/yolox_s.py -d 1 -b 64 --fp16 -c yolox_s.pth",
        {
            "exp_file": "exps/default/yolox_s.py",
            "devices": 1,
            "batch_size": 64,
            "fp16": True,
            "ckpt": "yolox_s.pth",
            "resume": False,
            "opts": [],
        },
    ),
    (
        "train",
        "-n yolox-s -d 8 -b 64 --fp16 -o --cache --resume -e 10 -c last.pth max_epoch 20",
        {
            "name": "yolox-s",
            "devices": 8,
            "occupy": True,
            "cache": "ram",
            "resume": True,
            "start_epoch": 10,
            "opts": ["max_epoch", "20"],
        },
    ),
    (
        "train",
        "-f e.py -b 64 --dist-url tcp://10.0.0.1:12312 --num_machines 2 --machine_rank 1 -l wandb",
        {
            "dist_url": "tcp://10.0.0.1:12312",
            "num_machines": 2,
            "machine_rank": 1,
            "logger": "wandb",
            "dist_backend": "auto",
        },
    ),
    (
        "eval",
        "-f exps/default/yolox_s.py -c yolox_s.pth -b 64 -d 1 --conf 0.001 --fuse",
        {
            "exp_file": "exps/default/yolox_s.py",
            "ckpt": "yolox_s.pth",
            "batch_size": 64,
            "devices": 1,
            "conf": 0.001,
            "fuse": True,
            "fp16": False,
        },
    ),
    (
        "eval",
        "-n yolox-s -c yolox_s.pth -b 64 -d 8 --conf 0.001 --fp16 --fuse --tsize 640 --seed 3",
        {"name": "yolox-s", "devices": 8, "fp16": True, "tsize": [640], "seed": 3},
    ),
    (
        "demo",
        "image -n yolox-s -c yolox_s.pth --path assets/dog.jpg --conf 0.25 --nms 0.45 "
        "--tsize 640 --save_result --device cpu",
        {
            "demo": "image",
            "name": "yolox-s",
            "ckpt": "yolox_s.pth",
            "path": "assets/dog.jpg",
            "conf": 0.25,
            "nms": 0.45,
            "tsize": [640],
            "save_result": True,
            "device": "cpu",
        },
    ),
    (
        "demo",
        "video -f exps/default/yolox_s.py -c yolox_s.pth --path clip.mp4 --fp16 --fuse "
        "--save_result --device gpu",
        {"demo": "video", "fp16": True, "fuse": True, "device": "gpu"},
    ),
    (
        "export_onnx",
        "--output-name yolox_s.onnx -n yolox-s -c yolox_s.pth --dynamic --no-onnxsim",
        {
            "output_name": "yolox_s.onnx",
            "name": "yolox-s",
            "ckpt": "yolox_s.pth",
            "dynamic": True,
            "no_onnxsim": True,
            "batch_size": 1,
            "opset": None,
        },
    ),
    (
        "export_onnx",
        "--output-name m.onnx -f e.py -c m.pth --decode_in_inference -o 13 --batch-size 2 "
        "--input images --output output",
        {
            "decode_in_inference": True,
            "opset": 13,
            "batch_size": 2,
            "dynamic": False,
            "input": "images",
            "output": "output",
        },
    ),
    (
        "export_torchscript",
        "--output-name yolox_s.torchscript.pt -n yolox-s -c yolox_s.pth",
        {"output_name": "yolox_s.torchscript.pt", "name": "yolox-s", "batch_size": 1},
    ),
]


@pytest.mark.parametrize(("tool", "line", "expected"), OFFICIAL_HABITS)
def test_official_command_lines_parse_as_official_yolox_parses_them(tool, line, expected):
    args = parse_command_line(_parser(tool), line.split())
    assert {key: getattr(args, key) for key in expected} == expected


def test_the_openvino_exporter_has_the_onnx_exporters_polarity(tmp_path, capsys):
    from yolox.tools.export_openvino import main

    static = parse_command_line(_parser("export_openvino"), ["-c", "m.pth"])
    dynamic = parse_command_line(_parser("export_openvino"), ["-c", "m.pth", "--dynamic"])
    onnx = parse_command_line(_parser("export_onnx"), ["-c", "m.pth"])
    assert (static.dynamic, dynamic.dynamic, onnx.dynamic) == (False, True, False)
    # the earlier spelling still parses (hidden from --help) and says once that it is deprecated
    assert "--static" not in _parser("export_openvino").format_help()
    argv = ["-c", str(tmp_path / "missing.pth"), "--output-name", str(tmp_path / "m.xml")]
    assert main([*argv, "--static"]) == 2  # the missing checkpoint, after the warning
    err = capsys.readouterr().err
    assert err.count("--static is deprecated") == 1 and "checkpoint" in err
    assert main([*argv, "--static", "--dynamic"]) == 2
    assert "--static and --dynamic contradict each other" in capsys.readouterr().err


def test_sizes_are_checked_by_the_parser(capsys):
    with pytest.raises(SystemExit) as info:
        parse_command_line(_parser("eval"), ["-c", "x.pth", "--tsize", "100"])
    assert info.value.code == 2
    assert "--tsize: sizes must be positive multiples of 32, got 100" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("tool", "argv", "message"),
    [
        (
            "export_onnx",
            ["--int8", "--calib-images", "0"],
            "--calib-images: must be an integer >= 1",
        ),
        ("export_openvino", ["--speed-runs", "0"], "--speed-runs: must be an integer >= 1"),
        ("bench", ["--deploy", "--calib-images", "-2"], "--calib-images: must be an integer >= 1"),
        ("export_torchscript", ["-b", "0"], "-b/--batch-size: must be an integer >= 1"),
        ("eval", ["-d", "0"], "-d/--devices: must be an integer >= 1"),
        ("train", ["--num_machines", "0"], "--num_machines: must be an integer >= 1"),
        ("train", ["--dist-backend", "nccI"], "--dist-backend: invalid choice: 'nccI'"),
        ("ablate", ["-f", "e.py", "--variants", "se", "--latency-runs", "0"], "must be an integer"),
        ("bench", ["--runs", "0"], "--runs: must be an integer >= 1"),
        ("visualize_attention", ["--alpha", "2"], "--alpha: must be a finite number >= 0.0"),
    ],
)
def test_values_are_checked_by_the_parser_the_same_way_in_every_tool(tool, argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        parse_command_line(_parser(tool), argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


DOCS = ("README.md", "docs/*.md", "datasets/README.md", "benchmarks/*.md")


def _documented_command_lines():
    """Every ``python tools/X.py ...`` of the docs (continuations joined, ``[optional]`` parts
    kept, placeholders with ``|`` or ``...`` left out), as (doc, tool, argv)."""
    import shlex

    root = PACKAGE.parent
    found = []
    for pattern in DOCS:
        for doc in sorted(root.glob(pattern)):
            text = doc.read_text().replace("\\\n", " ")
            for tool, rest in re.findall(r"python tools/(\w+)\.py([^`\n#]*)", text):
                if tool in ("onnx_inference", "X") or "|" in rest or "..." in rest:
                    continue
                line = re.sub(r"\[([^\]]*)\]", r"\1", rest)
                found.append((doc.name, tool, shlex.split(line)))
    return found


def test_the_documented_command_lines_parse():
    lines = _documented_command_lines()
    assert len(lines) > 30 and {tool for _, tool, _ in lines} >= {"train", "check_data"}
    for doc, tool, argv in lines:
        try:
            parse_command_line(_parser(tool), argv)
        except SystemExit as exc:
            raise AssertionError(f"{doc}: python tools/{tool}.py {' '.join(argv)}") from exc
