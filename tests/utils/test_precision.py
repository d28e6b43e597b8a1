"""The CPU precision choice: auto picks bf16 only where the CPU computes bf16 natively."""

from __future__ import annotations

import pytest
import torch

from yolox.utils.errors import UserError
from yolox.utils.precision import (
    cpu_description,
    cpu_flags,
    cpu_has_fast_bf16,
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


def test_flags_and_model_name_are_read_from_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text(
        "processor\t: 0\nmodel name\t: Test CPU 9000\nflags\t\t: fpu avx2 amx_bf16 amx_tile\n\n"
        "processor\t: 1\nmodel name\t: Test CPU 9000\nflags\t\t: fpu avx2 amx_bf16 amx_tile\n"
    )
    assert cpu_flags(info) == ("fpu", "avx2", "amx_bf16", "amx_tile")
    assert cpu_has_fast_bf16(cpu_flags(info))
    described = cpu_description(info)
    assert described["cpu"] == "Test CPU 9000"
    assert described["cpu_flags"] == ["avx2", "amx_tile", "amx_bf16"]
    assert cpu_flags(tmp_path / "missing") == ()


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
