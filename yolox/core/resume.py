"""Where a run starts: the state of a ``--resume`` checkpoint, or ``-c`` weights to fine-tune from.

Kept apart from the loop so that what a resumed run restores (weights, optimizer, scaler, AP,
train size, position in the data, RNG states) is read in one place.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Optional, Tuple

import torch
from loguru import logger
from torch import nn

from yolox.utils.checkpoint import (
    CheckpointError,
    TrainingCheckpoint,
    as_float,
    checkpoint_name,
    load_checkpoint,
    load_model_weights,
)
from yolox.utils.errors import UserError

__all__ = [
    "FINETUNE_WARN_FRACTION",
    "ResumePoint",
    "best_ap_on_disk",
    "load_finetune_weights",
    "load_resume_point",
]

#: fine-tuning warns when more than this share of the model's tensors did not load from ``-c``
FINETUNE_WARN_FRACTION = 0.1


@dataclass
class ResumePoint:
    """What a resumed run continues from (weights and optimizer are already loaded)."""

    start_epoch: int
    start_iter: int
    data_position: int  # batches of the data stream already consumed
    best_ap: float
    curr_ap: Optional[float]
    train_size: Optional[Tuple[int, int]]
    rng: Optional[dict]  # this rank's RNG states to restore, or None
    ema_state: Optional[dict]  # {"model", "updates"} of the EMA, or None
    precision: Optional[str] = None  # what the checkpoint's run computed in (None: not recorded)


def load_resume_point(
    ckpt_file: str,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: Any,
    device: torch.device,
    folder: str,
    start_epoch: Optional[int],
    batch_size: int,
    rank: int,
    world_size: int,
) -> ResumePoint:
    """Load ``ckpt_file`` into ``model``, ``optimizer`` and ``scaler`` (None: no AMP).

    ``start_epoch`` (``-e N``, 1-based) restarts at that epoch: data order and RNG are then not
    restored. The data position is kept only when the process count is unchanged.
    """
    logger.info(f"Resuming training from {ckpt_file}")
    ckpt = TrainingCheckpoint.from_dict(load_checkpoint(ckpt_file, map_location=device), ckpt_file)
    try:
        load_model_weights(model, {"model": ckpt.training_weights}, strict=True)
    except CheckpointError as exc:
        raise CheckpointError(
            f"{ckpt_file} does not match this model, so it cannot be resumed "
            f"(use -c without --resume to fine-tune from it): {exc}"
        ) from exc
    optimizer.load_state_dict(ckpt.optimizer)
    if scaler is not None and ckpt.scaler:
        scaler.load_state_dict(ckpt.scaler)
    best_ap = best_ap_on_disk(folder, ckpt.best_ap)
    data_position, rng = 0, None
    if start_epoch:
        first_epoch, first_iter = int(start_epoch) - 1, 0
    else:
        first_epoch, first_iter = ckpt.start_epoch, ckpt.iter_in_epoch
        same_world = ckpt.world_size == world_size
        if ckpt.samples_per_rank >= 0 and same_world:
            data_position = ckpt.samples_per_rank // max(batch_size // world_size, 1)
        if isinstance(ckpt.rng, list) and len(ckpt.rng) == world_size:
            rng = ckpt.rng[rank]
        elif not same_world:
            logger.warning("process count changed since the checkpoint: data order restarts")
    point = ResumePoint(
        start_epoch=first_epoch,
        start_iter=first_iter,
        data_position=data_position,
        best_ap=best_ap,
        curr_ap=ckpt.curr_ap,
        train_size=ckpt.train_size or None,
        rng=rng,
        ema_state=None
        if ckpt.train_model is None
        else {"model": ckpt.model, "updates": int(ckpt.ema_updates or 0)},
        precision=ckpt.precision,
    )
    logger.info(f"Loaded checkpoint '{ckpt_file}' (epoch {first_epoch + 1}, iter {first_iter + 1})")
    return point


def best_ap_on_disk(folder: str, recorded: float) -> float:
    """The AP that ``best_ckpt.pth`` in ``folder`` really holds (0 when missing or unreadable).

    A kill between checkpoint writes (or a folder of an older version, which wrote latest
    first) can leave best behind the best AP that latest records; the file is the truth,
    so the next better epoch rewrites it.
    """
    path = os.path.join(folder, checkpoint_name("best"))
    if not os.path.isfile(path):
        return 0.0  # the first evaluation writes it
    try:
        stored = load_checkpoint(path)
    except CheckpointError:
        stored = {}
    # official checkpoints record only best_ap: the AP of the best epoch, which they hold
    value = stored.get("curr_ap")
    on_disk = as_float(stored.get("best_ap", 0.0) if value is None else value)
    if on_disk != recorded:
        logger.warning(
            f"{path} holds AP50:95 {100 * on_disk:.2f} but the resumed checkpoint records "
            f"best {100 * recorded:.2f} (interrupted between checkpoint writes): "
            "continuing from the file's AP, so the next better epoch rewrites it"
        )
    return on_disk


def load_finetune_weights(
    model: nn.Module, ckpt_file: str, strict: bool, device: torch.device
) -> None:
    """``-c`` without ``--resume``: copy the matching tensors, say loudly what did not fit.

    With ``strict`` (``--strict``) any difference is an error; without it, leaving more than
    FINETUNE_WARN_FRACTION of the model's tensors (new attention layers aside) at their
    initialisation is a warning: usually a checkpoint of another model size.
    """
    logger.info(f"Loading weights for fine-tuning from {ckpt_file}")
    checkpoint = load_checkpoint(ckpt_file, map_location=device)
    try:
        report = load_model_weights(model, checkpoint, strict=strict)
    except CheckpointError as exc:
        raise UserError(f"-c {ckpt_file} with --strict: {exc}") from None
    share = report.not_loaded_fraction
    if share > FINETUNE_WARN_FRACTION:
        logger.warning(
            f"-c {ckpt_file} fits this model badly: {share:.0%} of its tensors were not "
            f"loaded (missing or of another shape) and stay randomly initialised. Is it a "
            f"checkpoint of another model size? Pass --strict to make this an error.\n"
            + report.summary()
        )
    else:
        logger.info(report.summary())


def precision_change_warning(recorded: Optional[str], now: str, asked: str) -> Optional[str]:
    """The warning for a run resumed in another precision than it trained in (None if the same
    or unrecorded): ``auto`` resolves per CPU, so resuming on another machine can switch."""
    if recorded is None or recorded == now:
        return None
    return (
        f"the checkpoint's run trained in {recorded}; it continues in {now} (precision {asked} "
        f"here), so one run mixes two precisions: pass --precision {recorded} to keep one"
    )
