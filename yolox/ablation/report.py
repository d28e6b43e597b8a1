"""Aggregate per-run results into the study table (markdown, JSON, CSV).

Units: AP values are AP points (0-100). Spread conventions:

* ``*_std``: sample standard deviation over seeds (n-1 in the denominator); empty with one seed.
* ``d_*_mean`` / ``d_*_std``: mean and sample standard deviation of the *paired* per-seed
  differences ``AP(variant, seed) - AP(baseline, seed)`` over the seeds both have.
* ``d_*_p``: two-sided p-value of the paired t-test on those differences (``stats``), and
  ``verdict``: ``better`` / ``worse`` where the AP50:95 p-value is below 0.05, otherwise
  ``no significant difference``.
* ``d_*_se_welch``: Welch standard error of the difference of means,
  ``sqrt(s_v^2 / n_v + s_b^2 / n_b)``, which ignores the pairing (more conservative when the
  seed explains part of the variation).
"""

from __future__ import annotations

import csv
import json
import math
import statistics
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from yolox.ablation.jsonio import write_json_atomic
from yolox.ablation.plan import Variant
from yolox.ablation.stats import ALPHA, paired_t_p_value, verdict

__all__ = ["mean_std", "summarize", "write_reports", "format_markdown", "CSV_COLUMNS"]

METRICS = ("ap50_95", "ap50")

CSV_COLUMNS = [
    "variant",
    "attention",
    "runs",
    "seeds",
    "ap50_95_mean",
    "ap50_95_std",
    "ap50_mean",
    "ap50_std",
    "d_ap50_95_mean",
    "d_ap50_95_std",
    "d_ap50_95_se_welch",
    "d_ap50_95_p",
    "verdict",
    "d_ap50_mean",
    "d_ap50_std",
    "d_ap50_se_welch",
    "d_ap50_p",
    "pairs",
    "params",
    "params_m",
    "extra_params",
    "gflops",
    "extra_gflops",
    "latency_ms",
    "latency_iqr_ms",
    "latency_ratio",
]


def mean_std(values: Sequence[float]) -> tuple:
    """(mean, sample std) of ``values``; std is None below two values, both None when empty."""
    values = [float(v) for v in values]
    if not values:
        return None, None
    mean = statistics.fmean(values)
    std = statistics.stdev(values) if len(values) > 1 else None
    return mean, std


def _welch_se(a: Sequence[float], b: Sequence[float]) -> Optional[float]:
    if len(a) < 2 or len(b) < 2:
        return None
    return math.sqrt(statistics.variance(a) / len(a) + statistics.variance(b) / len(b))


def summarize(
    results: Sequence[Dict[str, Any]],
    variants: Sequence[Variant],
    costs: Optional[Dict[str, Dict[str, Any]]] = None,
) -> List[Dict[str, Any]]:
    """One row per variant (in the given order) from the finished runs' result records."""
    costs = costs or {}
    baseline = next(v.label for v in variants if v.spec is None)
    by_variant: Dict[str, Dict[int, Dict[str, Any]]] = {v.label: {} for v in variants}
    for record in results:
        if record["variant"] in by_variant:
            by_variant[record["variant"]][int(record["seed"])] = record
    base_runs = by_variant[baseline]
    base_cost = costs.get(baseline, {})
    rows = []
    for variant in variants:
        runs = by_variant[variant.label]
        seeds = sorted(runs)
        row: Dict[str, Any] = {
            "variant": variant.label,
            "attention": variant.spec_json(),
            "runs": len(seeds),
            "seeds": " ".join(str(s) for s in seeds),
        }
        common = [s for s in seeds if s in base_runs]
        row["pairs"] = len(common) if variant.label != baseline else None
        for metric in METRICS:
            values = [100.0 * runs[s][metric] for s in seeds]
            row[f"{metric}_mean"], row[f"{metric}_std"] = mean_std(values)
            if variant.label == baseline:
                row[f"d_{metric}_mean"] = row[f"d_{metric}_std"] = None
                row[f"d_{metric}_se_welch"] = row[f"d_{metric}_p"] = None
                continue
            diffs = [100.0 * (runs[s][metric] - base_runs[s][metric]) for s in common]
            row[f"d_{metric}_mean"], row[f"d_{metric}_std"] = mean_std(diffs)
            row[f"d_{metric}_p"] = paired_t_p_value(diffs)
            base_values = [100.0 * r[metric] for r in base_runs.values()]
            row[f"d_{metric}_se_welch"] = _welch_se(values, base_values)
        row["verdict"] = (
            "baseline"
            if variant.label == baseline
            else verdict(row["d_ap50_95_mean"], row["d_ap50_95_p"])
        )
        cost = costs.get(variant.label, {})
        row["params"] = cost.get("params")
        row["params_m"] = cost.get("params_m")
        row["gflops"] = cost.get("gflops")
        row["latency_ms"] = cost.get("latency_ms")
        row["latency_iqr_ms"] = cost.get("latency_iqr_ms")
        row["extra_params"] = _diff(cost.get("params"), base_cost.get("params"))
        row["extra_gflops"] = _diff(cost.get("gflops"), base_cost.get("gflops"))
        row["latency_ratio"] = cost.get("latency_ratio") or (  # paired; older costs.json: medians
            cost["latency_ms"] / base_cost["latency_ms"]
            if cost.get("latency_ms") and base_cost.get("latency_ms")
            else None
        )
        rows.append(row)
    return rows


