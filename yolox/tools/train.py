"""``python -m yolox.tools.train`` / ``tools/train.py``: train a YOLOX experiment.

Single process, ``-d N`` processes on this machine (spawned), several machines
(``--num_machines``/``--machine_rank``/``--dist-url``), or under ``torchrun``. Exit code 0 on
success, 2 for wrong input (one-line message), 1 for a failed run.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import timedelta
from typing import Sequence

from yolox.core.train_args import make_train_parser as make_parser
from yolox.core.train_options import TrainOptions
from yolox.utils.cli_args import parse_command_line
from yolox.utils.errors import UserError, run_command, run_worker

__all__ = ["make_parser", "main", "train_worker"]


def load_exp(args: argparse.Namespace):
    """The experiment of ``-f``/``-n`` with ``opts`` merged and checked (UserError if wrong)."""
    from yolox.exp import get_exp

    if args.exp_file is None and args.name is None:
        raise UserError("give an experiment file (-f FILE) or a model name (-n yolox-s)")
    exp = get_exp(args.exp_file, args.name)
    exp.merge(args.opts or [])
    exp.check()
    return exp


def check_args(args: argparse.Namespace, exp) -> None:
    """Cheap checks in the parent process, before any worker starts."""
    import importlib.util

    if args.start_epoch is not None:
        if not args.resume:
            raise UserError(
                f"-e/--start_epoch {args.start_epoch} only applies with --resume "
                "(it restarts a resumed run at that epoch)"
            )
        if args.start_epoch > exp.max_epoch:
            raise UserError(
                f"-e/--start_epoch {args.start_epoch} is past max_epoch {exp.max_epoch}"
            )
    world = int(os.environ.get("WORLD_SIZE", 0)) or (args.devices or 1) * args.num_machines
    if args.batch_size % world:
        raise UserError(f"--batch-size {args.batch_size} is not divisible by the {world} processes")
    if args.ckpt is not None and not os.path.isfile(args.ckpt):
        raise UserError(
            f"checkpoint not found: {args.ckpt} (for the official weights give a model name, "
            "e.g. -c yolox-s)"
        )
    if args.resume and args.ckpt is None:
        latest = os.path.join(exp.output_dir, args.experiment_name, "latest_ckpt.pth")
        if not os.path.isfile(latest):
            raise UserError(f"--resume without -c needs {latest}, which does not exist")
    kind = args.logger  # one of LOGGERS: the parser checks it
    if importlib.util.find_spec(kind) is None:
        raise UserError(f"--logger {kind} needs the '{kind}' package: pip install {kind}")


def train_worker(args: TrainOptions) -> None:
    """Body of every training process: rebuild the exp (nothing to pickle) and train."""
    run_worker("train", lambda: _train(args))


def _train(args: TrainOptions) -> None:
    from yolox.core.trainer import Trainer

    exp = load_exp(args)
    if not args.experiment_name:
        args.experiment_name = exp.exp_name
    trainer = exp.get_trainer(args) if hasattr(exp, "get_trainer") else Trainer(exp, args)
    trainer.train()


def main(argv: Sequence[str] | None = None) -> int:
    namespace = parse_command_line(make_parser(), argv)
    from yolox.core.launch import default_num_devices, launch
    from yolox.core.output_folder import derived_experiment_name
    from yolox.inference.pretrained import resolve_pretrained
    from yolox.utils.setup_env import configure_module, configure_nccl, configure_omp

    def body() -> None:
        args = TrainOptions.from_namespace(namespace)
        exp = load_exp(args)
        if not args.experiment_name:  # a model override is another run: my_data -> my_data_cam
            args.experiment_name = derived_experiment_name(exp.exp_name, args.opts or [])
        args.ckpt = resolve_pretrained(args.ckpt)  # -c yolox-s: the official weights
        check_args(args, exp)
        configure_module()
        configure_omp()
        configure_nccl()
        num_procs = args.devices if args.devices is not None else default_num_devices(args.device)
        launch(
            train_worker,
            num_procs,
            args.num_machines,
            args.machine_rank,
            backend=args.dist_backend,
            dist_url=args.dist_url,
            args=(args,),
            device_name=args.device,
            timeout=timedelta(seconds=args.dist_timeout),
        )

    return run_command("train", body)


if __name__ == "__main__":
    sys.exit(main())
