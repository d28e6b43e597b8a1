"""What a training checkpoint holds, and how a run is restored from it.

Keys (superset of the official layout):
  model          weights used for evaluation/demo/export: the EMA weights when EMA is on
  train_model    the raw (non-EMA) training weights, present when EMA is on
  ema_updates    EMA update counter
  optimizer, scaler (GradScaler state or None)
  start_epoch    epoch to start from (official key); iter_in_epoch: iterations already done in it
  iteration      global iterations done; data_position: batches consumed from the data stream
  best_ap, curr_ap   plain floats
  input_size     current multi-scale training size
  rng            list of per-rank RNG states (python, numpy, torch, cuda)
  model_config   exp.model_config(), so eval/demo/export can rebuild the model alone
"""

from __future__ import annotations

from typing import Any

__all__ = ["CKPT_FORMAT", "checkpoint_name"]

CKPT_FORMAT = 1


def checkpoint_name(tag: str) -> str:
    """``latest`` -> ``latest_ckpt.pth`` (official file naming)."""
    return f"{tag}_ckpt.pth"


def as_float(value: Any) -> float:
    """Plain float (tensors and numpy scalars would need unpickling of foreign types)."""
    return float(value.item() if hasattr(value, "item") else value)
