"""Gain-versus-cost scatter: ΔAP50:95 against extra GFLOPs or latency ratio, one point per variant."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Sequence

__all__ = ["plot_gain_vs_cost", "COST_AXES"]

COST_AXES = {
    "gflops": ("extra_gflops", "extra GFLOPs vs baseline", 0.0),
    "latency": ("latency_ratio", "CPU latency ratio vs baseline (fused, batch 1)", 1.0),
}


def _label_offsets(
    points: Sequence[tuple], span_x: float, span_y: float, near: float = 0.06
) -> list:
    """``(name, x, y, offset)``: labels of points closer than ``near`` (fractions of the axes'
    spans) alternate above and below their marker, so variants with almost equal cost and gain
    stay readable."""
    span_x, span_y = span_x or 1.0, span_y or 1.0
    placed: list = []
    for name, x, y in sorted(points, key=lambda p: (p[1], p[2])):
        crowded = sum(
            abs(x - px) / span_x < near and abs(y - py) / span_y < near for _, px, py, _ in placed
        )
        placed.append((name, x, y, (6, 6) if crowded % 2 == 0 else (6, -14)))
    return placed


def plot_gain_vs_cost(
    rows: Sequence[Dict[str, Any]], path: Path, baseline: str, cost: str = "gflops"
) -> Path:
    """Save the scatter as a PNG; error bars are ± the paired std of the per-seed differences."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    key, xlabel, base_x = COST_AXES[cost]
    fig, ax = plt.subplots(figsize=(6.4, 4.6), dpi=120)
    ax.axhline(0.0, color="0.6", linewidth=0.8, zorder=0)
    points = []
    for row in rows:
        x = row.get(key)
        if row["variant"] == baseline:
            x, y, err = base_x, 0.0, None
        else:
            # the study metric's paired difference (older tables: the final model's)
            y = row.get("d_metric_mean", row.get("d_ap50_95_mean"))
            err = row.get("d_metric_std", row.get("d_ap50_95_std"))
        if x is None or y is None:
            continue
        is_base = row["variant"] == baseline
        ax.errorbar(
            [x],
            [y],
            yerr=None if err is None else [[err], [err]],
            fmt="s" if is_base else "o",
            color="0.3" if is_base else "C0",
            ecolor="C0",
            capsize=4,
            markersize=7,
        )
        points.append((row["variant"], x, y))
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    for name, x, y, offset in _label_offsets(points, x1 - x0, y1 - y0):
        ax.annotate(name, (x, y), textcoords="offset points", xytext=offset, fontsize=9)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("ΔAP50:95 vs baseline (AP points)")
    ax.set_title(
        "Attention variants: accuracy gain vs cost\n(error bars: ±1 std of paired seed differences)",
        fontsize=10,
    )
    ax.grid(True, alpha=0.3)
    ax.margins(x=0.2, y=0.25)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
