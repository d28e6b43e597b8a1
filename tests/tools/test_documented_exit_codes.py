"""Exit 2 and one line where the docs promise it (issue 18.10)."""

from __future__ import annotations

from pathlib import Path

import pytest

from yolox.testing.data_files import write_yolo
from yolox.testing.fixtures import make_model, save_model_checkpoint, write_exp, write_image
from yolox.tools.demo import main as demo_main
from yolox.tools.eval import main as eval_main
from yolox.tools.train import main as train_main

TOY = str(Path(__file__).resolve().parents[1] / "core" / "toy_exp.py")


def _one_line(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_training_where_every_image_is_unreadable_exits_2(tmp_path, capsys):
    entries = [(f"i{k}", b"not an image at all", (64, 64), [(0, 8, 8, 40, 40)]) for k in range(3)]
    write_yolo(tmp_path / "data", "train", entries)
    write_yolo(tmp_path / "data", "val", entries)
    exp = write_exp(
        tmp_path / "e.py",
        f"""self.dataset_format = 'yolo'
self.data_dir = {str(tmp_path / "data")!r}
self.train_sets = ('train',)
self.val_sets = ('val',)
self.num_classes = 1
self.input_size = self.test_size = (64, 64)
self.data_num_workers = 0
self.output_dir = {str(tmp_path / "out")!r}""",
    )
    assert train_main(["-f", str(exp), "-b", "2", "--device", "cpu"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "non-empty dataset" in err[-1] and "Traceback" not in "\n".join(err)


@pytest.mark.parametrize("tool", ["train", "eval", "demo"])
def test_an_unknown_device_is_a_usage_error(tool, tmp_path, capsys):
    """The parser checks --device (one check, add_device_arg): exit 2 before any work."""
    with pytest.raises(SystemExit) as info:
        if tool == "train":
            train_main(["-f", TOY, "-b", "2", "--device", "foo", "output_dir", str(tmp_path)])
        else:
            model, cfg = make_model(None)
            ckpt = save_model_checkpoint(tmp_path / "m.pth", model, cfg)
            if tool == "eval":
                eval_main(["-c", str(ckpt), "--data-dir", str(tmp_path), "--device", "foo"])
            else:
                image = write_image(tmp_path / "a.jpg")
                demo_main(["image", "-c", str(ckpt), "--path", str(image), "--device", "foo"])
    assert info.value.code == 2
    assert "argument --device: 'foo' is not a device" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["-b", "0"], ["-b", "-3"], ["--workers", "-1"]])
def test_eval_rejects_batch_sizes_below_one(argv, capsys):
    with pytest.raises(SystemExit) as info:
        eval_main(["-c", "x.pth", *argv])
    assert info.value.code == 2
    assert "must be an integer" in capsys.readouterr().err


@pytest.mark.parametrize("tool", ["demo", "eval"])
@pytest.mark.parametrize("flag, value", [("--conf", "2.0"), ("--conf", "-1"), ("--nms", "1.5")])
def test_thresholds_outside_0_1_are_rejected_by_demo_and_eval(tool, flag, value, capsys):
    with pytest.raises(SystemExit) as info:
        if tool == "demo":
            demo_main(["image", "-c", "x.pth", flag, value])
        else:
            eval_main(["-c", "x.pth", flag, value])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {flag}: must be a finite number >= 0.0 and <= 1.0" in err
