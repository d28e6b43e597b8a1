"""The CPU precision choice: auto picks bf16 only where the CPU computes bf16 natively."""

from __future__ import annotations

import os
import platform

import pytest
import torch

from yolox.utils.errors import UserError
from yolox.utils.precision import (
    CAPABILITY_FLAGS,
    CpuCapabilities,
    cpu_capabilities,
    cpu_description,
    cpu_flags,
    cpu_has_fast_bf16,
    cpu_model_name,
    describe_precision,
    precision_autocast,
    resolve_precision,
)

AVX2_ONLY = ("fpu", "sse4_2", "avx", "avx2", "fma")
AVX512_BF16 = AVX2_ONLY + ("avx512f", "avx512_bf16", "avx512_vnni")
AMX = AVX2_ONLY + ("avx512f", "amx_tile", "amx_bf16", "amx_int8")


@pytest.mark.parametrize(
    "flags, expected", [(AVX2_ONLY, "fp32"), (AVX512_BF16, "bf16"), (AMX, "bf16"), ((), "fp32")]
)
def test_auto_is_bf16_only_with_native_bf16(flags, expected):
    assert resolve_precision("auto", "cpu", flags=flags) == expected
    assert resolve_precision(None, "cpu", flags=flags) == expected


def test_explicit_choices_and_cuda():
    assert resolve_precision("bf16", "cpu", flags=AVX2_ONLY) == "bf16"  # slow there, but asked
    assert resolve_precision("fp32", "cpu", flags=AMX) == "fp32"
    assert resolve_precision("auto", "cuda", flags=AMX) == "fp32"  # CUDA keeps --fp16
    assert resolve_precision("auto", "cpu", flags=AMX, prefer=False) == "fp32"
    with pytest.raises(UserError, match="precision must be one of"):
        resolve_precision("fp16", "cpu")


def _torch_reports(monkeypatch, isa="AVX512", table=None, **functions):
    """Make torch's CPU queries answer like a given CPU (``table``: ``get_capabilities``; else
    only the per-feature ``functions`` an older torch has)."""
    for name in [n for n in dir(torch.cpu) if n.startswith("_is_")] + ["get_capabilities"]:
        monkeypatch.delattr(torch.cpu, name, raising=False)
    if table is not None:
        monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: table, raising=False)
    for name, answer in functions.items():
        monkeypatch.setattr(torch.cpu, name, lambda answer=answer: answer, raising=False)
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: isa)


def _proc_cpuinfo(field):
    """The first ``field`` line of /proc/cpuinfo ("" where it has none, e.g. "flags" on ARM)."""
    with open("/proc/cpuinfo") as f:
        found = (line.split(":", 1)[1].strip() for line in f if line.split(":")[0].strip() == field)
        return next(found, "")


def test_capabilities_are_torchs_answer_not_proc_cpuinfo(monkeypatch):
    table = {"cpu_name": "Test CPU 9000", "avx2": True, "avx512_f": True, "amx_tile": True}
    _torch_reports(monkeypatch, table=dict(table, amx_bf16=True, avx512_bf16=False))
    caps = cpu_capabilities()
    assert caps == CpuCapabilities(
        "Test CPU 9000", ("avx2", "avx512f", "amx_tile", "amx_bf16"), "AVX512"
    )
    assert caps.native_bf16 and caps.has("amx_tile") and not caps.has("avx512_vnni")
    assert resolve_precision("auto", "cpu") == "bf16"
    assert cpu_description() == {
        "cpu": "Test CPU 9000",
        "cpu_flags": ["avx2", "avx512f", "amx_tile", "amx_bf16"],
        "torch_cpu_capability": "AVX512",
    }
    # whatever /proc/cpuinfo lists, a CPU torch finds without bf16 stays float32
    _torch_reports(monkeypatch, table=table)
    assert not cpu_capabilities().native_bf16
    assert resolve_precision("auto", "cpu") == "fp32"


def test_older_torch_asks_its_per_feature_queries_and_the_dispatch_level(monkeypatch):
    _torch_reports(monkeypatch, isa="AVX512", _is_cpu_support_vnni=True)  # what torch 2.3 has
    assert cpu_flags() == ("avx2", "avx512f", "avx512_vnni")
    assert resolve_precision("auto", "cpu") == "fp32"  # it cannot tell bf16: the safe side
    _torch_reports(
        monkeypatch, isa="AVX2", _is_avx512_bf16_supported=True, _is_vnni_supported=False
    )
    assert cpu_flags() == ("avx2", "avx512_bf16")
    assert resolve_precision("auto", "cpu") == "bf16"
    _torch_reports(monkeypatch, isa="DEFAULT")
    assert cpu_flags() == ()


@pytest.mark.skipif(not os.path.exists("/proc/cpuinfo"), reason="needs Linux /proc/cpuinfo")
def test_this_cpu_agrees_with_the_kernel_and_the_name_falls_back_to_it(monkeypatch):
    kernel = set(_proc_cpuinfo("flags").split())  # independent reference: what Linux reports
    caps = cpu_capabilities()
    if hasattr(torch.cpu, "get_capabilities"):  # every flag is torch's to tell
        assert caps.flags == tuple(f for f in CAPABILITY_FLAGS if f in kernel)
    assert set(caps.flags) <= kernel
    _torch_reports(monkeypatch, table={"avx2": True})  # a torch that reports no name
    assert cpu_model_name() == (
        _proc_cpuinfo("model name") or platform.processor() or "unknown CPU"
    )


def test_native_bf16_means_amx_or_avx512_bf16_not_avx512_alone():
    assert cpu_has_fast_bf16(("avx2", "amx_bf16"))
    assert cpu_has_fast_bf16(("avx512f", "avx512_bf16"))
    assert not cpu_has_fast_bf16(("avx2", "avx512f", "avx512_vnni"))
    assert not cpu_has_fast_bf16(())


def test_the_log_line_says_why():
    assert "this CPU has avx512_bf16" in describe_precision("auto", "bf16", "cpu", AVX512_BF16)
    assert "no native bf16" in describe_precision("auto", "fp32", "cpu", AVX2_ONLY)
    assert "only on the fast path" in describe_precision("auto", "fp32", "cpu", AMX)
    assert describe_precision("fp32", "fp32", "cpu", AMX) == "precision: float32, asked fp32"


def test_autocast_context_computes_convolutions_in_bf16_only_when_asked():
    conv = torch.nn.Conv2d(3, 4, 3)
    x = torch.rand(1, 3, 8, 8)
    with precision_autocast("cpu", "bf16"):
        assert conv(x).dtype == torch.bfloat16
    with precision_autocast("cpu", "fp32"):
        assert conv(x).dtype == torch.float32
