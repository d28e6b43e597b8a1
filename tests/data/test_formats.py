"""The dataset_format registry: the exp builds, checks and scores through it, not by name."""

from __future__ import annotations

import os

import pytest

from yolox.data import formats
from yolox.data.formats import DatasetFormat, resolve_data_dir
from yolox.evaluators import COCOEvaluator, VOCEvaluator
from yolox.exp import Exp
from yolox.utils.errors import UserError


class _Built(list):
    """What the toy format returns: a dataset that remembers how it was asked for."""


def _toy_format(calls: list, evaluator: str = "voc") -> DatasetFormat:
    def build(fields, request):
        calls.append(
            {
                "dir": resolve_data_dir(fields),
                "train": request.train,
                "size": tuple(request.img_size),
                "cache": request.cache,
                "testdev": request.testdev,
            }
        )
        return _Built()

    return DatasetFormat(
        "toy", build, default_dir="toy_root", evaluator=evaluator, reads=frozenset({"data_yaml"})
    )


def test_a_registered_format_is_what_the_exp_builds(monkeypatch, tmp_path):
    calls: list = []
    monkeypatch.setitem(formats._FORMATS, "toy", _toy_format(calls))
    monkeypatch.setenv("YOLOX_DATADIR", str(tmp_path))
    exp = Exp()
    exp.dataset_format = "toy"
    exp.input_size, exp.test_size = (96, 128), (64, 64)
    exp.check()  # a registered format is a valid value

    assert isinstance(exp.get_dataset(cache=True), _Built)
    assert isinstance(exp.get_eval_dataset(testdev=True), _Built)
    root = os.path.join(str(tmp_path), "toy_root")
    assert calls == [
        {"dir": root, "train": True, "size": (96, 128), "cache": True, "testdev": False},
        {"dir": root, "train": False, "size": (64, 64), "cache": False, "testdev": True},
    ]


@pytest.mark.parametrize("evaluator, expected", [("voc", VOCEvaluator), ("coco", COCOEvaluator)])
def test_the_format_chooses_the_evaluator(monkeypatch, evaluator, expected):
    monkeypatch.setitem(formats._FORMATS, "toy", _toy_format([], evaluator))
    exp = Exp()
    exp.dataset_format = "toy"
    exp.data_num_workers = 0
    assert isinstance(exp.get_evaluator(batch_size=1, is_distributed=False), expected)


def test_what_a_format_reads_is_what_check_allows(monkeypatch):
    monkeypatch.setitem(formats._FORMATS, "toy", _toy_format([]))
    exp = Exp()
    exp.dataset_format = "toy"
    exp.data_yaml = "data.yaml"
    exp.check()  # toy declares it reads data_yaml
    exp.dataset_format = "coco"
    with pytest.raises(UserError, match="data_yaml is read by dataset_format 'yolo', 'toy' only"):
        exp.check()


def test_an_unknown_format_lists_the_valid_ones():
    exp = Exp()
    exp.dataset_format = "kitti"
    with pytest.raises(UserError) as err:
        exp.get_eval_dataset()
    message = str(err.value)
    assert "'kitti'" in message and "\n" not in message
    for name in ("coco", "voc", "voc_flat", "yolo"):
        assert repr(name) in message


def test_a_name_is_registered_once():
    with pytest.raises(ValueError, match="twice"):
        formats.register_format(_toy_format([]).__class__("coco", print, "", "coco"))
