"""A tiny, fast experiment for trainer tests: a toy detector on random images (CPU, 32 px).

Fault injection fields (set with ``opts`` or attributes): ``nan_at_iter`` makes the loss NaN
at that global iteration (1-based) on rank ``fault_rank``; ``die_at_iter`` kills that process
(``fault_mode`` "exit") or freezes it with SIGSTOP ("freeze", a silent hang).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import signal

import numpy as np
import torch
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, Dataset

from yolox.core.train_options import TrainOptions
from yolox.data.samplers import InfiniteSampler
from yolox.exp import Exp as BaseYoloxExp


class ToyHead(nn.Module):
    def __init__(self, channels: int, num_classes: int):
        super().__init__()
        self.pred = nn.Conv2d(channels, 5 + num_classes, 1)
        self.gamma = nn.Parameter(torch.full((1,), 0.5))  # raw parameter, like attention scales
        self.use_l1 = False


class ToyDetector(nn.Module):
    """conv-BN-SiLU stem + 1x1 head; training returns the YOLOX loss dict."""

    def __init__(
        self,
        num_classes: int = 1,
        nan_at_iter: int = -1,
        die_at_iter: int = -1,
        fault_rank: int = 0,
        fault_mode: str = "exit",
    ):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, 2, 1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.act = nn.SiLU()
        self.head = ToyHead(8, num_classes)
        self.nan_at_iter, self.die_at_iter, self.fault_rank = nan_at_iter, die_at_iter, fault_rank
        self.fault_mode = fault_mode
        self.steps = 0

    def forward(self, x: torch.Tensor, targets: torch.Tensor | None = None):
        feat = self.act(self.bn(self.stem(x / 255.0)))
        out = self.head.pred(feat) * (1.0 + self.head.gamma)
        if not self.training:
            return out.flatten(2).transpose(1, 2)
        if torch.is_grad_enabled():  # training steps, not the trainer's check before a save
            self.steps += 1
        rank = int(os.environ.get("RANK", "0"))
        if self.steps == self.die_at_iter and rank == self.fault_rank:
            if self.fault_mode == "freeze":
                os.kill(os.getpid(), signal.SIGSTOP)
            os._exit(17)
        pooled = out.mean(dim=(2, 3))
        goal = targets[:, 0, :].float() / 32.0
        reg = ((pooled[:, :5] - goal) ** 2).mean()
        cls = pooled[:, 5:].pow(2).mean()
        l1 = (
            (pooled[:, :5] - goal).abs().mean()
            if self.head.use_l1
            else torch.zeros((), device=x.device)
        )
        total = reg + cls + l1
        if self.steps == self.nan_at_iter and rank == self.fault_rank:
            total = total * float("nan")
        return {
            "total_loss": total,
            "iou_loss": reg.detach(),
            "l1_loss": l1.detach(),
            "conf_loss": cls.detach(),
            "cls_loss": cls.detach(),
            "num_fg": 1.0,
        }


class ToyDataset(Dataset):
    """Random images; augmentation draws from python/numpy RNG to exercise RNG restore."""

    def __init__(self, size: int = 12, img: int = 32):
        gen = np.random.default_rng(0)
        self.images = gen.uniform(0, 255, (size, 3, img, img)).astype(np.float32)
        self.labels = gen.uniform(1, img - 1, (size, 4, 5)).astype(np.float32)
        self.labels[:, :, 0] = 0
        self.mosaic = True

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int):
        img = self.images[index].copy()
        if random.random() < 0.5:
            img = img[:, :, ::-1].copy()
        img += np.random.normal(0, 2.0, img.shape).astype(np.float32)
        return torch.from_numpy(img), torch.from_numpy(self.labels[index])

    def close_mosaic(self) -> None:
        self.mosaic = False


class ToyEvaluator:
    def __init__(self, images: torch.Tensor):
        self.images = images

    def evaluate(
        self,
        model: nn.Module,
        is_distributed: bool = False,
        half: bool = False,
        return_outputs: bool = False,
    ):
        device = next(model.parameters()).device
        with torch.no_grad():
            score = model(self.images.to(device)).float().abs().mean().item()
        ap = 1.0 / (1.0 + score)
        return ap, min(1.0, ap * 1.5), f"toy AP {ap:.4f}"


def make_exp(tmp_path, **fields) -> Exp:
    """The toy exp writing into ``tmp_path``: 3 epochs of 12 images (``fields`` overrides)."""
    exp = Exp()
    exp.output_dir = str(tmp_path)
    exp.max_epoch = 3
    exp.dataset_size = 12
    for key, value in fields.items():
        setattr(exp, key, value)
    return exp


def load(path) -> dict:
    """A checkpoint file as saved (CPU, weights only)."""
    return torch.load(path, map_location="cpu", weights_only=True)


class Exp(BaseYoloxExp):
    def __init__(self) -> None:
        super().__init__()
        self.exp_name = "toy"
        self.num_classes = 1
        self.class_names = ("thing",)
        self.input_size = (32, 32)
        self.test_size = (32, 32)
        self.random_size = (1, 2)
        self.max_epoch = 3
        self.warmup_epochs = 1
        self.no_aug_epochs = 1
        self.print_interval = 2
        self.eval_interval = 1
        self.data_num_workers = 0
        self.basic_lr_per_img = 0.01 / 8
        self.seed = 0
        self.dataset_size = 12
        self.nan_at_iter = -1
        self.die_at_iter = -1
        self.fault_rank = 0
        self.fault_mode = "exit"

    def model_config(self) -> dict:
        return {"name": "toy", "num_classes": self.num_classes}

    def get_model(self) -> nn.Module:
        if getattr(self, "model", None) is None:
            self.model = ToyDetector(
                self.num_classes,
                self.nan_at_iter,
                self.die_at_iter,
                self.fault_rank,
                self.fault_mode,
            )
        return self.model

    def get_data_loader(
        self, batch_size: int, is_distributed: bool, no_aug: bool = False, cache_img=None
    ):
        rank, world = 0, 1
        if is_distributed:
            rank, world = torch.distributed.get_rank(), torch.distributed.get_world_size()
            batch_size //= world
        self.dataset = ToyDataset(self.dataset_size, self.input_size[0])
        sampler = InfiniteSampler(
            len(self.dataset), seed=self.seed or 0, rank=rank, world_size=world
        )
        return DataLoader(
            self.dataset,
            batch_sampler=BatchSampler(sampler, batch_size, drop_last=False),
            num_workers=0,
        )

    def get_evaluator(
        self, batch_size: int, is_distributed: bool, testdev: bool = False, legacy: bool = False
    ):
        gen = torch.Generator().manual_seed(1)
        return ToyEvaluator(torch.rand(2, 3, *self.test_size, generator=gen) * 255)

    def eval(
        self,
        model,
        evaluator,
        is_distributed: bool,
        half: bool = False,
        return_outputs: bool = False,
    ):
        was_training = model.training
        model.eval()
        result = evaluator.evaluate(model, is_distributed)
        model.train(was_training)
        return result


def make_args(name: str, batch_size: int = 2, **extra) -> argparse.Namespace:
    """The train parser's namespace for a run named ``name`` on the CPU (``extra`` overrides);
    every other option at its declared default (:class:`TrainOptions`, the one place)."""
    options = TrainOptions(batch_size=batch_size, device="cpu", experiment_name=name)
    return argparse.Namespace(**{**dataclasses.asdict(options), **extra})
