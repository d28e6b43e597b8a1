"""CPU precision: bf16 autocast where the CPU computes bf16 natively, float32 elsewhere.

``--precision auto|fp32|bf16`` (train, eval, demo, bench) is resolved here, once, at run time:

* ``fp32``: no autocast.
* ``bf16``: ``torch.autocast(device, dtype=torch.bfloat16)``; works on any CPU (oneDNN emulates
  bf16 where the instructions are missing), but only pays where they exist.
* ``auto``: bf16 where the CPU has AMX bf16 tiles or AVX-512 BF16 (``amx_bf16``/``avx512_bf16``
  in its flags), fp32 elsewhere (AVX2-only CPUs: bf16 there is emulated and slower). Inference
  callers may ask ``auto`` to stay fp32 unless the fast path was asked for (``prefer=False``).

``--fp16`` is a different thing: CUDA AMP, as in official YOLOX. Autocast leaves the ops that need
the range or the precision of float32 in float32 (losses, reductions, softmax); the project keeps
the rest of what must be exact in float32 itself (docs/training.md, "Precision").
"""

from __future__ import annotations

import contextlib
import os
from typing import ContextManager, Iterable, Optional, Tuple, Union

import torch

from .errors import UserError

__all__ = [
    "PRECISIONS",
    "BF16_CPU_FLAGS",
    "CAPABILITY_FLAGS",
    "cpu_flags",
    "cpu_model_name",
    "cpu_description",
    "cpu_has_fast_bf16",
    "resolve_precision",
    "precision_autocast",
    "describe_precision",
    "inference_precision",
]

PRECISIONS = ("auto", "fp32", "bf16")

#: flags that mean native bf16 arithmetic (AMX tiles, AVX-512 BF16 dot products)
BF16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")

#: the flags that decide CPU speed paths here: vector width, bf16, int8 dot products
CAPABILITY_FLAGS = (
    "avx2",
    "avx512f",
    "avx512_bf16",
    "avx512_vnni",
    "avx_vnni",
    "amx_tile",
    "amx_bf16",
    "amx_int8",
)

PathLike = Union[str, "os.PathLike[str]"]


def _cpuinfo_field(name: str, cpuinfo: PathLike) -> str:
    try:
        with open(cpuinfo) as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == name:
                    return value.strip()
    except OSError:
        pass
    return ""


def cpu_flags(cpuinfo: PathLike = "/proc/cpuinfo") -> Tuple[str, ...]:
    """Every flag of the first CPU in ``cpuinfo`` (empty where there is no such file)."""
    return tuple(_cpuinfo_field("flags", cpuinfo).split())


def cpu_model_name(cpuinfo: PathLike = "/proc/cpuinfo") -> str:
    """The CPU's model name ("AMD EPYC", "Intel(R) Xeon(R) ..."), else the platform's guess."""
    import platform

    return _cpuinfo_field("model name", cpuinfo) or platform.processor() or "unknown CPU"


def cpu_description(cpuinfo: PathLike = "/proc/cpuinfo") -> dict:
    """Model name and the :data:`CAPABILITY_FLAGS` present: what every benchmark result records."""
    flags = set(cpu_flags(cpuinfo))
    return {
        "cpu": cpu_model_name(cpuinfo),
        "cpu_flags": [f for f in CAPABILITY_FLAGS if f in flags],
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
    }


def cpu_has_fast_bf16(flags: Optional[Iterable[str]] = None) -> bool:
    """Whether the CPU has native bf16 arithmetic (AMX or AVX-512 BF16); ``flags``: for tests."""
    present = set(cpu_flags() if flags is None else flags)
    return any(f in present for f in BF16_CPU_FLAGS)


def resolve_precision(
    requested: Optional[str],
    device: Union[str, torch.device] = "cpu",
    flags: Optional[Iterable[str]] = None,
    prefer: bool = True,
) -> str:
    """``"fp32"`` or ``"bf16"`` for ``requested`` (``auto``/``fp32``/``bf16``; None = auto).

    ``auto`` gives bf16 only on a CPU device with native bf16 (:func:`cpu_has_fast_bf16`) and
    when ``prefer`` is true (eval and demo pass ``prefer=fast``); CUDA keeps its own ``--fp16``.
    An explicit ``bf16`` is honoured on any device.
    """
    choice = (requested or "auto").lower()
    if choice not in PRECISIONS:
        raise UserError(f"precision must be one of {', '.join(PRECISIONS)}, got {requested!r}")
    if choice != "auto":
        return choice
    if torch.device(device).type != "cpu" or not prefer:
        return "fp32"
    return "bf16" if cpu_has_fast_bf16(flags) else "fp32"


def precision_autocast(device: Union[str, torch.device], precision: str) -> ContextManager:
    """``torch.autocast`` to bf16 for ``precision == "bf16"``, else a context that does nothing."""
    if precision == "bf16":
        return torch.autocast(device_type=torch.device(device).type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def describe_precision(
    requested: Optional[str],
    resolved: str,
    device: Union[str, torch.device] = "cpu",
    flags: Optional[Iterable[str]] = None,
) -> str:
    """One log line: what was asked, what runs, and why (the CPU flags behind ``auto``; an
    ``auto`` that stays fp32 on a bf16 CPU is an inference without the fast path)."""
    present = set(cpu_flags() if flags is None else flags)
    found = [f for f in BF16_CPU_FLAGS if f in present]
    why = ""
    if (requested or "auto") == "auto" and torch.device(device).type == "cpu":
        why = (
            f" (this CPU has {', '.join(found)})"
            if found
            else " (this CPU has no native bf16: no amx_bf16 or avx512_bf16)"
        )
        if found and resolved == "fp32":
            why = f" (this CPU has {', '.join(found)}; auto uses bf16 only on the fast path)"
    what = "bf16 autocast" if resolved == "bf16" else "float32"
    return f"precision: {what}, asked {requested or 'auto'}{why}"


def inference_precision(
    requested: Optional[str],
    device: Union[str, torch.device],
    fast: bool,
    half: bool = False,
    flags: Optional[Iterable[str]] = None,
) -> str:
    """What eval, demo and the Predictor compute in: ``auto`` means bf16 only on the fast path
    (``fast``) of a CPU with native bf16, so a plain eval reproduces training's float32 AP;
    ``half`` (CUDA fp16) gives ``"fp16"`` and excludes an explicit ``bf16``."""
    if half:
        if (requested or "auto") == "bf16":
            raise UserError("--fp16 and --precision bf16 exclude each other: pick one")
        return "fp16"
    return resolve_precision(requested, device, flags=flags, prefer=fast)
