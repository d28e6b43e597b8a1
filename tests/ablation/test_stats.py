"""The verdict's statistics against independent references: scipy's two-sample paired test,
t tables, a Monte Carlo power simulation and the normal approximation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as st

from yolox.ablation.stats import (
    compare,
    minimum_detectable_effect,
    paired_power,
    paired_t_p_value,
    seeds_needed,
    tost_p_value,
)


def test_paired_t_matches_scipy_ttest_rel():
    baseline = np.array([14.1, 10.2, 17.9, 12.5])
    variant = np.array([13.0, 11.9, 16.1, 12.2])
    expected = st.ttest_rel(variant, baseline).pvalue
    assert paired_t_p_value(variant - baseline) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("df, critical", [(2, 4.303), (4, 2.776), (9, 2.262)])
def test_paired_t_at_table_critical_values(df, critical):
    """Differences whose t statistic is the published two-sided 5 % value give p = 0.05."""
    n = df + 1
    base = np.linspace(-1.0, 1.0, n)
    base = base / base.std(ddof=1)  # sample std exactly 1
    diffs = base + critical / math.sqrt(n)  # mean = critical * sd / sqrt(n)
    assert paired_t_p_value(diffs) == pytest.approx(0.05, abs=2e-4)


def test_degenerate_differences():
    assert paired_t_p_value([1.0]) is None
    assert paired_t_p_value([2.0, 2.0]) == 0.0 and paired_t_p_value([0.0, 0.0]) is None


def test_tost_is_the_larger_one_sided_p():
    diffs = np.array([0.1, -0.2, 0.15, 0.05, -0.1])
    margin = 0.5
    mean, se = diffs.mean(), diffs.std(ddof=1) / math.sqrt(len(diffs))
    df = len(diffs) - 1
    lower = st.t.sf((mean + margin) / se, df)  # H0: mean <= -margin
    upper = st.t.cdf((mean - margin) / se, df)  # H0: mean >= +margin
    assert tost_p_value(diffs, margin) == pytest.approx(max(lower, upper), rel=1e-10)
    assert tost_p_value(diffs, margin) < 0.05
    assert tost_p_value([3.0, -2.0, 1.0], margin) > 0.5


def test_power_matches_a_monte_carlo_simulation():
    rng = np.random.default_rng(0)
    n, effect, sd, reps = 5, 1.0, 1.0, 40_000
    samples = rng.normal(effect, sd, size=(reps, n))
    t = samples.mean(1) / (samples.std(1, ddof=1) / math.sqrt(n))
    simulated = float(np.mean(np.abs(t) > 2.776))  # t table, 4 df, two-sided 5 %
    assert paired_power(effect, sd, n) == pytest.approx(simulated, abs=0.01)


def test_mde_has_the_asked_power_and_approaches_the_normal_formula():
    sd, n = 3.24, 3
    mde = minimum_detectable_effect(sd, n)
    assert paired_power(mde, sd, n) == pytest.approx(0.8, abs=1e-6)
    assert 10.0 < mde < 11.5  # the cards example: "about 11 AP points"
    # large n: (z_0.975 + z_0.8) * sd / sqrt(n) = 2.8016 * sd / sqrt(n)
    assert minimum_detectable_effect(1.0, 400) == pytest.approx(2.8016 / 20, rel=0.01)
    assert minimum_detectable_effect(None, 3) is None and minimum_detectable_effect(1.0, 1) is None


def test_seeds_needed_is_the_smallest_n_with_the_power():
    sd, effect = 0.63, 0.5
    n = seeds_needed(sd, effect)
    assert paired_power(effect, sd, n) >= 0.8 > paired_power(effect, sd, n - 1)
    assert 13 <= n <= 16  # the fine-tuning example: "about 14 seeds"
    assert seeds_needed(3.24, 0.5) > 300 and seeds_needed(None, 0.5) is None


def test_verdicts_carry_significance_equivalence_or_the_mde():
    worse = compare([-8.0, -9.0, -10.0])
    assert worse.verdict == "worse" and worse.p < 0.05
    assert compare([8.0, 9.0, 10.0]).verdict == "better"
    same = compare([0.1, -0.2, 0.15, 0.05, -0.1], margin=0.5)
    assert same.verdict == "equivalent within ±0.5"
    noisy = compare([5.0, -4.0, 2.0])
    assert noisy.verdict == f"inconclusive (MDE = {noisy.mde:.2f})" and noisy.mde > 5
    assert compare([1.0]).verdict == "-"
    for c in (worse, same, noisy):
        assert "no significant difference" not in c.verdict and c.mde is not None
