"""Re-report a finished study from its stored per-run results: no exp file, no checkpoint.

A study folder keeps every run's ``result.json`` (and ``costs.json``); checkpoints may be gone.
The table's statistics can change (new verdicts, another margin or ``k``) without retraining:
the variants and their order come from the folder's ``ablation.json``, the runs from
``runs/*/result.json``, and the settings fingerprints are not checked again (the runs were
checked when they were tabulated first).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any, Dict, List

from yolox.ablation.jsonio import read_json
from yolox.ablation.plan import Variant
from yolox.ablation.plot import plot_gain_vs_cost
from yolox.ablation.report import (
    AnalysisSettings,
    learning_check,
    study_cost,
    study_metric_name,
    summarize,
    write_reports,
)
from yolox.utils.errors import UserError

__all__ = ["stored_results", "retabulate"]


def stored_results(study_dir: Path) -> List[Dict[str, Any]]:
    """Every ``runs/*/result.json`` of the study folder, in folder-name order."""
    return [read_json(p) for p in sorted(Path(study_dir).glob("runs/*/result.json"))]


def retabulate(study_dir: Path, settings: AnalysisSettings) -> Dict[str, Path]:
    """Rewrite ``ablation.{md,json,csv,png}`` of ``study_dir`` under ``settings``."""
    study_dir = Path(study_dir)
    table = study_dir / "ablation.json"
    if not table.exists():
        raise UserError(f"{table} not found: not a study folder written by tools/ablate.py")
    summary = read_json(table)
    meta, old_rows = dict(summary["meta"]), summary["rows"]
    variants = [Variant(label=r["variant"], spec=json.loads(r["attention"])) for r in old_rows]
    results = stored_results(study_dir)
    if not results:
        raise UserError(f"no runs/*/result.json in {study_dir}")
    costs_path = study_dir / "costs.json"
    costs = read_json(costs_path)["costs"] if costs_path.exists() else {}
    recipe = meta.get("recipe") or {
        "max_epoch": max(int(r.get("epochs", 0)) for r in results),
        "input_size": meta.get("test_size"),
    }
    baseline = meta["baseline"]
    check = learning_check([r for r in results if r["variant"] == baseline], settings, recipe)
    rows = summarize(results, variants, costs, settings, check)
    meta.update(
        metric=study_metric_name(results, settings.last_k),
        analysis=asdict(settings),
        learning_check=asdict(check),
        recipe=recipe,
        run_seconds=study_cost(results),
        device=next((r.get("device") for r in results if r.get("device")), None),
        finished_runs=len(results),
    )
    paths = write_reports(study_dir, rows, meta)
    paths["plot"] = plot_gain_vs_cost(rows, study_dir / "ablation.png", baseline)
    return paths
