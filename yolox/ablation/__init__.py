"""Ablation studies: train attention variants over several seeds and report gain against cost.

``plan`` names the runs, ``runner`` trains/resumes/evaluates them, ``costs`` measures params,
GFLOPs and latency, ``report`` aggregates the table and ``plot`` draws gain vs cost. The command
line is ``tools/ablate.py`` (see docs/ablation.md).
"""

from .plan import BASELINE, RunKey, Variant, parse_variant, parse_variants, run_keys
from .report import mean_std, summarize, write_reports

__all__ = [
    "BASELINE",
    "RunKey",
    "Variant",
    "parse_variant",
    "parse_variants",
    "run_keys",
    "mean_std",
    "summarize",
    "write_reports",
]
