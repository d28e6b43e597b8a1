"""Evaluate a checkpoint on the exp's validation set (COCO AP or VOC mAP), on CPU or GPU.

Examples::

    python tools/eval.py -f exps/yolox_nano_cam.py -c ckpt.pth -b 16 --device cpu
    python tools/eval.py -n yolox-s -c yolox_s.pth --conf 0.001 --fuse
    python tools/eval.py -c ckpt.pth --format voc --data-dir datasets/VOCdevkit
    python tools/eval.py -f exps/yolox_nano_cam.py --backend onnxruntime --onnx model.onnx -b 1
    python tools/eval.py -f exps/yolox_nano_cam.py --backend openvino --xml model_int8.xml -b 8

The model (size, classes, class names, attention) is rebuilt from the checkpoint when it
carries its configuration, so its exp file is not needed for the model. The *dataset* still
comes from an exp: ``-f``/``-n`` (checked against the checkpoint; a disagreement is an error
listing the differing fields), or, without one, a default exp set up as the checkpoint's run:
its model fields, test size, confidence and NMS thresholds, dataset format, VOC metric and
validation split, so the AP printed at the end of training is reproduced; the data folder is
the one the run trained on (stored in the checkpoint, said in the log) unless ``--data-dir``
gives another (``--format``, ``--tsize``, ``--conf``, ``--nms`` and ``KEY VALUE``
overrides such as ``val_ann instances_val.json val_name images`` still apply). Official releases (no configuration inside)
need ``-f``/``-n``. ``--backend onnxruntime --onnx FILE`` (or ``--backend openvino --xml
FILE``, from tools/export_openvino.py, int8 too) scores an exported model instead (with
``-f``/``-n`` for the dataset), to check that export or quantization kept the accuracy.
"""

from __future__ import annotations

import argparse
import os
import random
from typing import Any, Optional, Sequence

import torch
from loguru import logger

from yolox.evaluators.coco_scoring import COCO_BACKEND_CHOICES
from yolox.exp.yolox_base import DATASET_FORMATS
from yolox.inference.fast import optimize_for_inference
from yolox.inference.loading import load_model, resolve_checkpoint_path
from yolox.tools._common import build_exp, parse_tsize, require_exported_file
from yolox.utils.checkpoint import InferenceSettings, load_checkpoint, safe_path_component
from yolox.utils.cli_args import (
    add_device_arg,
    add_dist_args,
    add_exp_args,
    add_overrides_arg,
    add_runtime_args,
    add_size_arg,
    add_threshold_args,
    count,
    parse_command_line,
)
from yolox.utils.device import select_device
from yolox.utils.errors import UserError, run_command, run_worker
from yolox.utils.metric import format_ap
from yolox.utils.model_utils import fuse_model, get_model_info
from yolox.utils.precision import describe_precision, inference_precision, precision_autocast


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        "YOLOX eval", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_exp_args(parser, overrides=False)
    add_dist_args(parser)
    add_device_arg(parser)
    add_threshold_args(parser, conf=None, nms=None, default_note=" (default: the exp's)")
    add_size_arg(parser, help="test size H [W]")
    parser.add_argument("--seed", default=None, type=int, help="random seed")
    add_runtime_args(parser, fuse_help="fuse conv and bn before evaluating")
    parser.add_argument(
        "--test", action="store_true", help="test-dev: write detections json, no scoring"
    )
    parser.add_argument("--speed", action="store_true", help="time inference only (no scoring)")
    parser.add_argument(
        "--format",
        dest="dataset_format",
        choices=list(DATASET_FORMATS),
        default=None,
        help="dataset format when no exp is given (default: the checkpoint's)",
    )
    parser.add_argument(
        "--data-dir", default=None, help="dataset root (overrides the exp's data_dir)"
    )
    parser.add_argument(
        "--workers",
        type=count(0),
        default=None,
        help="data loader workers (default: the exp's, at most the CPUs this process may use)",
    )
    parser.add_argument(
        "--coco-backend",
        choices=list(COCO_BACKEND_CHOICES),
        default=None,
        help="COCO scoring library (default: the exp's coco_backend, auto = faster-coco-eval "
        "when installed, else pycocotools; both give the same numbers)",
    )
    add_overrides_arg(parser)
    return parser


