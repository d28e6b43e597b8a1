"""Export a checkpoint to OpenVINO IR (.xml + .bin), optionally int8-quantized with NNCF.

Examples::

    python tools/export_openvino.py -c ckpt.pth --output-name yolox_nano.xml
    python tools/export_openvino.py -f exps/ablation/bccd_nano.py -c best_ckpt.pth --int8 \\
        --output-name bccd_nano.xml --calib-images 300 --max-ap-drop 1.0 [--accuracy-control]

The IR is converted from the project's ONNX export (raw head outputs; batch, height and width
fixed at the export size unless ``--dynamic``, as in tools/export_onnx.py) and carries the same
metadata (class names, test size, strides, model config), so ``tools/demo.py --backend openvino
--xml FILE``, ``tools/eval.py --backend openvino --xml FILE`` and
``yolox.deploy.ExportedPredictor`` need nothing else.

``--int8`` also writes ``<name>_int8.xml``: NNCF post-training quantization calibrated on
``--calib-images`` images of the exp's training set (letterboxed as inference does). The fp32
and int8 models are then scored on the exp's validation set and printed side by side; when
int8 loses more than ``--max-ap-drop`` AP50:95 points the int8 model is not written and the
command exits with status 2. ``--accuracy-control`` runs NNCF's accuracy-aware quantization
instead: it validates the int8 model and returns the operations that cost most AP to float32
until the drop is within ``--max-ap-drop`` (slower; the AP check still runs after it).
``--keep-head-fp32`` keeps the head's final prediction convs in float32 from the start.
int8 is kept only where it is faster than the fp32 IR on this CPU (both are timed side by side
and printed; ``--keep-slow-int8`` keeps it anyway, with a warning).

``--bf16`` also writes ``<name>_bf16.xml``: the same float32 weights, marked so that the
runtimes compile it with OpenVINO's bf16 inference precision hint (native on CPUs with AMX or
AVX-512 BF16). It goes through the same checks: timed against the fp32 IR, and AP on the
validation set within ``--max-ap-drop``.
Needs ``pip install -e ".[deploy]"`` (openvino, nncf). ``tools/export_onnx.py --int8`` is the
ONNX Runtime counterpart.
"""

from __future__ import annotations

import argparse
from typing import Optional, Sequence

from loguru import logger

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
    parse_command_line,
)
from yolox.utils.errors import UserError, run_command


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        "YOLOX openvino export",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_export_args(parser, "yolox.xml")
    add_dynamic_arg(parser)
    parser.add_argument(  # the polarity of earlier versions; static is the default now
        "--static", action="store_true", dest="deprecated_static", help=argparse.SUPPRESS
    )
    add_int8_args(parser, "NNCF post-training quantization", accuracy_control=True)
    parser.add_argument(
        "--bf16",
        action="store_true",
        help="also write <name>_bf16.xml (bf16 inference precision hint), checked on speed and AP",
    )
    return parser


def _write_bf16(exp, args: argparse.Namespace, tsize, ov_model) -> str:
    """``<name>_bf16.xml`` beside the fp32 IR, kept only where it pays (speed and AP)."""
    from yolox.deploy.int8 import calibration_images, keep_if_it_pays, variant_path_for
    from yolox.deploy.openvino_export import mark_bf16, save_openvino

    exp.test_size = tsize
    images = calibration_images(exp, args.batch_size, tsize)  # the timing batch
    check = keep_if_it_pays(
        exp,
        args.output_name,
        variant_path_for(args.output_name, "bf16"),
        lambda candidate: save_openvino(mark_bf16(ov_model.clone()), candidate),
        images,
        check_options(args),
        "bf16",
    )
    return report_candidate(check, exp)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_command_line(make_parser(), argv)

    def body() -> int:
        from yolox.deploy.int8 import quantize_checked
        from yolox.deploy.openvino_export import export_openvino, save_openvino
        from yolox.deploy.quantize_nncf import ValidationScorer, quantize_openvino

        if args.deprecated_static:
            logger.warning(
                "--static is deprecated: the IR is static by default now, as with "
                "export_onnx; --dynamic makes batch, height and width dynamic"
            )
            if args.dynamic:
                raise UserError("--static and --dynamic contradict each other: give one")
        if not args.output_name.endswith(".xml"):
            raise UserError(f"--output-name must end in .xml, got {args.output_name}")
        check_int8_args(args)
        if args.bf16 and args.exp_file is None and args.name is None:
            raise UserError(
                "--bf16 needs the experiment (-f or -n): it checks the AP on its validation set"
            )
        exp, loaded, tsize = load_for_export(args)
        ov_model = export_openvino(
            loaded.model,
            args.output_name,
            test_size=tsize,
            class_names=class_names_for(loaded, exp),
            config=loaded.config,
            dynamic=args.dynamic,
            batch_size=args.batch_size,
        )
        print(f"saved {args.output_name}")
        if not args.int8:
            if args.bf16:
                _write_bf16(exp, args, tsize, ov_model)
            return 0

        def quantize(images: list, candidate: str) -> None:
            accuracy = None
            if args.accuracy_control:
                accuracy = ValidationScorer(exp, args.eval_batch_size)
                logger.info(
                    f"accuracy control: int8 may lose at most {args.max_ap_drop} AP50:95 points "
                    f"on the {len(accuracy)} validation images"
                )
            quantized = quantize_openvino(
                ov_model,
                images,
                keep_head_fp32=args.keep_head_fp32,
                accuracy=accuracy,
                max_ap_drop=args.max_ap_drop,
            )
            save_openvino(quantized, candidate)

        check = quantize_checked(
            exp, args.output_name, tsize, quantize, args.calib_images, check_options(args)
        )
        report_candidate(check, exp)
        if args.bf16:
            _write_bf16(exp, args, tsize, ov_model)
        return 0

    return run_command("export_openvino", body)


if __name__ == "__main__":
    raise SystemExit(main())
