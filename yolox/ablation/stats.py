"""The statistics behind a study's verdict: paired t-test, TOST equivalence, power and seeds.

Every variant is compared with the baseline through its per-seed differences
``d_s = AP(variant, s) - AP(baseline, s)`` (AP points). With a handful of seeds "no significant
difference" says little on its own, so each comparison also carries its *minimum detectable
effect* (the true difference the study would find with 80 % power, two-sided 5 %) and, when
the difference is not significant, a TOST equivalence test against a margin: the verdict is
``better`` / ``worse`` (significant), ``equivalent within ±X`` (TOST significant) or
``inconclusive (MDE = Y)``. All distributions come from ``scipy.stats``.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Optional, Sequence

from scipy import optimize
from scipy import stats as st

__all__ = [
    "ALPHA",
    "POWER",
    "MARGIN",
    "Comparison",
    "paired_t_p_value",
    "tost_p_value",
    "paired_power",
    "minimum_detectable_effect",
    "seeds_needed",
    "compare",
]

#: significance level of the verdicts (two-sided for the t-test, each side for TOST)
ALPHA = 0.05
#: power at which the minimum detectable effect is quoted
POWER = 0.8
#: default equivalence margin in AP points
MARGIN = 0.5
#: largest number of seeds ``seeds_needed`` considers
MAX_SEEDS = 10_000


def _clean(differences: Sequence[float]) -> list:
    return [float(d) for d in differences]


def paired_t_p_value(differences: Sequence[float]) -> Optional[float]:
    """Two-sided p of "mean difference = 0"; None below two pairs or with no variation at all."""
    diffs = _clean(differences)
    if len(diffs) < 2:
        return None
    if statistics.stdev(diffs) == 0.0:
        return None if statistics.fmean(diffs) == 0.0 else 0.0
    return float(st.ttest_1samp(diffs, 0.0).pvalue)


def tost_p_value(differences: Sequence[float], margin: float) -> Optional[float]:
    """p of TOST: the larger of the one-sided p-values of "mean <= -margin" and "mean >= margin".

    Below ALPHA the mean difference lies within ±margin at that level (equivalence shown).
    """
    diffs = _clean(differences)
    if len(diffs) < 2 or margin <= 0:
        return None
    mean = statistics.fmean(diffs)
    if statistics.stdev(diffs) == 0.0:
        return 0.0 if abs(mean) < margin else 1.0
    lower = st.ttest_1samp(diffs, -margin, alternative="greater").pvalue
    upper = st.ttest_1samp(diffs, margin, alternative="less").pvalue
    return float(max(lower, upper))


def paired_power(effect: float, sd: float, n: int, alpha: float = ALPHA) -> float:
    """Power of the two-sided paired t-test with ``n`` pairs when the true mean difference is
    ``effect`` and the differences' standard deviation is ``sd`` (noncentral t)."""
    if n < 2:
        return 0.0
    df = n - 1
    critical = st.t.ppf(1.0 - alpha / 2.0, df)
    if sd <= 0:
        return 1.0 if effect != 0 else alpha
    noncentrality = abs(effect) / (sd / math.sqrt(n))
    upper = float(st.nct.sf(critical, df, noncentrality))
    lower = float(st.nct.cdf(-critical, df, noncentrality))  # wrong-sign rejections
    if not math.isfinite(lower):  # scipy returns nan far out in the tail, where it is ~0
        lower = 0.0
    return min(1.0, upper + lower)


def minimum_detectable_effect(
    sd: Optional[float], n: int, alpha: float = ALPHA, power: float = POWER
) -> Optional[float]:
    """Smallest true difference (AP points) found with ``power`` by ``n`` pairs of spread ``sd``."""
    if sd is None or n < 2:
        return None
    if sd == 0:
        return 0.0
    upper = sd
    while paired_power(upper, sd, n, alpha) < power:
        upper *= 2.0
    return float(optimize.brentq(lambda e: paired_power(e, sd, n, alpha) - power, 0.0, upper))


def seeds_needed(
    sd: Optional[float], effect: float, alpha: float = ALPHA, power: float = POWER
) -> Optional[int]:
    """Fewest pairs (seeds) that detect a true difference ``effect`` with ``power``, given the
    paired spread ``sd`` of a pilot study (None when more than MAX_SEEDS would be needed)."""
    if sd is None or effect <= 0:
        return None
    if sd == 0:
        return 2
    low, high = 2, 2
    while paired_power(effect, sd, high, alpha) < power:
        if high >= MAX_SEEDS:
            return None
        low, high = high, min(2 * high, MAX_SEEDS)
    while low < high:  # smallest n with enough power (power grows with n)
        middle = (low + high) // 2
        if paired_power(effect, sd, middle, alpha) >= power:
            high = middle
        else:
            low = middle + 1
    return high


@dataclass(frozen=True)
class Comparison:
    """One variant against the baseline: the numbers behind its verdict."""

    n: int
    mean: Optional[float]
    sd: Optional[float]
    p: Optional[float]
    p_tost: Optional[float]
    mde: Optional[float]
    margin: float
    verdict: str


def compare(
    differences: Sequence[float], margin: float = MARGIN, alpha: float = ALPHA
) -> Comparison:
    """Paired t-test, TOST at ``margin`` and MDE of per-seed differences, with the verdict.

    Verdicts: ``better`` / ``worse`` when the paired t-test is significant; otherwise
    ``equivalent within ±margin`` when TOST is; otherwise ``inconclusive (MDE = Y)``; ``-``
    below two pairs (no spread to judge by).
    """
    diffs = _clean(differences)
    n = len(diffs)
    mean = statistics.fmean(diffs) if diffs else None
    sd = statistics.stdev(diffs) if n > 1 else None
    p = paired_t_p_value(diffs)
    p_tost = tost_p_value(diffs, margin)
    mde = minimum_detectable_effect(sd, n, alpha)
    if p is None and (mean is None or sd is None):
        text = "-"
    elif p is not None and p < alpha:
        text = "better" if mean > 0 else "worse"
    elif p_tost is not None and p_tost < alpha:
        text = f"equivalent within ±{margin:g}"
    else:
        text = f"inconclusive (MDE = {mde:.2f})" if mde is not None else "inconclusive"
    return Comparison(n, mean, sd, p, p_tost, mde, margin, text)
