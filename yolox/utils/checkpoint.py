"""The one module that reads and writes checkpoints, and knows what they hold.

Layout (a superset of official YOLOX ``.pth`` files, so each loads in the other)::

  model          weights for eval/demo/export (official layout; the EMA weights when EMA is on)
  optimizer      optimizer state (official key); scaler: GradScaler state or None
  start_epoch    0-based epoch a resumed run starts in (official key)
  format         layout version (CKPT_FORMAT)
  train_model    raw training weights (only when EMA is on); ema_updates: EMA update counter
  iter_in_epoch  iterations of ``start_epoch`` already done; iteration: global iterations done
  data_position  batches consumed from the data stream; samples_per_rank, world_size
  train_size     multi-scale size in use when saved (format 1 called it ``input_size``)
  use_l1         whether the L1 loss was on (no-aug epochs)
  best_ap, curr_ap   plain floats (AP50:95 of the best and of the last evaluation)
  rng            per-rank RNG states (python, numpy, torch, cuda)
  model_config   the architecture as get_model built it (describe_model) and class names
  inference      InferenceSettings: test size, thresholds, dataset format, run name, ...

Writes are atomic (a temporary ``.<name>.<random>.tmp`` in the same folder, fsync, rename), so
a crash while saving never destroys the previous file; :func:`remove_stale_temp_files` clears
what a killed process left. Loads use ``weights_only=True``: a checkpoint is plain data and
tensors, never arbitrary pickled objects. The trainer assembles the run's values into a
:class:`TrainingCheckpoint`; this module is the only place that turns it into keys and back.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple, Union

import torch
from torch import nn

from .errors import UserError
from .partial_load import load_ckpt

__all__ = [
    "CKPT_FORMAT",
    "CheckpointError",
    "InferenceSettings",
    "LoadReport",
    "TrainingCheckpoint",
    "as_float",
    "checkpoint_name",
    "describe_checkpoint_space",
    "extract_state_dict",
    "load_checkpoint",
    "load_ckpt",
    "load_model_weights",
    "non_finite_tensors",
    "prune_history_checkpoints",
    "remove_stale_temp_files",
    "safe_path_component",
    "save_checkpoint",
]

PathLike = Union[str, os.PathLike]

#: 2: ``train_size`` holds the multi-scale size, ``input_size`` (in ``inference``) the exp's
CKPT_FORMAT = 2
_SUFFIX = "_ckpt.pth"
#: temporary files written by :func:`save_checkpoint` for ``<tag>_ckpt.pth``
_TEMP_FILE = re.compile(r"^\..+_ckpt\.pth\.[A-Za-z0-9_]+\.tmp$")
_HISTORY_FILE = re.compile(r"^epoch_(\d+)_ckpt\.pth$")


class CheckpointError(UserError):
    """A checkpoint file is missing, unreadable, or does not hold model weights."""


def checkpoint_name(tag: str) -> str:
    """``latest`` -> ``latest_ckpt.pth`` (official file naming)."""
    return f"{tag}{_SUFFIX}"


# ---------------------------------------------------------------------------------- files
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


def remove_stale_temp_files(folder: PathLike) -> List[Path]:
    """Delete the temporary files of interrupted checkpoint saves in ``folder``; returns them.

    Only names :func:`save_checkpoint` produces (``.<tag>_ckpt.pth.<random>.tmp``) are touched.
    Call it before the run writes anything: a save in progress would look the same.
    """
    root = Path(folder)
    if not root.is_dir():
        return []
    stale = [p for p in sorted(root.iterdir()) if p.is_file() and _TEMP_FILE.match(p.name)]
    for path in stale:
        path.unlink()
    return stale


def _unpickling_detail(message: str) -> str:
    """The useful part of torch's weights-only error, without its advice to unpickle anyway."""
    found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", message)
    if found:
        return (
            f"it holds a Python object of type {found.group(1)}, which is not loaded because "
            "unpickling it could run arbitrary code; a checkpoint must hold only tensors and "
            "plain data (re-save its weights as {'model': model.state_dict()})"
        )
    detail = message.split("WeightsUnpickler error:", 1)[-1].strip().splitlines()
    detail = [line.strip() for line in detail if line.strip() and "documentation" not in line]
    reason = detail[0] if detail else "unknown format"
    return f"not a PyTorch checkpoint, or a corrupted one ({reason})"


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
        message = str(exc)
        if "Weights only load failed" in message or isinstance(exc, EOFError):
            reason = _unpickling_detail(message)
        elif "PytorchStreamReader" in message or "zip archive" in message:
            reason = "the file is truncated or corrupted (its archive cannot be read)"
        else:
            reason = f"{type(exc).__name__}: {message.strip().splitlines()[0] if message else ''}"
        raise CheckpointError(f"cannot read checkpoint {source}: {reason}") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"checkpoint {source} holds a {type(data).__name__}, expected a dict")
    return data


def _checkpoint_files(folder: Path) -> List[Path]:
    return sorted(p for p in folder.glob(f"*{_SUFFIX}") if p.is_file())


