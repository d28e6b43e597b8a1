"""tools/ablate.py end to end on the generated dataset: table, plot, costs, resume, determinism."""

from __future__ import annotations

import csv
import json
import os
import statistics
from pathlib import Path

import numpy as np
import pytest
import torch

from yolox.ablation.plan import parse_variant, parse_variants
from yolox.ablation.report import summarize
from yolox.core.trainer import Trainer
from yolox.tools import ablate

EXP_TEXT = """
import os

from yolox.exp.synthetic import SyntheticExp


class Exp(SyntheticExp):
    def __init__(self):
        super().__init__()
        self.data_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
        self.synthetic_images = (16, 8)
        self.input_size = (128, 128)
        self.test_size = (128, 128)
        self.random_size = (4, 4)
        self.max_epoch = 2
        self.warmup_epochs = 1
        self.no_aug_epochs = 1
        self.eval_interval = 1
        self.print_interval = 1
        self.data_num_workers = 0
"""


def _write_exp(folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "tiny_exp.py"
    path.write_text(EXP_TEXT)
    return str(path)


def _argv(exp_file: str, out: Path, variants, seeds, *extra: str):
    return [
        "-f",
        exp_file,
        "--variants",
        *variants,
        "--seeds",
        *[str(s) for s in seeds],
        "--output-dir",
        str(out),
        "-b",
        "8",
        "--device",
        "cpu",
        "--latency-runs",
        "3",
        "--latency-warmup",
        "1",
        *extra,
    ]


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Training on a shared 2-core machine: one thread avoids oversubscription stalls."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def study(one_thread, tmp_path_factory):
    """A finished 2 variants x 2 seeds study."""
    root = tmp_path_factory.mktemp("ablate")
    exp_file = _write_exp(root / "exp")
    out = root / "study"
    assert ablate.main(_argv(exp_file, out, ["none", "se"], [0, 1])) == 0
    return exp_file, out


def _result(out: Path, name: str) -> dict:
    return json.loads((out / "runs" / name / "result.json").read_text())


def test_table_recomputed_from_run_results(study):
    _, out = study
    table = json.loads((out / "ablation.json").read_text())
    rows = {r["variant"]: r for r in table["rows"]}
    assert list(rows) == ["none", "se"]
    runs = {(v, s): _result(out, f"{v}_seed{s}") for v in ("none", "se") for s in (0, 1)}
    for variant in ("none", "se"):
        assert rows[variant]["runs"] == 2
        for metric in ("ap50_95", "ap50"):
            values = [100 * runs[(variant, s)][metric] for s in (0, 1)]
            assert rows[variant][f"{metric}_mean"] == pytest.approx(sum(values) / 2)
            assert rows[variant][f"{metric}_std"] == pytest.approx(float(np.std(values, ddof=1)))
    diffs = [100 * (runs[("se", s)]["ap50_95"] - runs[("none", s)]["ap50_95"]) for s in (0, 1)]
    assert rows["se"]["d_ap50_95_mean"] == pytest.approx(float(np.mean(diffs)))
    assert rows["se"]["d_ap50_95_std"] == pytest.approx(float(np.std(diffs, ddof=1)))
    with open(out / "ablation.csv") as f:
        csv_rows = list(csv.DictReader(f))
    assert [r["variant"] for r in csv_rows] == ["none", "se"]
    assert float(csv_rows[1]["ap50_mean"]) == pytest.approx(rows["se"]["ap50_mean"])
    markdown = (out / "ablation.md").read_text()
    assert "`none`" in markdown and "`se`" in markdown and "paired" in markdown
    assert rows["se"]["latency_ms"] > 0 and rows["none"]["latency_ratio"] == pytest.approx(1.0)
    assert all(runs[k]["epochs"] == 2 and not runs[k]["resumed"] for k in runs)


def test_study_log_holds_the_runs_and_their_training(study):
    """The trainer adds and removes only its own log sink, so the study's log sees every run."""
    _, out = study
    log = (out / "ablate_log.txt").read_text()
    for name in ("none_seed0", "se_seed0", "none_seed1", "se_seed1"):
        assert f"ablation: starting {name}" in log and f"ablation: {name} AP50:95" in log
    assert log.count("epoch: 2/2") >= 4  # the trainers' progress lines reached the study log


def test_the_report_names_the_cpu_the_latencies_were_timed_on(study):
    from yolox.utils.precision import cpu_description

    _, out = study
    cpu = cpu_description()
    assert json.loads((out / "costs.json").read_text())["cpu"] == cpu
    assert json.loads((out / "ablation.json").read_text())["meta"]["latency_cpu"] == cpu
    legend = next(
        line for line in (out / "ablation.md").read_text().splitlines() if "Latency:" in line
    )
    assert f"forwards of the conv+BN-fused model on {cpu['cpu']} (flags: " in legend


def test_plot_exists_and_is_not_blank(study):
    import matplotlib.image

    _, out = study
    image = matplotlib.image.imread(out / "ablation.png")
    assert image.shape[0] > 200 and image.shape[1] > 200
    gray = image[..., :3].mean(axis=2)
    assert (gray < 0.5).mean() > 0.002  # axes, labels and markers drawn on the white page
    red, green, blue = image[..., 0], image[..., 1], image[..., 2]
    assert ((blue - red > 0.3) & (blue > green)).sum() > 20  # the variant's blue marker


def test_extra_params_equal_modules_built_alone(study):
    from yolox.exp import get_exp
    from yolox.models.attention import build_attention

    exp_file, out = study
    exp = get_exp(exp_file, None)
    channels = [int(c * exp.width) for c in (256, 512, 1024)]  # dark3, dark4, dark5
    alone = sum(p.numel() for c in channels for p in build_attention("se", c).parameters())
    by_hand = sum(2 * c * (c // 16) + c // 16 + c for c in channels)  # two 1x1 convs with bias
    assert alone == by_hand
    rows = {r["variant"]: r for r in json.loads((out / "ablation.json").read_text())["rows"]}
    assert rows["se"]["extra_params"] == alone
    base = sum(p.numel() for p in exp.get_model().parameters())
    assert rows["none"]["params"] == base
    assert rows["se"]["extra_gflops"] > 0


def test_changed_settings_are_refused(study, capsys):
    exp_file, out = study
    argv = _argv(exp_file, out, ["none", "se"], [0, 1], "--report-only", "--no-latency")
    argv[argv.index("-b") + 1] = "4"
    assert ablate.main(argv) == 2
    err = capsys.readouterr().err
    assert "other settings" in err and "batch_size: 8 there, 4 now" in err


def test_a_study_whose_baseline_learned_nothing_prints_no_verdict(study):
    """Two epochs on 16 generated images: the baseline sits at chance, so no verdict."""
    _, out = study
    assert all(_result(out, f"none_seed{s}")["ap50_95"] < 0.01 for s in (0, 1))
    table = json.loads((out / "ablation.json").read_text())
    assert not table["meta"]["learning_check"]["informative"]
    assert [r["verdict"] for r in table["rows"]] == ["baseline", "-"]
    markdown = (out / "ablation.md").read_text()
    assert "Study uninformative: no verdict" in markdown and "max_epoch = 2" in markdown
    se_line = next(line for line in markdown.splitlines() if line.startswith("| `se`"))
    assert not any(w in se_line for w in ("better", "worse", "equivalent", "inconclusive"))


def test_study_defaults_yield_to_overrides(tmp_path):
    from yolox.ablation.plan import RunKey
    from yolox.ablation.runner import StudyConfig, build_exp

    exp_file = _write_exp(tmp_path / "exp")
    variants = parse_variants(["none"])
    config = StudyConfig(exp_file, variants, [0], str(tmp_path / "out"), last_k=4)
    exp = build_exp(config, RunKey(variants[0], 0))
    assert exp.save_history_ckpt is False and exp.eval_last_epochs == 4
    config.opts = ["save_history_ckpt", "True", "eval_last_epochs", "1"]
    exp = build_exp(config, RunKey(variants[0], 0))
    assert exp.save_history_ckpt is True and exp.eval_last_epochs == 1


def test_study_prints_progress_and_keeps_no_history_checkpoints(study):
    """Run i of N with an ETA between runs; no epoch_<n> checkpoints; the evaluations kept."""
    _, out = study
    log = (out / "ablate_log.txt").read_text()
    assert "run 1 of 4 (none_seed0), ETA after this run (4 to train)" in log
    for i, name in enumerate(["se_seed0", "none_seed1", "se_seed1"], start=2):
        assert f"run {i} of 4 ({name}), ETA " in log and f"({5 - i} to train)" in log
    assert not list(out.glob("runs/*/epoch_*_ckpt.pth"))
    result = _result(out, "se_seed0")
    # eval_interval 1 and the last 3 epochs evaluated: both epochs of the 2-epoch runs
    assert [e["epoch"] for e in result["eval_history"]] == [1, 2]
    assert result["eval_history"][-1]["ap50_95"] == pytest.approx(
        result["last_eval_ap50_95_during_training"]
    )


def test_interrupted_study_resumes(study, tmp_path, monkeypatch):
    exp_file, full = study
    out = tmp_path / "study"
    original = Trainer.after_epoch

    def interrupt_se_after_first_epoch(self):
        original(self)
        if self.exp.exp_name == "se_seed0" and self.epoch == 0:
            raise KeyboardInterrupt

    monkeypatch.setattr(Trainer, "after_epoch", interrupt_se_after_first_epoch)
    argv = _argv(exp_file, out, ["none", "se"], [0], "--no-latency")
    assert ablate.main(argv) == 130
    monkeypatch.setattr(Trainer, "after_epoch", original)
    finished = out / "runs" / "none_seed0" / "result.json"
    stamp = os.stat(finished).st_mtime_ns
    assert not (out / "runs" / "se_seed0" / "result.json").exists()
    assert (out / "runs" / "se_seed0" / "latest_ckpt.pth").exists()

    started = []
    args = ablate.make_parser().parse_args(argv)
    ablate.run(args, before_train=lambda key, resume: started.append((key.name, resume)))
    assert started == [("se_seed0", True)]  # the finished run was not trained again
    assert os.stat(finished).st_mtime_ns == stamp
    result = _result(out, "se_seed0")
    assert result["resumed"] and result["epochs"] == 2

    # Same seed, same recipe: the resumed run ends with the weights of the uninterrupted one.
    resumed = torch.load(out / "runs" / "se_seed0" / "latest_ckpt.pth", weights_only=True)
    straight = torch.load(full / "runs" / "se_seed0" / "latest_ckpt.pth", weights_only=True)
    for name, tensor in straight["model"].items():
        assert torch.equal(resumed["model"][name], tensor), name
    assert result["ap50_95"] == _result(full, "se_seed0")["ap50_95"]


def test_a_study_never_mixes_precisions_across_cpus(tmp_path, monkeypatch, capsys):
    """``auto`` resolves per CPU: a study started on a bf16 CPU and continued on one without
    bf16 stops before training, and continues once the precision of its runs is pinned."""
    from yolox.utils import precision as precision_module

    exp_file = _write_exp(tmp_path / "exp")
    out = tmp_path / "study"
    argv = _argv(exp_file, out, ["none"], [0, 1], "--no-latency", "precision", "auto")
    original = Trainer.after_epoch

    def interrupt_seed1(self):
        original(self)
        if self.exp.exp_name == "none_seed1" and self.epoch == 0:
            raise KeyboardInterrupt

    monkeypatch.setattr(precision_module, "cpu_flags", lambda *a: ("avx2", "avx512_bf16"))
    monkeypatch.setattr(Trainer, "after_epoch", interrupt_seed1)
    assert ablate.main(argv) == 130
    monkeypatch.setattr(Trainer, "after_epoch", original)
    assert _result(out, "none_seed0")["precision"] == "bf16"
    config = json.loads((out / "runs" / "none_seed1" / "run_config.json").read_text())
    assert config["precision"] == "bf16"
    capsys.readouterr()

    monkeypatch.setattr(precision_module, "cpu_flags", lambda *a: ("avx2",))  # another CPU
    started = []
    before = (out / "runs" / "none_seed1" / "latest_ckpt.pth").stat().st_mtime_ns
    assert ablate.main(argv) == 2
    err = capsys.readouterr().err
    assert "trained in bf16" in err and "would train in fp32" in err
    assert "--precision bf16" in err
    assert (out / "runs" / "none_seed1" / "latest_ckpt.pth").stat().st_mtime_ns == before

    args = ablate.make_parser().parse_args(argv[:-2] + ["--precision", "bf16", *argv[-2:]])
    ablate.run(args, before_train=lambda key, resume: started.append((key.name, resume)))
    assert started == [("none_seed1", True)]
    assert _result(out, "none_seed1")["precision"] == "bf16"


def test_summarize_against_hand_computation():
    variants = parse_variants(["cam"])  # the baseline is added first
    assert [v.label for v in variants] == ["none", "cam"]
    results = [
        {"variant": "none", "seed": 0, "ap50_95": 0.30, "ap50": 0.50},
        {"variant": "none", "seed": 1, "ap50_95": 0.32, "ap50": 0.52},
        {"variant": "none", "seed": 2, "ap50_95": 0.31, "ap50": 0.49},
        {"variant": "cam", "seed": 0, "ap50_95": 0.33, "ap50": 0.55},
        {"variant": "cam", "seed": 1, "ap50_95": 0.32, "ap50": 0.50},
    ]
    rows = {r["variant"]: r for r in summarize(results, variants)}
    cam = rows["cam"]
    assert cam["runs"] == 2 and cam["pairs"] == 2
    assert cam["ap50_95_mean"] == pytest.approx(32.5)
    assert cam["ap50_95_std"] == pytest.approx(statistics.stdev([33.0, 32.0]))
    assert cam["d_ap50_95_mean"] == pytest.approx(1.5)  # paired over seeds 0 and 1 only
    assert cam["d_ap50_95_std"] == pytest.approx(statistics.stdev([3.0, 0.0]))
    welch = (
        statistics.variance([33.0, 32.0]) / 2 + statistics.variance([30.0, 32.0, 31.0]) / 3
    ) ** 0.5
    assert cam["d_ap50_95_se_welch"] == pytest.approx(welch)
    assert rows["none"]["ap50_std"] == pytest.approx(statistics.stdev([50.0, 52.0, 49.0]))


def test_variant_parsing():
    spec = parse_variant('{"type":"cbam","ratio":8,"positions":["C3_p3"]}')
    assert spec.spec == {"type": "cbam", "ratio": 8, "positions": ["C3_p3"]}
    assert spec.label.startswith("cbam") and "C3_p3" in spec.label
    named = parse_variant('cb8={"type":"cbam","ratio":8}')
    assert named.label == "cb8" and named.spec == {"type": "cbam", "ratio": 8}
    assert parse_variant('{"type":"eca","label":"e"}').label == "e"
    assert parse_variant("none").spec is None and parse_variant("cam").spec == "cam"
    with pytest.raises(ValueError, match="unique"):
        parse_variants(["none", "se", "se"])
    with pytest.raises(ValueError, match="JSON"):
        parse_variant("{type: cbam}")


def test_overrides_after_list_options():
    args = ablate.make_parser().parse_args(
        ["-f", "x.py", "--variants", "none", "se", "--seeds", "0", "1", "--", "max_epoch", "3"]
    )
    assert args.seeds == [0, 1] and ablate._overrides(args.opts) == ["max_epoch", "3"]


def test_unknown_attention_is_a_user_error(tmp_path, capsys):
    exp_file = _write_exp(tmp_path / "exp")
    argv = _argv(exp_file, tmp_path / "out", ["none", "no_such_module"], [0], "--no-latency")
    assert ablate.main(argv) == 2
    assert "no_such_module" in capsys.readouterr().err


def test_fine_tuning_study_starts_every_run_from_the_checkpoint(study, tmp_path, monkeypatch):
    exp_file, full = study
    start = full / "runs" / "none_seed0" / "latest_ckpt.pth"
    start_weights = torch.load(start, weights_only=True)["model"]
    loaded = {}
    original = Trainer.resume_train

    def snapshot_after_loading(self, model):
        ema_state = original(self, model)
        loaded[self.exp.exp_name] = {k: v.detach().clone() for k, v in model.state_dict().items()}
        return ema_state

    monkeypatch.setattr(Trainer, "resume_train", snapshot_after_loading)
    out = tmp_path / "finetune"
    variants = ["none", 'se-id={"type": "se", "init": "identity"}']
    argv = _argv(exp_file, out, variants, [0], "--no-latency", "-c", str(start))
    assert ablate.main(argv) == 0
    assert set(loaded) == {"none_seed0", "se-id_seed0"}
    for run, weights in loaded.items():
        for name, tensor in start_weights.items():
            assert torch.equal(weights[name], tensor), (run, name)
    new_keys = set(loaded["se-id_seed0"]) - set(start_weights)
    assert new_keys and all(".attention." in k for k in new_keys)
    fingerprint = _result(out, "se-id_seed0")["fingerprint"]
    assert len(fingerprint["start_ckpt_sha256"]) == 64
    assert f"started from `{start}`" in (out / "ablation.md").read_text()


def test_resumed_run_ignores_the_start_checkpoint(tmp_path):
    from yolox.ablation.plan import RunKey, Variant
    from yolox.ablation.runner import StudyConfig, _train_args, run_fingerprint

    exp_file = _write_exp(tmp_path / "exp")
    start = tmp_path / "start.pth"
    start.write_bytes(b"weights v1")
    config = StudyConfig(
        exp_file, [Variant("none", None)], [0], str(tmp_path / "s"), ckpt=str(start)
    )
    key = RunKey(Variant("none", None), 0)
    fresh, resumed = _train_args(config, key, resume=False), _train_args(config, key, resume=True)
    assert fresh.ckpt == str(start) and not fresh.resume
    assert resumed.ckpt is None and resumed.resume  # the run's own latest checkpoint
    before = run_fingerprint(config, key)
    start.write_bytes(b"weights v2")
    assert run_fingerprint(config, key) != before  # other start weights = another study
    scratch = StudyConfig(exp_file, [Variant("none", None)], [0], str(tmp_path / "s"))
    assert "start_ckpt_sha256" not in run_fingerprint(scratch, key)


def test_missing_start_checkpoint_is_a_user_error(tmp_path, capsys):
    exp_file = _write_exp(tmp_path / "exp")
    argv = _argv(exp_file, tmp_path / "s", ["none"], [0], "-c", str(tmp_path / "nope.pth"))
    assert ablate.main(argv) == 2
    assert "nope.pth" in capsys.readouterr().err


def test_costs_latency_ratio_is_paired_against_the_baseline():
    import time

    from yolox.ablation.costs import measure_costs
    from yolox.ablation.plan import Variant

    class Delayed(torch.nn.Module):
        def __init__(self, delay: float):
            super().__init__()
            self.delay = delay
            self.conv = torch.nn.Conv2d(3, 4, 1)

        def forward(self, x):
            time.sleep(self.delay)
            return self.conv(x)

    variants = [Variant("slow", "x"), Variant("none", None)]  # baseline need not come first
    costs = measure_costs(
        lambda v: Delayed(0.012 if v.label == "slow" else 0.002),
        variants,
        (16, 16),
        runs=5,
        warmup=1,
    )
    assert costs["none"]["latency_ratio"] == 1.0
    # 12 ms of sleep against 2 ms: the ratio stays above 2 unless a loaded machine adds 8 ms
    assert costs["slow"]["latency_ratio"] > 2.0
    results = [{"variant": v, "seed": 0, "ap50_95": 0.1, "ap50": 0.2} for v in ("none", "slow")]
    rows = {r["variant"]: r for r in summarize(results, variants, costs)}
    assert rows["slow"]["latency_ratio"] == costs["slow"]["latency_ratio"]


def test_labels_of_nearby_points_alternate_above_and_below():
    from yolox.ablation.plot import _label_offsets

    points = [("none", 0.0, 0.0), ("se", 0.58, -0.04), ("eca", 0.57, -0.03), ("cam", 1.2, 0.1)]
    offsets = {name: offset for name, _, _, offset in _label_offsets(points, 1.3, 1.0)}
    assert offsets["eca"] != offsets["se"]  # nearly on top of each other
    assert offsets["none"] == offsets["cam"] == (6, 6)  # alone: the usual place


@pytest.mark.parametrize(
    "flag, value, message",
    [
        ("--last-k", "0", "argument --last-k: must be an integer >= 1, got '0'"),
        ("--margin", "-1", "argument --margin: must be a finite number > 0.0, got '-1'"),
    ],
)
def test_bad_analysis_settings_are_usage_errors(tmp_path, capsys, flag, value, message):
    exp_file = _write_exp(tmp_path / "exp")
    argv = _argv(exp_file, tmp_path / "out", ["none", "se"], [0], flag, value)
    with pytest.raises(SystemExit) as info:  # the parser checks values, before any run starts
        ablate.main(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out" / "runs").exists()
