"""The one module that reads and writes checkpoints.

Layout (a superset of official YOLOX ``.pth`` files, so each loads in the other):
``{"model": state_dict, "model_config": {...}, "optimizer": ..., "start_epoch": int, ...}``.
Writes are atomic (temporary file in the same folder, fsync, ``os.replace``) so a crash while
saving never destroys the previous checkpoint. Loads use ``weights_only=True``.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Tuple, Union

import torch
from torch import nn

__all__ = [
    "CheckpointError",
    "LoadReport",
    "save_checkpoint",
    "load_checkpoint",
    "extract_state_dict",
    "load_model_weights",
]

PathLike = Union[str, os.PathLike]


class CheckpointError(RuntimeError):
    """A checkpoint file is missing, unreadable, or does not hold model weights."""


def save_checkpoint(path: PathLike, state: Mapping[str, Any]) -> Path:
    """Write ``state`` to ``path`` atomically; the folder is created when missing."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(dict(state), handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise
    return target


def load_checkpoint(
    path: PathLike, map_location: Union[str, torch.device] = "cpu"
) -> Dict[str, Any]:
    """Read a checkpoint (ours or an official release) with ``weights_only=True``."""
    source = Path(path)
    if not source.is_file():
        raise CheckpointError(f"checkpoint not found: {source}")
    try:
        data = torch.load(source, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt or foreign files
        raise CheckpointError(
            f"cannot read checkpoint {source}: {type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(data, dict):
        raise CheckpointError(f"checkpoint {source} holds a {type(data).__name__}, expected a dict")
    return data


def extract_state_dict(checkpoint: Mapping[str, Any]) -> Dict[str, torch.Tensor]:
    """The model weights: ``checkpoint["model"]`` (official layout) or a bare state dict."""
    state = checkpoint.get("model", checkpoint)
    if (
        not isinstance(state, Mapping)
        or not state
        or not all(isinstance(v, torch.Tensor) for v in state.values())
    ):
        raise CheckpointError(
            "checkpoint has no model weights (expected a 'model' state dict of tensors)"
        )
    prefix = "module."
    if all(k.startswith(prefix) for k in state):  # saved from a DDP-wrapped model
        state = {k[len(prefix) :]: v for k, v in state.items()}
    return dict(state)


@dataclass
class LoadReport:
    """What happened to each key when weights were loaded into a model."""

    loaded: List[str] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)  # in the model, not in the checkpoint
    unexpected: List[str] = field(default_factory=list)  # in the checkpoint, not in the model
    mismatched: List[Tuple[str, Tuple[int, ...], Tuple[int, ...]]] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        return not (self.missing or self.unexpected or self.mismatched)

    def summary(self, max_items: int = 8) -> str:
        """Human-readable lines, grouping new attention keys apart from other missing keys."""

        def show(keys: List[str]) -> str:
            more = f" ... (+{len(keys) - max_items} more)" if len(keys) > max_items else ""
            return ", ".join(keys[:max_items]) + more

        lines = [f"loaded {len(self.loaded)} tensors"]
        new_attention = [k for k in self.missing if ".attention." in k]
        other_missing = [k for k in self.missing if ".attention." not in k]
        if new_attention:
            lines.append(
                f"new (attention, left at initialisation): {len(new_attention)}: {show(new_attention)}"
            )
        if other_missing:
            lines.append(f"missing from checkpoint: {len(other_missing)}: {show(other_missing)}")
        if self.unexpected:
            lines.append(
                f"unexpected in checkpoint (ignored): {len(self.unexpected)}: {show(self.unexpected)}"
            )
        if self.mismatched:
            shown = [f"{k} ckpt {list(c)} vs model {list(m)}" for k, c, m in self.mismatched]
            lines.append(f"shape mismatch (skipped): {len(shown)}: {show(shown)}")
        return "\n".join(lines)


def load_model_weights(
    model: nn.Module, checkpoint: Mapping[str, Any], strict: bool = False
) -> LoadReport:
    """Copy every matching tensor into ``model``; report missing, unexpected and mis-shaped keys.

    With ``strict=True`` any difference raises a CheckpointError carrying the report.
    """
    state = extract_state_dict(checkpoint)
    own = model.state_dict()
    report = LoadReport()
    usable = {}
    for key, value in state.items():
        if key not in own:
            report.unexpected.append(key)
        elif tuple(own[key].shape) != tuple(value.shape):
            report.mismatched.append((key, tuple(value.shape), tuple(own[key].shape)))
        else:
            usable[key] = value
            report.loaded.append(key)
    report.missing = [k for k in own if k not in state]
    if strict and not report.exact:
        raise CheckpointError("checkpoint does not match the model exactly:\n" + report.summary())
    model.load_state_dict(usable, strict=False)
    return report
