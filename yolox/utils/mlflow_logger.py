"""MLflow logging under official YOLOX's name and calls; mlflow is imported on use."""

from __future__ import annotations

import os
from typing import Any, Dict, Mapping, Optional

from .wandb_logger import import_optional

__all__ = ["MlflowLogger"]


class MlflowLogger:
    """Log parameters, metrics and checkpoints of a run to MLflow (official method names).

    ``MLFLOW_TRACKING_URI`` and ``MLFLOW_EXPERIMENT_NAME`` choose the server and experiment, as
    with mlflow itself.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._ml_flow = import_optional("mlflow", "MlflowLogger")
        self._initialized = False
        self.run = None

    def setup(self, args: Any, exp: Any) -> None:
        """Start (or join) a run and record the exp's scalar fields and the command's arguments."""
        tracking_uri = os.environ.get("MLFLOW_TRACKING_URI")
        if tracking_uri:
            self._ml_flow.set_tracking_uri(tracking_uri)
        experiment = os.environ.get("MLFLOW_EXPERIMENT_NAME")
        if experiment:
            self._ml_flow.set_experiment(experiment)
        self.run = self._ml_flow.active_run() or self._ml_flow.start_run(
            run_name=getattr(args, "experiment_name", None)
        )
        params: Dict[str, Any] = {}
        for source, prefix in ((vars(exp), "exp."), (vars(args), "args.")):
            for key, value in source.items():
                if not key.startswith("_") and isinstance(value, (int, float, str, bool, tuple)):
                    params[prefix + key] = value
        self._ml_flow.log_params(params)
        self._initialized = True

    def on_log(self, args: Any, exp: Any, step: int, logs: Mapping[str, Any]) -> None:
        """Numeric values of ``logs`` (tensors become floats) as metrics at ``step``."""
        if not self._initialized:
            self.setup(args, exp)
        metrics = {}
        for key, value in logs.items():
            value = value.item() if hasattr(value, "item") else value
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                metrics[key.replace("@", "_at_")] = float(value)
        self._ml_flow.log_metrics(metrics, step=step)

    def save_checkpoints(
        self,
        args: Any,
        exp: Any,
        file_name: str,
        metadata: Optional[Mapping[str, Any]] = None,
        update_best_ckpt: bool = False,
    ) -> None:
        """Upload the latest (and, when it improved, the best) checkpoint of the run folder."""
        if not self._initialized:
            self.setup(args, exp)
        names = ["latest_ckpt.pth"] + (["best_ckpt.pth"] if update_best_ckpt else [])
        for name in names:
            path = os.path.join(file_name, name)
            if os.path.isfile(path):
                self._ml_flow.log_artifact(path, artifact_path="checkpoints")
        if metadata:
            self._ml_flow.set_tags({k: str(v) for k, v in metadata.items()})

    def on_train_end(
        self, args: Any, file_name: str, metadata: Optional[Mapping[str, Any]] = None
    ) -> None:
        """Upload the best checkpoint and end the run."""
        path = os.path.join(file_name, "best_ckpt.pth")
        if self._initialized and os.path.isfile(path):
            self._ml_flow.log_artifact(path, artifact_path="checkpoints")
        self.finish()

    def finish(self) -> None:
        if self._initialized:
            self._ml_flow.end_run()
            self._initialized = False
