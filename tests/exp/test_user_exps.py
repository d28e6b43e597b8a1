"""Exp files as users wrote them for official YOLOX (written here as test inputs, not fitted).

Each is used as a new user would: trained for two iterations and evaluated with the tools, or
imported directly. The one calling YOLOPAFPN with arguments only a fork has must stop with one
line naming the argument and the exp file.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
import torch

from yolox.exp import get_exp

HEADER = """
import os

import torch
import torch.nn as nn

from yolox.exp import Exp as MyExp
"""

CUSTOM_OPTIMIZER = (
    HEADER
    + """

class Exp(MyExp):
    def __init__(self):
        super(Exp, self).__init__()
        self.depth = 0.33
        self.width = 0.25
        self.exp_name = os.path.split(os.path.realpath(__file__))[1].split(".")[0]

    def get_optimizer(self, batch_size):
        if "optimizer" not in self.__dict__:
            lr = self.warmup_lr if self.warmup_epochs > 0 else self.basic_lr_per_img * batch_size
            no_decay, decay, biases = [], [], []
            for name, module in self.model.named_modules():
                bias = getattr(module, "bias", None)
                if isinstance(bias, nn.Parameter):
                    biases.append(bias)
                weight = getattr(module, "weight", None)
                if isinstance(module, nn.BatchNorm2d) or "bn" in name:
                    no_decay.append(weight)
                elif isinstance(weight, nn.Parameter):
                    decay.append(weight)
            self.optimizer = torch.optim.SGD(no_decay, lr=lr, momentum=self.momentum, nesterov=True)
            self.optimizer.add_param_group({"params": decay, "weight_decay": self.weight_decay})
            self.optimizer.add_param_group({"params": biases})
        return self.optimizer
"""
)

UTILS_IMPORTS = (
    HEADER
    + """
from yolox.utils import gather, is_main_process, postprocess, synchronize, time_synchronized


class Exp(MyExp):
    def __init__(self):
        super(Exp, self).__init__()
        self.depth = 0.33
        self.width = 0.25
        self.eval_seconds = []

    def eval(self, model, evaluator, is_distributed, half=False, return_outputs=False):
        start = time_synchronized()
        result = super().eval(model, evaluator, is_distributed, half, return_outputs)
        synchronize()
        if is_main_process():
            self.eval_seconds.extend(gather(time_synchronized() - start))
        assert callable(postprocess)
        return result
"""
)

DATASET_OVERRIDE = (
    HEADER
    + """

class Exp(MyExp):
    def __init__(self):
        super(Exp, self).__init__()
        self.depth = 0.33
        self.width = 0.25
        self.dataset_calls = []

    def get_dataset(self, cache: bool = False, cache_type: str = "ram"):
        self.dataset_calls.append((cache, cache_type))
        return super().get_dataset(cache=cache, cache_type=cache_type)
"""
)

OWN_CLASS_NAMES = (
    HEADER
    + """

class Exp(MyExp):
    def __init__(self):
        super(Exp, self).__init__()
        self.depth = 0.33
        self.width = 0.25
        self.num_classes = 3
        self.class_names = ("circle", "square", "triangle")
"""
)

SEVERAL_CLASSES = (
    HEADER
    + """

class NanoExp(MyExp):
    def __init__(self):
        super(NanoExp, self).__init__()
        self.depth = 0.33
        self.width = 0.25
        self.num_classes = 3


class TinyExp(NanoExp):
    def __init__(self):
        super(TinyExp, self).__init__()
        self.width = 0.375


class Exp(TinyExp):
    pass
"""
)

FORK_ONLY_ARGUMENTS = (
    HEADER
    + """

class Exp(MyExp):
    def __init__(self):
        super(Exp, self).__init__()
        self.depth = 0.33
        self.width = 0.25

    def get_model(self):
        if "model" not in self.__dict__:
            from yolox.models import YOLOX, YOLOPAFPN, YOLOXHead
            backbone = YOLOPAFPN(self.depth, self.width, out_channels=[256, 512, 1024],
                                 num_bnecks=3)
            head = YOLOXHead(self.num_classes, self.width)
            self.model = YOLOX(backbone, head)
        return self.model
