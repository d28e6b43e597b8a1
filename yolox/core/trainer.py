"""YOLOX training loop: AMP, EMA, per-iteration LR, evaluation, atomic checkpoints, resume.

Resume granularity: ``latest_ckpt.pth`` is written at the end of every epoch and, with
``--save-interval N``, every N iterations inside an epoch. Resuming from either continues at
the stored iteration: weights, EMA, optimizer, scaler, LR position, multi-scale size and RNG
states are restored, and the data stream skips the samples already consumed. With
``num_workers=0`` (and deterministic algorithms) the resumed run is bit-identical to an
uninterrupted one; with worker processes the data order is the same but the workers'
augmentation seeds are new.
"""

from __future__ import annotations

import datetime
import os
import time
from typing import Any

import torch
import torch.distributed as dist
from loguru import logger
from torch import nn

from yolox.core.checkpointing import CKPT_FORMAT, as_float, checkpoint_name
from yolox.core.data_stream import BatchStream
from yolox.core.errors import NonFiniteLossError, UserInputError
from yolox.core.launch import resolve_device
from yolox.core.trackers import NullTracker, Tracker, build_tracker
from yolox.utils.allreduce_norm import all_reduce_norm
from yolox.utils.checkpoint import (
    CheckpointError,
    load_checkpoint,
    load_model_weights,
    save_checkpoint,
)
from yolox.utils.dist import (
    all_gather_object,
    broadcast_object,
    get_local_rank,
    get_rank,
    get_world_size,
)
from yolox.utils.ema import ModelEMA, unwrap_model
from yolox.utils.logger import setup_logger
from yolox.utils.metric import MeterBuffer, format_ap, gpu_mem_usage, mem_usage, occupy_mem
from yolox.utils.optim import check_param_groups
from yolox.utils.setup_env import get_rng_state, seed_everything, set_rng_state

__all__ = ["Trainer", "make_grad_scaler"]


def make_grad_scaler(device: torch.device, enabled: bool) -> Any:
    """``torch.amp.GradScaler`` (older torch: the CUDA one); disabled scalers are pass-through."""
    if hasattr(torch, "amp") and hasattr(torch.amp, "GradScaler"):
        return torch.amp.GradScaler(device.type, enabled=enabled)
    return torch.cuda.amp.GradScaler(enabled=enabled)  # pragma: no cover - torch < 2.3


def _arg(args: Any, name: str, default: Any = None) -> Any:
    value = getattr(args, name, default)
    return default if value is None else value


