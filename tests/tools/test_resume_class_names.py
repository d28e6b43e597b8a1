"""``--resume`` and re-runs into the same folder, for every way an exp gets its class names.

Names taken from the data are only known once the dataset is read; the output-folder guard
must not compare the checkpoint's names with "not bound yet" (issue 18.1), and must still
refuse a folder whose checkpoints were trained on other names.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from yolox.testing.name_layouts import LAYOUTS
from yolox.testing.name_layouts import write_layout_exp as _exp_file
from yolox.tools.train import main


def _stored(tmp_path: Path) -> dict:
    return torch.load(tmp_path / "out" / "run" / "latest_ckpt.pth", weights_only=True)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_resume_and_rerun_work_for_every_way_of_giving_class_names(tmp_path, layout, capsys):
    exp = str(_exp_file(tmp_path, layout))
    common = ["-f", exp, "-b", "2", "--device", "cpu"]
    assert main([*common, "max_epoch", "1"]) == 0, capsys.readouterr().err
    first = _stored(tmp_path)
    assert tuple(first["model_config"]["class_names"]) == LAYOUTS[layout][1]
    assert main([*common, "--resume", "max_epoch", "2"]) == 0, capsys.readouterr().err
    resumed = _stored(tmp_path)
    assert resumed["start_epoch"] == 2 and resumed["iteration"] == 2  # continued, not restarted
    assert main([*common, "max_epoch", "1"]) == 0, capsys.readouterr().err  # same folder again
    assert _stored(tmp_path)["start_epoch"] == 1


def test_a_folder_trained_on_other_names_from_the_data_is_still_refused(tmp_path, capsys):
    exp = str(_exp_file(tmp_path, "yolo_names_file"))
    common = ["-f", exp, "-b", "2", "--device", "cpu", "max_epoch", "1"]
    assert main(common) == 0
    before = (tmp_path / "out" / "run" / "latest_ckpt.pth").read_bytes()
    (tmp_path / "data" / "classes.txt").write_text("cat\ndog\n")
    assert main(common) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert re.search(r"another model .*\['rect', 'circle'\] there vs \['cat', 'dog'\] now", err)
    assert "None now" not in err
    assert (tmp_path / "out" / "run" / "latest_ckpt.pth").read_bytes() == before
