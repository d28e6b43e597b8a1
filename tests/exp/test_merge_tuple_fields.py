"""``KEY VALUE`` overrides of tuple fields: every tuple field from the command line (issue 21.1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from yolox.exp import Exp
from yolox.exp.synthetic import SyntheticExp
from yolox.testing.data_files import jpeg_bytes, solid_image, write_yolo


def _tuple_fields(exp) -> dict:
    return {k: v for k, v in exp.fields().items() if isinstance(v, (tuple, list))}


def _string_tuple_fields(exp) -> list:
    """Tuple fields holding strings (VOC's default sets are pairs of strings), plus class_names."""
    names = {"class_names"}
    for key, value in _tuple_fields(exp).items():
        flat = [x for v in value for x in (v if isinstance(v, (tuple, list)) else (v,))]
        if flat and all(isinstance(x, str) for x in flat):
            names.add(key)
    return sorted(names)


@pytest.mark.parametrize("make", [Exp, SyntheticExp], ids=["Exp", "SyntheticExp"])
def test_every_tuple_field_round_trips_through_the_command_line(make):
    exp = make()
    fields = _tuple_fields(exp)
    assert {"input_size", "train_sets", "val_sets", "mosaic_scale"} <= set(fields)
    for key, value in fields.items():
        fresh = make()
        fresh.merge([key, repr(value)])
        assert getattr(fresh, key) == value, key


@pytest.mark.parametrize("make", [Exp, SyntheticExp], ids=["Exp", "SyntheticExp"])
@pytest.mark.parametrize("text", ["valid", "data/train", "C:/data/x y", "('valid')"])
def test_a_bare_string_for_a_tuple_of_strings_field_is_a_one_element_tuple(make, text):
    fields = _string_tuple_fields(make())
    assert {"class_names", "train_sets", "val_sets"} <= set(fields)
    for key in fields:
        exp = make()
        exp.merge([key, text])
        assert getattr(exp, key) == (text.strip("()'"),), key


def test_val_sets_valid_from_the_command_line_reads_the_valid_split(tmp_path: Path):
    entries = [
        ("a", jpeg_bytes(solid_image(64, 64, [(8, 8, 40, 40)])), (64, 64), [(0, 8, 8, 40, 40)])
    ]
    write_yolo(tmp_path, "train", entries)
    write_yolo(tmp_path, "valid", entries)
    exp = Exp()
    exp.merge(
        ["dataset_format", "yolo", "data_dir", str(tmp_path), "train_sets", "train"]
        + ["val_sets", "valid", "num_classes", "1", "class_names", "thing"]
    )
    exp.data_num_workers = 0
    exp.check()
    assert exp.val_sets == ("valid",) and exp.train_sets == ("train",)
    assert exp.class_names == ("thing",)
    dataset = exp.get_eval_dataset()
    assert len(dataset) == 1
