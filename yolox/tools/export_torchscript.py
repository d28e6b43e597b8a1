"""Export a checkpoint to TorchScript with ``torch.jit.trace``.

Example::

    python tools/export_torchscript.py -c ckpt.pth --output-name yolox.torchscript.pt

As in official YOLOX the traced model returns decoded ``(cx, cy, w, h, obj, cls...)`` in input
pixels; decoding is traced at the export size, so feed that size. ``--raw-output`` traces the
raw head instead (any batch and any H/W multiple of 32; decode with
``yolox.inference.decode_outputs``). Class names and sizes are stored in the archive's extra
file ``yolox.json``. A trace is bound to the device it was made on: ``--device`` (default auto:
CUDA when available) decides it; ``--device cpu`` makes a CPU archive.
"""

from __future__ import annotations

import argparse
from typing import Optional, Sequence

from loguru import logger

from yolox.inference.loading import class_names_for
from yolox.tools._common import load_for_export
from yolox.utils.cli_args import add_export_args, parse_command_line
from yolox.utils.device import model_device
from yolox.utils.errors import run_command


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        "YOLOX torchscript export",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_export_args(parser, "yolox.torchscript.pt")
    parser.add_argument(
        "--raw-output", action="store_true", help="trace the raw (undecoded) head output"
    )
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_command_line(make_parser(), argv)

    def body() -> int:
        from yolox.deploy.export import export_torchscript

        exp, loaded, tsize = load_for_export(args)
        path = export_torchscript(
            loaded.model,
            args.output_name,
            test_size=tsize,
            batch_size=args.batch_size,
            decode_in_inference=not args.raw_output,
            class_names=class_names_for(loaded, exp),
            config=loaded.config,
        )
        print(f"saved {path}")
        traced_on = model_device(loaded.model)
        if traced_on.type != "cpu":  # --device auto on a GPU machine: say what that means
            logger.warning(
                f"traced on {traced_on}: the archive runs its traced operations there; "
                "--device cpu for an archive that runs on the CPU"
            )
        return 0

    return run_command("export_torchscript", body)


if __name__ == "__main__":
    raise SystemExit(main())
