#!/usr/bin/env python3
"""ONNX Runtime example: detect objects in one image with an exported YOLOX model.

    python tools/export_onnx.py -c ckpt.pth --output-name yolox.onnx
    python tools/onnx_inference.py -m yolox.onnx -i dog.jpg -o onnx_out/ -s 0.3

Steps (see yolox/deploy/exported.py): letterbox the BGR image exactly as evaluation
does (top-left, 114 padding, no normalisation), run the session, decode raw outputs with the
strides-8/16/32 grids (skipped for graphs exported with --decode_in_inference; the file's
metadata says which), filter by obj * class score, per-class NMS, and scale boxes back by the
letterbox ratio. Class names come from the file's metadata unless given.
"""

import argparse
import json
import os

from _entry import require

require("yolox")  # a clear message when the package is not installed (pip install -e .)

import cv2  # noqa: E402

from yolox.deploy.exported import ExportedPredictor  # noqa: E402
from yolox.inference.predictor import read_image  # noqa: E402
from yolox.inference.visualize import draw_detections  # noqa: E402
from yolox.utils.errors import UserError, run_command  # noqa: E402


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        "onnxruntime inference sample",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-m", "--model", required=True, help="ONNX model file")
    parser.add_argument("-i", "--image_path", required=True, help="input image")
    parser.add_argument(
        "-o", "--output_dir", default="demo_output", help="where the annotated image goes"
    )
    parser.add_argument("-s", "--score_thr", type=float, default=0.3, help="score threshold")
    parser.add_argument("--nms", type=float, default=0.45, help="NMS IoU threshold")
    parser.add_argument(
        "--input_shape", default=None, help="H,W for a dynamic model (default: metadata)"
    )
    return parser


def main(argv=None) -> int:
    args = make_parser().parse_args(argv)
    return run_command("onnx_inference", lambda: run(args))


def run(args: argparse.Namespace) -> int:
    try:
        shape = tuple(int(v) for v in args.input_shape.split(",")) if args.input_shape else None
    except ValueError as exc:
        raise UserError(f"--input_shape must be H,W (integers), got {args.input_shape!r}") from exc
    if not os.path.isfile(args.model):
        raise UserError(f"model not found: {args.model}")
    image = read_image(args.image_path)
    predictor = ExportedPredictor(
        args.model, test_size=shape, conf=args.score_thr, nms=args.nms, backend="onnxruntime"
    )
    detections = predictor.predict(image)
    print(json.dumps(detections.to_list(), indent=1))
    os.makedirs(args.output_dir, exist_ok=True)
    out = os.path.join(args.output_dir, os.path.basename(args.image_path))
    cv2.imwrite(out, draw_detections(image, detections))
    print(f"saved {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
