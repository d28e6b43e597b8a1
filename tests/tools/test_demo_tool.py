"""tools/demo.py on CPU: images, folders, videos, the ONNX Runtime backend and error exits."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from yolox.testing.fixtures import (  # noqa: E402
    make_model,
    save_model_checkpoint,
    write_exp,
    write_image,
)
from yolox.tools.demo import main  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    model, cfg = make_model("cbam")
    return save_model_checkpoint(tmp_path_factory.mktemp("demo") / "nano_cbam.pth", model, cfg)


def saved_files(root: Path):
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_image_demo_saves_annotated_image(ckpt, tmp_path):
    image = write_image(tmp_path / "in" / "pic.jpg", 90, 120)
    out = tmp_path / "out"
    argv = ["image", "-c", str(ckpt), "--path", str(image), "--save_result", "--output-dir", str(out),
            "--device", "cpu", "--tsize", "128", "--conf", "1e-5"]  # fmt: skip
    assert main(argv) == 0
    files = saved_files(out)
    assert len(files) == 1 and files[0].name == "pic.jpg"
    # <output-dir>/<experiment: checkpoint stem>/vis_res/<timestamp>/pic.jpg
    assert files[0].relative_to(out).parts[:2] == ("nano_cbam", "vis_res")
    drawn, original = cv2.imread(str(files[0])), cv2.imread(str(image))
    assert drawn.shape == original.shape
    assert np.abs(drawn.astype(int) - original.astype(int)).max() > 50  # boxes were drawn


def test_folder_and_onnx_backend(ckpt, tmp_path):
    folder = tmp_path / "imgs"
    for i in range(2):
        write_image(folder / f"p{i}.png", 64 + 32 * i, 96, seed=i)
    (folder / "notes.txt").write_text("not an image")
    out = tmp_path / "out"
    assert (
        main(
            [
                "image",
                "-c",
                str(ckpt),
                "--path",
                str(folder),
                "--save_result",
                "--output-dir",
                str(out),
                "--tsize",
                "128",
            ]
        )
        == 0
    )
    assert [p.name for p in saved_files(out)] == ["p0.png", "p1.png"]

    from yolox.tools.export_onnx import main as export_main

    onnx_path = tmp_path / "m.onnx"
    assert (
        export_main(
            ["-c", str(ckpt), "--output-name", str(onnx_path), "--tsize", "128", "--no-onnxsim"]
        )
        == 0
    )
    out2 = tmp_path / "out_onnx"
    argv = [
        "image",
        "--backend",
        "onnxruntime",
        "--onnx",
        str(onnx_path),
        "--path",
        str(folder),
        "--save_result",
        "--output-dir",
        str(out2),
    ]
    assert main(argv) == 0
    assert [p.name for p in saved_files(out2)] == ["p0.png", "p1.png"]


def test_video_demo_writes_every_frame(ckpt, tmp_path):
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 5, (96, 64))
    if not writer.isOpened():
        pytest.skip("OpenCV cannot write videos in this build")
    for i in range(4):
        writer.write(cv2.imread(str(write_image(tmp_path / f"f{i}.png", 64, 96, seed=i))))
    writer.release()
    out = tmp_path / "out"
    assert (
        main(
            [
                "video",
                "-c",
                str(ckpt),
                "--path",
                str(video),
                "--save_result",
                "--output-dir",
                str(out),
                "--tsize",
                "64",
            ]
        )
        == 0
    )
    (result,) = saved_files(out)
    assert result.name == "clip.mp4"
    capture = cv2.VideoCapture(str(result))
    frames = 0
    while capture.read()[0]:
        frames += 1
    capture.release()
    assert frames == 4


def test_demo_reports_exp_that_disagrees_with_checkpoint(ckpt, tmp_path, capsys):
    exp = write_exp(
        tmp_path / "exp.py",
        'self.num_classes = 5\nself.class_names = tuple("abcde")\nself.attention = "cbam"',
    )
    image = write_image(tmp_path / "x.png")
    assert main(["image", "-f", str(exp), "-c", str(ckpt), "--path", str(image)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("demo: error:") and "num_classes: checkpoint 3 vs exp 5" in err


def test_demo_missing_checkpoint_exits_nonzero(tmp_path):
    image = write_image(tmp_path / "x.png")
    missing = tmp_path / "nope.pth"
    proc = subprocess.run(
        [sys.executable, str(REPO / "tools" / "demo.py"), "image", "-c", str(missing), "--path", str(image)],
        capture_output=True, text=True, cwd=tmp_path, timeout=120, env={**os.environ, "OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == f"demo: error: checkpoint not found: {missing}"
    assert "Traceback" not in proc.stderr


def test_truncated_jpeg_is_named_and_skipped_and_all_bad_fails(ckpt, tmp_path, capfd):
    from loguru import logger

    folder = tmp_path / "imgs"
    good = write_image(folder / "good.jpg", 64, 96)
    data = good.read_bytes()
    (folder / "cut.jpg").write_bytes(data[: len(data) * 3 // 4])
    messages = []
    sink = logger.add(lambda m: messages.append(str(m)), level="INFO")
    try:
        argv = ["image", "-c", str(ckpt), "--device", "cpu", "--tsize", "128"]
        assert main([*argv, "--path", str(folder)]) == 0  # one good image: detections, exit 0
        assert any("skipped" in m and "cut.jpg" in m and "truncated JPEG" in m for m in messages)
        assert any("good.jpg" in m and "detections" in m for m in messages)
        assert main([*argv, "--path", str(folder / "cut.jpg")]) != 0  # nothing could be done
    finally:
        logger.remove(sink)
    assert "none of the 1 images could be read" in capfd.readouterr().err
