"""Export a checkpoint to ONNX.

Examples::

    python tools/export_onnx.py -c ckpt.pth --output-name yolox_nano_cam.onnx
    python tools/export_onnx.py -n yolox-s -c yolox_s.pth --dynamic --decode_in_inference

By default (as in official YOLOX) the graph returns the raw head output [B, A, 5 + C] =
``(dx, dy, log w, log h, obj, cls...)`` per anchor; decode it with
``yolox.inference.decode_outputs(outputs, (H, W))`` (see tools/onnx_inference.py). With
``--decode_in_inference`` it returns ``(cx, cy, w, h, obj, cls...)`` in input pixels, but only
at the export size. ``--dynamic`` makes batch, height and width dynamic (H and W multiples of 32).
The opset defaults to 11 and is raised automatically when an operator needs more (ema and sa
attention use ``unflatten``: opset 13). onnxsim runs when installed, unless ``--no-onnxsim``.
"""

from __future__ import annotations

import argparse
from typing import Optional, Sequence

from yolox.inference.cli import UsageError, add_model_args, build_exp, parse_tsize, run_cli
from yolox.inference.loading import class_names_for, load_model, resolve_checkpoint_path


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        "YOLOX onnx export",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--output-name", type=str, default="yolox.onnx", help="output ONNX file")
    parser.add_argument("--input", default="images", type=str, help="input node name")
    parser.add_argument("--output", default="output", type=str, help="output node name")
    parser.add_argument(
        "-o", "--opset", default=None, type=int, help="ONNX opset (default 11, raised when needed)"
    )
    parser.add_argument("--batch-size", type=int, default=1, help="batch size of the dummy input")
    parser.add_argument("--dynamic", action="store_true", help="dynamic batch, height and width")
    parser.add_argument("--no-onnxsim", action="store_true", help="do not simplify with onnxsim")
    parser.add_argument(
        "--decode_in_inference", action="store_true", help="decode boxes inside the graph"
    )
    parser.add_argument(
        "--tsize",
        default=None,
        type=int,
        nargs="+",
        help="export size H [W] (default: exp's, else 640)",
    )
    parser.add_argument("--device", default="cpu", help="device to trace on (cpu recommended)")
    add_model_args(parser, "checkpoint (default: <output_dir>/<exp_name>/best_ckpt.pth of the exp)")
    parser.add_argument(
        "opts", default=None, nargs=argparse.REMAINDER, help="exp overrides: KEY VALUE ..."
    )
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = make_parser().parse_args(argv)

    def body() -> int:
        from yolox.inference.export import export_onnx

        if args.batch_size < 1:
            raise UsageError(f"--batch-size must be >= 1, got {args.batch_size}")
        exp = build_exp(args, args.opts or [])
        loaded = load_model(resolve_checkpoint_path(args.ckpt, exp), exp=exp, device=args.device)
        tsize = parse_tsize(args.tsize) or (tuple(exp.test_size) if exp is not None else (640, 640))
        result = export_onnx(
            loaded.model,
            args.output_name,
            test_size=tsize,
            batch_size=args.batch_size,
            opset=args.opset,
            dynamic=args.dynamic,
            decode_in_inference=args.decode_in_inference,
            input_name=args.input,
            output_name=args.output,
            class_names=class_names_for(loaded, exp),
            config=loaded.config,
            simplify=not args.no_onnxsim,
        )
        print(f"saved {result['path']} (opset {result['opset']})")
        return 0

    return run_cli("export_onnx", body)


if __name__ == "__main__":
    raise SystemExit(main())
