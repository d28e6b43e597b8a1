"""CPU precision: bf16 autocast where the CPU computes bf16 natively, float32 elsewhere.

``--precision auto|fp32|bf16`` (train, eval, demo, bench) is resolved here, once, at run time:

* ``fp32``: no autocast.
* ``bf16``: ``torch.autocast(device, dtype=torch.bfloat16)``; works on any CPU (oneDNN emulates
  bf16 where the instructions are missing), but only pays where they exist.
* ``auto``: bf16 where the CPU has AMX bf16 tiles or AVX-512 BF16 (``amx_bf16``/``avx512_bf16``
  as torch detects them: :func:`cpu_capabilities`), fp32 elsewhere (AVX2-only CPUs: bf16 there
  is emulated and slower). Inference callers may ask ``auto`` to stay fp32 unless the fast path
  was asked for (``prefer=False``).

``--fp16`` is a different thing: CUDA AMP, as in official YOLOX. Autocast leaves the ops that need
the range or the precision of float32 in float32 (losses, reductions, softmax); the project keeps
the rest of what must be exact in float32 itself (docs/training.md, "Precision").
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import ContextManager, Iterable, Optional, Tuple, Union

import torch

from .errors import UserError

__all__ = [
    "PRECISIONS",
    "BF16_CPU_FLAGS",
    "CAPABILITY_FLAGS",
    "CpuCapabilities",
    "cpu_capabilities",
    "cpu_flags",
    "cpu_model_name",
    "cpu_description",
    "cpu_has_fast_bf16",
    "resolve_precision",
    "precision_autocast",
    "describe_precision",
    "inference_precision",
    "training_precision",
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

#: our flag name -> the names torch's capability queries use for it: first the key of
#: ``torch.cpu.get_capabilities()`` (torch 2.14 has it), then the private per-feature functions of
#: ``torch.cpu`` that older releases have (torch 2.3: only ``_is_cpu_support_vnni``). A flag no
#: query of the installed torch covers is reported absent, except AVX2/AVX-512, which the kernel
#: level torch dispatches to implies (:data:`_ISA_FLAGS`); so with torch 2.3 ``auto`` stays
#: float32 on an AVX-512 BF16 CPU: the safe side.
_TORCH_QUERIES = {
    "avx2": ("avx2", "_is_avx2_supported", "_is_cpu_support_avx2"),
    "avx512f": ("avx512_f", "_is_avx512_supported", "_is_cpu_support_avx512"),
    "avx512_bf16": ("avx512_bf16", "_is_avx512_bf16_supported"),
    "avx512_vnni": (
        "avx512_vnni",
        "_is_vnni_supported",
        "_is_avx512_vnni_supported",
        "_is_cpu_support_avx512_vnni",
        "_is_cpu_support_vnni",
    ),
    "avx_vnni": ("avx_vnni",),
    "amx_tile": ("amx_tile", "_is_amx_tile_supported", "_is_cpu_support_amx_tile"),
    "amx_bf16": ("amx_bf16",),
    "amx_int8": ("amx_int8",),
}

#: the flags that torch's dispatch level ``torch.backends.cpu.get_cpu_capability()`` implies
_ISA_FLAGS = {"AVX2": ("avx2",), "AVX512": ("avx2", "avx512f")}


@dataclass(frozen=True)
class CpuCapabilities:
    """What this CPU is and which of :data:`CAPABILITY_FLAGS` it has, as torch detects them.

    ``model``: the marketing name ("AMD EPYC", "Intel(R) Xeon(R) ..."); ``flags``: the
    :data:`CAPABILITY_FLAGS` present, in that order; ``isa``: the kernel level torch dispatches to
    (``torch.backends.cpu.get_cpu_capability()``: "DEFAULT", "AVX2", "AVX512", ...).
    """

    model: str
    flags: Tuple[str, ...]
    isa: str

    def has(self, flag: str) -> bool:
        """Whether the CPU has ``flag`` (a :data:`CAPABILITY_FLAGS` name)."""
        return flag in self.flags

    @property
    def native_bf16(self) -> bool:
        """AMX bf16 tiles or AVX-512 BF16 dot products: bf16 autocast pays here."""
        return any(f in self.flags for f in BF16_CPU_FLAGS)


def _torch_flags(isa: str) -> Tuple[Tuple[str, ...], str]:
    """The :data:`CAPABILITY_FLAGS` torch reports, and its CPU name where it knows one."""
    table = getattr(torch.cpu, "get_capabilities", None)
    caps = dict(table()) if table is not None else {}
    present = []
    for flag in CAPABILITY_FLAGS:
        key, *functions = _TORCH_QUERIES[flag]
        if caps:
            found = bool(caps.get(key, False))
        else:
            query = next((getattr(torch.cpu, f) for f in functions if hasattr(torch.cpu, f)), None)
            found = bool(query()) if query is not None else flag in _ISA_FLAGS.get(isa, ())
        if found:
            present.append(flag)
    return tuple(present), str(caps.get("cpu_name") or "")


def _cpuinfo_field(name: str, cpuinfo: PathLike = "/proc/cpuinfo") -> str:
    """The first ``name: value`` line of a cpuinfo file ("" where there is none)."""
    try:
        with open(cpuinfo) as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == name:
                    return value.strip()
    except OSError:
        pass
    return ""


def cpu_capabilities() -> CpuCapabilities:
    """This CPU's model name and capability flags: the one place the project asks.

    The flags come from torch's own detection (cpuinfo, which also checks that the OS enabled the
    AVX-512/AMX state), never from parsing ``/proc/cpuinfo``. The model name is only a label for
    result files: newer torch reports it (2.14 does); else it is the ``model name`` line of
    ``/proc/cpuinfo`` (Linux; ``platform.processor()`` says "x86_64" there), else
    ``platform.processor()`` (macOS, Windows).
    """
    import platform

    isa = torch.backends.cpu.get_cpu_capability()
    flags, name = _torch_flags(isa)
    model = name or _cpuinfo_field("model name") or platform.processor() or "unknown CPU"
    return CpuCapabilities(model=model, flags=flags, isa=isa)


def cpu_flags() -> Tuple[str, ...]:
    """The :data:`CAPABILITY_FLAGS` this CPU has (:func:`cpu_capabilities`; tests replace it)."""
    return cpu_capabilities().flags


def cpu_model_name() -> str:
    """The CPU's model name (:func:`cpu_capabilities`)."""
    return cpu_capabilities().model


