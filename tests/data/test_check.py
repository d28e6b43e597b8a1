"""check_dataset lists every problem at once; the CLI prints them and exits non-zero on errors."""

from __future__ import annotations

import json
import subprocess
import sys

from yolox.data import VOCDetection
from yolox.data.check import check_dataset
from yolox.testing.data_files import jpeg_bytes, png_bytes, solid_image, voc_xml
from yolox.tools.check_data import main


def _messy_voc(make_voc):
    good = jpeg_bytes(solid_image(30, 40))
    return make_voc(
        {
            "ok": (good, voc_xml("ok.jpg", (40, 30), [("a", (1, 1, 9, 9))])),
            "trunc": (
                good[: len(good) // 2],
                voc_xml("trunc.jpg", (40, 30), [("a", (1, 1, 9, 9))]),
            ),
            "zero": (
                png_bytes(solid_image(30, 40)),
                voc_xml("zero.jpg", (0, 0), [("a", (3, 3, 3, 9)), (" b", (1, 1, 5, 5))]),
            ),
            "badxml": (good, "<annotation><object>"),
            "unk": (good, voc_xml("unk.jpg", (40, 30), [("zebra", (1, 1, 9, 9))])),
            "noimg": (None, voc_xml("noimg.jpg", (40, 30), [])),
        }
    )


def test_check_voc_lists_everything(make_voc):
    root = _messy_voc(make_voc)
    problems = check_dataset(root, class_names=("a", "b"))
    text = "\n".join(map(str, problems))
    errors = [p for p in problems if p.severity == "error"]
    assert {p.file.split("/")[-1] for p in errors} >= {"badxml.xml"}
    # training substitutes a truncated JPEG, so the checker warns (one severity for both)
    (trunc,) = [p for p in problems if p.file.endswith("trunc.jpg")]
    assert trunc.severity == "warning" and "training substitutes" in trunc.message
    assert "zebra" in text and "truncated JPEG" in text
    assert "zero.jpg" in text and "0x0" in text
    assert "dropped degenerate box" in text and "whitespace" in text
    assert "noimg.jpg" in text and "not found" in text


def test_check_clean_dataset_and_dataset_object(make_voc):
    root = make_voc(
        {
            "ok": (
                jpeg_bytes(solid_image(30, 40)),
                voc_xml("ok.jpg", (40, 30), [("a", (1, 1, 9, 9))]),
            )
        }
    )
    assert check_dataset(root, class_names=("a",)) == []
    ds = VOCDetection(root, "trainval", class_names=("a",))
    (root / "JPEGImages" / "ok.jpg").write_bytes(b"junk")
    problems = check_dataset(ds)
    assert len(problems) == 1 and problems[0].severity == "error" and "ok.jpg" in problems[0].file


def test_cli_exit_status(make_voc, make_coco, capsys):
    root = _messy_voc(make_voc)
    assert main(["--voc", str(root), "--classes", "a,b"]) == 1
    out = capsys.readouterr().out
    assert "ERROR" in out and "trunc.jpg" in out and "error(s)" in out
    blob = jpeg_bytes(solid_image(30, 40))
    data = {
        "images": [{"id": 1, "file_name": "1.jpg", "height": 30, "width": 40}],
        # one box: a split without any box is an error of its own
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 9, 9]}],
        "categories": [{"id": 1, "name": "a"}],
    }
    coco_root, jf, name = make_coco(data, {"1.jpg": blob})
    assert (
        main(["--coco", str(coco_root / "annotations" / jf), "--images", str(coco_root / name)])
        == 0
    )
    (coco_root / "annotations" / jf).write_text(json.dumps({"images": 3}))
    assert (
        main(["--coco", str(coco_root / "annotations" / jf), "--images", str(coco_root / name)])
        == 1
    )


def test_cli_as_module(make_voc):
    root = make_voc(
        {
            "ok": (
                jpeg_bytes(solid_image(30, 40)),
                voc_xml("ok.jpg", (40, 30), [("a", (1, 1, 9, 9))]),
            )
        }
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "yolox.tools.check_data",
            "--voc",
            str(root),
            "--classes",
            "a",
            "--no-decode",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "0 error(s)" in result.stdout


def test_a_problem_drops_only_the_trailing_repeat_of_its_path():
    from yolox.data.datasets.errors import Problem

    listed = Problem(
        "error", "voc", "image set file not found: voc/ImageSets/Main/a.txt (available: ['voc'])"
    )
    assert listed.text == listed.message  # the list's path and the set named like the root stay
    decoded = Problem(
        "warning", "/d/a.jpg", "truncated JPEG (no end-of-image marker): /d/a.jpg; more"
    )
    assert str(decoded) == "WARNING: /d/a.jpg: truncated JPEG (no end-of-image marker); more"