def _diff(a: Any, b: Any) -> Any:
    return None if a is None or b is None else a - b


def _pm(mean: Optional[float], std: Optional[float], digits: int = 2) -> str:
    if mean is None:
        return "-"
    text = f"{mean:.{digits}f}"
    return text if std is None else f"{text} ± {std:.{digits}f}"


def _signed_pm(mean: Optional[float], std: Optional[float]) -> str:
    if mean is None:
        return "-"
    return f"{mean:+.2f}" if std is None else f"{mean:+.2f} ± {std:.2f}"


def _num(value: Optional[float], fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def _latency_legend(meta: Dict[str, Any]) -> str:
    if not meta.get("latency_runs"):
        return "Latency: not measured (--no-latency)."
    return (
        "Latency: median of batch-1 forwards of the conv+BN-fused model on CPU "
        f"({meta['latency_runs']} interleaved runs, {meta.get('latency_threads')} threads); "
        "× baseline: median of the per-round ratios to the baseline."
    )


def format_markdown(rows: Sequence[Dict[str, Any]], meta: Dict[str, Any]) -> str:
    """The table as GitHub markdown, with a legend saying what the spreads are."""
    header = (
        "| Variant | Runs | AP50:95 | AP50 | ΔAP50:95 (paired) | p | Verdict | SE (Welch) "
        "| ΔAP50 (paired) | Params (M) | +Params | GFLOPs | +GFLOPs | Latency (ms) | × baseline |"
    )
    lines = [
        f"# Ablation: {meta.get('exp_file', '')}",
        "",
        f"Seeds: {meta.get('seeds')}; baseline: `{meta.get('baseline')}`; "
        f"test size {meta.get('test_size')}; final model = EMA weights at the end of training.",
        "",
        *(
            [f"Every run started from `{meta['start_ckpt']}` (fine-tuning study).", ""]
            if meta.get("start_ckpt")
            else []
        ),
        header,
        "|" + "---|" * 15,
    ]
    for r in rows:
        is_base = r["variant"] == meta.get("baseline")
        lines.append(
            "| "
            + " | ".join(
                [
                    f"`{r['variant']}`",
                    str(r["runs"]),
                    _pm(r["ap50_95_mean"], r["ap50_95_std"]),
                    _pm(r["ap50_mean"], r["ap50_std"]),
                    "baseline" if is_base else _signed_pm(r["d_ap50_95_mean"], r["d_ap50_95_std"]),
                    "-" if is_base else _num(r.get("d_ap50_95_p"), ".3f"),
                    "-" if is_base else (r.get("verdict") or "-"),
                    "-" if is_base else _num(r["d_ap50_95_se_welch"], ".2f"),
                    "baseline" if is_base else _signed_pm(r["d_ap50_mean"], r["d_ap50_std"]),
                    _num(r["params_m"], ".3f"),
                    _num(r["extra_params"], ",d") if r["extra_params"] is not None else "-",
                    _num(r["gflops"], ".3f"),
                    _num(r["extra_gflops"], "+.4f"),
                    _num(r["latency_ms"], ".2f"),
                    _num(r["latency_ratio"], ".3f"),
                ]
            )
            + " |"
        )
    lines += [
        "",
        "AP in points (0-100). `a ± b`: mean ± sample standard deviation over seeds. "
        "ΔAP (paired): mean ± sample std of the per-seed differences to the baseline "
        "(same seed). p: two-sided paired t-test of those differences (n - 1 degrees of "
        f"freedom); Verdict: better/worse where p < {ALPHA}, else no significant difference. "
        "SE (Welch): sqrt(s_v²/n_v + s_b²/n_b), unpaired standard error of the "
        "difference of means. " + _latency_legend(meta),
        "",
    ]
    return "\n".join(lines)


def write_reports(
    output_dir: Path, rows: Sequence[Dict[str, Any]], meta: Dict[str, Any], stem: str = "ablation"
) -> Dict[str, Path]:
    """Write ``<stem>.md``, ``<stem>.json`` and ``<stem>.csv``; returns their paths."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "markdown": output_dir / f"{stem}.md",
        "json": output_dir / f"{stem}.json",
        "csv": output_dir / f"{stem}.csv",
    }
    paths["markdown"].write_text(format_markdown(rows, meta))
    write_json_atomic(paths["json"], {"meta": meta, "rows": list(rows)})
    with open(paths["csv"], "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in CSV_COLUMNS})
    return paths


def load_summary(path: Path) -> Dict[str, Any]:
    """Read back ``<stem>.json``."""
    with open(path) as f:
        return json.load(f)
