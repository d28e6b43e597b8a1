"""Aggregate per-run results into the study table (markdown, JSON, CSV).

Units: AP values are AP points (0-100). Spread conventions:

* ``*_std``: sample standard deviation over seeds (n-1 in the denominator); empty with one seed.
* The **study metric** (``metric_*``) is AP50:95 averaged over each run's last ``k``
  evaluations during training (``eval_history`` in ``result.json``; less noisy than one
  evaluation), or the final model's AP50:95 when some run has fewer than ``k`` evaluations.
  ``ap50_95_*`` / ``ap50_*`` are always the final model's.
* ``d_metric_*``: mean, sample std, paired t-test p, TOST p (at the margin), minimum detectable
  effect (80 % power, two-sided 5 %) of the paired per-seed differences
  ``metric(variant, seed) - metric(baseline, seed)``; ``verdict`` comes from them (``stats``).
* ``d_ap50_95_*`` / ``d_ap50_*``: the same paired differences of the final model's AP.
* ``d_*_se_welch``: Welch standard error of the difference of means,
  ``sqrt(s_v^2 / n_v + s_b^2 / n_b)``, which ignores the pairing.

No verdict is given when the baseline did not learn (``learning_check``): a study whose
baseline sits at chance level cannot say whether a module helps.
"""

from __future__ import annotations

import csv
import json
import math
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from yolox.ablation.jsonio import write_json_atomic
from yolox.ablation.plan import Variant
from yolox.ablation.stats import ALPHA, MARGIN, POWER, compare, seeds_needed
from yolox.utils.tables import markdown_table

__all__ = [
    "AnalysisSettings",
    "LearningCheck",
    "mean_std",
    "study_metric_name",
    "learning_check",
    "summarize",
    "study_cost",
    "pooled_paired_sd",
    "write_reports",
    "format_markdown",
    "CSV_COLUMNS",
]

METRICS = ("ap50_95", "ap50")

#: evaluations averaged into the study metric (docs/ablation.md, "Which AP counts")
DEFAULT_LAST_K = 3
#: baseline AP50:95 (points) below which a study counts as not learning (chance is ~0)
MIN_BASELINE_AP = 1.0

