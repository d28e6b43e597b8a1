"""Export a checkpoint to OpenVINO IR (.xml + .bin), optionally int8-quantized with NNCF.

Examples::

    python tools/export_openvino.py -c ckpt.pth --output-name yolox_nano.xml
    python tools/export_openvino.py -f exps/ablation/bccd_nano.py -c best_ckpt.pth --int8 \\
        --output-name bccd_nano.xml --calib-images 300 --max-ap-drop 1.0

The IR is converted from the project's ONNX export (raw head outputs; batch, height and width
dynamic unless ``--static``) and carries the same metadata (class names, test size, strides,
model config), so ``tools/demo.py --backend openvino --xml FILE``, ``tools/eval.py --backend
openvino --xml FILE`` and ``yolox.inference.ExportedPredictor`` need nothing else.

``--int8`` also writes ``<name>_int8.xml``: NNCF post-training quantization calibrated on
``--calib-images`` images of the exp's training set (letterboxed as inference does). The fp32
and int8 models are then scored on the exp's validation set and printed side by side; when
int8 loses more than ``--max-ap-drop`` AP50:95 points the int8 model is not written and the
command exits with status 2 (try ``--keep-head-fp32`` or more calibration images).
Needs ``pip install -e ".[deploy]"`` (openvino, nncf).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from typing import Optional, Sequence

from loguru import logger

from yolox.inference.cli import add_export_args, load_for_export
from yolox.inference.loading import class_names_for
from yolox.utils.cli_args import parse_command_line
from yolox.utils.errors import UserError, run_command


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        "YOLOX openvino export",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_export_args(parser, "yolox.xml")
    parser.add_argument(
        "--static", action="store_true", help="fix batch and size at export time (default dynamic)"
    )
    parser.add_argument("--int8", action="store_true", help="also write an int8 model (NNCF PTQ)")
    parser.add_argument(
        "--calib-images", type=int, default=300, help="training images for int8 calibration"
    )
    parser.add_argument(
        "--max-ap-drop",
        type=float,
        default=1.0,
        help="refuse the int8 model when it loses more AP50:95 points than this on the val set",
    )
    parser.add_argument(
        "--keep-head-fp32",
        action="store_true",
        help="keep the head's final prediction convs in float32",
    )
    parser.add_argument(
        "--eval-batch-size", type=int, default=8, help="batch size of the AP comparison"
    )
    return parser


def int8_path_for(path: str) -> str:
    """``model.xml`` -> ``model_int8.xml``."""
    return os.path.splitext(path)[0] + "_int8.xml"


def _move_ir(source: str, target: str) -> None:
    for ext in (".xml", ".bin"):
        shutil.move(os.path.splitext(source)[0] + ext, os.path.splitext(target)[0] + ext)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_command_line(make_parser(), argv)

    def body() -> int:
        from yolox.inference.openvino_export import (
            export_openvino,
            quantize_openvino,
            save_openvino,
        )

        if not args.output_name.endswith(".xml"):
            raise UserError(f"--output-name must end in .xml, got {args.output_name}")
        if args.int8 and args.exp_file is None and args.name is None:
            raise UserError(
                "--int8 needs the experiment (-f or -n): it calibrates on its training set"
            )
        if args.int8 and args.calib_images < 1:
            raise UserError(f"--calib-images must be >= 1, got {args.calib_images}")
        exp, loaded, tsize = load_for_export(args)
        ov_model = export_openvino(
            loaded.model,
            args.output_name,
            test_size=tsize,
            class_names=class_names_for(loaded, exp),
            config=loaded.config,
            dynamic=not args.static,
            batch_size=args.batch_size,
        )
        print(f"saved {args.output_name}")
        if not args.int8:
            return 0
        from yolox.inference.quantize import calibration_images, compare_ap

        images = calibration_images(exp, args.calib_images, tsize)
        logger.info(f"calibrating int8 on {len(images)} training images at {tsize[0]}x{tsize[1]}")
        quantized = quantize_openvino(ov_model, images, keep_head_fp32=args.keep_head_fp32)
        target = int8_path_for(args.output_name)
        with tempfile.TemporaryDirectory() as tmp:
            candidate = save_openvino(quantized, os.path.join(tmp, "int8.xml"))
            exp.test_size = tsize
            comparison = compare_ap(exp, args.output_name, candidate, args.eval_batch_size)
            print(f"AP on the validation set of {exp.exp_name} at {tsize[0]}x{tsize[1]}:")
            print(comparison.table())
            if comparison.drop > args.max_ap_drop:
                raise UserError(
                    f"int8 loses {comparison.drop:.2f} AP50:95 points (fp32 {comparison.fp32[0]:.2f}, "
                    f"int8 {comparison.int8[0]:.2f}), more than --max-ap-drop {args.max_ap_drop}: "
                    f"{target} not written; try --keep-head-fp32, more --calib-images, or a "
                    "larger --max-ap-drop"
                )
            _move_ir(candidate, target)
        print(f"saved {target}")
        return 0

    return run_command("export_openvino", body)


if __name__ == "__main__":
    raise SystemExit(main())