"""
)

SMALL = [
    "input_size", "(64, 64)", "test_size", "(64, 64)", "random_size", "(2, 2)",
    "max_epoch", "1", "warmup_epochs", "0", "no_aug_epochs", "0", "eval_interval", "1",
    "data_num_workers", "0", "print_interval", "1", "num_classes", "3",
]  # fmt: skip


@pytest.fixture(scope="module")
def shapes(tmp_path_factory) -> Path:
    from yolox.data.datasets.synthetic import ensure_synthetic_dataset

    root = tmp_path_factory.mktemp("shapes")
    return ensure_synthetic_dataset(root, fmt="coco", num_train=4, num_val=2, img_size=64, seed=0)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.py"
    path.write_text(text)
    return path


def _train(path: Path, shapes: Path, out: Path, *extra: str) -> int:
    from yolox.tools.train import main as train_main

    argv = ["-f", str(path), "-b", "2", "--device", "cpu", "-expn", "run", *extra]
    return train_main([*argv, "output_dir", str(out), "data_dir", str(shapes), *SMALL])


@pytest.mark.slow
def test_custom_get_optimizer_walking_named_modules_trains(tmp_path, shapes):
    path = _write(tmp_path, "user_optimizer", CUSTOM_OPTIMIZER)
    assert _train(path, shapes, tmp_path) == 0
    state = torch.load(tmp_path / "run" / "latest_ckpt.pth", weights_only=True)
    groups = state["optimizer"]["param_groups"]
    assert len(groups) == 3 and groups[1]["weight_decay"] == 5e-4 and groups[0]["nesterov"]
    assert state["iteration"] == 2


@pytest.mark.slow
def test_exp_importing_official_utils_names_trains_and_evaluates(tmp_path, shapes):
    path = _write(tmp_path, "user_utils", UTILS_IMPORTS)
    assert _train(path, shapes, tmp_path) == 0
    from yolox.tools.eval import main as eval_main

    ckpt = tmp_path / "run" / "latest_ckpt.pth"
    argv = ["-f", str(path), "-c", str(ckpt), "-b", "2", "--device", "cpu"]
    assert eval_main([*argv, "data_dir", str(shapes), *SMALL]) == 0


@pytest.mark.slow
def test_get_dataset_override_passes_cache_to_super(tmp_path, shapes):
    path = _write(tmp_path, "user_dataset", DATASET_OVERRIDE)
    assert _train(path, shapes, tmp_path, "--cache", "ram") == 0
    exp = get_exp(str(path))
    exp.merge(["data_dir", str(shapes), *SMALL])
    exp.get_data_loader(batch_size=2, is_distributed=False, cache_img="ram")
    assert exp.dataset_calls == [(True, "ram")]
    assert exp.dataset._dataset.cache is not None  # the cache was really built


@pytest.mark.slow
def test_exp_setting_class_names_itself_keeps_them(tmp_path, shapes):
    path = _write(tmp_path, "user_names", OWN_CLASS_NAMES)
    assert _train(path, shapes, tmp_path) == 0
    state = torch.load(tmp_path / "run" / "latest_ckpt.pth", weights_only=True)
    assert tuple(state["model_config"]["class_names"]) == ("circle", "square", "triangle")


def test_several_exp_classes_in_one_file_import_directly(tmp_path, monkeypatch):
    _write(tmp_path, "user_several", SEVERAL_CLASSES)
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("user_several")
    try:
        nano, tiny = module.NanoExp(), module.TinyExp()
        assert (nano.width, tiny.width) == (0.25, 0.375)
        nano_model, tiny_model = nano.get_model(), tiny.get_model()
        assert nano_model.head.cls_preds[0].out_channels == 3
        assert tiny_model.head.stems[0].conv.out_channels == 96  # 256 * 0.375
        assert nano_model.head.stems[0].conv.out_channels == 64
        assert get_exp(str(tmp_path / "user_several.py")).width == 0.375
    finally:
        sys.modules.pop("user_several", None)


def test_fork_only_yolopafpn_arguments_fail_in_one_line_naming_them_and_the_file(
    tmp_path, shapes, capsys
):
    path = _write(tmp_path, "user_fork_args", FORK_ONLY_ARGUMENTS)
    assert _train(path, shapes, tmp_path) == 2
    err = capsys.readouterr().err.strip()
    errors = [line for line in err.splitlines() if line.startswith("train: error:")]
    assert len(errors) == 1 and err.endswith(errors[0]), err  # one line, the last
    assert str(path) in errors[0] and "'out_channels'" in errors[0]
    assert "Exp.get_model" in errors[0]
    assert "AttributeError" not in err and "Traceback" not in err
