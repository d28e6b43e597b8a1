"""tools/bench.py: the cost table agrees with modules built on their own, and files are written."""

from __future__ import annotations

import json
import re

import pytest

from yolox.models.attention import build_attention
from yolox.tools.bench import main


def test_bench_writes_table_with_consistent_costs(tmp_path):
    code = main(
        [
            "-m", "yolox-nano", "-a", "se", "eca", "--tsize", "64",
            "--runs", "2", "--warmup", "1", "--device", "cpu",
            "--output-dir", str(tmp_path), "--tag", "t",
        ]
    )  # fmt: skip
    assert code == 0
    data = json.loads((tmp_path / "t.json").read_text())
    rows = {r["attention"]: r for r in data["rows"]}
    assert set(rows) == {"none", "se", "eca"}
    for kind in ("se", "eca"):
        # nano's neck widths at dark3/dark4/dark5 are 64/128/256
        standalone = sum(
            sum(p.numel() for p in build_attention(kind, c).parameters()) for c in (64, 128, 256)
        )
        assert rows[kind]["extra_params"] == standalone
        assert rows[kind]["extra_gflops"] > 0
        assert rows[kind]["median_ms"] > 0 and rows[kind]["runs"] == 2
    assert rows["none"]["latency_ratio"] == 1.0
    table = re.sub(" +", " ", (tmp_path / "t.md").read_text())  # tabulate pads the cells
    assert "| yolox-nano | se | 64x64 |" in table and "Command: `python tools/bench.py" in table


def test_bench_rejects_unknown_attention(tmp_path, capsys):
    assert main(["-a", "nope", "--no-latency", "--output-dir", str(tmp_path)]) == 2
    assert "unknown attention type" in capsys.readouterr().err


def test_bench_paired_ratio_and_denormal_flag_restored(tmp_path):
    code = main(
        [
            "-m", "yolox-nano", "-a", "simam", "--tsize", "64", "--runs", "5", "--warmup", "1",
            "--device", "cpu", "--output-dir", str(tmp_path), "--tag", "t",
        ]
    )  # fmt: skip
    assert code == 0
    rows = {r["attention"]: r for r in json.loads((tmp_path / "t.json").read_text())["rows"]}
    low, high = rows["simam"]["latency_ratio_iqr"]
    assert low <= rows["simam"]["latency_ratio"] <= high
    assert rows["none"]["latency_ratio_iqr"] == [1.0, 1.0]
    # the flag is process-wide: bench must hand it back off, or later float code changes
    import torch

    tiny = torch.tensor([1e-40])  # a denormal float32
    assert (tiny * 1.0).item() != 0.0


def test_bench_restores_thread_count_and_denormal_flag_it_found(tmp_path):
    """A caller that flushes denormals and runs 1 thread gets both back after --threads 2."""
    import torch

    threads, tiny = torch.get_num_threads(), torch.tensor([1e-40])
    flush_supported = torch.set_flush_denormal(True)
    torch.set_num_threads(1)
    try:
        argv = ["-m", "yolox-nano", "-a", "se", "--tsize", "64", "--runs", "1", "--warmup", "0"]
        argv += ["--threads", "2", "--device", "cpu", "--output-dir", str(tmp_path)]
        assert main(argv) == 0
        assert torch.get_num_threads() == 1
        assert json.loads((tmp_path / "attention_cost.json").read_text())["meta"]["threads"] == 2
        if flush_supported:
            assert (tiny * 1.0).item() == 0.0  # still flushed, as the caller had it
    finally:
        torch.set_flush_denormal(False)
        torch.set_num_threads(threads)


# ------------------------------------------------------------------ --deploy


@pytest.mark.slow
def test_deploy_measures_every_path_of_a_tiny_checkpoint(tmp_path):
    from yolox.exp import get_exp
    from yolox.inference.loading import load_model
    from yolox.testing.fixtures import make_model, save_model_checkpoint, write_synthetic_exp

    exp_file = write_synthetic_exp(
        tmp_path / "tiny_exp.py",
        f"self.data_dir = {str(tmp_path / 'data')!r}\n"
        "self.synthetic_images = (6, 4)\n"
        "self.input_size = self.test_size = (64, 64)",
    )
    exp = get_exp(str(exp_file))
    model, cfg = make_model(None, seed=4, class_names=exp.class_names)
    ckpt = save_model_checkpoint(tmp_path / "model.pth", model, cfg)
    argv = ["--deploy", "-f", str(exp_file), "-c", str(ckpt), "--runs", "3", "--warmup", "1"]
    argv += ["--calib-images", "2", "--threads", "1", "--output-dir", str(tmp_path / "out")]
    assert main(argv) == 0
    data = json.loads((tmp_path / "out" / "deploy.json").read_text())
    paths = {p["name"]: p for p in data["paths"]}
    expected = {"PyTorch fp32", "PyTorch bf16", "PyTorch fast fp32", "PyTorch fast bf16"}
    expected |= {"ONNX Runtime fp32", "ONNX Runtime int8"}
    expected |= {"OpenVINO fp32", "OpenVINO bf16", "OpenVINO int8"}
    assert set(paths) == expected
    assert data["cpu"]["cpu"] and isinstance(data["cpu"]["cpu_flags"], list)
    measured = [p for p in paths.values() if not p["skipped"]]
    assert all(p["median_ms"] > 0 and p["ap50_95"] is not None for p in measured)
    assert paths["PyTorch fp32"]["ratio"] == 1.0
    # PyTorch fp32's AP is the checkpoint's AP from the exp's own evaluator
    reference = load_model(ckpt, exp=exp).model
    ap50_95, _, _ = exp.eval(reference, exp.get_evaluator(8, False), False)
    assert paths["PyTorch fp32"]["ap50_95"] == pytest.approx(100 * ap50_95, abs=1e-6)
    # the verdict is the fastest path within 1 AP point of PyTorch fp32
    base = paths["PyTorch fp32"]["ap50_95"]
    ok = [p for p in measured if base - p["ap50_95"] <= 1.0]
    assert data["fastest"] == min(ok, key=lambda p: p["median_ms"])["name"]
    assert "Fastest within 1 AP50:95" in (tmp_path / "out" / "deploy.md").read_text()
