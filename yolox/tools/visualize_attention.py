"""Save one PNG per attention module (and position) showing what it weights on an image.

Example::

    python tools/visualize_attention.py -c yolox_nano_cam.pth --path dog.jpg --output-dir attn/

Spatial gates (cam, cbam, triplet, and the generic ``|out| / |in|`` ratio for other modules)
are drawn as heat maps over the image, cropped to the letterboxed region and resized back to
the image's own size; channel gates (se, eca) as a bar chart of the per-channel weights.
Files are named ``<index>_<position>_<type>_<kind>.png``.
"""

from __future__ import annotations

import argparse
import os
from typing import List, Optional, Sequence

import cv2
import numpy as np
import torch

from yolox.data.datasets.image_io import read_image
from yolox.inference.attention_maps import AttentionMap, attention_modules, capture_attention_maps
from yolox.inference.loading import load_model, resolve_checkpoint_path
from yolox.inference.predictor import letterbox
from yolox.tools._common import build_exp, parse_tsize
from yolox.utils.cli_args import (
    add_device_arg,
    add_exp_args,
    add_overrides_arg,
    add_size_arg,
    parse_command_line,
)
from yolox.utils.device import model_device
from yolox.utils.errors import UserError, run_command
from yolox.utils.values import arg_type, number


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        "YOLOX attention maps",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_exp_args(parser, "checkpoint of a model with attention", overrides=False)
    parser.add_argument("--path", required=True, help="input image")
    parser.add_argument("--output-dir", required=True, help="folder for the PNG files")
    add_size_arg(parser, help="input size H [W] (default: exp's, else the checkpoint's, else 640)")
    add_device_arg(parser)
    parser.add_argument(
        "--alpha", type=arg_type(number(0.0, 1.0), float), default=0.5, help="heat map opacity"
    )
    add_overrides_arg(parser)
    return parser


def spatial_overlay(
    image: np.ndarray, values: np.ndarray, ratio: float, input_size: Sequence[int], alpha: float
) -> np.ndarray:
    """The map upsampled over the network input, cropped to the image region, blended as a heat map."""
    height, width = image.shape[:2]
    full = cv2.resize(
        values.astype(np.float32),
        (int(input_size[1]), int(input_size[0])),
        interpolation=cv2.INTER_LINEAR,
    )
    crop = full[: max(1, int(height * ratio)), : max(1, int(width * ratio))]
    crop = cv2.resize(crop, (width, height), interpolation=cv2.INTER_LINEAR)
    low, high = float(crop.min()), float(crop.max())
    norm = (crop - low) / (high - low) if high > low else np.zeros_like(crop)
    heat = cv2.applyColorMap((norm * 255).astype(np.uint8), cv2.COLORMAP_JET)
    blended = cv2.addWeighted(image, 1.0 - alpha, heat, alpha, 0)
    return blended


def channel_chart(values: np.ndarray, title: str, path: str) -> None:
    """Bar chart of per-channel weights (matplotlib, Agg backend: no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(4.0, len(values) / 16), 3), dpi=100)
    ax.bar(np.arange(len(values)), values, width=1.0, color="tab:blue")
    ax.set_xlim(-0.5, len(values) - 0.5)
    ax.set_ylim(0, 1)
    ax.set_xlabel("channel")
    ax.set_ylabel("weight")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def save_maps(
    maps: List[AttentionMap],
    image: np.ndarray,
    ratio: float,
    input_size: Sequence[int],
    output_dir: str,
    alpha: float,
) -> List[str]:
    os.makedirs(output_dir, exist_ok=True)
    written = []
    for i, amap in enumerate(maps):
        path = os.path.join(
            output_dir, f"{i:02d}_{amap.position}_{amap.module_type}_{amap.kind}.png"
        )
        title = f"{amap.position} {amap.module_type}: {amap.description}"
        if amap.kind == "channel":
            channel_chart(amap.values, title, path)
        else:
            cv2.imwrite(path, spatial_overlay(image, amap.values, ratio, input_size, alpha))
        written.append(path)
    return written


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_command_line(make_parser(), argv)

    def body() -> int:
        exp = build_exp(args, args.opts or [])
        loaded = load_model(resolve_checkpoint_path(args.ckpt, exp), exp=exp, device=args.device)
        if not attention_modules(loaded.model):
            raise UserError(f"the model of {args.ckpt} has no attention modules to visualise")
        image = read_image(args.path)  # the training reader: a truncated JPEG is an error
        tsize = parse_tsize(args.tsize) or loaded.test_size(exp)  # exp's, else the checkpoint's
        chw, ratio = letterbox(image, tsize)
        device = model_device(loaded.model)
        maps = capture_attention_maps(loaded.model, torch.from_numpy(chw)[None].to(device))
        for path in save_maps(maps, image, ratio, tsize, args.output_dir, args.alpha):
            print(f"saved {path}")
        return 0

    return run_command("visualize_attention", body)


if __name__ == "__main__":
    raise SystemExit(main())
