"""Tiny models, checkpoints, images and exp files for the inference and tool tests and benchmarks."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch

from yolox.models.build import ModelConfig, build_model, zoo_config
from yolox.utils.checkpoint import save_checkpoint

CLASS_NAMES = ("cat", "dog", "bird")


def nano_config(
    attention: Any = None, num_classes: int = 3, class_names: Optional[Sequence[str]] = CLASS_NAMES
) -> ModelConfig:
    """yolox-nano with ``attention`` at its default positions (dark3, dark4, dark5)."""
    names = tuple(class_names) if class_names is not None else None
    return zoo_config("yolox-nano", num_classes=num_classes, class_names=names, attention=attention)


@torch.no_grad()
def perturb_(model: torch.nn.Module, seed: int = 0, scale: float = 0.2) -> torch.nn.Module:
    """Random weights, BatchNorm statistics measured on random images, unit-size raw outputs.

    A freshly initialised nano model barely reacts to its input (activations shrink to ~0 by
    dark5: outputs for two random images differ by ~1e-6), which would let export/parity tests
    pass on a broken graph. Noise on every parameter makes zero-/identity-initialised gates
    (gc, sa, ...) act; each BN gets the eval-mode statistics of the input it really receives
    (forward pre-hooks, in forward order), so features stay at unit scale and outputs depend
    strongly on the image.
    """
    gen = torch.Generator().manual_seed(seed)
    for p in model.parameters():
        spread = max(float(p.std()), 0.05) if p.numel() > 1 else 1.0
        p.add_(torch.randn(p.shape, generator=gen) * scale * spread)

    def set_stats(bn, inputs):  # eval-mode statistics of what this BN really receives
        x = inputs[0]
        var = x.var((0, 2, 3))
        bn.running_mean.copy_(x.mean((0, 2, 3)))
        bn.running_var.copy_(var.clamp(min=0.05 * float(var.mean()) + 1e-4))

    model.eval()
    images = calibration_images(gen)
    hooks = [
        m.register_forward_pre_hook(set_stats)
        for m in model.modules()
        if isinstance(m, torch.nn.BatchNorm2d)
    ]
    model.head._level_outputs(model.backbone(images))
    for hook in hooks:
        hook.remove()
    # prediction convs have no BN: standardise raw outputs (reg ~ N(0, 1), obj/cls logits
    # ~ N(-1, 1)) so box sizes exp(w, h) stay sane and scores spread over (0, 1)
    levels = model.head._level_outputs(model.backbone(calibration_images(gen)))
    preds = (model.head.reg_preds, model.head.obj_preds, model.head.cls_preds)
    for k, outputs in enumerate(levels):
        for convs, out, offset in zip(preds, outputs, (0.0, -1.0, -1.0)):
            mean = out.mean((0, 2, 3))
            std = out.std((0, 2, 3)).clamp(min=1e-6)
            convs[k].weight.div_(std.view(-1, 1, 1, 1))
            convs[k].bias.copy_((convs[k].bias - mean) / std + offset)
    return model


def calibration_images(gen: torch.Generator) -> torch.Tensor:
    """Two uniform-noise and two smooth images (what the tests feed), 0..255, 128 x 128."""
    noise = torch.rand(2, 3, 128, 128, generator=gen) * 255
    coarse = torch.rand(2, 3, 6, 8, generator=gen) * 255
    smooth = torch.nn.functional.interpolate(coarse, size=(128, 128), mode="bicubic")
    return torch.cat([noise, smooth.clamp(0, 255)])


def make_model(
    attention: Any = None, seed: int = 0, perturb: bool = True, **kw: Any
) -> Tuple[torch.nn.Module, ModelConfig]:
    torch.manual_seed(seed)
    cfg = nano_config(attention, **kw)
    model = build_model(cfg)
    if perturb:
        perturb_(model, seed)
    return model.eval(), cfg


def save_model_checkpoint(path: Path, model: torch.nn.Module, cfg: Optional[ModelConfig]) -> Path:
    state = {"model": model.state_dict()}
    if cfg is not None:
        state["model_config"] = cfg.to_dict()
    return save_checkpoint(path, state)


def write_image(path: Path, height: int = 96, width: int = 128, seed: int = 0) -> Path:
    """A smooth random colour image with a few rectangles (JPEG/PNG by suffix)."""
    rng = np.random.default_rng(seed)
    base = cv2.resize(
        rng.integers(0, 255, (6, 8, 3), dtype=np.uint8),
        (width, height),
        interpolation=cv2.INTER_CUBIC,
    )
    for _ in range(3):
        x1, y1 = int(rng.integers(0, width - 20)), int(rng.integers(0, height - 20))
        color = tuple(int(c) for c in rng.integers(0, 255, 3))
        cv2.rectangle(base, (x1, y1), (x1 + 18, y1 + 18), color, -1)
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), base)
    return path


def write_exp(path: Path, body: str = "", base: str = "yolox-nano") -> Path:
    """An exp file deriving from a zoo exp, with extra ``self.x = ...`` lines in ``body``."""
    module = base.replace("-", "_")
    return _write_exp_file(
        path, f"from yolox.exp.default.{module} import Exp as ZooExp", "ZooExp", body
    )


def write_synthetic_exp(path: Path, body: str = "") -> Path:
    """An exp file deriving from the generated-dataset exp, with extra ``self.x = ...`` lines."""
    return _write_exp_file(
        path, "from yolox.exp.synthetic import SyntheticExp", "SyntheticExp", body
    )


def _write_exp_file(path: Path, import_line: str, base: str, body: str) -> Path:
    lines = (
        "\n".join("        " + line for line in body.strip().splitlines())
        if body.strip()
        else "        pass"
    )
    path.write_text(
        f"{import_line}\n\n\n"
        f"class Exp({base}):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        f"{lines}\n"
    )
    return path


def assert_same_detections(
    boxes_a, scores_a, boxes_b, scores_b, atol=1e-3, score_rtol=1e-3, subset=False
):
    """Same sets of (box, score) up to ``atol`` (order may differ among near-equal scores).

    ``subset``: only every detection of ``a`` must be found in ``b`` (pass a's top-k when
    near-threshold NMS decisions on degenerate low-score boxes may differ between runtimes).
    """
    if not subset:
        assert len(boxes_a) == len(boxes_b)
    for box, score in zip(boxes_a, scores_a):
        close = np.all(np.abs(boxes_b - box) <= atol * max(1.0, np.abs(box).max()), axis=1)
        close &= np.abs(scores_b - score) <= score_rtol * max(1e-6, abs(score)) + 1e-9
        assert close.any(), f"no match for {box} {score}"
