"""Detect objects in an image, a folder of images, a video or a webcam stream.

Examples::

    python tools/demo.py image -c ckpt.pth --path assets/dog.jpg --save_result --device cpu
    python tools/demo.py video -n yolox-s -c yolox_s.pth --path clip.mp4 --save_result
    python tools/demo.py image --backend onnxruntime --onnx yolox.onnx --path assets/ --save_result
    python tools/demo.py image --backend openvino --xml yolox_int8.xml --path assets/ --save_result

The model (size, classes, names, attention) and its trained test size are rebuilt from the
checkpoint when it carries its configuration; an official release needs ``-f``/``-n``. Results
go to ``<output_dir>/<experiment>/vis_res/<timestamp>/`` (``output_dir`` defaults to
./YOLOX_outputs; ``<experiment>`` is ``-expn``, the exp's name, else the run stored in the
checkpoint).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any, List, Optional, Sequence

import cv2
from loguru import logger

from yolox.data.datasets.errors import DatasetError
from yolox.data.datasets.image_io import read_image
from yolox.inference.loading import resolve_checkpoint_path
from yolox.inference.visualize import draw_detections
from yolox.tools._common import build_exp, parse_tsize, require_exported_file
from yolox.utils.cli_args import (
    add_device_arg,
    add_exp_args,
    add_runtime_args,
    add_size_arg,
    add_threshold_args,
    count,
    parse_command_line,
)
from yolox.utils.errors import UserError, run_command

IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        "YOLOX demo", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("demo", choices=["image", "video", "webcam"], help="input type")
    add_exp_args(parser, overrides=False)
    parser.add_argument(
        "--path", default="./assets/dog.jpg", help="image file, image folder or video file"
    )
    parser.add_argument("--camid", type=count(0), default=0, help="webcam id")
    parser.add_argument("--save_result", action="store_true", help="write annotated images/videos")
    parser.add_argument(
        "--output-dir", default=None, help="root of the results (default: the exp's output_dir)"
    )
    add_device_arg(parser)
    add_threshold_args(parser, conf=0.3, nms=0.3)
    add_size_arg(
        parser, help="test size H [W] (default: the exp's, else the checkpoint's, else 640)"
    )
    add_runtime_args(parser)
    parser.add_argument(
        "--compile", action="store_true", help="also torch.compile (slow first frame)"
    )
    return parser


def list_images(path: str) -> List[str]:
    """``path`` itself, or every image below the folder ``path`` (sorted)."""
    if os.path.isdir(path):
        files = [str(p) for p in sorted(Path(path).rglob("*")) if p.suffix.lower() in IMAGE_EXTS]
        if not files:
            raise UserError(f"no images ({', '.join(sorted(IMAGE_EXTS))}) found in folder {path}")
        return files
    if not os.path.isfile(path):
        raise UserError(f"--path {path} does not exist")
    return [path]


def build_predictor(args: argparse.Namespace, exp: Optional[Any]):
    """A Predictor (torch) or an ExportedPredictor (onnxruntime, openvino) from the command line."""
    tsize = parse_tsize(args.tsize) or (tuple(exp.test_size) if exp is not None else None)
    if args.backend != "torch":
        from yolox.deploy.exported import ExportedPredictor, MissingExportMetadata

        path = require_exported_file(args.exported_file, args.backend)
        names = exp.model_config().class_names if exp is not None else None
        try:
            return ExportedPredictor(
                path,
                class_names=names,
                test_size=tsize,
                conf=args.conf,
                nms=args.nms,
                backend=args.backend,
            )
        except MissingExportMetadata as err:
            raise UserError(f"{err} (-f/-n EXP or -c CKPT for the names, and --tsize)") from None
    from yolox.inference.predictor import Predictor

    ckpt = resolve_checkpoint_path(args.ckpt, exp)
    return Predictor.from_checkpoint(
        ckpt,
        exp=exp,
        device=args.device,
        test_size=tsize,
        conf=args.conf,
        nms=args.nms,
        fp16=args.fp16,
        fuse=args.fuse,
        legacy=args.legacy,
        fast=args.fast,
        compile=args.compile,
        precision=args.precision,
    )


def run_images(predictor, paths: Sequence[str], save_folder: Optional[str]) -> List[str]:
    """Detect on every image; an unreadable one (truncated, corrupt) is skipped with a warning
    naming it, and a UserError (non-zero exit) follows when no image could be read at all."""
    written = []
    failed = []
    for path in paths:
        try:
            image = read_image(path)  # catches truncated JPEGs that cv2.imread half-decodes
        except DatasetError as err:
            logger.warning(f"skipped {path}: {err}")
            failed.append(path)
            continue
        start = time.perf_counter()
        detections = predictor.predict(image)
        logger.info(f"{path}: {len(detections)} detections in {time.perf_counter() - start:.3f}s")
        for record in detections.to_list():
            logger.info(
                f"  {record['class_name']} {record['score']:.3f} {[round(v, 1) for v in record['box']]}"
            )
        if save_folder is not None:
            os.makedirs(save_folder, exist_ok=True)
            out = os.path.join(save_folder, os.path.basename(path))
            cv2.imwrite(out, draw_detections(image, detections))
            written.append(out)
            logger.info(f"saved {out}")
    if failed and len(failed) == len(paths):
        raise UserError(f"none of the {len(paths)} images could be read (e.g. {failed[0]})")
    if failed:
        logger.warning(f"{len(failed)} of {len(paths)} images were unreadable and skipped")
    return written


def run_stream(predictor, source: Any, save_path: Optional[str], show: bool) -> Optional[str]:
    """Annotate a video file or camera frame by frame; write ``save_path`` (mp4v) if given."""
    capture = cv2.VideoCapture(source)
    if not capture.isOpened():
        raise UserError(f"cannot open video source {source!r}")
    writer = None
    try:
        if save_path is not None:
            os.makedirs(os.path.dirname(save_path), exist_ok=True)
            fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
            width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
            height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
            writer = cv2.VideoWriter(
                save_path, cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height)
            )
        frames = 0
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            vis = draw_detections(frame, predictor.predict(frame))
            frames += 1
            if writer is not None:
                writer.write(vis)
            if show:
                try:
                    cv2.namedWindow("yolox", cv2.WINDOW_NORMAL)
                    cv2.imshow("yolox", vis)
                    key = cv2.waitKey(1) & 0xFF
                except cv2.error:  # headless OpenCV: no window support
                    logger.warning("cannot open a window (headless OpenCV?); use --save_result")
                    show = False
                    if writer is None:
                        break
                    continue
                if key in (27, ord("q"), ord("Q")):
                    break
        logger.info(f"processed {frames} frames" + (f"; saved {save_path}" if save_path else ""))
    finally:
        capture.release()
        if writer is not None:
            writer.release()
    return save_path


def _experiment_name(args: argparse.Namespace, exp: Optional[Any], predictor: Any) -> str:
    """-expn, the exp's name, the run stored in the checkpoint, else the file's folder or stem."""
    if args.experiment_name:
        return args.experiment_name
    if exp is not None:
        return exp.exp_name
    if getattr(predictor, "run_name", None):
        return predictor.run_name
    source = Path(args.ckpt or args.exported_file or "exported")
    if source.name.endswith("_ckpt.pth") and source.resolve().parent.name:
        return source.resolve().parent.name  # <output_dir>/<run>/best_ckpt.pth of older runs
    return source.stem


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_command_line(make_parser(), argv)

    def body() -> int:
        exp = build_exp(args)
        predictor = build_predictor(args, exp)
        save_folder = None
        if args.save_result:
            root = args.output_dir or (exp.output_dir if exp is not None else "./YOLOX_outputs")
            stamp = time.strftime("%Y_%m_%d_%H_%M_%S", time.localtime())
            save_folder = os.path.join(
                root, _experiment_name(args, exp, predictor), "vis_res", stamp
            )
        if args.demo == "image":
            run_images(predictor, list_images(args.path), save_folder)
        elif args.demo == "video":
            if not os.path.isfile(args.path):
                raise UserError(f"--path {args.path} does not exist")
            save = os.path.join(save_folder, Path(args.path).stem + ".mp4") if save_folder else None
            run_stream(predictor, args.path, save, show=False)
        else:
            save = os.path.join(save_folder, "camera.mp4") if save_folder else None
            run_stream(predictor, args.camid, save, show=save is None)
        return 0

    return run_command("demo", body)


if __name__ == "__main__":
    raise SystemExit(main())