def exp_from_checkpoint(ckpt_path: str, dataset_format: Optional[str] = None) -> Any:
    """A default Exp set up as the checkpoint's run: its model fields, test size, thresholds,
    dataset format, VOC metric and validation split (the data folder comes from --data-dir)."""
    from yolox.exp import Exp
    from yolox.models.build import ModelConfig

    checkpoint = load_checkpoint(ckpt_path)
    config = checkpoint.get("model_config")
    if config is None:
        raise UserError(
            f"checkpoint {ckpt_path} carries no model_config: give its experiment with -f or -n"
        )
    exp = Exp()
    exp.apply_model_config(ModelConfig.from_dict(dict(config)))
    settings = InferenceSettings.from_checkpoint(checkpoint)
    dataset_format = dataset_format or settings.dataset_format or "coco"
    if settings.dataset_format not in (None, dataset_format):
        logger.warning(
            f"{ckpt_path} was trained on a {settings.dataset_format} dataset; evaluating "
            f"--format {dataset_format}"
        )
    settings.apply_to(exp)
    exp.exp_name = settings.exp_name or safe_path_component(config.get("name") or "checkpoint")
    exp.dataset_format = dataset_format
    return exp


def _stored_data_dir(exp: Any, ckpt_path: str) -> Optional[str]:
    """The dataset root the checkpoint's run trained on (stored with it), when it still exists.

    None for a yolo run that found its data through its data.yaml (stored too): the yaml's
    folder is then the root, as in training.
    """
    stored = exp.data_dir
    if stored is None and exp.data_yaml is not None:
        if not os.path.exists(exp.data_yaml):
            raise UserError(
                f"{ckpt_path} was trained on the data of {exp.data_yaml}, which does not exist "
                "here: give the dataset with --data-dir DIR"
            )
        logger.info(
            f"evaluating on the data of {exp.data_yaml} ({exp.dataset_format}), stored in "
            f"{ckpt_path} (--data-dir DIR to use other data)"
        )
        return None
    if stored is None:
        raise UserError(
            "eval needs a dataset: give an experiment (-f EXP_FILE or -n NAME), or "
            "--data-dir DIR (and --format coco|voc unless the checkpoint's is right); the "
            "model and its test settings are rebuilt from the checkpoint"
        )
    if not os.path.isdir(stored):
        raise UserError(
            f"{ckpt_path} was trained on the data in {stored}, which does not exist here: "
            "give the dataset with --data-dir DIR"
        )
    logger.info(
        f"evaluating on {stored} ({exp.dataset_format}), the data stored in {ckpt_path} "
        "(--data-dir DIR to use other data)"
    )
    return stored


def prepare_exp(args: argparse.Namespace) -> Any:
    opts = list(args.opts or [])
    exp = build_exp(args, [])
    if exp is None:
        if not args.ckpt:
            raise UserError("without -f/-n, give the checkpoint with -c")
        exp = exp_from_checkpoint(args.ckpt, args.dataset_format)
        if args.data_dir is None:
            exp.data_dir = _stored_data_dir(exp, args.ckpt)
        if args.experiment_name:
            exp.exp_name = args.experiment_name
    elif args.dataset_format is not None:
        exp.dataset_format = args.dataset_format
    if opts:
        exp.merge(opts)
    if args.data_dir is not None:
        exp.data_dir = args.data_dir
    if args.workers is not None:
        exp.data_num_workers = args.workers
    elif exp.data_num_workers > usable_cpus():  # 4 workers on 2 cores only compete
        exp.data_num_workers = usable_cpus()
    if args.coco_backend is not None:
        exp.coco_backend = args.coco_backend
    if args.conf is not None:
        exp.test_conf = args.conf
    if args.nms is not None:
        exp.nmsthre = args.nms
    tsize = parse_tsize(args.tsize)
    if tsize is not None:
        exp.test_size = tsize
    return exp


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def _torch_model(exp: Any, args: argparse.Namespace, device: torch.device) -> torch.nn.Module:
    """The checkpoint's model on ``device``, fused or on the fast path when asked."""
    from yolox.utils.dist import get_rank

    loaded = load_model(resolve_checkpoint_path(args.ckpt, exp), exp=exp, device=device)
    model = loaded.model
    if exp.class_names is None and loaded.config.class_names is not None:
        exp.class_names = tuple(loaded.config.class_names)  # the dataset is checked against them
    if get_rank() == 0:
        logger.info(
            f"model from the {loaded.config_source}: {loaded.config.name}, attention={loaded.config.attention}"
        )
        logger.info(get_model_info(model, exp.test_size))
    if args.fast:
        return optimize_for_inference(model)
    if args.fuse:
        fuse_model(model)
    return model


