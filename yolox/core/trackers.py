"""Experiment trackers behind one small interface: TensorBoard (default), wandb, mlflow."""

from __future__ import annotations

import importlib.util
import os
from typing import Any, Mapping

from loguru import logger

from yolox.utils.cli_args import LOGGERS
from yolox.utils.errors import UserError

__all__ = [
    "Tracker",
    "NullTracker",
    "TensorboardTracker",
    "WandbTracker",
    "MlflowTracker",
    "build_tracker",
]


class Tracker:
    """Receives scalar metrics keyed like ``train/total_loss`` or ``val/COCOAP50_95``."""

    def log_scalars(self, values: Mapping[str, float], step: int) -> None:
        raise NotImplementedError

    def log_config(self, config: Mapping[str, Any]) -> None:
        """Record the run configuration once (optional)."""

    def close(self) -> None:
        """Flush and release resources."""


class NullTracker(Tracker):
    """Used on non-zero ranks: every call is a no-op."""

    def log_scalars(self, values: Mapping[str, float], step: int) -> None:
        pass


class TensorboardTracker(Tracker):
    def __init__(self, log_dir: str):
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=log_dir)

    def log_scalars(self, values: Mapping[str, float], step: int) -> None:
        for key, value in values.items():
            self.writer.add_scalar(key, float(value), step)

    def log_config(self, config: Mapping[str, Any]) -> None:
        text = "\n".join(f"    {k}: {v}" for k, v in sorted(config.items()))
        self.writer.add_text("config", text, 0)

    def close(self) -> None:
        self.writer.flush()
        self.writer.close()


class WandbTracker(Tracker):
    def __init__(self, log_dir: str, name: str, config: Mapping[str, Any]):
        import wandb

        self.run = wandb.init(dir=log_dir, name=name, config=dict(config), resume="allow")

    def log_scalars(self, values: Mapping[str, float], step: int) -> None:
        self.run.log({k: float(v) for k, v in values.items()}, step=step)

    def close(self) -> None:
        self.run.finish()


class MlflowTracker(Tracker):
    def __init__(self, name: str, config: Mapping[str, Any]):
        import mlflow

        self.mlflow = mlflow
        mlflow.set_experiment(name)
        mlflow.start_run()
        mlflow.log_params({k: str(v)[:250] for k, v in config.items()})

    def log_scalars(self, values: Mapping[str, float], step: int) -> None:
        clean = {k.replace("/", "_"): float(v) for k, v in values.items()}
        self.mlflow.log_metrics(clean, step=step)

    def close(self) -> None:
        self.mlflow.end_run()


def build_tracker(
    kind: str, save_dir: str, name: str, config: Mapping[str, Any], rank: int = 0
) -> Tracker:
    """Tracker for ``-l/--logger``; fails early with a clear message if a package is missing."""
    kind = (kind or "tensorboard").lower()
    if kind not in LOGGERS:
        raise UserError(f"unknown experiment tracker {kind!r}: one of {', '.join(LOGGERS)}")
    if importlib.util.find_spec(kind) is None:  # each tracker is the package of its name
        raise UserError(f"the {kind} tracker needs the '{kind}' package: pip install {kind}")
    if rank != 0:
        return NullTracker()
    if kind == "wandb":
        tracker: Tracker = WandbTracker(save_dir, name, config)
    elif kind == "mlflow":
        tracker = MlflowTracker(name, config)
    else:
        tracker = TensorboardTracker(os.path.join(save_dir, "tensorboard"))
    tracker.log_config(config)
    logger.info(f"Logging metrics with {kind} in {save_dir}")
    return tracker
