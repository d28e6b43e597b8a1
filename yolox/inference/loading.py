"""Rebuild a model from a checkpoint, using the exp only when the checkpoint cannot describe itself.

Our checkpoints carry ``model_config`` (architecture + class names), so eval/demo/export need no
exp file for the model. Official releases do not: their architecture must come from an exp
(``-f``/``-n``). When both are given they are compared; differences that change the network are
errors (the weights would not fit, or would mean something else), the rest are warnings.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import torch
from loguru import logger
from torch import nn

from yolox.exp import get_checked_model
from yolox.models.build import (
    ARCH_FIELDS,
    ModelConfig,
    build_model,
    describe_model,
    model_config_differences,
)
from yolox.utils.checkpoint import (
    CheckpointError,
    InferenceSettings,
    LoadReport,
    load_checkpoint,
    load_model_weights,
)
from yolox.utils.device import select_device

from .pretrained import resolve_pretrained

__all__ = [
    "ModelMismatchError",
    "LoadedModel",
    "compare_model_configs",
    "exp_model_config",
    "load_model",
    "resolve_checkpoint_path",
]


class ModelMismatchError(CheckpointError):
    """The checkpoint and the experiment describe different models."""


@dataclass
class LoadedModel:
    """A model ready for inference (eval mode, on ``device``) and where its description came from."""

    model: nn.Module
    config: ModelConfig
    class_names: Tuple[str, ...]
    config_source: str  # "checkpoint" or "exp"
    report: LoadReport
    warnings: List[str] = field(default_factory=list)
    checkpoint: Dict[str, Any] = field(default_factory=dict)  # everything but the weights

    @property
    def settings(self) -> InferenceSettings:
        """Test size, thresholds, run name... stored by the trainer (all None if absent)."""
        return InferenceSettings.from_checkpoint(self.checkpoint)

    def test_size(self, exp: Any = None) -> Tuple[int, int]:
        """The exp's test size when an exp is given, else the trained one, else 640 x 640."""
        if exp is not None:
            return tuple(exp.test_size)
        return self.settings.test_size or (640, 640)


def compare_model_configs(
    checkpoint_cfg: ModelConfig, exp_cfg: ModelConfig
) -> Tuple[List[str], List[str]]:
    """(errors, warnings): one line per differing field, ``checkpoint`` value vs ``exp`` value."""
    errors = [
        f"{name}: checkpoint {a!r} vs exp {b!r}"
        for name, a, b in model_config_differences(checkpoint_cfg, exp_cfg, ARCH_FIELDS)
    ]
    warnings = []
    a_names, b_names = checkpoint_cfg.class_names, exp_cfg.class_names
    if a_names is not None and b_names is not None and list(a_names) != list(b_names):
        diff = [f"{i}: {x!r} vs {y!r}" for i, (x, y) in enumerate(zip(a_names, b_names)) if x != y][
            :5
        ]
        if len(a_names) != len(b_names):
            diff.append(f"{len(a_names)} vs {len(b_names)} names")
        warnings.append(
            "class_names differ (checkpoint vs exp; the checkpoint's are used): " + "; ".join(diff)
        )
    return errors, warnings


def exp_model_config(exp: Any) -> ModelConfig:
    """The exp's architecture as a ModelConfig: ``exp.model_config()`` corrected by the model its
    own (checked) ``get_model`` builds, since official exps build networks their fields do not
    describe."""
    cfg = exp.model_config()
    cfg = cfg if isinstance(cfg, ModelConfig) else ModelConfig.from_dict(dict(cfg))
    return describe_model(get_checked_model(exp), cfg)


def resolve_checkpoint_path(ckpt: Optional[str], exp: Any = None) -> str:
    """``ckpt``; a zoo name (``yolox-s``) means the official weights (downloaded once);
    nothing means, like official YOLOX, ``<output_dir>/<exp_name>/best_ckpt.pth`` of the exp."""
    if ckpt:
        return resolve_pretrained(os.fspath(ckpt))
    if exp is None:
        raise CheckpointError(
            "no checkpoint given, and no experiment whose output folder holds best_ckpt.pth"
        )
    return os.path.join(exp.output_dir, exp.exp_name, "best_ckpt.pth")


