"""The divergence guard: a NaN/Inf step is never applied and a non-finite state never saved.

The loop asks :meth:`DivergenceGuard.step_problem` after each backward pass and
:meth:`DivergenceGuard.state_problem` before each checkpoint; either answer (a reason) becomes
one :class:`TrainingDiverged` message from :func:`diverged_error`.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from typing import Callable, Optional

import torch
import torch.distributed as dist
from torch import nn

from yolox.core.errors import TrainingDiverged
from yolox.utils.checkpoint import checkpoint_name, non_finite_tensors
from yolox.utils.ema import unwrap_model

__all__ = ["DivergenceGuard", "diverged_error", "total_norm"]


class DivergenceGuard:
    """Finite-or-not verdicts agreed by every rank (one small all-reduce each).

    ``autocast`` opens the context the training step computes in, so the check before a save
    runs the model exactly as the next step would.
    """

    def __init__(
        self,
        device: torch.device,
        amp: bool,
        is_distributed: bool,
        autocast: Callable[[], AbstractContextManager],
    ):
        self.device = device
        self.amp = amp
        self.is_distributed = is_distributed
        self.autocast = autocast

    def step_problem(self, model: nn.Module, loss: torch.Tensor, outputs: dict) -> Optional[str]:
        """Why this step must not be applied, or None; call it before the optimizer step.

        Checks the loss (the head turns NaN/Inf predictions into a NaN loss before SimOTA)
        and, without AMP, the total gradient norm (with AMP the GradScaler already skips steps
        with Inf/NaN gradients). A step with finite gradients can still leave weights that
        overflow at the next forward; that is caught by the next iteration's loss, and, before
        any checkpoint is written, by :meth:`state_problem`, so a checkpoint always holds a
        usable state.
        """
        flags = [torch.isfinite(loss.detach()).all()]
        if not self.amp:
            grads = [p.grad for p in model.parameters() if p.grad is not None]
            flags.append(torch.isfinite(total_norm(grads)) if grads else flags[0])
        finite = torch.stack(flags).to(torch.float32)
        if self.is_distributed:
            dist.all_reduce(finite, op=dist.ReduceOp.MIN)
        if bool((finite > 0).all()):
            return None
        if finite[0] < 1:
            parts = ", ".join(
                f"{k}={float(v.detach() if isinstance(v, torch.Tensor) else v):.4g}"
                for k, v in outputs.items()
                if isinstance(v, float) or (isinstance(v, torch.Tensor) and v.numel() == 1)
            )
            return f"non-finite loss or predictions [{parts}]"
        return "non-finite gradients (total gradient norm is NaN/Inf)"

    def state_problem(
        self, model: nn.Module, weights: dict, probe: Optional[tuple]
    ) -> Optional[str]:
        """Why the state about to be saved must not be, or None; the same answer on every rank.

        Checks every weight, buffer and optimizer tensor of ``weights`` for NaN/Inf, then runs
        the training model on ``probe`` (one image and its labels of the latest batch) exactly
        as the next step would (train mode, no grad, BN statistics restored afterwards: no
        state changes): weights that are finite but overflow at the next forward are no state
        to resume from.
        """
        bad = non_finite_tensors(weights)
        reason = None
        if bad:
            more = ", ..." if len(bad) > 3 else ""
            reason = f"{len(bad)} weight or optimizer tensors are non-finite ({', '.join(bad[:3])}{more})"
        elif probe is not None and not self._finite_training_forward(model, probe):
            reason = "the updated weights give a NaN/Inf loss"
        verdict = torch.tensor([0.0 if reason else 1.0], device=self.device)
        if self.is_distributed:
            dist.all_reduce(verdict, op=dist.ReduceOp.MIN)
        if reason is None and verdict.item() < 1:
            reason = "another process found a non-finite state"
        return reason

    def _finite_training_forward(self, model: nn.Module, probe: tuple) -> bool:
        model = unwrap_model(model)
        buffers = list(model.buffers())
        saved = [b.clone() for b in buffers]
        try:
            with torch.no_grad(), self.autocast():
                outputs = model(*probe)
        finally:
            for buffer, value in zip(buffers, saved):
                buffer.copy_(value)
        return bool(torch.isfinite(outputs["total_loss"]).all())


def diverged_error(
    epoch: int,
    iteration: int,
    global_iteration: int,
    what: str,
    outcome: str,
    folder: str,
    basic_lr_per_img: float,
) -> TrainingDiverged:
    """One message with the position (0-based arguments), the cause and the last good checkpoint."""
    last = os.path.join(folder, checkpoint_name("latest"))
    if os.path.exists(last):
        last_good = f"last good checkpoint: {last} (continue with --resume)"
    else:
        last_good = "no checkpoint was written before"
    return TrainingDiverged(
        f"training diverged at epoch {epoch + 1}, iteration {iteration + 1} "
        f"(global {global_iteration + 1}): {what}; {outcome}; "
        f"{last_good}. Lower basic_lr_per_img (now "
        f"{basic_lr_per_img:g}) or check the data."
    )


def total_norm(tensors: list) -> torch.Tensor:
    """L2 norm over all ``tensors`` (fused per device where torch offers it)."""
    get_total_norm = getattr(torch.nn.utils, "get_total_norm", None)  # torch >= 2.6
    if get_total_norm is not None:
        return get_total_norm(tensors)
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(t) for t in tensors]))
