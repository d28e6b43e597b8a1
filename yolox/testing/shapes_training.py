"""Small models trained for a few hundred steps on the generated shapes dataset.

Tests that compare two numerical versions of a model (int8 against float32) need a model whose
scores mean something: random or briefly trained weights give flat class scores and boxes that
no quantization error could make worse. A nano at 128 px learns the generated shapes in about
200 SGD steps (top val scores ~0.7); each attention type is then fine-tuned from that base, so
its own weights are trained too. Everything is seeded and uses no loader workers, so results do
not depend on test order.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, Optional, Tuple

import numpy as np
import torch
from torch import nn

from yolox.inference import letterbox
from yolox.models.build import ModelConfig, build_model

from .fixtures import nano_config

__all__ = [
    "SHAPES_IMAGES",
    "SHAPES_SIZE",
    "ShapesBatches",
    "TrainedShapes",
    "shapes_exp",
    "train_steps",
    "train_shapes_nano",
]

Batch = Tuple[torch.Tensor, torch.Tensor]

#: input size of the trained models (the generated shapes are 19-51 px there)
SHAPES_SIZE = 128
#: (train, val) image counts of their generated dataset
SHAPES_IMAGES = (64, 8)


def shapes_exp(data_dir: str) -> Any:
    """The generated-dataset exp at :data:`SHAPES_SIZE` with :data:`SHAPES_IMAGES`, written
    under ``data_dir`` on first use."""
    from yolox.exp.synthetic import SyntheticExp

    exp = SyntheticExp()
    exp.data_dir = data_dir
    exp.synthetic_images = SHAPES_IMAGES
    exp.input_size = exp.test_size = (SHAPES_SIZE, SHAPES_SIZE)
    return exp


@dataclass
class ShapesBatches:
    """The training images in memory (float 0..255 [N, 3, H, W]) with their padded targets
    [N, max_labels, 5] (class, cx, cy, w, h in pixels), as the training loader gives them."""

    images: torch.Tensor
    targets: torch.Tensor

    @classmethod
    def from_exp(cls, exp: Any) -> ShapesBatches:
        """Every image of the exp's training set, letterboxed to its input size, unaugmented."""
        exp.flip_prob = exp.hsv_prob = 0.0  # the random augmentations use global RNGs
        dataset = exp.get_dataset()
        items = [dataset[i][:2] for i in range(len(dataset))]
        images = torch.from_numpy(np.stack([image for image, _ in items])).float()
        targets = torch.from_numpy(np.stack([target for _, target in items])).float()
        return cls(images, targets)

    def stream(self, seed: int, batch_size: int = 8) -> Iterator[Batch]:
        """Endless random batches, half of the images flipped left-right, from ``seed`` alone."""
        gen = torch.Generator().manual_seed(seed)
        width = self.images.shape[-1]
        while True:
            index = torch.randperm(len(self.images), generator=gen)[:batch_size]
            images, targets = self.images[index].clone(), self.targets[index].clone()
            flip = torch.rand(len(index), generator=gen) < 0.5
            images[flip] = images[flip].flip(-1)
            boxes = targets[flip]
            boxes[..., 1] = torch.where(boxes[..., 3] > 0, width - boxes[..., 1], boxes[..., 1])
            targets[flip] = boxes
            yield images, targets


def train_steps(
    model: nn.Module, batches: Iterator[Batch], steps: int, lr: float, warmup: int = 0
) -> nn.Module:
    """``steps`` of SGD (linear warm-up over ``warmup`` steps), then the BatchNorm statistics
    measured again on three batches: YOLOX's BN momentum of 0.03 leaves running statistics
    far behind weights trained this briefly. Returns the model in eval mode."""
    optimizer = torch.optim.SGD(
        model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=5e-4
    )
    model.train()
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = lr * min(1.0, (step + 1) / warmup) if warmup else lr
        images, targets = next(batches)
        loss = model(images, targets)["total_loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    momenta = [m.momentum for m in norms]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # cumulative average over the batches below
    with torch.no_grad():
        for images, targets in itertools.islice(batches, 3):
            model(images, targets)
    for norm, momentum in zip(norms, momenta):
        norm.momentum = momentum
    return model.eval()


@dataclass
class TrainedShapes:
    """A nano trained on the generated shapes, its data, and its attention variants."""

    exp: Any
    batches: ShapesBatches
    base: nn.Module
    config: ModelConfig
    #: the first validation images, letterboxed float32 [B, 3, H, W]
    val_batch: np.ndarray
    fine_tune_steps: int = 40
    _variants: Dict[str, nn.Module] = field(default_factory=dict, repr=False)

    def with_attention(self, attention: Optional[str]) -> nn.Module:
        """A copy of the base with ``attention`` added and fine-tuned, every weight trained
        (the same model for the same type, whichever test asks first)."""
        key = str(attention)
        if key not in self._variants:
            torch.manual_seed(1)
            model = build_model(nano_config(attention, class_names=self.exp.class_names))
            model.load_state_dict(self.base.state_dict(), strict=False)
            stream = self.batches.stream(seed=1)
            self._variants[key] = train_steps(model, stream, self.fine_tune_steps, lr=0.01)
        return copy.deepcopy(self._variants[key])


def train_shapes_nano(exp: Any, steps: int = 200, val_images: int = 8) -> TrainedShapes:
    """Train a nano (no attention) on ``exp``'s generated dataset at its input size."""
    batches = ShapesBatches.from_exp(exp)
    torch.manual_seed(0)
    config = nano_config(None, class_names=exp.class_names)
    base = train_steps(build_model(config), batches.stream(seed=0), steps, lr=0.02, warmup=30)
    val = exp.get_eval_dataset()
    size = tuple(exp.test_size)
    val_batch = np.stack(
        [letterbox(val.load_image(i), size)[0] for i in range(min(val_images, len(val)))]
    )
    return TrainedShapes(exp, batches, base, config, val_batch)
