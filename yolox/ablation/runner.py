"""Train and evaluate every (variant, seed) of a study, resuming where an earlier call stopped.

Each run lives in ``<output>/runs/<label>_seed<seed>/`` (the trainer's own folder). A run is
*finished* when its ``result.json`` exists; that file is written atomically after the final
evaluation, so a crash leaves either no result or a complete one. On a new call:

* finished runs are skipped (their result is read back, never retrained);
* an unfinished run with a ``latest_ckpt.pth`` resumes from it through the trainer's
  ``--resume`` (weights, EMA, optimizer, LR position, data position and RNG states restored);
* an unfinished run without a checkpoint starts from scratch in the same folder.

A study may start every run from the same weights (``StudyConfig.ckpt``, the trainer's ``-c``):
a fine-tuning study, e.g. attention with ``init="identity"`` added to a trained baseline. A
resumed run continues from its own ``latest_ckpt.pth`` instead.

A run's settings (exp file contents, overrides, variant spec, seed, batch size, start weights) are stored in
``run_config.json``; a later call with different settings stops with an error that names the
settings that differ, instead of mixing incompatible runs in one table.

The precision a run trains in is stored beside them (``run_config.json`` and ``result.json``).
It is not part of the settings' fingerprint, because ``auto`` resolves per CPU: a study continued
on another kind of CPU stops before training if its precision would change, and says which
``--precision`` keeps the one its runs used.

Study defaults that differ from plain training (a ``KEY VALUE`` override still wins): no
``epoch_<n>`` history checkpoints (a study of many runs would fill the disk), and an evaluation
in each of the last ``last_k`` epochs, kept in ``result.json`` as ``eval_history`` (the study
metric averages them).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, List, Optional, Sequence

import torch
from loguru import logger

from yolox.ablation.jsonio import write_json_atomic
from yolox.ablation.plan import RunKey, Variant, run_keys
from yolox.utils.errors import UserError
from yolox.utils.metric import format_ap

if TYPE_CHECKING:
    from yolox.core.train_options import TrainOptions

__all__ = [
    "StudyConfig",
    "StudyError",
    "RESULT_FILE",
    "build_exp",
    "write_json_atomic",
    "deterministic_mode",
    "run_one",
    "run_study",
    "study_precision",
    "check_one_precision",
    "load_results",
    "run_fingerprint",
    "file_digest",
]

RESULT_FILE = "result.json"
RUN_CONFIG_FILE = "run_config.json"
LATEST_CKPT = "latest_ckpt.pth"
STUDY_LOG = "ablate_log.txt"
EVAL_HISTORY_FILE = "eval_history.json"


class StudyError(UserError):
    """A study that cannot go on as asked (user-fixable: wrong folder, changed settings)."""


@dataclass
class StudyConfig:
    """Everything that defines a study: the recipe (exp file + overrides) and what varies."""

    exp_file: str
    variants: List[Variant]
    seeds: List[int]
    output_dir: str
    opts: List[str] = field(default_factory=list)
    batch_size: int = 64
    device: Optional[str] = None
    fp16: bool = False
    deterministic: bool = True
    tracker: str = "tensorboard"
    ckpt: Optional[str] = None  # start weights of every run (fine-tuning study), or None
    precision: Optional[str] = None  # auto/fp32/bf16 for every run; None: the exp's field
    last_k: int = 3  # evaluations at the end of training kept for the study metric

    @property
    def runs_dir(self) -> Path:
        return Path(self.output_dir) / "runs"


def file_digest(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def run_fingerprint(config: StudyConfig, key: RunKey) -> Dict[str, Any]:
    """The settings a run's result depends on (compared on every restart)."""
    fingerprint = {
        "exp_file_sha256": file_digest(config.exp_file),
        "opts": [str(o) for o in config.opts],
        "attention": key.variant.spec_json(),
        "seed": key.seed,
        "batch_size": int(config.batch_size),
        "fp16": bool(config.fp16),
    }
    if config.ckpt:  # only when set, so studies from scratch keep their earlier fingerprints
        fingerprint["start_ckpt_sha256"] = file_digest(config.ckpt)
    return fingerprint


def study_precision(config: StudyConfig, exp: Any) -> str:
    """What this study's runs train in on this machine (``fp32``, ``bf16`` or ``fp16``)."""
    from yolox.core.launch import resolve_device
    from yolox.utils.precision import training_precision

    device = resolve_device(config.device or None)
    return training_precision(config.precision or exp.precision, device, config.fp16)


def _recorded_precision(run_dir: Path) -> Optional[str]:
    """The precision a started or finished run recorded (None: nothing recorded yet)."""
    for name in (RESULT_FILE, RUN_CONFIG_FILE):
        path = run_dir / name
        if path.exists():
            with open(path) as f:
                recorded = json.load(f).get("precision")
            if recorded:
                return str(recorded)
    return None