def cpu_description() -> dict:
    """Model name and capability flags as every benchmark result records them (JSON-ready)."""
    caps = cpu_capabilities()
    return {"cpu": caps.model, "cpu_flags": list(caps.flags), "torch_cpu_capability": caps.isa}


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


def training_precision(
    requested: Optional[str],
    device: Union[str, torch.device],
    fp16: bool = False,
    flags: Optional[Iterable[str]] = None,
) -> str:
    """What a training step computes in: ``"fp16"`` for CUDA AMP (``--fp16`` on a CUDA device),
    else :func:`resolve_precision` (``auto``: bf16 on a CPU with native bf16). The trainer and the
    ablation runner both ask here, so a study knows before training what its runs will use."""
    if fp16 and torch.device(device).type == "cuda":
        if (requested or "auto") == "bf16":
            raise UserError("--fp16 (CUDA AMP) and --precision bf16 exclude each other: pick one")
        return "fp16"
    return resolve_precision(requested, device, flags=flags)


def inference_precision(
    requested: Optional[str],
    device: Union[str, torch.device],
    fast: bool,
    half: bool = False,
    flags: Optional[Iterable[str]] = None,
) -> str:
    """What eval, demo and the Predictor compute in: ``auto`` means bf16 only on the fast path
    (``fast``) of a CPU with native bf16, so a plain eval reproduces the AP training logged (the
    trainer evaluates by this rule too);
    ``half`` (CUDA fp16) gives ``"fp16"`` and excludes an explicit ``bf16``."""
    if half:
        if (requested or "auto") == "bf16":
            raise UserError("--fp16 and --precision bf16 exclude each other: pick one")
        return "fp16"
    return resolve_precision(requested, device, flags=flags, prefer=fast)
