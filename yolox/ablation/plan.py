"""What an ablation study trains: named attention variants crossed with seeds, one folder each."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

from yolox.utils.errors import UserError

__all__ = ["BASELINE", "Variant", "RunKey", "parse_variant", "parse_variants", "run_keys"]

#: label of the model without attention; every difference in the report is taken against it
BASELINE = "none"


@dataclass(frozen=True)
class Variant:
    """One attention configuration: a short label for tables and folders, and the exp spec."""

    label: str
    spec: Any  # None, a registered name, or a dict accepted by ``exp.attention``

    def spec_json(self) -> str:
        """Canonical text of the spec (stable across runs, used in run fingerprints)."""
        return json.dumps(self.spec, sort_keys=True)


@dataclass(frozen=True)
class RunKey:
    """One training of the study."""

    variant: Variant
    seed: int

    @property
    def name(self) -> str:
        """Folder name of the run (unique within a study)."""
        return f"{self.variant.label}_seed{self.seed}"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()


def _label_for(spec: Dict[str, Any]) -> str:
    """``{"type":"cbam","ratio":8,"positions":["C3_p3"]}`` -> ``cbam-ratio8-C3_p3``-like label."""
    parts: List[str] = [str(spec.get("type", "custom"))]
    for key in sorted(k for k in spec if k not in ("type", "positions", "label")):
        parts.append(f"{_slug(key)}{_slug(str(spec[key]))}")
    positions = spec.get("positions")
    if isinstance(positions, (list, tuple)):
        parts.append("+".join(str(p) for p in positions))
    elif isinstance(positions, dict):
        digest = hashlib.sha1(json.dumps(positions, sort_keys=True).encode()).hexdigest()[:6]
        parts.append(f"pos{digest}")
    elif isinstance(positions, str):
        parts.append(positions)
    return "-".join(parts)


def parse_variant(text: str) -> Variant:
    """``none``, a module name (``cam``), or a JSON object; ``"label"`` in the object names it.

    A ``label=SPEC`` prefix also names a variant: ``cbam8={"type":"cbam","ratio":8}``.
    """
    text = text.strip()
    label: Optional[str] = None
    match = re.match(r"^([A-Za-z0-9_.+-]+)=(.*)$", text, flags=re.S)
    if match and not text.startswith("{"):
        label, text = match.group(1), match.group(2).strip()
    if not text:
        raise UserError("empty variant")
    if text.startswith("{"):
        try:
            spec = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UserError(f"variant {text!r} is not valid JSON: {exc.msg}") from exc
        if not isinstance(spec, dict):
            raise UserError(f"variant {text!r} must be a JSON object")
        label = label or spec.pop("label", None) or _label_for(spec)
        spec.pop("label", None)
        return Variant(label=str(label), spec=spec)
    if text.lower() == BASELINE:
        return Variant(label=label or BASELINE, spec=None)
    if not re.match(r"^[A-Za-z0-9_-]+$", text):
        raise UserError(f"variant {text!r}: give a module name, 'none' or a JSON object")
    return Variant(label=label or text, spec=text)


def parse_variants(texts: Sequence[str]) -> List[Variant]:
    """Parse ``--variants``; adds the baseline first when missing; labels must be unique."""
    variants = [parse_variant(t) for t in texts]
    if not any(v.spec is None for v in variants):
        variants.insert(0, Variant(label=BASELINE, spec=None))
    labels = [v.label for v in variants]
    duplicates = sorted({label for label in labels if labels.count(label) > 1})
    if duplicates:
        raise UserError(f"variant labels must be unique; repeated: {duplicates}")
    baselines = [v.label for v in variants if v.spec is None]
    if len(baselines) > 1:
        raise UserError(f"only one variant without attention is allowed, got {baselines}")
    return variants


def run_keys(variants: Sequence[Variant], seeds: Sequence[int]) -> List[RunKey]:
    """Seed-major order: a study cut short still has every variant for the first seeds."""
    return [RunKey(variant=v, seed=int(s)) for s in seeds for v in variants]
