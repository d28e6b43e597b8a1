"""The YOLOX experiment: official fields and defaults, plus ``attention`` and data-format fields."""

from __future__ import annotations

import functools
import os
import random
import traceback
from dataclasses import fields
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

import torch
import torch.distributed as dist
import torch.nn.functional as F
from loguru import logger
from torch import nn

from yolox.data.formats import (
    DatasetRequest,
    build_dataset,
    dataset_format,
    dataset_formats,
    readers_of,
    resolve_data_dir,
)
from yolox.evaluators.coco_scoring import COCO_BACKEND_CHOICES
from yolox.models.build import ModelConfig, build_model
from yolox.utils.errors import UserError
from yolox.utils.values import Rule, integer, number, one_of, optional, size_pair

from .base_exp import BaseExp
from .model_check import check_model_attention

__all__ = ["Exp", "DATASET_FORMATS", "check_exp_value", "get_checked_model"]

DATASET_FORMATS = dataset_formats()  # the built-in formats; the registry may gain more


def _coco_classes() -> Tuple[str, ...]:
    from yolox.data.datasets.coco_classes import COCO_CLASSES

    return tuple(COCO_CLASSES)


def _checked_get_model(get_model: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
    """Wrap a subclass's own ``get_model`` so that what it builds is checked where it is built.

    Official-style exps build YOLOPAFPN/YOLOFPN themselves; without this, ``exp.get_model()``
    under ``attention cam`` would quietly return the baseline, and a call with arguments that
    official YOLOX does not have would surface as a bare TypeError. Nested calls
    (``super().get_model()``) are checked once, at the outermost one.
    """

    @functools.wraps(get_model)
    def wrapper(self: Exp, *args: Any, **kwargs: Any) -> nn.Module:
        depth = self.__dict__.get("_get_model_depth", 0)
        self.__dict__["_get_model_depth"] = depth + 1
        try:
            model = get_model(self, *args, **kwargs)
        except TypeError as exc:
            error = _call_error(self, get_model, exc)
            if error is None:
                raise
            raise error from exc
        finally:
            self.__dict__["_get_model_depth"] = depth
        if depth == 0:
            check_model_attention(self, model, self.attention)
        return model

    return wrapper


def _call_error(exp: Exp, get_model: Callable[..., Any], exc: TypeError) -> Optional[UserError]:
    """A one-line UserError when ``get_model`` itself called a class with arguments it lacks."""
    code = get_model.__code__
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames or frames[-1].filename != code.co_filename:
        return None  # raised deeper down: not a call the exp file wrote
    if "argument" not in str(exc):
        return None
    return UserError(
        f"{code.co_filename}:{frames[-1].lineno} ({type(exp).__qualname__}.get_model): {exc} "
        "(official YOLOX v0.3.0 has no such argument; see the class's signature)"
    )


class Exp(BaseExp):
    """Defaults are YOLOX-L on COCO (depth 1.0, width 1.0), exactly as in official YOLOX."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "get_model" in vars(cls):
            cls.get_model = _checked_get_model(vars(cls)["get_model"])

    def __init__(self) -> None:
        super().__init__()
        # ---------------- model ---------------- #
        self.model_name: Optional[str] = None  # e.g. "yolox-s"; stored in checkpoints
        self.num_classes = 80
        # None: taken from the dataset when it is built (COCO categories, VOC XML names sorted,
        # a YOLO names file, else class_0..), with one log line saying which; without a
        # dataset (demo/export of a zoo exp) COCO's names when num_classes is 80.
        self.class_names: Optional[Tuple[str, ...]] = None
        self.depth = 1.00
        self.width = 1.00
        self.act = "silu"
        self.depthwise = False
        self.neck = "pafpn"
        self.in_channels: Tuple[int, ...] = (256, 512, 1024)
        self.darknet_depth = 53  # backbone depth of the yolov3 (yolofpn neck) model
        # None, a name ("cam"), a spec dict ({"type": "cbam", "ratio": 8}), or a dict with
        # "positions" (see yolox.models.neck_attention).
        self.attention: Any = None

        # ---------------- dataloader ---------------- #
        self.data_num_workers = 4
        self.input_size = (640, 640)  # (height, width)
        self.multiscale_range = 5  # random sizes in input_size +- 32 * multiscale_range
        self.random_size: Optional[Tuple[int, int]] = (
            None  # (min, max) multiples of 32; overrides multiscale_range
        )
        self.data_dir: Optional[str] = None
        # "coco" (json), "voc" (Annotations/ JPEGImages/ ImageSets/), "voc_flat" (images with
        # XMLs beside them, one folder per split) or "yolo" (images/ + labels/ txt); see
        # datasets/README.md
        self.dataset_format = "coco"
        self.train_ann = "instances_train2017.json"
        self.val_ann = "instances_val2017.json"
        self.test_ann = "instances_test2017.json"
        self.train_name = "train2017"
        self.val_name = "val2017"
        self.test_name = "test2017"
        # VOC: set names or (year, set) pairs; voc_flat/yolo: split folder names ("." = the
        # root); left at these VOC defaults, voc_flat/yolo use "train" (else the root) and
        # "val"/"valid"
        self.train_sets: Sequence[Any] = (("2007", "trainval"), ("2012", "trainval"))
        self.val_sets: Sequence[Any] = (("2007", "test"),)
        # voc_flat/yolo: hold out this fraction of the train images for validation (chosen by
        # a hash of the file path: deterministic); 0 = use val_sets
        self.val_fraction = 0.0
        # yolo: the export's data.yaml (or the folder that holds it): its names: are the class
        # names, its train:/val:/test: folders the splits; data_dir defaults to its folder
        self.data_yaml: Optional[str] = None
        # voc_flat: the folder of the XML files when not beside the images nor in a sibling
        # annotations/, annots/ or Annotations/ (a name beside images/, or a path)
        self.annotations_dir: Optional[str] = None
        self.voc_metric = "voc07"  # "voc07" (11-point) or "voc10" (area), VOC only
        self.skip_unknown_classes = False
        self.coco_backend = "auto"  # COCO scoring: "auto", "faster_coco_eval" or "pycocotools"

        # ---------------- transform ---------------- #
        self.mosaic_prob = 1.0
        self.mixup_prob = 1.0
        self.hsv_prob = 1.0
        self.flip_prob = 0.5
        self.degrees = 10.0
        self.translate = 0.1
        self.mosaic_scale = (0.1, 2)
        self.enable_mixup = True
        self.mixup_scale = (0.5, 1.5)
        self.shear = 2.0

        # ---------------- training ---------------- #
        self.warmup_epochs = 5
        self.max_epoch = 300
        self.warmup_lr = 0
        self.min_lr_ratio = 0.05
        self.basic_lr_per_img = 0.01 / 64.0
        self.scheduler = "yoloxwarmcos"
        self.no_aug_epochs = 15
        self.ema = True
        self.ema_decay = 0.9998  # official ModelEMA decay
        self.weight_decay = 5e-4
        self.momentum = 0.9
        self.print_interval = 10
        self.eval_interval = 10
        self.save_history_ckpt = True
        # newest epoch_<n>_ckpt.pth files kept when save_history_ckpt is on (None: keep all)
        self.max_history_ckpt: Optional[int] = 10
        self.save_interval_iters = 0  # also write latest_ckpt.pth every N iterations (0: off)
        self.sync_bn = False  # SyncBatchNorm under DDP on CUDA (same as --sync-bn)
        # None: channels-last on CPU (faster there), off on CUDA; True/False force it
        self.channels_last: Optional[bool] = None
        # "fp32", "bf16" (autocast) or "auto": bf16 where the CPU has AMX/AVX-512 BF16, fp32
        # elsewhere and on CUDA (yolox/utils/precision.py). fp32 by default: fine-tuning in bf16
        # cost no AP, but a short from-scratch run did (benchmarks/bf16_study.md)
        self.precision = "fp32"
        self.exp_name = os.path.split(os.path.realpath(__file__))[1].split(".")[0]

        # ---------------- testing ---------------- #
        self.test_size = (640, 640)
        self.test_conf = 0.01
        self.nmsthre = 0.65

    def field_rules(self) -> Dict[str, Rule]:
        probability = number(0.0, 1.0)
        return {
            **super().field_rules(),
            "num_classes": integer(1),
            "depth": number(0.0, above=True),
            "width": number(0.0, above=True),
            "data_num_workers": integer(0),
            "input_size": size_pair(),
            "test_size": size_pair(),
            "multiscale_range": integer(0),
            "dataset_format": one_of(*dataset_formats()),
            "voc_metric": one_of("voc07", "voc10"),
            "mosaic_prob": probability,
            "mixup_prob": probability,
            "hsv_prob": probability,
            "flip_prob": probability,
            "warmup_epochs": number(0.0),
            "max_epoch": integer(1),
            "no_aug_epochs": integer(0),
            "warmup_lr": number(0.0),
            "min_lr_ratio": number(0.0),
            "basic_lr_per_img": number(0.0, above=True),
            "weight_decay": number(0.0),
            "momentum": number(0.0, 1.0),
            "ema_decay": number(0.0, 1.0, above=True),
            "save_interval_iters": integer(0),
            "channels_last": optional(one_of(True, False)),
            "precision": one_of("auto", "fp32", "bf16"),
            "test_conf": probability,
            "nmsthre": probability,
            "val_fraction": number(0.0, 1.0),  # check() also rejects 1.0: nothing left to train
            "coco_backend": one_of(*COCO_BACKEND_CHOICES),
            "max_history_ckpt": optional(integer(1)),
        }

    # ------------------------------------------------------------------ model
    def model_config(self) -> ModelConfig:
        """The architecture as plain data; checkpoints store it so the model rebuilds without this file.

        Every ModelConfig field is the exp field of the same name (``name`` is ``model_name``,
        else ``exp_name``), so a field added to ModelConfig cannot be forgotten here.
        """
        values = {f.name: getattr(self, f.name) for f in fields(ModelConfig) if f.name != "name"}
        values["class_names"] = self._known_class_names()
        return ModelConfig.from_dict({**values, "name": self.model_name or self.exp_name})

    def apply_model_config(self, config: ModelConfig) -> None:
        """Set every model field from ``config`` (the inverse of :meth:`model_config`)."""
        for f in fields(ModelConfig):
            if f.name != "name":
                setattr(self, f.name, getattr(config, f.name))
        self.model_name = config.name

    def _known_class_names(self) -> Optional[Tuple[str, ...]]:
        if self.class_names is not None:
            return tuple(self.class_names)
        return _coco_classes() if self.num_classes == 80 else None

    def bind_class_names(self, dataset: Any) -> None:
        """Fix ``class_names`` from a freshly built dataset, or check the dataset against them.

        Called for every dataset the exp builds (official-style ``get_dataset`` overrides
        included), before any checkpoint is written, so checkpoints store the names used.
        """
        from yolox.data.datasets.class_names import bind_class_names

        names, note = bind_class_names(self.class_names, self.num_classes, dataset)
        if note is not None:
            logger.info(note)
        self.class_names = names

    def get_model(self) -> nn.Module:
        """Build (once) and return the model, officially initialised and in train mode."""
        if self.model is None:
            self.check()
            self.model = build_model(self.model_config())
        return self.model

    # ------------------------------------------------------------------ data
    def _data_dir(self, default_child: str) -> str:
        return resolve_data_dir(self, default_child)

    def prepare_data(self) -> None:
        """Hook run before any dataset is opened (e.g. generate a synthetic dataset); no-op here."""

    def _make_dataset(
        self,
        train: bool,
        img_size,
        preproc,
        cache: bool = False,
        cache_type: str = "ram",
        testdev: bool = False,
    ):
        """The ``dataset_format`` registry (yolox.data.formats) builds the split from our fields."""
        self.prepare_data()
        request = DatasetRequest(train, img_size, preproc, cache, cache_type, testdev)
        return build_dataset(self, request)

    def get_dataset(self, cache: bool = False, cache_type: str = "ram"):
        from yolox.data import TrainTransform

        return self._make_dataset(
            True,
            self.input_size,
            TrainTransform(max_labels=50, flip_prob=self.flip_prob, hsv_prob=self.hsv_prob),
            cache=cache,
            cache_type=cache_type,
        )

    def get_data_loader(
        self,
        batch_size: int,
        is_distributed: bool,
        no_aug: bool = False,
        cache_img: Optional[str] = None,
    ):
        """Infinite mosaic loader; ``batch_size`` is the total over all processes."""
        from yolox.data import (
            DataLoader,
            InfiniteSampler,
            MosaicDetection,
            TrainTransform,
            YoloBatchSampler,
            worker_init_reset_seed,
        )

        if self.dataset is None:
            dataset = self.get_dataset(cache=cache_img is not None, cache_type=cache_img or "ram")
            self.bind_class_names(dataset)
            self.dataset = dataset
        self.dataset = MosaicDetection(
            dataset=self.dataset,
            mosaic=not no_aug,
            img_size=self.input_size,
            preproc=TrainTransform(
                max_labels=120, flip_prob=self.flip_prob, hsv_prob=self.hsv_prob
            ),
            degrees=self.degrees,
            translate=self.translate,
            mosaic_scale=self.mosaic_scale,
            mixup_scale=self.mixup_scale,
            shear=self.shear,
            enable_mixup=self.enable_mixup,
            mosaic_prob=self.mosaic_prob,
            mixup_prob=self.mixup_prob,
        )
        rank, world_size = (dist.get_rank(), dist.get_world_size()) if is_distributed else (0, 1)
        batch_size = batch_size // world_size
        # Each rank reads every world_size-th index of one shared shuffled stream.
        sampler = InfiniteSampler(
            len(self.dataset),
            seed=self._shuffle_seed(is_distributed),
            rank=rank,
            world_size=world_size,
        )
        batch_sampler = YoloBatchSampler(
            sampler=sampler, batch_size=batch_size, drop_last=False, mosaic=not no_aug
        )
        return DataLoader(
            self.dataset,
            num_workers=self.data_num_workers,
            pin_memory=torch.cuda.is_available(),
            batch_sampler=batch_sampler,
            worker_init_fn=worker_init_reset_seed,
            persistent_workers=self.data_num_workers > 0,
        )

    def _shuffle_seed(self, is_distributed: bool) -> int:
        """The data order's seed: ``seed`` when set; unseeded runs draw one (shared by all ranks)."""
        if self.seed is not None:
            return int(self.seed)
        seed = random.SystemRandom().randrange(2**31)
        if is_distributed:
            from yolox.utils.dist import broadcast_object

            seed = broadcast_object(seed, src=0)
        return seed

    def random_resize(
        self, data_loader, epoch: int, rank: int, is_distributed: bool
    ) -> Tuple[int, int]:
        """Pick the next multi-scale training size on rank 0 and share it with every rank."""
        size = torch.zeros(2, dtype=torch.long)
        if rank == 0:
            ratio = self.input_size[1] / self.input_size[0]
            if self.random_size is None:
                base = int(self.input_size[0] / 32)
                self.random_size = (base - self.multiscale_range, base + self.multiscale_range)
            factor = random.randint(*self.random_size)
            size[0], size[1] = 32 * factor, 32 * int(factor * ratio)
        if is_distributed:
            if dist.get_backend() == "nccl":
                size = size.to(torch.device("cuda", torch.cuda.current_device()))
            dist.barrier()
            dist.broadcast(size, 0)
        return int(size[0]), int(size[1])

    def preprocess(self, inputs: torch.Tensor, targets: torch.Tensor, tsize: Sequence[int]):
        """Resize a batch to the multi-scale size ``tsize`` (h, w) and scale the (cls, cx, cy, w, h) labels."""
        scale_y = tsize[0] / self.input_size[0]
        scale_x = tsize[1] / self.input_size[1]
        if scale_x != 1 or scale_y != 1:
            inputs = F.interpolate(inputs, size=tuple(tsize), mode="bilinear", align_corners=False)
            targets[..., 1::2] = targets[..., 1::2] * scale_x
            targets[..., 2::2] = targets[..., 2::2] * scale_y
        return inputs, targets

    # ------------------------------------------------------------------ optimisation
    def get_optimizer(self, batch_size: int) -> torch.optim.Optimizer:
        """SGD (nesterov) with the official groups: norm weights and biases without weight decay."""
        if self.optimizer is None:
            from yolox.utils.optim import build_param_groups

            lr = self.warmup_lr if self.warmup_epochs > 0 else self.basic_lr_per_img * batch_size
            groups = build_param_groups(self.get_model(), self.weight_decay)
            self.optimizer = torch.optim.SGD(groups, lr=lr, momentum=self.momentum, nesterov=True)
        return self.optimizer

    def get_lr_scheduler(self, lr: float, iters_per_epoch: int, **kwargs):
        from yolox.utils.lr_scheduler import LRScheduler

        return LRScheduler(
            self.scheduler,
            lr,
            iters_per_epoch,
            self.max_epoch,
            warmup_epochs=self.warmup_epochs,
            warmup_lr_start=self.warmup_lr,
            no_aug_epochs=self.no_aug_epochs,
            min_lr_ratio=self.min_lr_ratio,
            **kwargs,
        )

    # ------------------------------------------------------------------ evaluation
    def get_eval_dataset(self, **kwargs):
        from yolox.data import ValTransform

        return self._make_dataset(
            False,
            self.test_size,
            ValTransform(legacy=kwargs.get("legacy", False)),
            testdev=kwargs.get("testdev", False),
        )

    def get_eval_loader(self, batch_size: int, is_distributed: bool, **kwargs):
        dataset = self.get_eval_dataset(**kwargs)
        self.bind_class_names(dataset)
        if is_distributed:
            batch_size = batch_size // dist.get_world_size()
            sampler = torch.utils.data.distributed.DistributedSampler(dataset, shuffle=False)
        else:
            sampler = torch.utils.data.SequentialSampler(dataset)
        return torch.utils.data.DataLoader(
            dataset,
            num_workers=self.data_num_workers,
            pin_memory=torch.cuda.is_available(),
            sampler=sampler,
            batch_size=batch_size,
        )

    def get_evaluator(
        self, batch_size: int, is_distributed: bool, testdev: bool = False, legacy: bool = False
    ):
        """COCO evaluator for COCO json, VOC evaluator (``voc_metric``) for every other format."""
        loader = self.get_eval_loader(batch_size, is_distributed, testdev=testdev, legacy=legacy)
        if dataset_format(self.dataset_format).evaluator == "voc":
            from yolox.evaluators import VOCEvaluator

            return VOCEvaluator(
                dataloader=loader,
                img_size=self.test_size,
                confthre=self.test_conf,
                nmsthre=self.nmsthre,
                num_classes=self.num_classes,
                metric=self.voc_metric,
            )
        from yolox.evaluators import COCOEvaluator

        return COCOEvaluator(
            dataloader=loader,
            img_size=self.test_size,
            confthre=self.test_conf,
            nmsthre=self.nmsthre,
            num_classes=self.num_classes,
            testdev=testdev,
            backend=self.coco_backend,
        )

    def eval(
        self,
        model,
        evaluator,
        is_distributed: bool,
        half: bool = False,
        return_outputs: bool = False,
    ):
        return evaluator.evaluate(model, is_distributed, half, return_outputs=return_outputs)

    # ------------------------------------------------------------------ consistency
    def check(self) -> None:
        """Fail early, with the field names, on bad values and settings that cannot work together."""
        super().check()
        problems = []
        if self.class_names is not None and len(self.class_names) != self.num_classes:
            problems.append(
                f"len(class_names)={len(self.class_names)} but num_classes={self.num_classes} "
                "(set class_names=None to take the names from the dataset)"
            )
        if self.dataset_format not in dataset_formats():
            problems.append(f"dataset_format must be one of {dataset_formats()}")
        if not 0.0 <= self.val_fraction < 1.0:
            problems.append(f"val_fraction={self.val_fraction} must be in [0, 1)")
        elif self.val_fraction and self.dataset_format not in readers_of("val_fraction"):
            problems.append(
                f"val_fraction splits {readers_of('val_fraction')} folders only; "
                f"{self.dataset_format} datasets name their splits (train_sets/val_sets, "
                "train_ann/val_ann)"
            )
        for field, value in (
            ("data_yaml", self.data_yaml),
            ("annotations_dir", self.annotations_dir),
        ):
            readers = readers_of(field)
            if value is not None and self.dataset_format not in readers:
                names = ", ".join(repr(name) for name in readers)
                problems.append(f"{field} is read by dataset_format {names} only")
        if problems:
            raise UserError(f"experiment {self.exp_name!r} is inconsistent: " + "; ".join(problems))


def check_exp_value(exp: Exp) -> None:
    """Official's pre-run check: input_size must be a multiple of 32 in height and width.

    Official asserts; this raises a UserError naming the value (a ValueError, like the other
    rejected fields).
    """
    h, w = exp.input_size
    if h % 32 or w % 32:
        raise UserError(
            f"input_size={tuple(exp.input_size)}: height and width must be multiples of 32"
        )


def get_checked_model(exp: BaseExp) -> nn.Module:
    """``exp.get_model()``, verified to carry exactly the attention that ``exp.attention`` asks
    for: the one way entry points take an exp's model (an exp that is no :class:`Exp`, only a
    ``BaseExp``, asks for none)."""
    model = exp.get_model()
    check_model_attention(exp, model, exp.attention if isinstance(exp, Exp) else None)
    return model
