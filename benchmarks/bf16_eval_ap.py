"""AP and latency of bf16 against fp32 inference (and every other CPU path) on a trained model.

    # a checkpoint trained on a shared dataset (the real question; see bf16_study.md):
    YOLOX_TEST_DATA=../shared/datasets python benchmarks/bf16_eval_ap.py \\
        -f exps/ablation/bccd_nano.py -c best_ckpt.pth --tag bf16_eval_bccd_nano
    # cheap, anywhere: first trains a nano on the generated shapes (128 px, 200 steps)
    python benchmarks/bf16_eval_ap.py --shapes --tag bf16_eval_shapes_nano

A thin wrapper around ``yolox-bench --deploy`` (:mod:`yolox.deploy.bench`): PyTorch eager
and fast path, each in fp32 and bf16 autocast, ONNX Runtime and OpenVINO, scored by the exp's
own evaluator on its validation set and timed side by side. The result files name the CPU and
its flags: bf16 speed only means something where bf16 is native (AMX, AVX-512 BF16).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import List, Optional, Sequence

from yolox.tools.bench import main as bench_main

#: validation images of the generated shapes (more than the tests' 8: a steadier AP)
SHAPES_VAL_IMAGES = 40


def shapes_checkpoint(work_dir: Path) -> List[str]:
    """Train the generated-shapes nano, save exp file and checkpoint; their bench arguments."""
    from yolox.exp import get_exp
    from yolox.testing.fixtures import save_model_checkpoint, write_synthetic_exp
    from yolox.testing.shapes_training import SHAPES_IMAGES, SHAPES_SIZE, train_shapes_nano

    exp_file = write_synthetic_exp(
        work_dir / "shapes_exp.py",
        f"self.data_dir = {str(work_dir / 'data')!r}\n"
        f"self.synthetic_images = ({SHAPES_IMAGES[0]}, {SHAPES_VAL_IMAGES})\n"
        f"self.input_size = self.test_size = ({SHAPES_SIZE}, {SHAPES_SIZE})",
    )
    trained = train_shapes_nano(get_exp(str(exp_file)))
    ckpt = save_model_checkpoint(work_dir / "shapes_nano.pth", trained.base, trained.config)
    return ["-f", str(exp_file), "-c", str(ckpt)]


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-f", "--exp_file", default=None)
    parser.add_argument("-c", "--ckpt", default=None)
    parser.add_argument("--shapes", action="store_true", help="train the generated-shapes nano")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--tag", default="bf16_eval")
    parser.add_argument("--output-dir", default="benchmarks/results")
    args = parser.parse_args(argv)
    bench = ["--deploy", "--threads", str(args.threads), "--runs", str(args.runs)]
    bench += ["--tag", args.tag, "--output-dir", args.output_dir, "--calib-images", "64"]
    if args.shapes:
        work_dir = Path(tempfile.mkdtemp(prefix="bf16_eval_"))
        return bench_main([*bench, *shapes_checkpoint(work_dir)])
    if not args.exp_file or not args.ckpt:
        parser.error("give -f and -c, or --shapes")
    return bench_main([*bench, "-f", args.exp_file, "-c", args.ckpt])


if __name__ == "__main__":
    sys.exit(main())