class Trainer:
    """Trains ``exp``'s model as configured by the command-line ``args`` (see tools/train.py)."""

    def __init__(self, exp: Any, args: Any, device: torch.device | None = None):
        self.exp = exp
        self.args = args
        self.max_epoch: int = exp.max_epoch
        self.rank = get_rank()
        self.local_rank = get_local_rank()
        self.world_size = get_world_size()
        self.is_distributed = self.world_size > 1
        self.device = device or resolve_device(_arg(args, "device"), self.local_rank)
        self.batch_size: int = int(args.batch_size)
        if self.batch_size % self.world_size:
            raise UserInputError(
                f"batch size {self.batch_size} is not divisible by the {self.world_size} processes"
            )
        fp16 = bool(_arg(args, "fp16", False))
        self.amp = fp16 and self.device.type == "cuda"
        if fp16 and not self.amp:
            logger.warning("--fp16 ignored: mixed precision is only used on CUDA devices")
        self.scaler = make_grad_scaler(self.device, self.amp)
        self.use_model_ema: bool = bool(exp.ema)
        self.save_history_ckpt: bool = bool(getattr(exp, "save_history_ckpt", True))
        self.save_interval = int(
            _arg(args, "save_interval", 0) or getattr(exp, "save_interval_iters", 0) or 0
        )
        self.input_size = tuple(exp.input_size)
        self.best_ap = 0.0
        self.curr_ap: float | None = None
        self.meter = MeterBuffer(window_size=exp.print_interval)
        self.file_name = os.path.join(exp.output_dir, _arg(args, "experiment_name", exp.exp_name))
        self.start_epoch = 0
        self.start_iter = 0
        self.epoch = 0
        self.iter = 0
        self.tracker: Tracker = NullTracker()
        self._rng_to_restore: dict | None = None
        if self.rank == 0:
            os.makedirs(self.file_name, exist_ok=True)
        setup_logger(self.file_name, distributed_rank=self.rank, filename="train_log.txt", mode="a")

    # ------------------------------------------------------------------ progress
    @property
    def progress_in_iter(self) -> int:
        """Global index (0-based) of the current iteration."""
        return self.epoch * self.max_iter + self.iter

    # ------------------------------------------------------------------ main loop
    def train(self) -> None:
        """Run the whole schedule; on any error nothing more is saved (last checkpoint stays)."""
        self.before_train()
        try:
            self.train_in_epoch()
        finally:
            self.tracker.close()
        self.after_train()

    def train_in_epoch(self) -> None:
        for epoch in range(self.start_epoch, self.max_epoch):
            self.epoch = epoch
            self.before_epoch()
            self.train_in_iter()
            self.after_epoch()

    def train_in_iter(self) -> None:
        first = self.start_iter if self.epoch == self.start_epoch else 0
        for it in range(first, self.max_iter):
            self.iter = it
            self.train_one_iter()
            self.after_iter()

    # ------------------------------------------------------------------ one step
    def train_one_iter(self) -> None:
        iter_start = time.perf_counter()
        inps, targets = self.stream.next()
        targets.requires_grad_(False)
        inps, targets = self.exp.preprocess(inps, targets, self.input_size)
        if self.channels_last:
            inps = inps.contiguous(memory_format=torch.channels_last)
        data_end = time.perf_counter()

        lr = self.lr_scheduler.update_lr(self.progress_in_iter + 1)
        for group in self.optimizer.param_groups:
            group["lr"] = lr

        with torch.autocast(device_type=self.device.type, enabled=self.amp):
            outputs = self.model(inps, targets)
        loss = outputs["total_loss"]
        self._check_finite(loss, outputs)

        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        if self.use_model_ema:
            self.ema_model.update(self.model)

        iter_end = time.perf_counter()
        self.meter.update(
            iter_time=iter_end - iter_start, data_time=data_end - iter_start, lr=lr, **outputs
        )

    def _check_finite(self, loss: torch.Tensor, outputs: dict) -> None:
        """Stop before the step if any process saw a NaN/Inf loss (all ranks stop together)."""
        finite = torch.isfinite(loss.detach()).all().to(torch.float32).reshape(1)
        if self.is_distributed:
            dist.all_reduce(finite, op=dist.ReduceOp.MIN)
        if finite.item() < 1:
            parts = ", ".join(
                f"{k}={float(v.detach() if isinstance(v, torch.Tensor) else v):.4g}"
                for k, v in outputs.items()
                if isinstance(v, float) or (isinstance(v, torch.Tensor) and v.numel() == 1)
            )
            last = os.path.join(self.file_name, checkpoint_name("latest"))
            keep = (
                f"last good checkpoint: {last}"
                if os.path.exists(last)
                else "no checkpoint written yet"
            )
            raise NonFiniteLossError(
                f"non-finite loss at epoch {self.epoch + 1}, iteration {self.iter + 1} "
                f"(global {self.progress_in_iter + 1}) [{parts}]; training stopped without "
                f"applying or saving this step ({keep}). Lower the learning rate or check the data."
            )

    # ------------------------------------------------------------------ hooks
    def before_train(self) -> None:
        logger.info(f"args: {vars(self.args) if hasattr(self.args, '__dict__') else self.args}")
        logger.info(f"exp value:\n{self.exp}")
        logger.info(f"device: {self.device}, processes: {self.world_size}, amp: {self.amp}")
        seed = getattr(self.exp, "seed", None)
        if seed is not None:
            seed_everything(int(seed) + self.rank)

        model = self.exp.get_model()
        n_params = sum(p.numel() for p in model.parameters())
        logger.info(f"Model: {n_params / 1e6:.2f}M parameters")
        model.to(self.device)
        # Channels-last convolutions train ~10-25% faster on CPU (benchmarks/train_speed.md);
        # on CUDA it is left to the exp (field channels_last: None = auto, True, False).
        wanted = getattr(self.exp, "channels_last", None)
        self.channels_last = (self.device.type == "cpu") if wanted is None else bool(wanted)
        if self.channels_last:
            model.to(memory_format=torch.channels_last)

        self.optimizer = self.exp.get_optimizer(self.batch_size)
        check_param_groups(model, self.optimizer.param_groups)

        ema_state = self.resume_train(model)

        self.no_aug = self.start_epoch >= self.max_epoch - self.exp.no_aug_epochs
        self.train_loader = self.exp.get_data_loader(
            batch_size=self.batch_size,
            is_distributed=self.is_distributed,
            no_aug=self.no_aug,
            cache_img=_arg(self.args, "cache"),
        )
        self.max_iter = len(self.train_loader)
        inner = getattr(getattr(self.train_loader, "batch_sampler", None), "sampler", None)
        if (
            self.is_distributed
            and getattr(inner, "_world_size", self.world_size) != self.world_size
        ):
            logger.warning(
                "the training sampler is not sharded: every process sees the same images"
            )
        if self.start_iter >= self.max_iter:
            self.start_epoch, self.start_iter = self.start_epoch + 1, 0
        self.lr_scheduler = self.exp.get_lr_scheduler(
            self.exp.basic_lr_per_img * self.batch_size, self.max_iter
        )
        if _arg(self.args, "occupy", False):
            occupy_mem(self.device)

        if self.is_distributed:
            model = self._wrap_ddp(model)
        self.model = model
        if self.use_model_ema:
            self.ema_model = ModelEMA(model, getattr(self.exp, "ema_decay", 0.9998))
            if ema_state is not None:
                self.ema_model.load_state_dict(ema_state)
            else:
                self.ema_model.updates = self.max_iter * self.start_epoch
        self.model.train()

        self.evaluator = self.exp.get_evaluator(
            batch_size=self.batch_size, is_distributed=self.is_distributed
        )
        self.tracker = build_tracker(
            _arg(self.args, "logger", "tensorboard"),
            self.file_name,
            _arg(self.args, "experiment_name", self.exp.exp_name),
            _flat_config(self.exp, self.args),
            rank=self.rank,
        )

        self.stream = BatchStream(self.train_loader, self.device)
        self.stream.open(self._data_position)
        if self._rng_to_restore is not None:  # after the loader drew its seeds, as in the first run
            set_rng_state(self._rng_to_restore)
        logger.info(f"Training from epoch {self.start_epoch + 1}, iteration {self.start_iter + 1}")

    def _wrap_ddp(self, model: nn.Module) -> nn.Module:
        sync_bn = bool(_arg(self.args, "sync_bn", False) or getattr(self.exp, "sync_bn", False))
        if sync_bn:
            if self.device.type == "cuda":
                model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
                logger.info("Using synchronised BatchNorm")
            else:
                logger.warning(
                    "SyncBatchNorm needs CUDA; BN statistics are averaged before eval instead"
                )
        device_ids = [self.device.index] if self.device.type == "cuda" else None
        return nn.parallel.DistributedDataParallel(
            model, device_ids=device_ids, broadcast_buffers=False
        )

    def after_train(self) -> None:
        logger.info(f"Training done; best {format_ap(self.best_ap)}")

    def before_epoch(self) -> None:
        logger.info(f"---> start train epoch {self.epoch + 1}")
        no_aug_start = self.max_epoch - self.exp.no_aug_epochs
        if self.epoch + 1 >= no_aug_start and not getattr(self, "_aug_closed", False):
            logger.info("---> No mosaic aug now; L1 loss added")
            self._close_mosaic()
            unwrap_model(self.model).head.use_l1 = True
            self.exp.eval_interval = 1
            self._aug_closed = True
            if not self.no_aug and self.epoch + 1 == no_aug_start and self.start_iter == 0:
                self.save_ckpt("last_mosaic_epoch")

    def _close_mosaic(self) -> None:
        if hasattr(self.train_loader, "close_mosaic"):
            self.train_loader.close_mosaic()  # travels with the sampled indices
            return
        dataset = getattr(self.train_loader, "dataset", None)
        if hasattr(dataset, "close_mosaic"):
            dataset.close_mosaic()
            self.stream.open(self.stream.position)  # new workers see the changed dataset

    def after_iter(self) -> None:
        step = self.progress_in_iter + 1
        # the last iteration of an epoch is logged too, so an epoch shorter than print_interval
        # (a small dataset) still shows its losses
        if (self.iter + 1) % self.exp.print_interval == 0 or self.iter + 1 == self.max_iter:
            self._log_progress(step)
        if (self.progress_in_iter + 1) % 10 == 0:
            size = self.exp.random_resize(
                self.train_loader, self.epoch, self.rank, self.is_distributed
            )
            self.input_size = tuple(int(s) for s in size)
        if self.save_interval and step % self.save_interval == 0 and self.iter + 1 < self.max_iter:
            self.save_ckpt("latest", iter_in_epoch=self.iter + 1)

    def _log_progress(self, step: int) -> None:
        left_iters = self.max_iter * self.max_epoch - step
        eta = datetime.timedelta(seconds=int(self.meter["iter_time"].global_avg * left_iters))
        losses = {k: v.latest for k, v in self.meter.items() if "loss" in k}
        times = ", ".join(
            f"{k}: {v.avg:.3f}s" for k, v in self.meter.get_filtered_meter("time").items()
        )
        loss_str = ", ".join(f"{k}: {v:.3f}" for k, v in losses.items())
        lr = self.meter["lr"].latest
        logger.info(
            f"epoch: {self.epoch + 1}/{self.max_epoch}, iter: {self.iter + 1}/{self.max_iter}, "
            f"gpu mem: {gpu_mem_usage():.0f}Mb, mem: {mem_usage():.1f}Gb, {times}, {loss_str}, "
            f"lr: {lr:.3e}, size: {self.input_size[0]}, ETA: {eta}"
        )
        scalars = {f"train/{k}": v for k, v in losses.items()}
        scalars["train/lr"] = lr
        self.tracker.log_scalars(scalars, step)
        self.meter.clear_meters()

    def after_epoch(self) -> None:
        if (self.epoch + 1) % self.exp.eval_interval == 0:
            all_reduce_norm(self.model)
            if self.use_model_ema:  # every rank evaluates its shard with the same statistics
                all_reduce_norm(self.ema_model.ema)
            self.evaluate()
            self.save_ckpt("latest")
            self.save_ckpt("last_epoch")
            if self._improved:
                self.save_ckpt("best")
            if self.save_history_ckpt:
                self.save_ckpt(f"epoch_{self.epoch + 1}")
        else:
            self.save_ckpt("latest")

    # ------------------------------------------------------------------ evaluation
    def evaluate(self) -> None:
        """Evaluate (EMA weights when enabled); rank 0's result is shared with every rank.

        Every rank must take the same checkpoint branches, because saving gathers RNG states.
        """
        model = self.ema_model.ema if self.use_model_ema else unwrap_model(self.model)
        result = self.exp.eval(model, self.evaluator, self.is_distributed)
        ap50_95, ap50, summary = result[0], result[1], (result[2] if len(result) > 2 else "")
        self.model.train()
        decision = None
        if self.rank == 0:
            curr = as_float(ap50_95)
            best_file = os.path.join(self.file_name, checkpoint_name("best"))
            improved = curr > self.best_ap or not os.path.exists(best_file)
            decision = (curr, as_float(ap50), improved)
            logger.info("\n" + str(summary))
            logger.info(
                f"{format_ap(curr, as_float(ap50))}; best so far {format_ap(max(curr, self.best_ap))}"
            )
        if self.is_distributed:
            decision = broadcast_object(decision, src=0)
        self.curr_ap, ap50_value, self._improved = decision
        self.best_ap = max(self.best_ap, self.curr_ap)
        self.tracker.log_scalars(
            {"val/COCOAP50": 100.0 * ap50_value, "val/COCOAP50_95": 100.0 * self.curr_ap},
            self.progress_in_iter + 1,
        )

    # ------------------------------------------------------------------ checkpoints
    def save_ckpt(self, tag: str, iter_in_epoch: int = 0) -> None:
        """Write ``{tag}_ckpt.pth`` atomically on rank 0 (all ranks join to share RNG states)."""
        rng_states = all_gather_object(get_rng_state())
        if self.rank != 0:
            return
        mid_epoch = iter_in_epoch > 0
        base = unwrap_model(self.model)
        state: dict[str, Any] = {
            "format": CKPT_FORMAT,
            "model": (self.ema_model.ema if self.use_model_ema else base).state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict() if self.amp else None,
            "start_epoch": self.epoch if mid_epoch else self.epoch + 1,
            "iter_in_epoch": iter_in_epoch,
            "iteration": self.epoch * self.max_iter + (iter_in_epoch or self.max_iter),
            "data_position": self.stream.position,
            "samples_per_rank": self.stream.position * (self.batch_size // self.world_size),
            "best_ap": float(self.best_ap),
            "curr_ap": None if self.curr_ap is None else float(self.curr_ap),
            "input_size": [int(s) for s in self.input_size],
            "use_l1": bool(getattr(base.head, "use_l1", False)) if hasattr(base, "head") else False,
            "world_size": self.world_size,
            "rng": rng_states,
            "model_config": _model_config_dict(self.exp),
        }
        if self.use_model_ema:
            state["train_model"] = base.state_dict()
            state["ema_updates"] = int(self.ema_model.updates)
        path = os.path.join(self.file_name, checkpoint_name(tag))
        save_checkpoint(path, state)
        logger.info(f"Saved {path}")

    def resume_train(self, model: nn.Module) -> dict | None:
        """Load ``--resume`` state or ``-c`` weights; returns the EMA state to restore, if any."""
        self._data_position = 0
        ckpt_file = _arg(self.args, "ckpt")
        if _arg(self.args, "resume", False):
            if ckpt_file is None:
                ckpt_file = os.path.join(self.file_name, checkpoint_name("latest"))
            logger.info(f"Resuming training from {ckpt_file}")
            ckpt = load_checkpoint(ckpt_file, map_location=self.device)
            weights = {"model": ckpt.get("train_model", ckpt.get("model"))}
            try:
                load_model_weights(model, weights, strict=True)
            except CheckpointError as exc:
                raise CheckpointError(
                    f"{ckpt_file} does not match this model, so it cannot be resumed "
                    f"(use -c without --resume to fine-tune from it): {exc}"
                ) from exc
            self.optimizer.load_state_dict(ckpt["optimizer"])
            if self.amp and ckpt.get("scaler"):
                self.scaler.load_state_dict(ckpt["scaler"])
            self.best_ap = float(ckpt.get("best_ap", 0.0))
            self.curr_ap = ckpt.get("curr_ap")
            if ckpt.get("input_size"):
                self.input_size = tuple(int(s) for s in ckpt["input_size"])
            start_epoch = _arg(self.args, "start_epoch")
            self.start_epoch = int(start_epoch) - 1 if start_epoch else int(ckpt["start_epoch"])
            self.start_iter = int(ckpt.get("iter_in_epoch", 0)) if not start_epoch else 0
            per_rank = self.batch_size // self.world_size
            samples = ckpt.get("samples_per_rank")
            if (
                samples is not None
                and ckpt.get("world_size", 1) == self.world_size
                and not start_epoch
            ):
                self._data_position = int(samples) // max(per_rank, 1)
            rng = ckpt.get("rng")
            if isinstance(rng, list) and len(rng) == self.world_size and not start_epoch:
                self._rng_to_restore = rng[self.rank]
            elif ckpt.get("world_size", self.world_size) != self.world_size:
                logger.warning("process count changed since the checkpoint: data order restarts")
            ema_state = None
            if "train_model" in ckpt:
                ema_state = {"model": ckpt["model"], "updates": int(ckpt.get("ema_updates", 0))}
            logger.info(
                f"Loaded checkpoint '{ckpt_file}' (epoch {self.start_epoch + 1}, iter {self.start_iter + 1})"
            )
            return ema_state
        if ckpt_file is not None:
            logger.info(f"Loading weights for fine-tuning from {ckpt_file}")
            report = load_model_weights(model, load_checkpoint(ckpt_file, map_location=self.device))
            logger.info(report.summary())
        return None


def _model_config_dict(exp: Any) -> dict[str, Any]:
    """``exp.model_config()`` as a plain dict (readable with ``weights_only=True``)."""
    config = exp.model_config()
    return config.to_dict() if hasattr(config, "to_dict") else dict(config)


def _flat_config(exp: Any, args: Any) -> dict[str, Any]:
    """Scalar exp fields and args, for the tracker's run configuration."""
    config: dict[str, Any] = {}
    for key, value in vars(exp).items():
        if not key.startswith("_") and isinstance(
            value, (int, float, str, bool, tuple, type(None))
        ):
            config[f"exp.{key}"] = value
    for key, value in vars(args).items() if hasattr(args, "__dict__") else []:
        if isinstance(value, (int, float, str, bool, type(None))):
            config[f"args.{key}"] = value
    return config