def prune_history_checkpoints(folder: PathLike, keep: Optional[int]) -> List[Path]:
    """Delete all but the ``keep`` newest ``epoch_<n>_ckpt.pth`` files; ``None`` keeps all."""
    if keep is None:
        return []
    history = []
    for path in _checkpoint_files(Path(folder)):
        found = _HISTORY_FILE.match(path.name)
        if found:
            history.append((int(found.group(1)), path))
    history.sort()
    doomed = [path for _, path in history[: max(len(history) - keep, 0)]]
    for path in doomed:
        path.unlink()
    return doomed


def describe_checkpoint_space(folder: PathLike) -> str:
    """One line saying how much disk the folder's checkpoints take, by kind."""
    files = _checkpoint_files(Path(folder))
    history = [p for p in files if _HISTORY_FILE.match(p.name)]
    others = [p for p in files if not _HISTORY_FILE.match(p.name)]
    mb = 1024 * 1024
    parts = [f"{p.name} {p.stat().st_size / mb:.1f} MB" for p in others]
    if history:
        size = sum(p.stat().st_size for p in history) / mb
        parts.append(f"{len(history)} history epoch_*_ckpt.pth {size:.1f} MB")
    total = sum(p.stat().st_size for p in files) / mb
    return f"checkpoints in {folder}: {total:.1f} MB ({', '.join(parts) or 'none'})"


# ---------------------------------------------------------------------------------- weights
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


def _tensors(value: Any, name: str) -> Iterator[Tuple[str, torch.Tensor]]:
    if isinstance(value, torch.Tensor):
        yield name, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _tensors(item, f"{name}.{key}" if name else str(key))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _tensors(item, f"{name}.{index}")


def non_finite_tensors(state: Mapping[str, Any]) -> List[str]:
    """Names of floating-point tensors anywhere in ``state`` holding a NaN or an Inf."""
    return [
        name
        for name, tensor in _tensors(state, "")
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all())
    ]


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

    @property
    def new_attention(self) -> List[str]:
        """Missing keys of attention modules: new layers, expected when adding attention."""
        return [k for k in self.missing if ".attention." in k]

    @property
    def not_loaded_fraction(self) -> float:
        """Share of the model's tensors left at initialisation, new attention layers aside."""
        expected = len(self.loaded) + len(self.missing) + len(self.mismatched)
        skipped = len(self.missing) - len(self.new_attention) + len(self.mismatched)
        return skipped / expected if expected else 0.0

    def summary(self, max_items: int = 8) -> str:
        """Human-readable lines, grouping new attention keys apart from other missing keys."""

        def show(keys: List[str]) -> str:
            more = f" ... (+{len(keys) - max_items} more)" if len(keys) > max_items else ""
            return ", ".join(keys[:max_items]) + more

        lines = [f"loaded {len(self.loaded)} tensors"]
        new_attention = self.new_attention
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


