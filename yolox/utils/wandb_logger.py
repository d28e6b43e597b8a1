"""Weights & Biases logging under official YOLOX's name and calls; wandb is imported on use."""

from __future__ import annotations

import os
from typing import Any, Dict, Mapping, Optional

__all__ = ["WandbLogger", "import_optional"]


def import_optional(module: str, purpose: str) -> Any:
    """Import an optional dependency, or fail with one line saying what to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"{purpose} needs the '{module}' package, which is not installed: pip install {module}"
        ) from exc


class WandbLogger:
    """Log metrics and checkpoints of a run to W&B (official constructor and methods).

    Official ``--logger wandb`` runs use the project's tracker (yolox.core.trackers); this class
    serves code written against official's ``yolox.utils.WandbLogger``.
    """

    def __init__(
        self,
        project: Optional[str] = None,
        name: Optional[str] = None,
        id: Optional[str] = None,
        entity: Optional[str] = None,
        save_dir: Optional[str] = None,
        config: Optional[Mapping[str, Any]] = None,
        val_dataset: Any = None,
        num_eval_images: int = 100,
        log_checkpoints: bool = False,
        **kwargs: Any,
    ) -> None:
        self.wandb = import_optional("wandb", "WandbLogger")
        self.project, self.name, self.id, self.entity = project, name, id, entity
        self.save_dir = save_dir
        self.config = dict(config or {})
        self.val_dataset = val_dataset
        self.num_eval_images = num_eval_images
        self.log_checkpoints = log_checkpoints
        self.kwargs = kwargs
        self.run = self.wandb.run or self.wandb.init(
            project=project,
            name=name,
            id=id,
            entity=entity,
            dir=save_dir,
            config=self.config,
            resume="allow",
            **kwargs,
        )

    def log_metrics(self, metrics: Mapping[str, Any], step: Optional[int] = None) -> None:
        """Scalars (tensors become floats) at ``step``."""
        values: Dict[str, Any] = {
            k: v.item() if hasattr(v, "item") else v for k, v in metrics.items()
        }
        self.run.log(values, step=step)

    def log_images(self, predictions: Any) -> None:
        """Official logs a table of evaluation images; here the count of predictions only."""
        self.run.log({"val/num_predictions": len(predictions)})

    def save_checkpoint(
        self, save_dir: str, model_name: str, is_best: bool, metadata: Optional[dict] = None
    ) -> None:
        """Upload ``save_dir/model_name_ckpt.pth`` as an artifact when ``log_checkpoints`` is on."""
        if not self.log_checkpoints:
            return
        path = os.path.join(save_dir, f"{model_name}_ckpt.pth")
        artifact = self.wandb.Artifact(
            name=f"run_{self.run.id}_model", type="model", metadata=metadata or {}
        )
        artifact.add_file(path, name="model_ckpt.pth")
        aliases = ["latest"] + (["best"] if is_best else [])
        self.run.log_artifact(artifact, aliases=aliases)

    def finish(self) -> None:
        self.run.finish()

    @classmethod
    def initialize_wandb_logger(cls, args: Any, exp: Any, val_dataset: Any) -> WandbLogger:
        """Official's factory: ``wandb-<key>`` pairs in ``args.opts`` become constructor arguments."""
        options: Dict[str, Any] = {}
        opts = list(getattr(args, "opts", None) or [])
        for key, value in zip(opts[0::2], opts[1::2]):
            if str(key).startswith("wandb-"):
                options[str(key)[len("wandb-") :]] = value
        return cls(config=vars(exp), val_dataset=val_dataset, **options)