def _default_names(cfg: ModelConfig) -> Tuple[str, ...]:
    if cfg.class_names is not None:
        return tuple(cfg.class_names)
    return tuple(str(i) for i in range(cfg.num_classes))


def load_model(
    ckpt_path: Union[str, os.PathLike],
    exp: Any = None,
    device: Union[str, torch.device, None] = "cpu",
    strict: bool = True,
) -> LoadedModel:
    """Rebuild the checkpoint's model, load its weights, put it in eval mode on ``device``.

    * checkpoint with ``model_config``: the model comes from it; an ``exp`` is only checked
      against it (ModelMismatchError listing every differing architecture field);
    * checkpoint without it (official release): ``exp`` is required and builds the model.

    With ``strict`` (default) any model tensor missing from the checkpoint, or of another shape,
    is an error: inference with randomly initialised layers is never what a user wants.
    Raises CheckpointError (missing/unreadable file, no weights) or ModelMismatchError.
    """
    checkpoint = load_checkpoint(ckpt_path, map_location="cpu")
    warnings: List[str] = []
    raw_cfg = checkpoint.get("model_config")
    if raw_cfg is not None:
        if isinstance(raw_cfg, ModelConfig):
            cfg = raw_cfg
        elif isinstance(raw_cfg, Mapping):
            try:
                cfg = ModelConfig.from_dict(dict(raw_cfg))
            except (TypeError, ValueError) as exc:
                raise CheckpointError(
                    f"checkpoint {ckpt_path}: unusable model_config: {exc}"
                ) from exc
        else:
            raise CheckpointError(
                f"checkpoint {ckpt_path}: model_config is a {type(raw_cfg).__name__}, expected a dict"
            )
        source = "checkpoint"
        if exp is not None:
            errors, warns = compare_model_configs(cfg, exp_model_config(exp))
            if errors:
                raise ModelMismatchError(
                    f"checkpoint {ckpt_path} and exp {exp.exp_name!r} describe different models: "
                    + "; ".join(errors)
                    + " (leave the exp out to use the checkpoint's own configuration, or fix the exp)"
                )
            warnings.extend(warns)
        model = build_model(cfg)
    else:
        if exp is None:
            raise CheckpointError(
                f"checkpoint {ckpt_path} carries no model_config (an official release?): "
                "give its experiment (an exp file or a zoo model name such as yolox-s)"
            )
        cfg = exp_model_config(exp)
        source = "exp"
        # the exp's own get_model (official exps override it), checked for its attention
        model = get_checked_model(exp)

    report = load_model_weights(model, checkpoint, strict=False)
    if strict and (report.missing or report.mismatched):
        raise ModelMismatchError(
            f"checkpoint {ckpt_path} does not fit the model:\n{report.summary()}"
        )
    if report.unexpected:
        warnings.append(
            f"{len(report.unexpected)} checkpoint tensors unused: {report.unexpected[:5]}"
        )
    for line in warnings:
        logger.warning(line)
    model.eval()
    model.to(select_device(device))
    meta = {
        k: v for k, v in checkpoint.items() if k not in ("model", "optimizer", "ema", "ema_model")
    }
    return LoadedModel(model, cfg, _default_names(cfg), source, report, warnings, meta)


def class_names_for(loaded: LoadedModel, exp: Any = None) -> Sequence[str]:
    """The names to print: the checkpoint's, else the exp's (when the count fits), else indices."""
    if loaded.config.class_names is not None:
        return loaded.class_names
    names = exp.class_names if exp is not None else None
    if names is not None and len(names) == loaded.config.num_classes:
        return tuple(names)
    return loaded.class_names
