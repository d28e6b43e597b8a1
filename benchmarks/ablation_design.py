"""Which study design resolves small attention effects per CPU hour? Numbers from stored runs.

Reads the committed studies' per-seed ``result.json`` files (no training):

* re-reports every study folder under the current verdicts (``retabulate``);
* for each design (from scratch / fine-tuned from one trained baseline) and dataset: the pooled
  paired spread of AP50:95, the measured time of one run, the MDE with 3 seeds, the seeds (and
  CPU hours) needed to detect 0.5 AP, and the MDE one CPU hour of paired runs buys;
* common random numbers: the paired spread of the reduced BCCD study before and after the
  change (``ablation_bccd_crn/{before,after}``, same seeds and recipe);
* the study metric's ``k``: the paired spread of "mean AP of the last k evaluations" for k = 1..5
  on the runs that stored per-epoch evaluations.

    python benchmarks/ablation_design.py            # writes benchmarks/ablation_design.{md,json}
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from pathlib import Path
from typing import Any, Dict, List, Optional

from yolox.ablation.report import AnalysisSettings
from yolox.ablation.retabulate import retabulate, stored_results
from yolox.ablation.stats import minimum_detectable_effect, seeds_needed
from yolox.utils.tables import markdown_table

HERE = Path(__file__).resolve().parent
STUDIES = [
    # (folder, dataset, design, folder of the study whose none_seed0 run is the start weights)
    ("ablation_bccd", "BCCD", "from scratch", None),
    ("ablation_bccd_finetune", "BCCD", "fine-tune", "ablation_bccd"),
    ("ablation_microcontroller", "microcontroller", "from scratch", None),
    (
        "ablation_microcontroller_finetune",
        "microcontroller",
        "fine-tune",
        "ablation_microcontroller",
    ),
]
TARGET = 0.5


def _paired_diffs(results: List[Dict[str, Any]], value) -> Dict[str, List[float]]:
    """variant -> per-seed differences to ``none`` of ``value(record)`` (AP points)."""
    by = {(r["variant"], int(r["seed"])): r for r in results}
    diffs: Dict[str, List[float]] = {}
    for (variant, seed), record in sorted(by.items()):
        if variant == "none" or ("none", seed) not in by:
            continue
        diffs.setdefault(variant, []).append(value(record) - value(by[("none", seed)]))
    return diffs


def pooled_sd(diffs: Dict[str, List[float]]) -> Optional[float]:
    """Root mean square of the per-variant sample std of the paired differences."""
    sds = [statistics.stdev(d) for d in diffs.values() if len(d) > 1]
    return math.sqrt(statistics.fmean(s * s for s in sds)) if sds else None


def final_ap(record: Dict[str, Any]) -> float:
    return 100.0 * float(record["ap50_95"])


def run_seconds(results: List[Dict[str, Any]]) -> float:
    """Median training time of the runs trained in one session (resumed ones cover a part)."""
    whole = [r["train_seconds_last_session"] for r in results if not r.get("resumed")]
    return float(statistics.median(whole or [r["train_seconds_last_session"] for r in results]))


def design_row(folder: str, dataset: str, design: str, base_folder: Optional[str]) -> Dict:
    results = stored_results(HERE / folder)
    sd = pooled_sd(_paired_diffs(results, final_ap))
    seconds = run_seconds(results)
    pair_hours = 2 * seconds / 3600.0  # one baseline and one variant run per seed
    seeds = seeds_needed(sd, TARGET)
    one_off = 0.0
    if base_folder:  # the shared baseline is trained once: one run of the scratch study
        one_off = run_seconds(stored_results(HERE / base_folder)) / 3600.0
    pairs_per_hour = int((1.0 - one_off) // pair_hours)
    return {
        "study": folder,
        "dataset": dataset,
        "design": design,
        "runs": len(results),
        "pooled_paired_sd": sd,
        "run_seconds": seconds,
        "mde_3_seeds": minimum_detectable_effect(sd, 3),
        "seeds_for_0.5": seeds,
        "cpu_hours_for_0.5": None if seeds is None else seeds * pair_hours + one_off,
        "one_off_baseline_hours": one_off,
        "pairs_per_cpu_hour": pairs_per_hour,
        "mde_per_cpu_hour": minimum_detectable_effect(sd, pairs_per_hour),
        "device": results[0].get("device"),
    }


def crn_rows() -> List[Dict[str, Any]]:
    """Per-seed paired differences of the CRN study's arms (and their spread where >= 2 seeds)."""
    rows = []
    for arm in ("before", "after"):
        folder = HERE / "ablation_bccd_crn" / arm
        if not folder.exists():
            continue
        results = stored_results(folder)
        diffs = _paired_diffs(results, final_ap)
        rows.append(
            {
                "arm": arm,
                "runs": len(results),
                "seeds": sorted({int(r["seed"]) for r in results if r["variant"] != "none"}),
                "per_seed_diffs": diffs,
                "pooled_paired_sd": pooled_sd(diffs),
                "baseline_final_ap": [final_ap(r) for r in results if r["variant"] == "none"],
            }
        )
    return rows


