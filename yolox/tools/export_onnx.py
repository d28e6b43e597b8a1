"""Export a checkpoint to ONNX.

Examples::

    python tools/export_onnx.py -c ckpt.pth --output-name yolox_nano_cam.onnx
    python tools/export_onnx.py -n yolox-s -c yolox_s.pth --dynamic --decode_in_inference

By default (as in official YOLOX) the graph returns the raw head output [B, A, 5 + C] =
``(dx, dy, log w, log h, obj, cls...)`` per anchor; decode it with
``yolox.inference.decode_outputs(outputs, (H, W))`` (see tools/onnx_inference.py). With
``--decode_in_inference`` it returns ``(cx, cy, w, h, obj, cls...)`` in input pixels, but only
at the export size. ``--dynamic`` makes batch, height and width dynamic (H and W multiples of 32).
The opset is 13 unless ``-o`` asks for another (ema and sa attention use ``unflatten``, which
needs 13; official YOLOX's 11 suits the others). onnxsim runs when installed, unless
``--no-onnxsim``.

``--int8`` also writes ``<name>_int8.onnx``: ONNX Runtime static quantization (QDQ, per-channel
int8 weights, uint8 activations) calibrated on ``--calib-images`` images of the exp's training
set, letterboxed as inference does; the fp32 and int8 models are scored on the exp's validation
set side by side and the int8 model is refused (exit 2, nothing written) when it loses more than
``--max-ap-drop`` AP50:95 points. It needs raw outputs (no ``--decode_in_inference``) and opset
13 or more (the default). ``tools/export_openvino.py --int8`` is
the OpenVINO counterpart (NNCF, with accuracy control).
"""

from __future__ import annotations

import argparse
from typing import Optional, Sequence

from yolox.inference.loading import class_names_for
from yolox.tools._common import (
    check_int8_args,
    check_options,
    load_for_export,
    report_candidate,
)
from yolox.utils.cli_args import (
    add_dynamic_arg,
    add_export_args,
    add_int8_args,
    count,
    parse_command_line,
)
from yolox.utils.errors import UserError, run_command


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
        "-o", "--opset", default=None, type=count(7), help="ONNX opset (default 13)"
    )
    add_dynamic_arg(parser)
    parser.add_argument("--no-onnxsim", action="store_true", help="do not simplify with onnxsim")
    parser.add_argument(
        "--decode_in_inference", action="store_true", help="decode boxes inside the graph"
    )
    add_int8_args(parser, "ONNX Runtime static QDQ quantization")
    return parser


#: per-channel weight quantization (DequantizeLinear with an axis) needs opset 13
INT8_MIN_OPSET = 13


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_command_line(make_parser(), argv)

    def body() -> int:
        from yolox.deploy.export import export_onnx

        check_int8_args(args)
        if args.int8 and args.decode_in_inference:
            raise UserError(
                "--int8 quantizes the raw-output graph: drop --decode_in_inference (the "
                "predictor decodes raw outputs at any size)"
            )
        opset = args.opset
        if args.int8 and opset is not None and opset < INT8_MIN_OPSET:
            raise UserError(f"--int8 needs opset >= {INT8_MIN_OPSET}, got -o {opset}")
        if args.int8 and opset is None:
            opset = INT8_MIN_OPSET
        exp, loaded, tsize = load_for_export(args)
        result = export_onnx(
            loaded.model,
            args.output_name,
            test_size=tsize,
            batch_size=args.batch_size,
            opset=opset,
            dynamic=args.dynamic,
            decode_in_inference=args.decode_in_inference,
            input_name=args.input,
            output_name=args.output,
            class_names=class_names_for(loaded, exp),
            config=loaded.config,
            simplify=not args.no_onnxsim,
        )
        print(f"saved {result['path']} (opset {result['opset']})")
        if args.int8:
            from yolox.deploy.int8 import quantize_checked
            from yolox.deploy.quantize_onnxruntime import quantize_onnx

            check = quantize_checked(
                exp,
                args.output_name,
                tsize,
                lambda images, candidate: quantize_onnx(
                    args.output_name, candidate, images, keep_head_fp32=args.keep_head_fp32
                ),
                args.calib_images,
                check_options(args),
            )
            report_candidate(check, exp)
        return 0

    return run_command("export_onnx", body)


if __name__ == "__main__":
    raise SystemExit(main())
