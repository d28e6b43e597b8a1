"""The official YOLOX release weights by model name: ``-c yolox-s``, ``Predictor.from_pretrained``, hub.

The files are the ones Megvii published with YOLOX release 0.1.1rc0 (COCO-trained, 80 classes);
they are fetched once into :func:`yolox.utils.download.cache_dir` (``$YOLOX_HOME``, default
``~/.cache/yolox``). A file is accepted only if the zoo model of that name loads it exactly
(same keys, same shapes), so a truncated or foreign file never reaches the cache or a model.
``YOLOX_WEIGHTS_URL`` replaces the release URL (a mirror, or a local folder: a path or ``file://``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, Optional

from loguru import logger

from yolox.utils.checkpoint import CheckpointError, load_checkpoint, load_model_weights
from yolox.utils.download import DownloadError, cache_dir, download_file

from .zoo import build_model, zoo_config

__all__ = [
    "RELEASE_URL",
    "WeightsMismatchError",
    "PRETRAINED_FILES",
    "PRETRAINED_SHA256",
    "pretrained_name",
    "pretrained_url",
    "pretrained_weights",
    "resolve_pretrained",
    "verify_pretrained",
]

RELEASE_URL = "https://github.com/Megvii-BaseDetection/YOLOX/releases/download/0.1.1rc0"

#: zoo name -> file name in the release (the Darknet-53 baseline is published as yolox_darknet)
PRETRAINED_FILES: Dict[str, str] = {
    "yolox-nano": "yolox_nano.pth",
    "yolox-tiny": "yolox_tiny.pth",
    "yolox-s": "yolox_s.pth",
    "yolox-m": "yolox_m.pth",
    "yolox-l": "yolox_l.pth",
    "yolox-x": "yolox_x.pth",
    "yolov3": "yolox_darknet.pth",
}

#: optional SHA-256 per zoo name. The release page publishes no checksums, so none is pinned;
#: the key-and-shape check against the zoo model is what every file must pass.
PRETRAINED_SHA256: Dict[str, Optional[str]] = {name: None for name in PRETRAINED_FILES}


class WeightsMismatchError(DownloadError):
    """A file that is not the official weights of the model it was fetched for."""


def _zoo_key(name: str) -> str:
    return os.fspath(name).strip().lower().replace("_", "-")


def pretrained_name(ckpt: Optional[str]) -> Optional[str]:
    """The zoo name that ``ckpt`` spells (``yolox-s``, ``yolox_s``, ``YOLOX-S``), else None.

    An existing file always wins: ``-c yolox-s`` names the download only when no such file exists.
    A folder of that name is not a checkpoint: the model name is used, and the log says so.
    """
    if not ckpt or os.path.isfile(ckpt):
        return None
    key = _zoo_key(ckpt)
    if key not in PRETRAINED_FILES:
        return None
    if os.path.exists(ckpt):
        logger.warning(
            f"-c {ckpt}: both a folder {os.path.abspath(ckpt)} and the model name {key} match; "
            f"using the official {key} weights (a checkpoint is a file: give ./{ckpt}/<file> "
            "for one in that folder)"
        )
    return key


def resolve_pretrained(ckpt: Optional[str]) -> Optional[str]:
    """``ckpt`` unchanged, unless it is a zoo name: then the path of the official weights."""
    name = pretrained_name(ckpt)
    return os.fspath(pretrained_weights(name)) if name else ckpt


def pretrained_url(name: str) -> str:
    """Where the release file of ``name`` is fetched from (``$YOLOX_WEIGHTS_URL`` overrides the base)."""
    base = os.environ.get("YOLOX_WEIGHTS_URL") or RELEASE_URL
    if "://" not in base:  # a plain folder
        base = Path(base).expanduser().resolve().as_uri()
    return f"{base.rstrip('/')}/{PRETRAINED_FILES[name]}"


def verify_pretrained(path: Path, name: str, source: Optional[str] = None) -> None:
    """Raise WeightsMismatchError unless ``path`` holds weights that the zoo model ``name`` loads exactly.

    ``source`` (the URL) names the file in messages when ``path`` is a temporary download.
    """
    label = source or os.fspath(path)
    try:
        checkpoint = load_checkpoint(path)
        report = load_model_weights(build_model(zoo_config(name)), checkpoint)
    except CheckpointError as exc:
        raise WeightsMismatchError(f"{label} is not a usable {name} checkpoint: {exc}") from exc
    if not report.exact:
        raise WeightsMismatchError(
            f"{label} does not hold the official {name} weights (keys or shapes differ):\n"
            + report.summary()
        )


def pretrained_weights(name: str, progress: bool = True) -> Path:
    """Local path of the official weights of zoo model ``name``, downloaded on first use.

    A cached file is checked again before use; one that fails is reported, never used.
    """
    key = _zoo_key(name)
    if key not in PRETRAINED_FILES:
        raise CheckpointError(
            f"no official weights for {name!r}; choose one of {sorted(PRETRAINED_FILES)}"
        )
    target = cache_dir() / PRETRAINED_FILES[key]
    if target.is_file():
        try:
            verify_pretrained(target, key)
        except DownloadError as exc:
            raise DownloadError(f"{exc}\ndelete {target} to download it again") from exc
        return target
    url = pretrained_url(key)
    logger.info(f"downloading the official {key} weights from {url} to {target}")
    try:
        return download_file(
            url,
            target,
            sha256=PRETRAINED_SHA256.get(key),
            verify=lambda tmp: verify_pretrained(tmp, key, source=url),
            progress=progress,
        )
    except WeightsMismatchError:
        raise
    except DownloadError as exc:
        raise DownloadError(
            f"{exc}\noffline? put {target.name} from {RELEASE_URL} into {target.parent} "
            "or point YOLOX_WEIGHTS_URL at a folder or mirror holding it"
        ) from exc