def _exported_model(exp: Any, args: argparse.Namespace) -> torch.nn.Module:
    """The ``--onnx``/``--xml`` file as an evaluator model, checked against the exp's classes and size."""
    from yolox.deploy.exported import ExportedModel

    path = require_exported_file(args.exported_file, args.backend)
    ignored = [flag for flag in ("fuse", "fast", "fp16") if getattr(args, flag)]
    if ignored:
        logger.warning(f"--{', --'.join(ignored)} ignored: the exported graph is run as exported")
    model = ExportedModel(path, backend=args.backend)
    if model.num_classes != exp.num_classes:
        raise UserError(
            f"{path} predicts {model.num_classes} classes but the exp has {exp.num_classes}"
        )
    size = tuple(int(s) for s in exp.test_size)
    if model.static_size is not None and tuple(model.static_size) != size:
        raise UserError(
            f"{path} was exported for {model.static_size[0]}x{model.static_size[1]} input "
            f"but the exp evaluates at {size[0]}x{size[1]}: pass --tsize "
            f"{model.static_size[0]} {model.static_size[1]} or re-export with --dynamic"
        )
    logger.info(f"evaluating the exported model {path} with {args.backend} (CPU)")
    return model


def evaluate(exp: Any, args: argparse.Namespace, num_processes: int) -> dict:
    """Load the model, build the evaluator, run it; returns the scores (rank 0 logs them)."""
    from yolox.utils.dist import get_rank

    is_distributed = num_processes > 1
    if args.seed is not None:
        random.seed(args.seed)
        torch.manual_seed(args.seed)
    device = select_device(args.device)
    if is_distributed and device.type == "cuda":
        device = torch.device("cuda", torch.cuda.current_device())
    if args.backend != "torch":
        model, device = _exported_model(exp, args), torch.device("cpu")
    else:
        model = _torch_model(exp, args, device)
    half = args.fp16 and device.type == "cuda"
    if args.fp16 and not half:
        logger.warning("--fp16 ignored: half precision is only used on CUDA")
    precision = "fp32"
    if args.backend == "torch":
        precision = inference_precision(args.precision, device, args.fast, half)
        if get_rank() == 0:
            logger.info(describe_precision(args.precision, precision, device))

    evaluator = exp.get_evaluator(
        args.batch_size, is_distributed, testdev=args.test, legacy=args.legacy
    )
    if args.speed:
        from yolox.evaluators import run_inference

        with precision_autocast(device, precision):
            _, timing = run_inference(
                model,
                evaluator.dataloader,
                exp.num_classes,
                exp.test_conf,
                exp.nmsthre,
                exp.test_size,
                half=half,
                desc="speed",
            )
        summary = timing.summary()
        logger.info("\n" + summary)
        return {"speed": summary}
    with precision_autocast(device, precision):
        ap50_95, ap50, summary = exp.eval(model, evaluator, is_distributed, half=half)
    if get_rank() == 0:
        logger.info("\n" + summary)
        logger.info(format_ap(ap50_95, ap50))
    return {"ap50_95": ap50_95, "ap50": ap50, "summary": summary}


def _worker(args: argparse.Namespace, num_processes: int) -> None:
    """One process of a multi-device run: rebuilds the exp itself (exp objects do not pickle)."""
    run_worker("eval", lambda: evaluate(prepare_exp(args), args, num_processes))


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_command_line(make_parser(), argv)

    def body() -> int:
        if args.backend != "torch" and args.exp_file is None and args.name is None:
            raise UserError(f"--backend {args.backend} needs the dataset's experiment: -f or -n")
        exp = prepare_exp(args)
        num_processes = args.devices if args.devices is not None else 1
        if args.backend != "torch" and num_processes * args.num_machines > 1:
            raise UserError(f"--backend {args.backend} evaluates in one process; drop -d")
        if num_processes * args.num_machines > 1:
            from yolox.core.launch import launch

            launch(
                _worker,
                num_processes,
                args.num_machines,
                args.machine_rank,
                backend=args.dist_backend,
                dist_url=args.dist_url,
                args=(args, num_processes * args.num_machines),
                device_name=args.device,
            )
        else:
            evaluate(exp, args, 1)
        return 0

    return run_command("eval", body)


if __name__ == "__main__":
    raise SystemExit(main())
