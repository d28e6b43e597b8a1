"""The paired t-test behind the study table's verdict: does a variant differ beyond seed noise?

With a handful of seeds a difference must be judged against its own spread: the paired t
statistic ``mean(d) / (std(d) / sqrt(n))`` of the per-seed differences ``d`` has a Student t
distribution with ``n - 1`` degrees of freedom when the variant changes nothing. The two-sided
p-value uses the closed form for integer degrees of freedom (Abramowitz & Stegun 26.7.3-4),
so no SciPy is needed.
"""

from __future__ import annotations

import math
import statistics
from typing import Optional, Sequence

__all__ = ["student_t_two_sided_p", "paired_t_p_value", "verdict", "ALPHA"]

#: significance level of the verdict column
ALPHA = 0.05


def student_t_two_sided_p(t: float, df: int) -> float:
    """P(|T| >= |t|) for Student's t with integer ``df`` >= 1 degrees of freedom."""
    if df < 1 or int(df) != df:
        raise ValueError(f"degrees of freedom must be a positive integer, got {df}")
    df = int(df)
    if math.isinf(t):
        return 0.0
    theta = math.atan(abs(t) / math.sqrt(df))
    cos2 = math.cos(theta) ** 2
    if df % 2 == 1:  # A = 2/pi (theta + sin cos (1 + 2/3 c^2 + 2.4/(3.5) c^4 + ...))
        series, term = (1.0 if df > 1 else 0.0), 1.0
        for k in range(1, (df - 3) // 2 + 1):
            term *= (2 * k) / (2 * k + 1) * cos2
            series += term
        inside = 2.0 / math.pi * (theta + math.sin(theta) * math.cos(theta) * series)
    else:  # A = sin (1 + 1/2 c^2 + 1.3/(2.4) c^4 + ...)
        series, term = 1.0, 1.0
        for k in range(1, (df - 2) // 2 + 1):
            term *= (2 * k - 1) / (2 * k) * cos2
            series += term
        inside = math.sin(theta) * series
    return min(1.0, max(0.0, 1.0 - inside))


def paired_t_p_value(differences: Sequence[float]) -> Optional[float]:
    """Two-sided p-value of "mean difference = 0"; None below two pairs or with no variation at all."""
    diffs = [float(d) for d in differences]
    if len(diffs) < 2:
        return None
    mean, std = statistics.fmean(diffs), statistics.stdev(diffs)
    if std == 0.0:
        return None if mean == 0.0 else 0.0
    return student_t_two_sided_p(mean / (std / math.sqrt(len(diffs))), len(diffs) - 1)


def verdict(mean_difference: Optional[float], p_value: Optional[float]) -> str:
    """``better`` / ``worse`` when p < ALPHA, otherwise ``no significant difference``."""
    if mean_difference is None or p_value is None:
        return "-"
    if p_value >= ALPHA:
        return "no significant difference"
    return "better" if mean_difference > 0 else "worse"