def last_k_rows(max_k: int = 5) -> List[Dict[str, Any]]:
    """The study metric for k = 1..max_k on the runs that evaluated their last epochs.

    Per run: the metric, and how far single evaluations of the last epochs scatter around it
    (sample std of the last ``max_k`` evaluations: the noise one final evaluation carries);
    per pair: the paired difference, and its spread where there are two or more seeds.
    """
    folder = HERE / "ablation_bccd_crn" / "after"
    if not folder.exists():
        return []
    results = [r for r in stored_results(folder) if len(r.get("eval_history") or []) >= max_k]
    rows = []
    for k in range(1, max_k + 1):

        def metric(record: Dict[str, Any], k: int = k) -> float:
            history = sorted(record["eval_history"], key=lambda e: e["epoch"])
            return 100.0 * statistics.fmean(e["ap50_95"] for e in history[-k:])

        diffs = _paired_diffs(results, metric)
        rows.append(
            {
                "k": k,
                "per_run": {r["run"]: metric(r) for r in results},
                "per_seed_diffs": diffs,
                "pooled_paired_sd": pooled_sd(diffs),
            }
        )
    scatter = {
        r["run"]: statistics.stdev(
            100.0 * e["ap50_95"]
            for e in sorted(r["eval_history"], key=lambda e: e["epoch"])[-max_k:]
        )
        for r in results
    }
    return [dict(row, last_evaluations_std=scatter) for row in rows]


def _diff_text(diffs: Dict[str, List[float]]) -> str:
    return "; ".join(f"{v}: " + ", ".join(f"{d:+.2f}" for d in ds) for v, ds in diffs.items())


def _f(value: Any, fmt: str = ".2f") -> str:
    return "-" if value is None else format(value, fmt)


def markdown(designs, crn, last_k) -> str:
    lines = [
        "# Ablation study design: what each design can detect per CPU hour",
        "",
        "Generated by `python benchmarks/ablation_design.py` from the committed per-seed results "
        "(no training). AP50:95 in points; paired spread = root mean square over variants of "
        "the sample std of the per-seed differences to `none` (final model). MDE: true "
        "difference found with 80 % power, two-sided 5 % (paired t, scipy.stats). CPU hours: "
        "one baseline and one variant run per seed at the measured median run time (1 thread, "
        "shared 2-core machine); fine-tuning adds the one-off training of the shared baseline.",
        "",
        markdown_table(
            [
                "Study", "Data", "Design", "Runs", "Paired spread", "Run (s)", "MDE, 3 seeds",
                "Seeds for 0.5", "CPU h for 0.5", "Pairs per CPU h", "MDE per CPU h",
            ],
            [
                [
                    f"`{d['study']}`", d["dataset"], d["design"], d["runs"],
                    _f(d["pooled_paired_sd"]), _f(d["run_seconds"], ".0f"), _f(d["mde_3_seeds"]),
                    _f(d["seeds_for_0.5"], "d"), _f(d["cpu_hours_for_0.5"], ".1f"),
                    d["pairs_per_cpu_hour"], _f(d["mde_per_cpu_hour"]),
                ]
                for d in designs
            ],
        ),
    ]  # fmt: skip
    if crn:
        lines += [
            "",
            "## Common random numbers: paired differences before / after",
            "",
            "BCCD from scratch (the committed recipe), `none` and `cam`, with the code before the "
            "change (attention init drew from the global stream, so the head started from other "
            "weights than the baseline of its seed) and after it (attention draws from its own "
            "generator). What ran and how: `ablation_bccd_crn/README.md`.",
            "",
            markdown_table(
                [
                    "Arm",
                    "Seeds",
                    "Baseline final AP",
                    "ΔAP50:95 (cam - none) per seed",
                    "Paired spread",
                ],
                [
                    [
                        row["arm"],
                        " ".join(map(str, row["seeds"])),
                        ", ".join(f"{v:.2f}" for v in row["baseline_final_ap"]),
                        _diff_text(row["per_seed_diffs"]),
                        _f(row["pooled_paired_sd"]),
                    ]
                    for row in crn
                ],
            ),
        ]
    if last_k:
        lines += [
            "",
            "## Study metric: mean of the last k evaluations",
            "",
            "The `after` runs of the study above, evaluated in each of their last 5 epochs. "
            "k = 1 is the final model. Std of the last 5 evaluations per run: "
            + ", ".join(f"{n} {v:.2f}" for n, v in last_k[0]["last_evaluations_std"].items())
            + ".",
            "",
            markdown_table(
                ["k", "Metric per run", "ΔAP (cam - none) per seed", "Paired spread"],
                [
                    [
                        row["k"],
                        ", ".join(f"{n} {v:.2f}" for n, v in row["per_run"].items()),
                        _diff_text(row["per_seed_diffs"]),
                        _f(row["pooled_paired_sd"]),
                    ]
                    for row in last_k
                ],
            ),
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-retabulate", action="store_true", help="leave the study tables")
    args = parser.parse_args()
    if not args.no_retabulate:
        for folder, *_ in STUDIES:
            retabulate(HERE / folder, AnalysisSettings())
    designs = [design_row(*study) for study in STUDIES]
    crn, last_k = crn_rows(), last_k_rows()
    (HERE / "ablation_design.json").write_text(
        json.dumps({"designs": designs, "crn": crn, "last_k": last_k}, indent=2) + "\n"
    )
    text = markdown(designs, crn, last_k)
    (HERE / "ablation_design.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
