"""yolox/deploy/bench.py: the deploy report's verdict and table (the measurement itself runs
through the tool: tests/tools/test_bench.py)."""

from __future__ import annotations

from yolox.deploy.bench import DeployPath, DeployReport


def test_deploy_report_names_the_fastest_path_within_the_ap_budget():
    cpu = {"cpu": "Test CPU", "cpu_flags": ["avx2"], "torch_cpu_capability": "AVX2"}
    report = DeployReport("e", (64, 64), 2, 1.0, cpu)
    report.paths = [
        DeployPath("PyTorch fp32", 30.0, 50.0, 10.0, 1.0, 1.0),
        DeployPath("OpenVINO int8", 28.5, 49.0, 2.0, 0.1, 0.2),  # fastest, but 1.5 AP lost
        DeployPath("OpenVINO fp32", 30.1, 50.0, 4.0, 0.1, 0.4),
        DeployPath("ONNX Runtime int8", 29.2, 49.5, 3.0, 0.1, 0.3),  # within budget: the answer
        DeployPath("OpenVINO bf16", skipped="openvino not installed"),
    ]
    assert report.fastest.name == "ONNX Runtime int8"
    table = report.table()
    assert "CPU: Test CPU (flags: avx2" in table and "**ONNX Runtime int8**" in table
    assert "| OpenVINO bf16 | - |" in table and report.ap_can_judge
    report.paths[0].ap50_95 = 1.0
    assert not report.ap_can_judge and "cannot judge" in report.table()
