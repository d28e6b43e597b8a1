"""The command line of every tool: one error path, value checks, overrides anywhere.

Each case runs the real command in a subprocess and checks the exit status and the message:
a user error is one ``prog: error: ...`` message with exit status 2 and no traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
TOY = str(ROOT / "tests" / "core" / "toy_exp.py")


def _run(*argv: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def _user_error(proc: subprocess.CompletedProcess, prog: str, *needles: str) -> str:
    """Assert a one-message user error (status 2, no traceback, no DEBUG line); returns it."""
    assert proc.returncode == 2, proc.stderr[-3000:]
    err = proc.stderr
    assert "Traceback" not in err and "DEBUG" not in err, err[-3000:]
    message = err.split(f"{prog}: error: ", 1)[1] if f"{prog}: error: " in err else err
    for needle in needles:
        assert needle in message, err[-3000:]
    return message


BAD_VALUES = [
    ("max_epoch", "abc", "max_epoch must be an integer >= 1, got 'abc'"),
    ("no_aug_epochs", "-1", "no_aug_epochs must be an integer >= 0, got -1"),
    ("warmup_epochs", "x", "warmup_epochs must be a finite number >= 0.0, got 'x'"),
    ("print_interval", "2.5", "print_interval: expected an integer, got '2.5'"),
    ("basic_lr_per_img", "nan", "basic_lr_per_img must be a finite number > 0.0"),
    ("test_conf", "1.5", "test_conf must be a finite number >= 0.0 and <= 1.0, got 1.5"),
    ("input_size", "(100, 100)", "input_size must be (height, width), positive multiples of 32"),
    ("ema_decay", "2", "ema_decay must be a finite number > 0.0 and <= 1.0, got 2"),
]


def test_bad_exp_values_are_one_line_errors_listing_each():
    overrides = [text for key, value, _ in BAD_VALUES for text in (key, value)]
    proc = _run("tools/train.py", "-f", TOY, "--device", "cpu", *overrides)
    _user_error(proc, "train", *(needle for _, _, needle in BAD_VALUES))
    for value in ("0", "-1"):
        proc = _run("tools/train.py", "-f", TOY, "max_epoch", value)
        _user_error(proc, "train", f"max_epoch must be an integer >= 1, got {value}")


def test_start_epoch_checked_by_range_and_needs_resume(tmp_path):
    proc = _run("tools/train.py", "-f", TOY, "--resume", "-e", "-3", "output_dir", str(tmp_path))
    assert proc.returncode == 2
    assert "argument -e/--start_epoch: must be an integer >= 1, got '-3'" in proc.stderr
    proc = _run("tools/train.py", "-f", TOY, "-e", "2", "output_dir", str(tmp_path))
    _user_error(proc, "train", "-e/--start_epoch 2 only applies with --resume")
    proc = _run("tools/train.py", "-f", TOY, "-b", "0")
    assert proc.returncode == 2 and "--batch-size: must be an integer >= 1" in proc.stderr


def test_unknown_attention_in_train_is_one_line(tmp_path):
    proc = _run("tools/train.py", "-n", "yolox-nano", "--device", "cpu", "-b", "2",
                "output_dir", str(tmp_path), "attention", "foo")  # fmt: skip
    _user_error(proc, "train", "unknown attention type 'foo'")


def test_dataset_errors_in_train_are_listed_in_full(tmp_path):
    """Several broken annotation files: every one is named, exit 2, no traceback."""
    voc = tmp_path / "VOCdevkit" / "VOC2007"
    for sub in ("Annotations", "JPEGImages", "ImageSets/Main"):
        (voc / sub).mkdir(parents=True)
    ids = ["a", "b", "c"]
    (voc / "ImageSets" / "Main" / "trainval.txt").write_text("\n".join(ids) + "\n")
    (voc / "Annotations" / "a.xml").write_text("<annotation><object>")  # malformed
    (voc / "Annotations" / "b.xml").write_text(
        "<annotation><size><width>8</width><height>8</height></size><object><name>zebra</name>"
        "<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>4</xmax><ymax>4</ymax></bndbox>"
        "</object></annotation>"
    )  # unknown class; c.xml is missing
    for name in ids:
        cv2.imwrite(str(voc / "JPEGImages" / f"{name}.jpg"), np.full((8, 8, 3), 128, np.uint8))
    exp = tmp_path / "voc_exp.py"
    exp.write_text(
        "from yolox.exp import Exp as Base\n\n\nclass Exp(Base):\n"
        "    def __init__(self):\n        super().__init__()\n"
        "        self.depth, self.width = 0.33, 0.25\n"
        "        self.num_classes, self.class_names = 1, ('cat',)\n"
        f"        self.dataset_format, self.data_dir = 'voc', {str(tmp_path / 'VOCdevkit')!r}\n"
        "        self.train_sets = (('2007', 'trainval'),)\n"
        "        self.input_size = self.test_size = (64, 64)\n"
        "        self.data_num_workers = 0\n"
    )
    proc = _run("tools/train.py", "-f", str(exp), "--device", "cpu", "-b", "2", "-expn", "x",
                "output_dir", str(tmp_path / "out"))  # fmt: skip
    message = _user_error(proc, "train")
    assert "3 error(s)" in message and "zebra" in message, proc.stderr[-3000:]
    for name in ("a.xml", "b.xml", "c.xml"):
        assert name in message, proc.stderr[-3000:]


def test_overrides_before_flags_and_after_a_size():
    """``KEY VALUE`` before flags, and ``--tsize 256 KEY VALUE``, both reach the exp."""
    proc = _run("tools/train.py", "max_epoch", "0", "-f", TOY, "--device", "cpu")
    _user_error(proc, "train", "max_epoch must be an integer >= 1, got 0")
    proc = _run(
        "tools/eval.py", "-f", TOY, "--tsize", "256", "val_sets", "val", "nmsthre", "7", "-c", "x"
    )
    _user_error(proc, "eval", "nmsthre must be a finite number >= 0.0 and <= 1.0, got 7")
    proc = _run("tools/eval.py", "nmsthre", "7", "-f", TOY, "-c", "x")
    _user_error(proc, "eval", "nmsthre must be")


def test_a_flag_among_the_overrides_is_named():
    proc = _run("tools/train.py", "-f", TOY, "max_epoch", "2", "--no-such-flag", "1")
    assert proc.returncode == 2 and "--no-such-flag" in proc.stderr.splitlines()[-1]


def test_internal_errors_keep_their_traceback(tmp_path):
    """A bug (here: an exp whose get_model raises ValueError) is not dressed up as a user error."""
    exp = tmp_path / "buggy.py"
    exp.write_text(
        "from yolox.exp import Exp as Base\n\n\nclass Exp(Base):\n"
        "    def get_model(self):\n        raise ValueError('internal bug')\n"
    )
    proc = _run("tools/train.py", "-f", str(exp), "--device", "cpu", "-b", "2",
                "output_dir", str(tmp_path))  # fmt: skip
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr and "ValueError: internal bug" in proc.stderr


def test_bench_and_onnx_inference_use_the_same_error_path(tmp_path):
    proc = _run("tools/bench.py", "-a", "nope", "--no-latency", "--output-dir", str(tmp_path))
    _user_error(proc, "bench", "unknown attention type(s) ['nope']")
    proc = _run("tools/onnx_inference.py", "-m", str(tmp_path / "none.onnx"), "-i", "x.jpg")
    _user_error(proc, "onnx_inference", "model not found")


def test_tools_work_from_another_folder(tmp_path):
    """``python tools/X.py`` from a clone, run from anywhere (bench included)."""
    for tool in ("bench", "train", "eval", "demo", "ablate"):
        proc = _run(str(ROOT / "tools" / f"{tool}.py"), "--help", cwd=tmp_path)
        assert proc.returncode == 0 and "usage:" in proc.stdout, (tool, proc.stderr[-2000:])
