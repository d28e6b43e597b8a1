"""Which folder a training run writes to, and the guard that keeps runs of different models apart.

``tools/train.py -f exps/my_data.py attention cam`` is another model than the baseline of
``exps/my_data.py``: without ``-expn`` it is named ``my_data_cam`` (see
:func:`derived_experiment_name`), so it never writes over the baseline's checkpoints. Whatever
the name, :func:`check_output_folder` refuses to write into a folder whose checkpoints hold
another model configuration (an edited exp file, a reused ``-expn``).
"""

from __future__ import annotations

import os
import re
from typing import Any, Callable, Mapping, Optional, Sequence

from yolox.models.build import ARCH_FIELDS, model_config_differences
from yolox.utils.checkpoint import CheckpointError, checkpoint_name, load_checkpoint
from yolox.utils.errors import UserError

__all__ = ["check_output_folder", "derived_experiment_name"]

#: checkpoints that tell which model a folder holds, most telling first
_EVIDENCE = ("latest", "best", "last_epoch")


def _name_part(key: str, text: str) -> str:
    value = re.sub(r"[^A-Za-z0-9.+-]+", "_", str(text)).strip("_")[:40] or "none"
    return value if key == "attention" else f"{key}{value}"


def derived_experiment_name(exp_name: str, opts: Sequence[str]) -> str:
    """``exp_name`` plus one part per model-changing ``KEY VALUE`` override.

    ``attention cam`` -> ``<exp_name>_cam``; other architecture fields add ``<key><value>``
    (``width 0.5`` -> ``_width0.5``). Overrides that do not change the model add nothing.
    """
    pairs = list(zip(opts[0::2], opts[1::2]))
    parts = [_name_part(key, value) for key, value in pairs if key in ARCH_FIELDS]
    return "_".join([exp_name, *parts])


def _stored_model_config(folder: str) -> Optional[tuple]:
    for tag in _EVIDENCE:
        path = os.path.join(folder, checkpoint_name(tag))
        if os.path.isfile(path):
            try:
                config = load_checkpoint(path).get("model_config")
            except CheckpointError:
                continue  # unreadable: resume or eval will say so; it does not tell the model
            if isinstance(config, Mapping):
                return path, config
    return None


def check_output_folder(
    folder: str,
    describe_model: Callable[[], Mapping[str, Any]],
    unknown: Sequence[str] = (),
) -> None:
    """Raise UserError when ``folder`` holds checkpoints of another model configuration.

    ``describe_model`` gives this run's configuration; it is only called when the folder holds a
    checkpoint (describing the model may mean building it). A run (or ``--resume`` of it) with
    the same configuration may continue in its folder. Fields in ``unknown`` are not decided
    yet (class names taken from the data before the dataset is read) and are not compared:
    the caller checks again once they are bound.
    """
    stored = _stored_model_config(folder)
    if stored is None:
        return
    path, config = stored
    differences = [
        d for d in model_config_differences(config, describe_model()) if d[0] not in unknown
    ]
    if differences:
        listed = "; ".join(f"{k}: {a!r} there vs {b!r} now" for k, a, b in differences[:5])
        raise UserError(
            f"{folder} holds the checkpoints of another model ({path}: {listed}); this run "
            "would overwrite them. Give this run its own name with -expn NAME (or remove the "
            "folder if it is no longer needed)."
        )
