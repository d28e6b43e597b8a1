"""``tools/ablate.py`` / ``python -m yolox.tools.ablate``: an attention ablation study, one command.

    python tools/ablate.py -f exps/example/synthetic.py --variants none cam se --seeds 0 1 2

Trains every variant with the exp file's recipe for every seed, evaluates the final model of
each run, and writes ``ablation.{md,json,csv}`` (mean ± std over seeds, paired difference to
``none``, params, GFLOPs, CPU latency) and ``ablation.png`` (gain vs cost) to ``--output-dir``.
Calling it again with the same arguments resumes the study. Exit code 0 on success, 2 for wrong
input, 1 for a failed run, 130 when interrupted. See docs/ablation.md.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Tuple

from loguru import logger

from yolox.ablation.report import DEFAULT_LAST_K, MIN_BASELINE_AP
from yolox.ablation.stats import MARGIN
from yolox.utils.cli_args import (
    add_batch_size_arg,
    add_device_arg,
    add_exp_args,
    add_fp16_arg,
    add_logger_arg,
    add_no_latency_arg,
    add_overrides_arg,
    add_precision_arg,
    count,
    parse_command_line,
)
from yolox.utils.errors import UserError, run_command
from yolox.utils.precision import cpu_description
from yolox.utils.values import arg_type, number

__all__ = ["make_parser", "main", "RECOMMENDED_DESIGN_HINT"]

#: logged by studies from scratch: the design that resolves small effects (docs/ablation.md)
RECOMMENDED_DESIGN_HINT = (
    "ablation: a study from scratch has a large paired spread (several AP points on small "
    "data), so only large effects are detectable. Recommended design: train the baseline once, "
    "then fine-tune every variant from it (-c CKPT, attention with init=identity); see "
    "docs/ablation.md, 'Recommended design'."
)


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser("YOLOX attention ablation")
    add_exp_args(
        parser,
        "start every run from these weights (fine-tuning study; missing attention keys keep "
        "their init, e.g. init=identity)",
        exp_file_required=True,
        model_name=False,
        overrides=False,
    )
    parser.add_argument(
        "--variants",
        nargs="+",
        required=True,
        help="'none', module names (cam se ...), JSON specs, or LABEL=SPEC; 'none' is added if missing",
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[0], help="seeds per variant")
    parser.add_argument(
        "--output-dir", default=None, help="study folder (default ./YOLOX_outputs/ablation_<exp>)"
    )
    add_batch_size_arg(parser, 64, "training batch size")
    add_device_arg(parser)
    add_fp16_arg(parser, "mixed precision training (CUDA)")
    add_precision_arg(
        parser,
        None,
        "CPU precision of every run (default: the exp's precision field); a study keeps the "
        "one its first run trained in, and stops if this machine would switch",
    )
    add_logger_arg(parser)
    parser.add_argument(
        "--no-deterministic",
        dest="deterministic",
        action="store_false",
        help="allow non-deterministic kernels (faster on GPU, runs no longer repeatable)",
    )
    add_no_latency_arg(parser)
    parser.add_argument(
        "--latency-runs", type=count(1), default=30, help="timed forwards per variant"
    )
    parser.add_argument("--latency-warmup", type=count(0), default=5, help="untimed forwards first")
    parser.add_argument(
        "--latency-threads", type=count(1), default=None, help="torch CPU threads while timing"
    )
    parser.add_argument(
        "--cost", choices=["gflops", "latency"], default="gflops", help="x axis of the plot"
    )
    parser.add_argument(
        "--report-only", action="store_true", help="tabulate the finished runs, train nothing"
    )
    ap_points = arg_type(number(0.0, above=True), float)
    parser.add_argument(
        "--margin",
        type=ap_points,
        default=MARGIN,
        help="equivalence margin in AP points for the TOST verdict (default %(default)s)",
    )
    parser.add_argument(
        "--target-effect",
        type=ap_points,
        default=MARGIN,
        help="AP points the 'seeds needed' column is sized for (default %(default)s)",
    )
    parser.add_argument(
        "--last-k",
        type=count(1),
        default=DEFAULT_LAST_K,
        help="study metric: mean AP of each run's last K evaluations (1: final model only)",
    )
    parser.add_argument(
        "--min-baseline-ap",
        type=arg_type(number(), float),
        default=MIN_BASELINE_AP,
        help="learning floor: baseline AP50:95 points below which no verdict is given",
    )
    add_overrides_arg(parser)
    return parser


def _costs(
    config: Any, args: argparse.Namespace, test_size: Sequence[int]
) -> Tuple[Dict[str, Any], Optional[Dict[str, Any]]]:
    """Costs of every variant, reused from ``costs.json`` when measured for the same study, and
    the CPU the latencies were timed on (None: not timed, or a file from before it was kept)."""
    from yolox.ablation.costs import measure_costs
    from yolox.ablation.jsonio import read_json, write_json_atomic
    from yolox.ablation.plan import RunKey
    from yolox.ablation.runner import build_exp, file_digest
    from yolox.exp import get_checked_model

    fingerprint = {
        "exp_file_sha256": file_digest(config.exp_file),
        "opts": list(config.opts),
        "variants": {v.label: v.spec_json() for v in config.variants},
        "latency": not args.no_latency,
        "latency_runs": args.latency_runs,
        "latency_threads": args.latency_threads,
    }
    path = Path(config.output_dir) / "costs.json"
    if path.exists():
        stored = read_json(path)
        if stored.get("fingerprint") == fingerprint:
            logger.info(f"ablation: costs reused from {path}")
            return stored["costs"], stored.get("cpu")
    costs = measure_costs(
        lambda v: get_checked_model(build_exp(config, RunKey(v, 0))),
        config.variants,
        test_size,
        latency=not args.no_latency,
        runs=args.latency_runs,
        warmup=args.latency_warmup,
        threads=args.latency_threads,
    )
    cpu = None if args.no_latency else cpu_description()
    write_json_atomic(path, {"fingerprint": fingerprint, "costs": costs, "cpu": cpu})
    return costs, cpu


def _overrides(opts: Optional[Sequence[str]]) -> list:
    """``KEY VALUE`` overrides; a leading ``--`` (ends a list option such as --seeds) is dropped."""
    opts = list(opts or [])
    return opts[1:] if opts[:1] == ["--"] else opts


def _check_args(args: argparse.Namespace) -> None:
    from yolox.inference.pretrained import resolve_pretrained

    if not os.path.isfile(args.exp_file):
        raise UserError(f"experiment file not found: {args.exp_file}")
    if len(set(args.seeds)) != len(args.seeds):
        raise UserError(f"--seeds must be distinct, got {args.seeds}")
    args.ckpt = resolve_pretrained(args.ckpt)  # --ckpt yolox-s: the official weights
    if args.ckpt is not None and not os.path.isfile(args.ckpt):
        raise UserError(f"--ckpt: checkpoint file not found: {args.ckpt}")


def run(args: argparse.Namespace, before_train=None, after_run=None) -> Dict[str, Path]:
    """The whole study for parsed ``args``; returns the paths of the written reports."""
    from yolox.ablation.plan import RunKey, parse_variants, run_keys
    from yolox.ablation.plot import plot_gain_vs_cost
    from yolox.ablation.report import (
        AnalysisSettings,
        format_markdown,
        learning_check,
        study_cost,
        study_metric_name,
        summarize,
        write_reports,
    )
    from yolox.ablation.runner import StudyConfig, build_exp, load_results, run_study

    _check_args(args)
    cost_axis = args.cost
    if cost_axis == "latency" and args.no_latency:
        logger.warning("--cost latency needs latency timing; plotting extra GFLOPs instead")
        cost_axis = "gflops"
    variants = parse_variants(args.variants)
    output_dir = args.output_dir or os.path.join(
        "YOLOX_outputs", f"ablation_{Path(args.exp_file).stem}"
    )
    config = StudyConfig(
        exp_file=args.exp_file,
        variants=variants,
        seeds=list(args.seeds),
        output_dir=output_dir,
        opts=_overrides(args.opts),
        batch_size=args.batch_size,
        device=args.device,
        fp16=args.fp16,
        precision=args.precision,
        deterministic=args.deterministic,
        tracker=args.logger,
        ckpt=args.ckpt,
        last_k=args.last_k,
    )
    if not config.ckpt:
        logger.info(RECOMMENDED_DESIGN_HINT)
    try:  # every variant must build before hours of training start
        base_exp = build_exp(config, RunKey(variants[0], 0))
        costs, latency_cpu = _costs(config, args, base_exp.test_size)
    except UserError as exc:
        raise UserError(f"cannot build the study's models: {exc}") from exc

    if not args.report_only:
        run_study(config, before_train=before_train, after_run=after_run)
    keys = run_keys(variants, config.seeds)
    results = load_results(config, keys)
    if not results:
        raise UserError(f"no finished runs in {config.runs_dir}")
    settings = AnalysisSettings(
        margin=args.margin,
        last_k=args.last_k,
        min_baseline_ap=args.min_baseline_ap,
        target_effect=args.target_effect,
    )
    baseline = next(v.label for v in variants if v.spec is None)
    recipe = {
        "max_epoch": base_exp.max_epoch,
        "input_size": list(base_exp.input_size),
        "num_classes": base_exp.num_classes,
    }
    check = learning_check([r for r in results if r["variant"] == baseline], settings, recipe)
    rows = summarize(results, variants, costs, settings, check)
    any_cost = next(iter(costs.values()), {})
    meta = {
        "exp_file": args.exp_file,
        "opts": config.opts,
        "seeds": config.seeds,
        "baseline": next(v.label for v in variants if v.spec is None),
        "test_size": list(base_exp.test_size),
        "batch_size": config.batch_size,
        "start_ckpt": config.ckpt,
        "deterministic": config.deterministic,
        "finished_runs": len(results),
        "planned_runs": len(keys),
        "units": "AP points (0-100)",
        "final_model": "EMA weights (the checkpoint's 'model') at the end of training, evaluated once more",
        "spread": {
            "std": "sample std over seeds (ddof=1)",
            "d_std": "sample std of paired per-seed differences to the baseline",
            "d_se_welch": "sqrt(s_v^2/n_v + s_b^2/n_b), unpaired",
        },
        "latency_runs": any_cost.get("latency_runs"),
        "latency_threads": any_cost.get("latency_threads"),
        "latency_cpu": latency_cpu,
        "metric": study_metric_name(results, settings.last_k),
        "analysis": asdict(settings),
        "learning_check": asdict(check),
        "recipe": recipe,
        "run_seconds": study_cost(results),
        "device": next((r.get("device") for r in results if r.get("device")), None),
    }
    paths = write_reports(Path(output_dir), rows, meta)
    paths["plot"] = plot_gain_vs_cost(
        rows, Path(output_dir) / "ablation.png", meta["baseline"], cost=cost_axis
    )
    print(format_markdown(rows, meta))
    if not check.informative:
        logger.warning("study uninformative, no verdict: " + " ".join(check.reasons))
    if len(results) < len(keys):
        logger.warning(f"only {len(results)} of {len(keys)} runs finished; the table is partial")
    return paths


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = make_parser()
    args = parse_command_line(parser, argv)

    def body() -> None:
        run(args)

    return run_command(
        "ablate", body, interrupted_hint=" (run again with the same arguments to resume)"
    )


if __name__ == "__main__":
    sys.exit(main())