def check_one_precision(config: StudyConfig, keys: Sequence[RunKey], precision: str) -> None:
    """Refuse to train when a run of this study trained in another precision than ``precision``."""
    for key in keys:
        recorded = _recorded_precision(config.runs_dir / key.name)
        if recorded is not None and recorded != precision:
            raise StudyError(
                f"{config.runs_dir / key.name} trained in {recorded}, but this call would train "
                f"in {precision} (precision {config.precision or 'from the exp'} on this "
                f"machine): one study must train every run in one precision; add --precision "
                f"{recorded} (or continue on the kind of CPU that started the study)"
            )


def build_exp(config: StudyConfig, key: RunKey) -> Any:
    """The study's exp with this run's attention, seed and output folder."""
    from yolox.exp import get_exp

    exp = get_exp(config.exp_file, None)
    exp.save_history_ckpt = False  # study default; the overrides below may turn it back on
    exp.eval_last_epochs = max(exp.eval_last_epochs, int(config.last_k))
    exp.merge(list(config.opts))
    exp.attention = key.variant.spec
    exp.seed = key.seed
    exp.output_dir = str(config.runs_dir)
    exp.exp_name = key.name
    exp.check()
    return exp


def _train_args(config: StudyConfig, key: RunKey, resume: bool) -> TrainOptions:
    """The trainer's options for this run (the defaults of ``tools/train.py`` otherwise)."""
    from yolox.core.train_options import TrainOptions

    return TrainOptions(
        exp_file=config.exp_file,
        experiment_name=key.name,
        batch_size=config.batch_size,
        logger=config.tracker,
        device=config.device or None,
        fp16=config.fp16,
        precision=config.precision,
        resume=resume,  # from the run's own latest checkpoint, never the start weights
        ckpt=None if resume else config.ckpt,
        opts=list(config.opts),
    )


@contextlib.contextmanager
def deterministic_mode(enabled: bool) -> Iterator[None]:
    """Deterministic kernels where torch has them (warn, not fail, where it has none)."""
    if not enabled:
        yield
        return
    previous = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.deterministic,
        torch.backends.cudnn.benchmark,
    )
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous[0], warn_only=previous[1])
        torch.backends.cudnn.deterministic = previous[2]
        torch.backends.cudnn.benchmark = previous[3]


def evaluate_final(exp: Any, ckpt_path: Path, batch_size: int, device: torch.device) -> Dict:
    """AP of the final model: the ``model`` weights (EMA when enabled) of the last checkpoint."""
    from yolox.exp import get_checked_model
    from yolox.utils.checkpoint import load_checkpoint, load_model_weights

    ckpt = load_checkpoint(str(ckpt_path), map_location="cpu")
    model = get_checked_model(exp)
    load_model_weights(model, {"model": ckpt["model"]}, strict=True)
    model.to(device).eval()
    evaluator = exp.get_evaluator(batch_size=batch_size, is_distributed=False)
    result = exp.eval(model, evaluator, False)
    return {
        "ap50_95": float(result[0]),
        "ap50": float(result[1]),
        "best_ap50_95_during_training": float(ckpt.get("best_ap", 0.0)),
        "last_eval_ap50_95_during_training": ckpt.get("curr_ap"),
        "epochs": int(ckpt.get("start_epoch", 0)),
        "iterations": int(ckpt.get("iteration", 0)),
    }


