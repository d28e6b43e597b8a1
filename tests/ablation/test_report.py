"""The study table: learning check, a verdict with its MDE on every row, the last-k metric."""

from __future__ import annotations

import statistics

import pytest

from yolox.ablation.plan import parse_variants
from yolox.ablation.report import (
    AnalysisSettings,
    format_markdown,
    learning_check,
    study_metric_name,
    summarize,
)
from yolox.ablation.stats import minimum_detectable_effect, seeds_needed

VERDICT_WORDS = ("better", "worse", "equivalent", "inconclusive")


def _record(variant, seed, final, history=None):
    record = {"variant": variant, "seed": seed, "ap50_95": final, "ap50": 2 * final}
    if history is not None:
        record["eval_history"] = [{"epoch": i + 1, "ap50_95": ap} for i, ap in enumerate(history)]
    return record


def _study(base, others, histories=None):
    """``base``: final AP per seed (fractions); ``others``: variant -> final AP per seed."""
    histories = histories or {}
    results = [_record("none", s, ap, histories.get(("none", s))) for s, ap in enumerate(base)]
    for variant, aps in others.items():
        results += [
            _record(variant, s, ap, histories.get((variant, s))) for s, ap in enumerate(aps)
        ]
    return results


def _table(results, labels, settings=None):
    settings = settings or AnalysisSettings()
    variants = parse_variants(labels)
    check = learning_check([r for r in results if r["variant"] == "none"], settings)
    rows = summarize(results, variants, settings=settings, check=check)
    meta = {"baseline": "none", "analysis": vars(settings), "learning_check": vars(check)}
    return {r["variant"]: r for r in rows}, format_markdown(rows, meta), check


def test_every_verdict_carries_its_mde():
    results = _study(
        [0.30, 0.31, 0.32],
        {
            "se": [0.21, 0.221, 0.234],  # clearly worse
            "cam": [0.35, 0.26, 0.33],  # noisy
            "eca": [0.301, 0.309, 0.3215],  # within ±0.5 points
        },
    )
    rows, table, check = _table(results, ["se", "cam", "eca"])
    assert check.informative
    assert rows["se"]["verdict"] == "worse"
    cam = rows["cam"]
    diffs = [5.0, -5.0, 1.0]
    assert cam["d_metric_mde"] == pytest.approx(
        minimum_detectable_effect(statistics.stdev(diffs), 3)
    )
    assert cam["verdict"] == f"inconclusive (MDE = {cam['d_metric_mde']:.2f})"
    assert rows["eca"]["verdict"] == "equivalent within ±0.5"
    assert cam["seeds_for_target"] == seeds_needed(statistics.stdev(diffs), 0.5)
    assert "no significant difference" not in table
    for label in ("se", "cam", "eca"):
        line = next(x for x in table.splitlines() if x.startswith(f"| `{label}`"))
        cells = [c.strip() for c in line.split("|")]
        assert cells[6] == f"{rows[label]['d_metric_mde']:.2f}"  # the MDE column, every row


def test_a_baseline_at_chance_gives_no_verdict():
    results = _study([0.0, 0.0005, 0.0], {"cam": [0.0, 0.0, 0.02]})
    rows, table, check = _table(results, ["cam"])
    assert not check.informative and rows["cam"]["verdict"] == "-"
    assert "Study uninformative: no verdict" in table and "learning floor of 1 points" in table
    assert "too few epochs" in table
    line = next(x for x in table.splitlines() if x.startswith("| `cam`"))
    assert not any(word in line for word in VERDICT_WORDS)


def test_a_baseline_that_does_not_rise_gives_no_verdict():
    falling = {("none", s): [0.30, 0.25, 0.20, 0.20] for s in range(3)}
    results = _study([0.20, 0.20, 0.20], {"cam": [0.30, 0.20, 0.25]}, falling)
    rows, table, check = _table(results, ["cam"])
    assert not check.informative and "did not rise" in table and rows["cam"]["verdict"] == "-"


def test_without_history_the_rise_is_noted_not_assumed():
    check = learning_check(_study([0.14, 0.10, 0.18], {}), AnalysisSettings())
    assert check.informative and check.notes and "not checked" in check.notes[0]


def test_metric_is_the_mean_of_the_last_k_evaluations_and_the_final_ap_is_kept():
    histories = {
        ("none", 0): [0.10, 0.20, 0.22, 0.24],
        ("none", 1): [0.10, 0.18, 0.20, 0.25],
        ("cam", 0): [0.10, 0.21, 0.21, 0.30],
        ("cam", 1): [0.10, 0.19, 0.23, 0.20],
    }
    results = _study([0.24, 0.25], {"cam": [0.30, 0.20]}, histories)
    settings = AnalysisSettings(last_k=3)
    assert study_metric_name(results, 3) == "last_k" and study_metric_name(results, 5) == "final"
    rows, _, _ = _table(results, ["cam"], settings)
    assert rows["none"]["metric_mean"] == pytest.approx(100 * (0.22 + 0.21) / 2)
    assert rows["cam"]["d_metric_mean"] == pytest.approx(
        100 * ((0.24 - 0.22) + (0.20667 - 0.21)) / 2, abs=1e-3
    )
    assert rows["cam"]["ap50_95_mean"] == pytest.approx(25.0)  # the final model's, unchanged
    assert rows["cam"]["d_ap50_95_mean"] == pytest.approx(100 * (0.06 - 0.05) / 2)


def test_a_committed_study_is_re_reported_from_its_stored_results(tmp_path):
    """No exp run, no checkpoint: the stored result.json files give the new table."""
    import json
    import shutil
    from pathlib import Path

    from yolox.ablation.retabulate import retabulate, stored_results

    source = Path(__file__).resolve().parents[2] / "benchmarks" / "ablation_bccd_finetune"
    study = tmp_path / "study"
    shutil.copytree(source, study)
    retabulate(study, AnalysisSettings())
    table = json.loads((study / "ablation.json").read_text())
    rows = {r["variant"]: r for r in table["rows"]}
    results = stored_results(study)
    by = {(r["variant"], r["seed"]): r for r in results}
    diffs = [100 * (by[("cam-id", s)]["ap50_95"] - by[("none", s)]["ap50_95"]) for s in range(3)]
    cam = rows["cam-id"]
    assert cam["d_metric_std"] == pytest.approx(statistics.stdev(diffs))
    assert cam["d_metric_mde"] == pytest.approx(minimum_detectable_effect(cam["d_metric_std"], 3))
    assert table["meta"]["learning_check"]["informative"]
    markdown = (study / "ablation.md").read_text()
    assert (
        "no significant difference" not in markdown
        and f"MDE = {cam['d_metric_mde']:.2f}" in markdown
    )
