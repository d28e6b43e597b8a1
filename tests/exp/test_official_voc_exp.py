"""Official YOLOX's VOC exp, unchanged (num_classes, no names; its own get_dataset /
get_eval_dataset / get_evaluator overrides), trains a few iterations and evaluates on a generated
VOCdevkit that holds the 20 VOC class names."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from loguru import logger

from yolox.data import VOC_CLASSES, DatasetError
from yolox.exp import get_exp

_SHARED = os.environ.get("YOLOX_SHARED")
if not _SHARED:
    pytest.skip(
        "official exp files not available: set YOLOX_SHARED=../shared", allow_module_level=True
    )
OFFICIAL_STYLE = Path(_SHARED, "fixtures", "official_exps", "example_yolox_voc_yolox_voc_s.py")
SIZE = 64


def _write_voc_year(root: Path, sets: dict) -> None:
    """Image ``i`` holds VOC classes 2i and 2i+1 (mod 20); ``sets`` maps set name -> indices."""
    for sub in ("Annotations", "JPEGImages", "ImageSets/Main"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for set_name, indices in sets.items():
        ids = []
        for index in indices:
            image_id = f"{index:06d}"
            rng = np.random.default_rng(index)
            img = rng.integers(0, 60, (SIZE, SIZE, 3), dtype=np.uint8)
            objects = ""
            for k, (x1, y1) in enumerate(((4, 4), (34, 30))):
                name = VOC_CLASSES[(2 * index + k) % 20]
                img[y1 : y1 + 24, x1 : x1 + 26] = (40 + 9 * (2 * index + k) % 200, 200, 120)
                objects += (
                    f"<object><name>{name}</name><difficult>0</difficult><bndbox>"
                    f"<xmin>{x1 + 1}</xmin><ymin>{y1 + 1}</ymin><xmax>{x1 + 26}</xmax>"
                    f"<ymax>{y1 + 24}</ymax></bndbox></object>"
                )
            cv2.imwrite(str(root / "JPEGImages" / f"{image_id}.jpg"), img)
            (root / "Annotations" / f"{image_id}.xml").write_text(
                f"<annotation><filename>{image_id}.jpg</filename><size><width>{SIZE}</width>"
                f"<height>{SIZE}</height><depth>3</depth></size>{objects}</annotation>"
            )
            ids.append(image_id)
        (root / "ImageSets" / "Main" / f"{set_name}.txt").write_text("\n".join(ids) + "\n")


@pytest.fixture
def voc_datadir(tmp_path, monkeypatch):
    devkit = tmp_path / "data" / "VOCdevkit"
    # trainval (images 0-9) holds all 20 classes; test (10, 11) only classes 0-3
    _write_voc_year(devkit / "VOC2007", {"trainval": range(6), "test": (10, 11)})
    _write_voc_year(devkit / "VOC2012", {"trainval": range(6, 10)})
    monkeypatch.setenv("YOLOX_DATADIR", str(tmp_path / "data"))
    return tmp_path


@pytest.mark.slow  # trains and evaluates end to end: 26 s on the floor run (loaded 2-core EPYC)
def test_official_style_voc_exp_trains_and_evaluates(voc_datadir):
    from yolox.tools.eval import main as eval_main
    from yolox.tools.train import main as train_main

    out = voc_datadir / "out"
    small = ["input_size", "(64,64)", "test_size", "(64,64)", "random_size", "(2,2)",
             "data_num_workers", "0", "output_dir", str(out)]  # fmt: skip
    argv = ["-f", str(OFFICIAL_STYLE), "-b", "2", "--device", "cpu", "-expn", "voc"]
    run = ["max_epoch", "1", "warmup_epochs", "1", "no_aug_epochs", "0", "eval_interval", "1"]
    assert train_main([*argv, *small, *run]) == 0
    ckpt = out / "voc" / "best_ckpt.pth"
    state = torch.load(ckpt, map_location="cpu", weights_only=True)
    # 10 trainval images at batch 2: five iterations; the names came from the XMLs, sorted
    assert state["iteration"] == 5
    assert tuple(state["model_config"]["class_names"]) == tuple(VOC_CLASSES)
    log = (out / "voc" / "train_log.txt").read_text()
    assert log.count("class names from the XML <name>s (sorted)") == 1
    assert "VOC (voc07) AP50:95" in log  # the exp's own evaluator ran during training
    messages = []
    sink = logger.add(lambda m: messages.append(str(m)), level="INFO")
    try:
        eval_argv = ["-f", str(OFFICIAL_STYLE), "-c", str(ckpt), "-b", "2", "--device", "cpu"]
        assert eval_main([*eval_argv, *small]) == 0
    finally:
        with contextlib.suppress(ValueError):  # in case a tool removed every sink
            logger.remove(sink)
    assert any("VOC (voc07) AP50:95" in m for m in messages)
    assert not any("class names from" in m for m in messages)  # eval took the checkpoint's


def test_eval_split_with_fewer_classes_is_numbered_like_the_run(voc_datadir):
    exp = get_exp(str(OFFICIAL_STYLE), None)
    exp.data_num_workers = 0
    # the run's names (from the training split or the checkpoint) in an order of its own
    exp.class_names = tuple(reversed(VOC_CLASSES))
    dataset = exp.get_eval_loader(2, False).dataset
    # the test split's own XMLs name 4 classes (aeroplane, bicycle, bird, boat: 0..3 there);
    # renumbered to the run's order they must still be the same objects
    labels = [dataset.annotation_for_eval(i)[1].tolist() for i in range(len(dataset))]
    assert labels == [[19, 18], [17, 16]]
    assert dataset.load_anno(1)[:, 4].tolist() == [17, 16]
    assert dataset.class_names == exp.class_names


def test_class_count_disagreeing_with_the_xml_names_says_what_to_change(voc_datadir):
    exp = get_exp(str(OFFICIAL_STYLE), None)
    exp.num_classes = 3
    with pytest.raises(DatasetError, match="set num_classes=20"):
        exp.get_data_loader(2, False)
    exp = get_exp(str(OFFICIAL_STYLE), None)
    exp.num_classes, exp.class_names = 2, ("dog", "cat")
    with pytest.raises(DatasetError, match="not in the exp's class_names"):
        exp.get_data_loader(2, False)