def _short(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else value
    return text if len(text) <= 40 else text[:12] + "..."


def describe_changes(stored: Dict[str, Any], current: Dict[str, Any]) -> str:
    """``seed: 0 there, 1 now; opts: [...] there, [...] now`` for the settings that differ."""
    changed = sorted(k for k in set(stored) | set(current) if stored.get(k) != current.get(k))
    return "; ".join(
        f"{k}: {_short(stored.get(k, 'unset'))} there, {_short(current.get(k, 'unset'))} now"
        for k in changed
    )


def _mismatch(path: Path, stored: Dict[str, Any], current: Dict[str, Any]) -> StudyError:
    return StudyError(
        f"{path} was made with other settings ({describe_changes(stored, current)}); "
        "use a new --output-dir for a different study"
    )


def _check_run_config(run_dir: Path, fingerprint: Dict[str, Any], precision: str) -> None:
    """Write ``run_config.json`` (fingerprint and precision), or check the one there."""
    path = run_dir / RUN_CONFIG_FILE
    if not path.exists():
        write_json_atomic(path, {**fingerprint, "precision": precision})
        return
    with open(path) as f:
        stored = json.load(f)
    stored.pop("precision", None)  # checked study-wide by check_one_precision
    if stored != fingerprint:
        raise _mismatch(path, stored, fingerprint)


def _read_history(path: Path) -> List[Dict[str, Any]]:
    if not path.exists():
        return []
    with open(path) as f:
        return list(json.load(f))


def _study_trainer(history_path: Path) -> type:
    """The trainer, also writing every evaluation's AP to ``history_path`` (kept over resumes)."""
    from yolox.core.trainer import Trainer

    class StudyTrainer(Trainer):
        def evaluate(self) -> None:
            super().evaluate()
            if self.rank != 0:
                return
            epoch = self.epoch + 1
            history = [e for e in _read_history(history_path) if e["epoch"] != epoch]
            history.append({"epoch": epoch, "ap50_95": float(self.curr_ap)})
            write_json_atomic(history_path, sorted(history, key=lambda e: e["epoch"]))

    return StudyTrainer


def run_one(
    config: StudyConfig,
    key: RunKey,
    before_train: Optional[Callable[[RunKey, bool], None]] = None,
    precision: Optional[str] = None,
) -> Dict[str, Any]:
    """Train (or resume) one run and evaluate its final model; returns its result record.

    ``precision``: what :func:`run_study` resolved and checked for the whole study; None
    resolves and checks it for this run alone."""
    run_dir = config.runs_dir / key.name
    result_path = run_dir / RESULT_FILE
    fingerprint = run_fingerprint(config, key)
    if result_path.exists():
        with open(result_path) as f:
            result = json.load(f)
        if result.get("fingerprint") != fingerprint:
            raise _mismatch(result_path, result.get("fingerprint") or {}, fingerprint)
        logger.info(f"ablation: {key.name} already finished, skipped")
        return result
    exp = build_exp(config, key)
    if precision is None:
        precision = study_precision(config, exp)
        check_one_precision(config, [key], precision)
    run_dir.mkdir(parents=True, exist_ok=True)
    _check_run_config(run_dir, fingerprint, precision)
    resume = (run_dir / LATEST_CKPT).exists()
    logger.info(f"ablation: {'resuming' if resume else 'starting'} {key.name}")
    if before_train is not None:
        before_train(key, resume)

    start = time.perf_counter()
    history_path = run_dir / EVAL_HISTORY_FILE
    trainer = _study_trainer(history_path)(exp, _train_args(config, key, resume))
    trainer.train()
    train_seconds = time.perf_counter() - start

    eval_exp = build_exp(config, key)  # fresh model, so nothing of the trainer's state leaks in
    scores = evaluate_final(eval_exp, run_dir / LATEST_CKPT, config.batch_size, trainer.device)
    result = {
        "run": key.name,
        "variant": key.variant.label,
        "attention": key.variant.spec,
        "seed": key.seed,
        **scores,
        "eval_history": _read_history(history_path),
        "resumed": resume,
        "train_seconds_last_session": round(train_seconds, 3),
        "device": str(trainer.device),
        "precision": trainer.precision,
        "fingerprint": fingerprint,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    write_json_atomic(result_path, result)
    logger.info(f"ablation: {key.name} {format_ap(result['ap50_95'], result['ap50'])}")
    return result


@dataclass
class StudyProgress:
    """``run i of N, ETA ...`` lines: the ETA is the mean time of the runs trained so far."""

    total: int
    to_train: int
    seconds: List[float] = field(default_factory=list)

    def trained(self, seconds: float) -> None:
        self.seconds.append(float(seconds))

    def line(self, index: int, name: str) -> str:
        text = f"run {index} of {self.total} ({name})"
        left = self.to_train - len(self.seconds)
        if not self.seconds:
            return f"{text}, ETA after this run ({left} to train)"
        eta = left * sum(self.seconds) / len(self.seconds)
        return f"{text}, ETA {_duration(eta)} ({left} to train)"


def _duration(seconds: float) -> str:
    minutes = int(round(seconds / 60.0))
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def run_study(
    config: StudyConfig,
    before_train: Optional[Callable[[RunKey, bool], None]] = None,
    after_run: Optional[Callable[[RunKey, Dict[str, Any]], None]] = None,
) -> List[Dict[str, Any]]:
    """Every run of the study in seed-major order; finished ones are read back, not retrained.

    Everything logged meanwhile (each run's training too) also goes to ``ablate_log.txt``.
    """
    from yolox.utils.logger import remove_sink, setup_logger

    results: List[Dict[str, Any]] = []
    sink = setup_logger(config.output_dir, filename=STUDY_LOG, mode="a")
    try:
        with deterministic_mode(config.deterministic):
            keys = run_keys(config.variants, config.seeds)
            unfinished = {
                k.name for k in keys if not (config.runs_dir / k.name / RESULT_FILE).exists()
            }
            precision = None
            if unfinished:
                precision = study_precision(config, build_exp(config, keys[0]))
                check_one_precision(config, keys, precision)
            progress = StudyProgress(total=len(keys), to_train=len(unfinished))
            for index, key in enumerate(keys, start=1):
                finished = key.name not in unfinished
                if not finished:
                    logger.info(f"ablation: {progress.line(index, key.name)}")
                start = time.perf_counter()
                result = run_one(config, key, before_train=before_train, precision=precision)
                if not finished:
                    progress.trained(time.perf_counter() - start)
                results.append(result)
                if after_run is not None:
                    after_run(key, result)
    finally:
        remove_sink(sink)
    return results


def load_results(config: StudyConfig, keys: Sequence[RunKey]) -> List[Dict[str, Any]]:
    """The result records of the finished runs; one made with other settings is an error."""
    found = []
    for key in keys:
        path = config.runs_dir / key.name / RESULT_FILE
        if path.exists():
            with open(path) as f:
                record = json.load(f)
            current = run_fingerprint(config, key)
            if record.get("fingerprint") != current:
                raise _mismatch(path, record.get("fingerprint") or {}, current)
            found.append(record)
    return found