# ---------------------------------------------------------------------------------- metadata
def _plain(value: Any) -> Any:
    """Tuples to lists, recursively (what ``weights_only`` loading returns anyway)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _size(value: Any) -> Optional[Tuple[int, int]]:
    return None if value is None else (int(value[0]), int(value[1]))


def safe_path_component(text: Any, default: str = "run") -> str:
    """A string read from a file (a checkpoint's run name), made into one safe folder name.

    Such strings are joined into output paths (``<output_dir>/<run>/vis_res``); a crafted or
    careless value (``../x``, ``/etc``, ``a/b``, ``C:\\x``) must not leave the output folder.
    Separators become ``_``; leading dots and a drive letter go; empty gives ``default``.
    """
    value = re.sub(r"[/\\\x00-\x1f]+", "_", str(text))
    value = re.sub(r"^[A-Za-z]:", "", value).strip().lstrip("._ ").rstrip("_ ")
    return value or default


@dataclass
class InferenceSettings:
    """What eval/demo/export need besides the architecture to reproduce a run's evaluation.

    Every field but ``exp_name`` is the Exp field of the same name; ``exp_name`` is the run's
    name (its output folder). ``input_size`` is the exp's configured training size, not the
    multi-scale size in use when the checkpoint was written.
    """

    exp_name: Optional[str] = None
    test_size: Optional[Tuple[int, int]] = None
    input_size: Optional[Tuple[int, int]] = None
    test_conf: Optional[float] = None
    nmsthre: Optional[float] = None
    dataset_format: Optional[str] = None
    voc_metric: Optional[str] = None
    val_sets: Optional[Any] = None
    val_fraction: Optional[float] = None  # folder formats: the hold-out split of the train images
    val_ann: Optional[str] = None
    val_name: Optional[str] = None
    # the dataset root, absolute: checkpoint-only eval finds the data without --data-dir
    data_dir: Optional[str] = None
    # yolo: the export's data.yaml, absolute (it names the splits when data_dir is not set)
    data_yaml: Optional[str] = None
    # voc_flat: the XML folder as the exp gave it (a name beside images/, or an absolute path)
    annotations_dir: Optional[str] = None

    @classmethod
    def from_exp(cls, exp: Any, run_name: Optional[str] = None) -> InferenceSettings:
        """The settings of ``exp`` (a run named ``run_name``, default ``exp.exp_name``)."""
        values = {f.name: getattr(exp, f.name) for f in fields(cls) if f.name != "exp_name"}
        for path_field in ("data_dir", "data_yaml"):
            if values[path_field] is not None:
                values[path_field] = os.path.abspath(os.fspath(values[path_field]))
        if values["annotations_dir"] is not None:
            values["annotations_dir"] = os.fspath(values["annotations_dir"])
        return cls(exp_name=run_name or exp.exp_name, **values).normalised()

    @classmethod
    def from_checkpoint(cls, checkpoint: Mapping[str, Any]) -> InferenceSettings:
        """The stored settings; all None for checkpoints written before they were stored."""
        stored = checkpoint.get("inference")
        if not isinstance(stored, Mapping):
            return cls()
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in stored.items() if k in known}).normalised()

    def normalised(self) -> InferenceSettings:
        self.test_size, self.input_size = _size(self.test_size), _size(self.input_size)
        if self.exp_name is not None:  # a folder name wherever it is used
            self.exp_name = safe_path_component(self.exp_name)
        if self.val_sets is not None:
            self.val_sets = tuple(
                tuple(s) if isinstance(s, (list, tuple)) else s for s in self.val_sets
            )
        return self

    def to_dict(self) -> Dict[str, Any]:
        return {k: _plain(v) for k, v in asdict(self).items()}

    def apply_to(self, exp: Any) -> None:
        """Set the exp fields these settings hold (the run name becomes ``exp.exp_name``)."""
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                setattr(exp, f.name, value)


@dataclass
class TrainingCheckpoint:
    """A run's complete state; ``to_dict``/``from_dict`` are the only translation to file keys."""

    model: Dict[str, torch.Tensor]
    optimizer: Dict[str, Any]
    start_epoch: int
    iter_in_epoch: int
    iteration: int
    data_position: int
    samples_per_rank: int
    world_size: int
    train_size: Tuple[int, int]
    best_ap: float = 0.0
    curr_ap: Optional[float] = None
    use_l1: bool = False
    scaler: Optional[Dict[str, Any]] = None
    train_model: Optional[Dict[str, torch.Tensor]] = None
    ema_updates: Optional[int] = None
    rng: Optional[List[Any]] = None
    model_config: Optional[Dict[str, Any]] = None
    inference: InferenceSettings = field(default_factory=InferenceSettings)
    precision: Optional[str] = None  # what the run computed in: "fp32", "bf16" or "fp16" (AMP)

    def to_dict(self) -> Dict[str, Any]:
        state = {f.name: getattr(self, f.name) for f in fields(self)}
        state["format"] = CKPT_FORMAT
        state["train_size"] = [int(s) for s in self.train_size]
        state["best_ap"] = float(self.best_ap)
        state["curr_ap"] = None if self.curr_ap is None else float(self.curr_ap)
        state["inference"] = self.inference.to_dict()
        if self.train_model is None:  # no EMA: "model" holds the training weights
            del state["train_model"], state["ema_updates"]
        return state

    @classmethod
    def from_dict(
        cls, state: Mapping[str, Any], source: PathLike = "checkpoint"
    ) -> TrainingCheckpoint:
        """Read a training checkpoint (format 1 or 2); names the missing keys otherwise."""
        needed = ("model", "optimizer", "start_epoch")
        absent = [k for k in needed if k not in state]
        if absent:
            raise CheckpointError(
                f"{source} is not a training checkpoint (no {', '.join(absent)}): resume needs "
                "one written by this trainer; use -c without --resume to start from its weights"
            )
        start_epoch = int(state["start_epoch"])
        train_size = state.get("train_size", state.get("input_size"))  # format 1: input_size
        return cls(
            model=state["model"],
            optimizer=state["optimizer"],
            start_epoch=start_epoch,
            iter_in_epoch=int(state.get("iter_in_epoch", 0)),
            iteration=int(state.get("iteration", 0)),
            data_position=int(state.get("data_position", 0)),
            samples_per_rank=int(state.get("samples_per_rank", -1)),
            world_size=int(state.get("world_size", 1)),
            train_size=_size(train_size) if train_size else None,
            best_ap=float(state.get("best_ap", 0.0) or 0.0),
            curr_ap=state.get("curr_ap"),
            use_l1=bool(state.get("use_l1", False)),
            scaler=state.get("scaler"),
            train_model=state.get("train_model"),
            ema_updates=state.get("ema_updates"),
            rng=state.get("rng"),
            model_config=state.get("model_config"),
            inference=InferenceSettings.from_checkpoint(state),
            precision=state.get("precision"),
        )

    @property
    def training_weights(self) -> Dict[str, torch.Tensor]:
        """The raw weights training continues from (``train_model`` when EMA was on)."""
        return self.train_model if self.train_model is not None else self.model


def as_float(value: Any) -> float:
    """Plain float (tensors and numpy scalars would need unpickling of foreign types)."""
    return float(value.item() if hasattr(value, "item") else value)