CSV_COLUMNS = [
    "variant",
    "attention",
    "runs",
    "seeds",
    "metric_mean",
    "metric_std",
    "d_metric_mean",
    "d_metric_std",
    "d_metric_p",
    "d_metric_p_tost",
    "d_metric_mde",
    "verdict",
    "seeds_for_target",
    "ap50_95_mean",
    "ap50_95_std",
    "ap50_mean",
    "ap50_std",
    "d_ap50_95_mean",
    "d_ap50_95_std",
    "d_ap50_95_se_welch",
    "d_ap50_95_p",
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


@dataclass(frozen=True)
class AnalysisSettings:
    """How finished runs are judged (all documented in docs/ablation.md)."""

    margin: float = MARGIN  # TOST equivalence margin, AP points
    alpha: float = ALPHA
    last_k: int = DEFAULT_LAST_K  # evaluations averaged into the study metric
    min_baseline_ap: float = MIN_BASELINE_AP  # learning floor, AP50:95 points
    target_effect: float = MARGIN  # effect the "seeds needed" column is sized for


@dataclass(frozen=True)
class LearningCheck:
    """Did the baseline learn? ``informative`` False means: print no verdict, say why."""

    informative: bool
    reasons: List[str]
    notes: List[str]


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


def _history(record: Dict[str, Any]) -> List[float]:
    """AP50:95 of the run's evaluations during training, in epoch order (fractions 0-1)."""
    entries = sorted(record.get("eval_history") or [], key=lambda e: int(e["epoch"]))
    return [float(e["ap50_95"]) for e in entries]


def study_metric_name(results: Sequence[Dict[str, Any]], last_k: int) -> str:
    """``last_k`` when every run has at least ``last_k`` (> 1) evaluations, else ``final``."""
    if last_k > 1 and results and all(len(_history(r)) >= last_k for r in results):
        return "last_k"
    return "final"


def _metric_value(record: Dict[str, Any], metric: str, last_k: int) -> float:
    if metric == "last_k":
        return 100.0 * statistics.fmean(_history(record)[-last_k:])
    return 100.0 * float(record["ap50_95"])


def learning_check(
    baseline_runs: Sequence[Dict[str, Any]],
    settings: AnalysisSettings,
    recipe: Optional[Dict[str, Any]] = None,
) -> LearningCheck:
    """The baseline must score above ``min_baseline_ap`` and its AP must rise over training.

    ``recipe`` (max_epoch, input_size, num_classes) only words the hint of what to change.
    """
    recipe = recipe or {}
    reasons: List[str] = []
    notes: List[str] = []
    if not baseline_runs:
        return LearningCheck(False, ["no finished baseline run"], notes)
    final = statistics.fmean(100.0 * float(r["ap50_95"]) for r in baseline_runs)
    if final < settings.min_baseline_ap:
        reasons.append(
            f"the baseline's final AP50:95 is {final:.2f}, below the learning floor of "
            f"{settings.min_baseline_ap:g} points (chance is about 0): the recipe did not learn "
            "this data"
        )
    histories = [_history(r) for r in baseline_runs]
    with_rise = [h for h in histories if len(h) >= 2]
    if not with_rise:
        notes.append("rise over training not checked: the runs stored fewer than two evaluations")
    else:
        rises = [100.0 * (statistics.fmean(h[-settings.last_k :]) - h[0]) for h in with_rise]
        if statistics.fmean(rises) <= 0:
            reasons.append(
                "the baseline's AP did not rise over training (last evaluations "
                f"{statistics.fmean(rises):+.2f} points against the first)"
            )
    if reasons:
        hint = (
            "Likely causes: too few epochs (max_epoch = {max_epoch}), too small an input "
            "(input_size = {input_size}), or wrong classes/labels (num_classes = {num_classes}; "
            "check the data with tools/check_data.py). Train the baseline alone until it learns, "
            "then run the study."
        ).format(
            max_epoch=recipe.get("max_epoch", "?"),
            input_size=recipe.get("input_size", "?"),
            num_classes=recipe.get("num_classes", "?"),
        )
        reasons.append(hint)
    return LearningCheck(not reasons, reasons, notes)


def summarize(
    results: Sequence[Dict[str, Any]],
    variants: Sequence[Variant],
    costs: Optional[Dict[str, Dict[str, Any]]] = None,
    settings: Optional[AnalysisSettings] = None,
    check: Optional[LearningCheck] = None,
) -> List[Dict[str, Any]]:
    """One row per variant (in the given order) from the finished runs' result records.

    With a failed learning ``check`` the rows keep every number but carry no verdict.
    """
    costs = costs or {}
    settings = settings or AnalysisSettings()
    baseline = next(v.label for v in variants if v.spec is None)
    by_variant: Dict[str, Dict[int, Dict[str, Any]]] = {v.label: {} for v in variants}
    for record in results:
        if record["variant"] in by_variant:
            by_variant[record["variant"]][int(record["seed"])] = record
    metric = study_metric_name(
        [r for runs in by_variant.values() for r in runs.values()], settings.last_k
    )
    base_runs = by_variant[baseline]
    base_cost = costs.get(baseline, {})
    rows = []
    for variant in variants:
        runs = by_variant[variant.label]
        seeds = sorted(runs)
        is_base = variant.label == baseline
        row: Dict[str, Any] = {
            "variant": variant.label,
            "attention": variant.spec_json(),
            "runs": len(seeds),
            "seeds": " ".join(str(s) for s in seeds),
        }
        common = [s for s in seeds if s in base_runs]
        row["pairs"] = None if is_base else len(common)
        for metric_key in METRICS:
            values = [100.0 * runs[s][metric_key] for s in seeds]
            row[f"{metric_key}_mean"], row[f"{metric_key}_std"] = mean_std(values)
            if is_base:
                for part in ("mean", "std", "se_welch", "p"):
                    row[f"d_{metric_key}_{part}"] = None
                continue
            diffs = [100.0 * (runs[s][metric_key] - base_runs[s][metric_key]) for s in common]
            row[f"d_{metric_key}_mean"], row[f"d_{metric_key}_std"] = mean_std(diffs)
            row[f"d_{metric_key}_p"] = compare(diffs, settings.margin, settings.alpha).p
            base_values = [100.0 * r[metric_key] for r in base_runs.values()]
            row[f"d_{metric_key}_se_welch"] = _welch_se(values, base_values)
        values = [_metric_value(runs[s], metric, settings.last_k) for s in seeds]
        row["metric_mean"], row["metric_std"] = mean_std(values)
        if is_base:
            for key in ("mean", "std", "p", "p_tost", "mde"):
                row[f"d_metric_{key}"] = None
            row["verdict"], row["seeds_for_target"] = "baseline", None
        else:
            diffs = [
                _metric_value(runs[s], metric, settings.last_k)
                - _metric_value(base_runs[s], metric, settings.last_k)
                for s in common
            ]
            result = compare(diffs, settings.margin, settings.alpha)
            row["d_metric_mean"], row["d_metric_std"] = result.mean, result.sd
            row["d_metric_p"], row["d_metric_p_tost"] = result.p, result.p_tost
            row["d_metric_mde"] = result.mde
            row["verdict"] = result.verdict if check is None or check.informative else "-"
            row["seeds_for_target"] = seeds_needed(
                result.sd, settings.target_effect, settings.alpha, POWER
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


def study_cost(results: Sequence[Dict[str, Any]]) -> Optional[float]:
    """Median training seconds of one run (runs trained in one session; all runs otherwise)."""
    whole = [r for r in results if not r.get("resumed") and r.get("train_seconds_last_session")]
    pool = whole or [r for r in results if r.get("train_seconds_last_session")]
    if not pool:
        return None
    return float(statistics.median(float(r["train_seconds_last_session"]) for r in pool))


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
    cpu = meta.get("latency_cpu")
    where = (
        f"{cpu['cpu']} (flags: {', '.join(cpu['cpu_flags']) or 'none of interest'})"
        if cpu
        else "a CPU that costs.json does not name (timed before it recorded one)"
    )
    return (
        f"Latency: median of batch-1 forwards of the conv+BN-fused model on {where} "
        f"({meta['latency_runs']} interleaved runs, {meta.get('latency_threads')} threads); "
        "× baseline: median of the per-round ratios to the baseline."
    )


def _metric_words(meta: Dict[str, Any]) -> str:
    settings = meta.get("analysis") or {}
    if meta.get("metric") == "last_k":
        return f"mean AP50:95 of each run's last {settings.get('last_k')} evaluations"
    return "AP50:95 of each run's final model (EMA weights at the end of training)"


def _verdict_block(rows: Sequence[Dict[str, Any]], meta: Dict[str, Any]) -> List[str]:
    """The learning check's outcome, and what more seeds would buy (from the measured spread)."""
    check = meta.get("learning_check") or {}
    lines: List[str] = []
    if check and not check.get("informative", True):
        lines += ["**Study uninformative: no verdict.** " + " ".join(check.get("reasons", [])), ""]
        return lines
    for note in check.get("notes", []):
        lines += [f"Learning check: {note}.", ""]
    settings = meta.get("analysis") or {}
    target = settings.get("target_effect")
    pooled = pooled_paired_sd(rows)
    if target and pooled:
        alpha = settings.get("alpha", ALPHA)
        seeds = seeds_needed(pooled, target, alpha, POWER)
        text = (
            f"Pooled paired spread (root mean square of the variants' ΔAP std): {pooled:.2f} "
            f"points. To detect a true difference of {target:g} AP points (80 % power, "
            f"two-sided {alpha:g}) at that spread: "
            + (f"{seeds} seeds" if seeds else "more than 10,000 seeds")
        )
        seconds = meta.get("run_seconds")
        if seconds and seeds:
            runs = seeds * len(rows)
            text += (
                f", {runs} runs of this study at the measured {seconds:.0f} s per run "
                f"({meta.get('device') or 'this machine'}) = {runs * seconds / 3600.0:.1f} hours"
            )
        if not meta.get("start_ckpt"):
            text += (
                ". A fine-tuning study from one trained baseline has a far smaller spread "
                "(docs/ablation.md, 'Recommended design')"
            )
        lines += [text + ".", ""]
    return lines


def pooled_paired_sd(rows: Sequence[Dict[str, Any]]) -> Optional[float]:
    """Root mean square of the variants' paired spreads (the study's typical pair noise)."""
    sds = [r["d_metric_std"] for r in rows if r.get("d_metric_std") is not None]
    return math.sqrt(statistics.fmean(sd * sd for sd in sds)) if sds else None


def format_markdown(rows: Sequence[Dict[str, Any]], meta: Dict[str, Any]) -> str:
    """The table as GitHub markdown, with a legend saying what every number is."""
    settings = meta.get("analysis") or {}
    margin = settings.get("margin", MARGIN)
    target = settings.get("target_effect", MARGIN)
    headers = [
        "Variant", "Runs", "AP50:95 (study metric)", "ΔAP50:95 (paired)", "p", "MDE",
        f"p (TOST ±{margin:g})", "Verdict", f"Seeds for ±{target:g}", "AP50:95 final",
        "AP50 final", "ΔAP50:95 final (paired)", "Params (M)", "+Params", "GFLOPs", "+GFLOPs",
        "Latency (ms)", "× baseline",
    ]  # fmt: skip
    lines = [
        f"# Ablation: {meta.get('exp_file', '')}",
        "",
        f"Seeds: {meta.get('seeds')}; baseline: `{meta.get('baseline')}`; "
        f"test size {meta.get('test_size')}; study metric: {_metric_words(meta)}.",
        "",
        *(
            [f"Every run started from `{meta['start_ckpt']}` (fine-tuning study).", ""]
            if meta.get("start_ckpt")
            else []
        ),
        *_verdict_block(rows, meta),
    ]
    cells = []
    for r in rows:
        is_base = r["variant"] == meta.get("baseline")
        cells.append(
            [
                f"`{r['variant']}`",
                str(r["runs"]),
                _pm(r.get("metric_mean"), r.get("metric_std")),
                "baseline"
                if is_base
                else _signed_pm(r.get("d_metric_mean"), r.get("d_metric_std")),
                "-" if is_base else _num(r.get("d_metric_p"), ".3f"),
                "-" if is_base else _num(r.get("d_metric_mde"), ".2f"),
                "-" if is_base else _num(r.get("d_metric_p_tost"), ".3f"),
                "-" if is_base else (r.get("verdict") or "-"),
                "-" if is_base else _num(r.get("seeds_for_target"), "d"),
                _pm(r["ap50_95_mean"], r["ap50_95_std"]),
                _pm(r["ap50_mean"], r["ap50_std"]),
                "baseline" if is_base else _signed_pm(r["d_ap50_95_mean"], r["d_ap50_95_std"]),
                _num(r["params_m"], ".3f"),
                _num(r["extra_params"], ",d") if r["extra_params"] is not None else "-",
                _num(r["gflops"], ".3f"),
                _num(r["extra_gflops"], "+.4f"),
                _num(r["latency_ms"], ".2f"),
                _num(r["latency_ratio"], ".3f"),
            ]
        )
    lines += [
        markdown_table(headers, cells),
        "",
        "AP in points (0-100). `a ± b`: mean ± sample standard deviation over seeds. "
        "ΔAP50:95 (paired): mean ± sample std of the per-seed differences of the study metric "
        "to the baseline (same seed). p: two-sided paired t-test of those differences. "
        "MDE: minimum detectable effect, the true difference this study finds with 80 % power "
        f"at two-sided {settings.get('alpha', ALPHA):g}, from the paired spread and the number "
        f"of pairs. p (TOST ±{margin:g}): equivalence test (two one-sided t-tests) against the "
        f"margin ±{margin:g} points. Verdict: better/worse where p < "
        f"{settings.get('alpha', ALPHA):g}; else `equivalent within ±{margin:g}` where the TOST "
        "p is below it; else inconclusive, with the MDE: a difference smaller than the MDE "
        f"could not have been seen. Seeds for ±{target:g}: seeds at which a true difference of "
        f"{target:g} points would be found with 80 % power, if the paired spread stays as "
        "measured. `final` columns: the final model (EMA weights after the last epoch), "
        "evaluated once more. Statistics: scipy.stats (yolox/ablation/stats.py). "
        + _latency_legend(meta),
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
