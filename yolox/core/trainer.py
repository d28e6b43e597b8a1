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

import dataclasses
import datetime
import os
import time
from typing import Any

import torch
from loguru import logger
from torch import nn

from yolox.core.data_stream import BatchStream
from yolox.core.divergence import DivergenceGuard, diverged_error
from yolox.core.launch import resolve_device
from yolox.core.output_folder import check_output_folder
from yolox.core.resume import load_finetune_weights, load_resume_point, precision_change_warning
from yolox.core.trackers import NullTracker, Tracker, build_tracker
from yolox.core.train_options import TrainOptions
from yolox.exp import get_checked_model
from yolox.exp.train_sizes import describe_training_sizes, input_size_override_warning
from yolox.models.build import ModelConfig, describe_model
from yolox.utils.allreduce_norm import all_reduce_norm
from yolox.utils.checkpoint import (
    InferenceSettings,
    TrainingCheckpoint,
    as_float,
    checkpoint_name,
    describe_checkpoint_space,
    prune_history_checkpoints,
    remove_stale_temp_files,
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
from yolox.utils.errors import UserError
from yolox.utils.logger import remove_sink, setup_logger
from yolox.utils.metric import MeterBuffer, format_ap, gpu_mem_usage, mem_usage, occupy_mem
from yolox.utils.optim import check_param_groups
from yolox.utils.precision import (
    describe_precision,
    inference_precision,
    precision_autocast,
    training_precision,
)
from yolox.utils.setup_env import get_rng_state, seed_everything, set_rng_state

__all__ = ["Trainer", "make_grad_scaler"]


def make_grad_scaler(device: torch.device, enabled: bool) -> Any:
    """``torch.amp.GradScaler`` (older torch: the CUDA one); disabled scalers are pass-through."""
    if hasattr(torch, "amp") and hasattr(torch.amp, "GradScaler"):
        return torch.amp.GradScaler(device.type, enabled=enabled)
    return torch.cuda.amp.GradScaler(enabled=enabled)  # pragma: no cover - torch < 2.3


class Trainer:
    """Trains ``exp``'s model as ``args`` asks (:class:`TrainOptions`, or the train parser's
    argparse Namespace, as official code's ``exp.get_trainer(args)`` passes it)."""

    def __init__(self, exp: Any, args: TrainOptions | Any, device: torch.device | None = None):
        self.exp = exp
        self.args = options = TrainOptions.from_namespace(args)  # the one conversion
        self.max_epoch: int = exp.max_epoch
        self.rank = get_rank()
        self.local_rank = get_local_rank()
        self.world_size = get_world_size()
        self.is_distributed = self.world_size > 1
        self.device = device or resolve_device(options.device, self.local_rank)
        self.batch_size: int = options.batch_size
        if self.batch_size % self.world_size:
            raise UserError(
                f"batch size {self.batch_size} is not divisible by the {self.world_size} processes"
            )
        self.amp = options.fp16 and self.device.type == "cuda"
        if options.fp16 and not self.amp:
            logger.warning("--fp16 ignored: mixed precision is only used on CUDA devices")
        self.scaler = make_grad_scaler(self.device, self.amp)
        self.precision_asked: str = options.precision or exp.precision
        self.precision = training_precision(self.precision_asked, self.device, self.amp)
        # evaluations follow eval's own rule (auto: float32), so `eval -c` reproduces the logged
        # AP and runs of one study report comparable AP on any CPU
        self.eval_precision = inference_precision(
            self.precision_asked, self.device, fast=False, half=self.amp
        )
        self.use_model_ema: bool = bool(exp.ema)
        self.save_history_ckpt: bool = bool(exp.save_history_ckpt)
        self.save_interval = int(options.save_interval or exp.save_interval_iters or 0)
        self.input_size = tuple(exp.input_size)
        self.best_ap = 0.0
        self.curr_ap: float | None = None
        self.meter = MeterBuffer(window_size=exp.print_interval)
        self.experiment_name: str = options.experiment_name or exp.exp_name
        self.file_name = os.path.join(exp.output_dir, self.experiment_name)
        self.start_epoch = 0
        self.start_iter = 0
        self.epoch = 0
        self.iter = 0
        self.tracker: Tracker = NullTracker()
        self._rng_to_restore: dict | None = None
        self.guard = DivergenceGuard(self.device, self.amp, self.is_distributed, self._autocast)
        self._probe: tuple | None = None  # one image and its labels of the latest batch
        # names taken from the data are bound when the dataset is built: compared in before_train
        check_output_folder(
            self.file_name,
            lambda: _describe_a_throwaway_model(exp),
            unknown=("class_names",) if exp.class_names is None else (),
        )
        if self.rank == 0:
            os.makedirs(self.file_name, exist_ok=True)
        self._log_sink: int | None = None  # this run's log file, added in train()
        if self.rank == 0:
            for path in remove_stale_temp_files(self.file_name):
                logger.info(f"Removed {path}, left by an interrupted checkpoint save")

    # ------------------------------------------------------------------ progress
    @property
    def progress_in_iter(self) -> int:
        """Global index (0-based) of the current iteration."""
        return self.epoch * self.max_iter + self.iter

    # ------------------------------------------------------------------ main loop
    def train(self) -> None:
        """Run the whole schedule; on any error nothing more is saved (last checkpoint stays).

        The run's ``train_log.txt`` sink lives exactly as long as this call; the caller's
        sinks are left alone.
        """
        self._log_sink = setup_logger(
            self.file_name, distributed_rank=self.rank, filename="train_log.txt", mode="a"
        )
        try:
            self.before_train()
            try:
                self.train_in_epoch()
            finally:
                self.tracker.close()
            self.after_train()
        except BaseException as exc:
            # the traceback goes to this run's log file; the console gets the command's report
            logger.bind(file_only=True).opt(exception=exc).error("training stopped")
            raise
        finally:
            remove_sink(self._log_sink)
            self._log_sink = None

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

        with self._autocast():
            outputs = self.model(inps, targets)
        loss = outputs["total_loss"]
        self._probe = (inps[:1].clone(), targets[:1].clone())  # for the check before a save

        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self._stop_if_diverged(loss, outputs)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        if self.use_model_ema:
            self.ema_model.update(self.model)

        iter_end = time.perf_counter()
        self.meter.update(
            iter_time=iter_end - iter_start, data_time=data_end - iter_start, lr=lr, **outputs
        )

    def _stop_if_diverged(self, loss: torch.Tensor, outputs: dict) -> None:
        """Raise TrainingDiverged before the optimizer step when this step is not finite."""
        what = self.guard.step_problem(self.model, loss, outputs)
        if what:
            self._diverged(what)

    def _diverged(
        self, what: str, outcome: str = "nothing of this step was applied or saved"
    ) -> None:
        raise diverged_error(
            self.epoch,
            self.iter,
            self.progress_in_iter,
            what,
            outcome,
            self.file_name,
            self.exp.basic_lr_per_img,
        )

    def _autocast(self) -> Any:
        """CUDA AMP (``--fp16``), bf16 autocast (``--precision``) or nothing; weights, optimizer
        and EMA stay float32 either way (autocast only changes what ops compute in)."""
        if self.amp:
            return torch.autocast(device_type=self.device.type, enabled=True)
        return precision_autocast(self.device, self.precision)

    # ------------------------------------------------------------------ hooks
    def before_train(self) -> None:
        logger.info(f"args: {dataclasses.asdict(self.args)}")
        logger.info(f"exp value:\n{self.exp}")
        logger.info(f"device: {self.device}, processes: {self.world_size}, amp: {self.amp}")
        if not self.amp:
            logger.info(describe_precision(self.precision_asked, self.precision, self.device))
            if self.eval_precision != self.precision:
                logger.info(f"evaluations in {self.eval_precision}, as `eval` runs them")
        if self.exp.seed is not None:
            seed_everything(int(self.exp.seed) + self.rank)

        model = get_checked_model(self.exp)
        n_params = sum(p.numel() for p in model.parameters())
        logger.info(f"Model: {n_params / 1e6:.2f}M parameters")
        model.to(self.device)
        # Channels-last convolutions train ~10-25% faster on CPU (benchmarks/train_speed.md);
        # on CUDA it is left to the exp (field channels_last: None = auto, True, False).
        wanted = self.exp.channels_last
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
            cache_img=self.args.cache,
        )
        self.max_iter = len(self.train_loader)
        if self.exp.class_names is None:  # a get_data_loader override that binds no names
            self.exp.bind_class_names(_innermost_dataset(self.train_loader.dataset))
        # now that the names are bound, the folder's checkpoints must hold the same ones
        check_output_folder(self.file_name, lambda: _model_config_dict(self.exp, model))
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
        if self.args.occupy:
            occupy_mem(self.device)

        if self.is_distributed:
            model = self._wrap_ddp(model)
        self.model = model
        if self.use_model_ema:
            self.ema_model = ModelEMA(model, self.exp.ema_decay)
            if ema_state is not None:
                self.ema_model.load_state_dict(ema_state)
            else:
                self.ema_model.updates = self.max_iter * self.start_epoch
        self.model.train()

        self.evaluator = self.exp.get_evaluator(
            batch_size=self.batch_size, is_distributed=self.is_distributed
        )
        self.tracker = build_tracker(
            self.args.logger,
            self.file_name,
            self.experiment_name,
            _flat_config(self.exp, self.args),
            rank=self.rank,
        )

        self.stream = BatchStream(self.train_loader, self.device)
        self.stream.open(self._data_position)
        if self._rng_to_restore is not None:  # after the loader drew its seeds, as in the first run
            set_rng_state(self._rng_to_restore)
        logger.info(f"Training from epoch {self.start_epoch + 1}, iteration {self.start_iter + 1}")
        logger.info(describe_training_sizes(self.exp))
        size_warning = input_size_override_warning(self.exp)
        if size_warning:
            logger.warning(size_warning)
        if self.exp.no_aug_epochs >= self.max_epoch:
            logger.warning(
                f"max_epoch {self.max_epoch} <= no_aug_epochs {self.exp.no_aug_epochs}: the "
                "whole run trains without mosaic/mixup (and with the L1 loss); raise max_epoch "
                "or lower no_aug_epochs for the usual recipe"
            )

    def _wrap_ddp(self, model: nn.Module) -> nn.Module:
        sync_bn = bool(self.args.sync_bn or self.exp.sync_bn)
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
        """Evaluate when due, then write the end-of-epoch checkpoints (all of one state)."""
        tags = ["latest"]
        last_epochs = self.epoch >= self.max_epoch - self.exp.eval_last_epochs
        if (self.epoch + 1) % self.exp.eval_interval == 0 or last_epochs:
            all_reduce_norm(self.model)
            if self.use_model_ema:  # every rank evaluates its shard with the same statistics
                all_reduce_norm(self.ema_model.ema)
            self.evaluate()
            tags.append("last_epoch")
            if self._improved:
                tags.append("best")
            if self.save_history_ckpt:
                tags.append(f"epoch_{self.epoch + 1}")
        # the next epoch switches mosaic off: this is the end of the last mosaic epoch
        if self.epoch + 2 == self.max_epoch - self.exp.no_aug_epochs:
            tags.append("last_mosaic_epoch")
        self.save_ckpt(*tags)

    # ------------------------------------------------------------------ evaluation
    def evaluate(self) -> None:
        """Evaluate (EMA weights when enabled); rank 0's result is shared with every rank.

        Every rank must take the same checkpoint branches, because saving gathers RNG states.
        """
        model = self.ema_model.ema if self.use_model_ema else unwrap_model(self.model)
        with precision_autocast(self.device, self.eval_precision):
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
    def save_ckpt(self, *tags: str, iter_in_epoch: int = 0) -> None:
        """Write ``{tag}_ckpt.pth`` for each tag, atomically, on rank 0.

        All ranks join (to share RNG states) and first check that the state to save is sound
        (:meth:`DivergenceGuard.state_problem`): a checkpoint never holds a diverged state; the run stops.
        """
        model = unwrap_model(self.model)
        weights = {"model": model.state_dict(), "optimizer": self.optimizer.state_dict()}
        if self.use_model_ema:
            weights["ema"] = self.ema_model.ema.state_dict()
        reason = self.guard.state_problem(self.model, weights, self._probe)
        if reason:
            self._diverged(reason, f"{', '.join(checkpoint_name(t) for t in tags)} not written")
        rng_states = all_gather_object(get_rng_state())
        if self.rank != 0:
            return
        mid_epoch = iter_in_epoch > 0
        checkpoint = TrainingCheckpoint(
            model=weights["ema"] if self.use_model_ema else weights["model"],
            optimizer=weights["optimizer"],
            scaler=self.scaler.state_dict() if self.amp else None,
            start_epoch=self.epoch if mid_epoch else self.epoch + 1,
            iter_in_epoch=iter_in_epoch,
            iteration=self.epoch * self.max_iter + (iter_in_epoch or self.max_iter),
            data_position=self.stream.position,
            samples_per_rank=self.stream.position * (self.batch_size // self.world_size),
            world_size=self.world_size,
            train_size=self.input_size,
            best_ap=self.best_ap,
            curr_ap=self.curr_ap,
            use_l1=bool(getattr(getattr(model, "head", None), "use_l1", False)),
            train_model=weights["model"] if self.use_model_ema else None,
            ema_updates=int(self.ema_model.updates) if self.use_model_ema else None,
            rng=rng_states,
            model_config=_model_config_dict(self.exp, model),
            inference=InferenceSettings.from_exp(self.exp, self.experiment_name),
            precision=self.precision,
        ).to_dict()
        # latest last: it is where --resume starts, so a kill before it redoes this epoch and
        # rewrites every file of it; the others never fall behind what latest records
        for tag in sorted(tags, key=lambda t: t == "latest"):
            path = os.path.join(self.file_name, checkpoint_name(tag))
            save_checkpoint(path, checkpoint)
            logger.info(f"Saved {path}")
        if any(tag.startswith("epoch_") for tag in tags):
            for path in prune_history_checkpoints(self.file_name, self.exp.max_history_ckpt):
                logger.info(f"Removed {path} (keeping the newest {self.exp.max_history_ckpt})")
            logger.info(describe_checkpoint_space(self.file_name))

    def resume_train(self, model: nn.Module) -> dict | None:
        """Load ``--resume`` state or ``-c`` weights; returns the EMA state to restore, if any."""
        self._data_position = 0
        options = self.args
        if not options.resume:
            if options.ckpt is not None:
                load_finetune_weights(model, options.ckpt, options.strict, self.device)
            return None
        point = load_resume_point(
            options.ckpt or os.path.join(self.file_name, checkpoint_name("latest")),
            model,
            self.optimizer,
            self.scaler if self.amp else None,
            self.device,
            self.file_name,
            options.start_epoch,
            self.batch_size,
            self.rank,
            self.world_size,
        )
        self.best_ap, self.curr_ap = point.best_ap, point.curr_ap
        warning = precision_change_warning(point.precision, self.precision, self.precision_asked)
        if warning:
            logger.warning(warning)
        if point.train_size:
            self.input_size = point.train_size
        self.start_epoch, self.start_iter = point.start_epoch, point.start_iter
        self._data_position = point.data_position
        if point.rng is not None:
            self._rng_to_restore = point.rng
        return point.ema_state


def _innermost_dataset(dataset: Any) -> Any:
    """The dataset under wrappers such as MosaicDetection (which keep it as ``_dataset``)."""
    while hasattr(dataset, "_dataset"):
        dataset = dataset._dataset
    return dataset


def _describe_a_throwaway_model(exp: Any) -> dict[str, Any]:
    """The model config of ``exp``, from a model built only to be described.

    ``get_model`` caches what it builds; the model that trains must be built after seeding
    (``before_train``), so this one is dropped and the global random state left untouched.
    """
    kept = exp.__dict__.get("model")
    with torch.random.fork_rng(devices=[]):
        try:
            return _model_config_dict(exp, get_checked_model(exp))
        finally:
            if kept is None:
                exp.forget("model")  # official exps rebuild only when "model" is not set at all
            else:
                exp.model = kept


def _model_config_dict(exp: Any, model: nn.Module) -> dict[str, Any]:
    """``exp.model_config()`` corrected by the built model, as a plain dict (``weights_only`` loads)."""
    config = exp.model_config()
    if isinstance(config, ModelConfig):
        return describe_model(model, config).to_dict()
    return dict(config)


def _flat_config(exp: Any, options: TrainOptions) -> dict[str, Any]:
    """Scalar exp fields and options, for the tracker's run configuration."""
    config: dict[str, Any] = {}
    for key, value in vars(exp).items():
        if not key.startswith("_") and isinstance(
            value, (int, float, str, bool, tuple, type(None))
        ):
            config[f"exp.{key}"] = value
    for key, value in dataclasses.asdict(options).items():
        if isinstance(value, (int, float, str, bool, type(None))):
            config[f"args.{key}"] = value
    return config
