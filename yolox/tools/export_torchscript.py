"""Export a checkpoint to TorchScript with ``torch.jit.trace``.

Example::

    python tools/export_torchscript.py -c ckpt.pth --output-name yolox.torchscript.pt

As in official YOLOX the traced model returns decoded ``(cx, cy, w, h, obj, cls...)`` in input
pixels; decoding is traced at the export size, so feed that size. ``--raw-output`` traces the
raw head instead (any batch and any H/W multiple of 32; decode with
``yolox.inference.decode_outputs``). Class names and sizes are stored in the archive's extra
file ``yolox.json``.
"""

from __future__ import annotations

import argparse
from typing import Optional, Sequence

from yolox.inference.cli import UsageError, add_model_args, build_exp, parse_tsize, run_cli
from yolox.inference.loading import class_names_for, load_model, resolve_checkpoint_path


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        "YOLOX torchscript export",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--output-name", type=str, default="yolox.torchscript.pt", help="output file"
    )
    parser.add_argument("--batch-size", type=int, default=1, help="batch size of the dummy input")
    parser.add_argument(
        "--raw-output", action="store_true", help="trace the raw (undecoded) head output"
    )
    parser.add_argument(
        "--tsize",
        default=None,
        type=int,
        nargs="+",
        help="export size H [W] (default: exp's, else 640)",
    )
    parser.add_argument("--device", default="cpu", help="device to trace on")
    add_model_args(parser, "checkpoint (default: <output_dir>/<exp_name>/best_ckpt.pth of the exp)")
    parser.add_argument(
        "opts", default=None, nargs=argparse.REMAINDER, help="exp overrides: KEY VALUE ..."
    )
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = make_parser().parse_args(argv)

    def body() -> int:
        from yolox.inference.export import export_torchscript

        if args.batch_size < 1:
            raise UsageError(f"--batch-size must be >= 1, got {args.batch_size}")
        exp = build_exp(args, args.opts or [])
        loaded = load_model(resolve_checkpoint_path(args.ckpt, exp), exp=exp, device=args.device)
        tsize = parse_tsize(args.tsize) or (tuple(exp.test_size) if exp is not None else (640, 640))
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
        return 0

    return run_cli("export_torchscript", body)


if __name__ == "__main__":
    raise SystemExit(main())
