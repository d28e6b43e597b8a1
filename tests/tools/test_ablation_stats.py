"""The paired t-test of the study table against t tables and a slow numerical integration."""

from __future__ import annotations

import math

import numpy as np
import pytest

from yolox.ablation.plan import parse_variants
from yolox.ablation.report import format_markdown, summarize
from yolox.ablation.stats import paired_t_p_value, student_t_two_sided_p, verdict


def _p_by_integration(t: float, df: int) -> float:
    """2 * integral of the t density from |t| to infinity, via x = |t| / u, u in (0, 1]."""
    log_c = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    u = np.linspace(1e-9, 1.0, 400_001)
    x = abs(t) / u
    integrand = np.exp(log_c) * (1 + x * x / df) ** (-(df + 1) / 2) * abs(t) / (u * u)
    return float(2 * np.trapezoid(integrand, u))


@pytest.mark.parametrize(
    "df, critical",  # published two-sided 5% critical values of Student's t
    [(1, 12.706), (2, 4.303), (3, 3.182), (4, 2.776), (5, 2.571), (9, 2.262), (30, 2.042)],
)
def test_table_critical_values_give_five_percent(df, critical):
    assert student_t_two_sided_p(critical, df) == pytest.approx(0.05, abs=2e-4)


@pytest.mark.parametrize("df", [1, 2, 3, 4, 7, 10])
@pytest.mark.parametrize("t", [0.3, 1.0, 2.5, 6.0])
def test_matches_numerical_integration(t, df):
    assert student_t_two_sided_p(t, df) == pytest.approx(_p_by_integration(t, df), abs=1e-5)
    assert student_t_two_sided_p(-t, df) == student_t_two_sided_p(t, df)


def test_paired_p_value_and_verdict():
    assert student_t_two_sided_p(0.0, 3) == pytest.approx(1.0)
    # d = [-8, -9, -10]: mean -9, std 1, t = -9 * sqrt(3) = -15.6 with 2 df
    p = paired_t_p_value([-8.0, -9.0, -10.0])
    assert p == pytest.approx(_p_by_integration(9 * math.sqrt(3), 2), abs=1e-6)
    assert verdict(-9.0, p) == "worse" and verdict(9.0, p) == "better"
    noisy = paired_t_p_value([5.0, -4.0, 2.0])
    assert noisy > 0.05 and verdict(1.0, noisy) == "no significant difference"
    assert paired_t_p_value([1.0]) is None and verdict(1.0, None) == "-"
    assert paired_t_p_value([2.0, 2.0]) == 0.0 and paired_t_p_value([0.0, 0.0]) is None
    with pytest.raises(ValueError, match="positive integer"):
        student_t_two_sided_p(1.0, 0)


def test_study_table_reports_the_verdict():
    variants = parse_variants(["se", "cam"])
    results = [
        {"variant": "none", "seed": s, "ap50_95": 0.30 + 0.01 * s, "ap50": 0.5} for s in range(3)
    ]
    results += [
        {"variant": "se", "seed": s, "ap50_95": 0.21 + 0.01 * s + 0.001 * s * s, "ap50": 0.4}
        for s in range(3)
    ]
    results += [
        {"variant": "cam", "seed": s, "ap50_95": (0.35, 0.26, 0.33)[s], "ap50": 0.5}
        for s in range(3)
    ]
    rows = {r["variant"]: r for r in summarize(results, variants)}
    assert rows["se"]["verdict"] == "worse" and rows["se"]["d_ap50_95_p"] < 0.05
    assert rows["cam"]["verdict"] == "no significant difference"
    assert rows["none"]["verdict"] == "baseline"
    table = format_markdown(list(rows.values()), {"baseline": "none"})
    assert "| worse |" in table and "| no significant difference |" in table
