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

from yolox.inference.cli import add_export_args, load_for_export
from yolox.inference.loading import class_names_for
from yolox.utils.errors import run_command


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        "YOLOX onnx export",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_export_args(parser, "yolox.onnx")
    parser.add_argument("--input", default="images", type=str, help="input node name")
    parser.add_argument("--output", default="output", type=str, help="output node name")
    parser.add_argument(
        "-o", "--opset", default=None, type=int, help="ONNX opset (default 11, raised when needed)"
    )
    parser.add_argument("--dynamic", action="store_true", help="dynamic batch, height and width")
    parser.add_argument("--no-onnxsim", action="store_true", help="do not simplify with onnxsim")
    parser.add_argument(
        "--decode_in_inference", action="store_true", help="decode boxes inside the graph"
    )
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = make_parser().parse_args(argv)

    def body() -> int:
        from yolox.inference.export import export_onnx

        exp, loaded, tsize = load_for_export(args)
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

    return run_command("export_onnx", body)


if __name__ == "__main__":
    raise SystemExit(main())
