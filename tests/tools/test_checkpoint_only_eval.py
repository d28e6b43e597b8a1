"""Checkpoint-only eval finds the data the run trained on; eval workers fit the machine (21.5)."""

from __future__ import annotations

import shutil

import pytest
import torch
from loguru import logger

import yolox.tools.eval as eval_tool
from yolox.testing.name_layouts import write_layout_exp as _exp_file
from yolox.tools.train import main as train_main


@pytest.fixture
def trained(tmp_path):
    exp = _exp_file(tmp_path, "yolo_names_file")
    assert train_main(["-f", str(exp), "-b", "2", "--device", "cpu", "max_epoch", "1"]) == 0
    return tmp_path / "out" / "run" / "best_ckpt.pth"


def _evaluate(argv):
    args = eval_tool.make_parser().parse_args(argv)
    exp = eval_tool.prepare_exp(args)
    return exp, eval_tool.evaluate(exp, args, 1)


def test_checkpoint_only_eval_uses_the_stored_data_and_reproduces_the_training_ap(
    trained, tmp_path
):
    lines: list = []
    sink = logger.add(lambda m: lines.append(str(m)), level="INFO")
    try:
        exp, result = _evaluate(["-c", str(trained), "-b", "2", "--device", "cpu"])
    finally:
        logger.remove(sink)
    data = str(tmp_path / "data")
    assert exp.data_dir == data and exp.dataset_format == "yolo"
    assert any(f"evaluating on {data} (yolo)" in line for line in lines)
    stored = torch.load(trained, weights_only=True)
    assert stored["inference"]["data_dir"] == data
    assert result["ap50_95"] == pytest.approx(stored["curr_ap"], abs=1e-9)


def test_data_dir_overrides_and_a_moved_dataset_is_a_clear_error(trained, tmp_path, capsys):
    moved = tmp_path / "moved"
    shutil.move(str(tmp_path / "data"), moved)
    code = eval_tool.main(["-c", str(trained), "-b", "2", "--device", "cpu"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert f"trained on the data in {tmp_path / 'data'}, which does not exist here" in err[0]
    assert "--data-dir" in err[0]
    exp, result = _evaluate(["-c", str(trained), "-b", "2", "--data-dir", str(moved)])
    assert exp.data_dir == str(moved) and result["ap50_95"] >= 0.0


@pytest.mark.parametrize("cpus, expected", [(2, 2), (1, 1), (16, 4)])
def test_eval_loader_workers_default_to_what_the_machine_has(monkeypatch, cpus, expected):
    monkeypatch.setattr(eval_tool, "usable_cpus", lambda: cpus)
    args = eval_tool.make_parser().parse_args(["-n", "yolox-nano"])
    assert eval_tool.prepare_exp(args).data_num_workers == expected  # the exp says 4
    args = eval_tool.make_parser().parse_args(["-n", "yolox-nano", "--workers", "3"])
    assert eval_tool.prepare_exp(args).data_num_workers == 3
