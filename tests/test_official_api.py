"""Official YOLOX v0.3.0's public names: importable where official code imports them, and working.

The first test walks ``$YOLOX_SHARED/fixtures/official_api_v030.txt`` (module, name, ``pkg``).
The others check the behaviour of the names this project added for it, each against an
independent reference where one exists (torchvision's NMS, the model's own decoding, the
plain devkit AP, torch.meshgrid, a second IoU implementation).
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
import types
import xml.etree.ElementTree as ET

import cv2
import numpy as np
import pytest
import torch
import torchvision
from loguru import logger
from torch import nn


def test_every_official_definition_is_importable_where_official_has_it(shared_fixtures):
    missing, count = [], 0
    for line in (shared_fixtures / "official_api_v030.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        module, name, *pkg = line.split()
        count += 1
        places = [module] + ([module.rsplit(".", 1)[0]] if pkg else [])
        for place in places:
            if not hasattr(importlib.import_module(place), name):
                missing.append(f"{place}.{name}")
    assert count == 132
    assert not missing, missing


# Official parameter names (and defaults) of the definitions added for compatibility.
OFFICIAL_SIGNATURES = {
    "yolox.utils.demo_utils.nms": "(boxes, scores, nms_thr)",
    "yolox.utils.demo_utils.multiclass_nms": (
        "(boxes, scores, nms_thr, score_thr, class_agnostic=True)"
    ),
    "yolox.utils.demo_utils.demo_postprocess": "(outputs, img_size, p6=False)",
    "yolox.utils.demo_utils.visualize_assign": (
        "(img, boxes, coords, match_results, save_name=None)"
    ),
    "yolox.utils.visualize.vis": "(img, boxes, scores, cls_ids, conf=0.5, class_names=None)",
    "yolox.utils.checkpoint.load_ckpt": "(model, ckpt)",
    "yolox.utils.boxes.filter_box": "(output, scale_range)",
    "yolox.utils.boxes.matrix_iou": "(a, b)",
    "yolox.utils.model_utils.replace_module": (
        "(module, replaced_module_type, new_module_type, replace_func=None)"
    ),
    "yolox.utils.model_utils.freeze_module": "(module, name=None)",
    "yolox.utils.model_utils.adjust_status": "(module, training=False)",
    "yolox.utils.allreduce_norm.all_reduce": "(py_dict, op='sum', group=None)",
    "yolox.utils.allreduce_norm.pyobj2tensor": "(pyobj, device='cuda')",
    "yolox.utils.dist.gather": "(data, dst=0, group=None)",
    "yolox.utils.dist.all_gather": "(data, group=None)",
    "yolox.utils.metric.occupy_mem": "(cuda_device, mem_ratio=0.9)",
    "yolox.utils.metric.get_total_and_free_memory_in_Mb": "(cuda_device)",
    "yolox.utils.logger.get_caller_name": "(depth=0)",
    "yolox.utils.logger.redirect_sys_output": "(log_level='INFO')",
    "yolox.evaluators.voc_eval.voc_eval": (
        "(detpath, annopath, imagesetfile, classname, cachedir, ovthresh=0.5, use_07_metric=False)"
    ),
    "yolox.evaluators.voc_eval.parse_rec": "(filename)",
    "yolox.models.build.create_yolox_model": (
        "(name, pretrained=True, num_classes=80, device=None, exp_path=None, ckpt_path=None)"
    ),
    "yolox.models.build.yolox_s": "(pretrained=True, num_classes=80, device=None)",
    "yolox.models.build.yolox_custom": "(ckpt_path=None, exp_path=None, device=None)",
    "yolox.exp.yolox_base.check_exp_value": "(exp)",
    "yolox.data.datasets.coco.remove_useless_info": "(coco)",
    "yolox.data.datasets.datasets_wrapper.cache_read_img": "(use_cache=True)",
}


def _plain_signature(obj) -> str:
    params = []
    for p in inspect.signature(obj).parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        params.append(p.name if p.default is p.empty else f"{p.name}={p.default!r}")
    return "(" + ", ".join(params) + ")"


@pytest.mark.parametrize("path", sorted(OFFICIAL_SIGNATURES))
def test_added_definitions_take_official_arguments(path):
    module, name = path.rsplit(".", 1)
    signature = _plain_signature(getattr(importlib.import_module(module), name))
    assert signature == OFFICIAL_SIGNATURES[path]


# ------------------------------------------------------------------ boxes, grids, NMS
def test_meshgrid_is_ij_order():
    from yolox.utils import meshgrid

    ys, xs = meshgrid(torch.arange(3), torch.arange(4))
    assert ys.shape == xs.shape == (3, 4)
    assert torch.equal(ys, torch.arange(3)[:, None].expand(3, 4))
    assert torch.equal(xs, torch.arange(4)[None, :].expand(3, 4))


def _random_boxes(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 80, (n, 2))
    return np.concatenate([xy, xy + rng.uniform(2, 40, (n, 2))], 1)


def test_matrix_iou_matches_bboxes_iou_and_filter_box_keeps_the_area_band():
    from yolox.utils import bboxes_iou, filter_box, matrix_iou

    a, b = _random_boxes(7, 0), _random_boxes(5, 1)
    expected = bboxes_iou(torch.from_numpy(a), torch.from_numpy(b)).numpy()
    np.testing.assert_allclose(matrix_iou(a, b), expected, rtol=1e-6, atol=1e-9)
    out = torch.from_numpy(np.concatenate([a, np.ones((7, 1))], 1))
    kept = filter_box(out, (10, 30))
    areas = [(r[2] - r[0]) * (r[3] - r[1]) for r in out.tolist()]
    assert kept.tolist() == [r for r, s in zip(out.tolist(), areas) if 100 < s < 900]


def test_numpy_nms_equals_torchvision_on_pixel_inclusive_boxes():
    from yolox.utils import multiclass_nms, nms

    boxes = _random_boxes(60, 2)
    scores = np.random.default_rng(3).uniform(0, 1, 60)
    inclusive = torch.from_numpy(boxes + np.array([0, 0, 1, 1]))  # the +1 width convention
    ref = torchvision.ops.nms(inclusive, torch.from_numpy(scores), 0.4).tolist()
    assert nms(boxes, scores, 0.4) == ref

    cls_scores = np.random.default_rng(4).uniform(0, 1, (60, 3))
    agnostic = multiclass_nms(boxes, cls_scores, 0.4, 0.3)
    best, labels = cls_scores.max(1), cls_scores.argmax(1)
    keep = np.flatnonzero(best > 0.3)
    order = torchvision.ops.nms(inclusive[keep], torch.from_numpy(best[keep]), 0.4).numpy()
    np.testing.assert_allclose(agnostic[:, 4], best[keep][order])
    np.testing.assert_array_equal(agnostic[:, 5], labels[keep][order])

    aware = multiclass_nms(boxes, cls_scores, 0.4, 0.3, class_agnostic=False)
    for cls in range(3):
        keep = np.flatnonzero(cls_scores[:, cls] > 0.3)
        scores_c = torch.from_numpy(cls_scores[keep, cls])
        ref = torchvision.ops.nms(inclusive[keep], scores_c, 0.4).numpy()
        np.testing.assert_allclose(aware[aware[:, 5] == cls][:, :4], boxes[keep][ref])
    assert multiclass_nms(boxes, cls_scores, 0.4, 2.0) is None


def test_demo_postprocess_decodes_like_the_model_head():
    from yolox.models import build_model, zoo_config
    from yolox.utils import demo_postprocess

    torch.manual_seed(0)
    model = build_model(zoo_config("yolox-nano")).eval()
    x = torch.rand(1, 3, 96, 128) * 255
    with torch.no_grad():
        decoded = model(x).numpy()
        model.head.decode_in_inference = False
        raw = model(x).numpy()
    np.testing.assert_allclose(demo_postprocess(raw.copy(), (96, 128)), decoded, rtol=1e-4)


# ------------------------------------------------------------------ drawing
def test_vis_draws_in_place_only_boxes_over_conf():
    from yolox.utils import vis

    img = np.zeros((100, 100, 3), np.uint8)
    boxes = np.array([[10, 40, 40, 90], [60, 60, 90, 90]], np.float32)
    out = vis(img, boxes, [0.9, 0.2], [0, 1], conf=0.5, class_names=["a", "b"])
    assert out is img
    assert img[40:90, 10].any()  # left edge of the kept box
    assert not img[70, 60:91].any()  # the low-score box is not drawn


def test_visualize_assign_marks_assigned_anchors_and_unmatched_boxes(tmp_path):
    import random

    from yolox.utils import random_color, visualize_assign

    random.seed(0)
    color = random_color()
    assert len(color) == 3 and all(0 <= c <= 255 for c in color)
    img = np.zeros((64, 64, 3), np.uint8)
    coords = torch.tensor([[20.0, 20.0], [50.0, 50.0]])
    matches = torch.tensor([0, 0])
    save = tmp_path / "assign.png"
    visualize_assign(img, [[10, 10, 30, 30], [40, 5, 60, 25]], coords, matches, str(save))
    assert img[20, 20].any() and img[50, 50].any()  # anchors drawn
    assert tuple(img[15, 40]) == (0, 0, 255)  # the box with no anchor: red
    assert save.is_file()


def test_mkdir_makes_nested_folders(tmp_path):
    from yolox.utils import mkdir

    mkdir(str(tmp_path / "a" / "b"))
    mkdir(str(tmp_path / "a" / "b"))  # again: no error
    assert (tmp_path / "a" / "b").is_dir()


# ------------------------------------------------------------------ models and weights
def _tiny_net() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.SiLU(), nn.Sequential(nn.Conv2d(4, 2, 1))
    )


def test_load_ckpt_loads_what_fits_and_warns_about_the_rest():
    from yolox.utils import load_ckpt

    model, other = _tiny_net(), _tiny_net()
    ckpt = dict(other.state_dict())
    ckpt["3.0.weight"] = torch.zeros(5, 4, 1, 1)  # wrong shape
    del ckpt["0.bias"]
    before = model.state_dict()["3.0.weight"].clone()
    messages = []
    sink = logger.add(lambda m: messages.append(str(m)), level="WARNING")
    try:
        assert load_ckpt(model, ckpt) is model
    finally:
        logger.remove(sink)
    assert torch.equal(model.state_dict()["0.weight"], other.state_dict()["0.weight"])
    assert torch.equal(model.state_dict()["3.0.weight"], before)
    assert any("0.bias is not in the ckpt" in m for m in messages)
    assert any("Shape of 3.0.weight" in m for m in messages)


def test_replace_module_swaps_silu_for_the_written_out_one():
    from yolox.models import build_model, zoo_config
    from yolox.models.network_blocks import SiLU
    from yolox.utils import replace_module

    x = torch.randn(1000)
    assert torch.allclose(SiLU()(x), nn.SiLU()(x))
    torch.manual_seed(0)
    model = build_model(zoo_config("yolox-nano")).eval()
    img = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        before = model(img)
        replaced = replace_module(model, nn.SiLU, SiLU)
        after = replaced(img)
    assert not any(type(m) is nn.SiLU for m in replaced.modules())
    assert any(isinstance(m, SiLU) for m in replaced.modules())
    torch.testing.assert_close(before, after)


def test_freeze_module_and_adjust_status():
    from yolox.utils import adjust_status, freeze_module

    model = _tiny_net()
    freeze_module(model, name="0")  # the first conv (and nothing named with 0 elsewhere)
    frozen = {n for n, p in model.named_parameters() if not p.requires_grad}
    assert frozen == {"0.weight", "0.bias", "3.0.weight", "3.0.bias"}  # "3.0" contains "0"
    freeze_module(model)
    assert not any(p.requires_grad for p in model.parameters())
    assert not model[1].training  # BatchNorm frozen too

    model = _tiny_net().train()
    model[1].eval()
    with adjust_status(model, training=False) as inside:
        assert inside is model and not any(m.training for m in model.modules())
    assert model.training and model[0].training and not model[1].training


# ------------------------------------------------------------------ distributed helpers (CPU)
def test_single_process_helpers(monkeypatch):
    from yolox.utils import (
        all_gather,
        all_reduce,
        all_reduce_norm,
        gather,
        get_local_size,
        get_num_devices,
        is_parallel,
        pyobj2tensor,
        tensor2pyobj,
        time_synchronized,
        wait_for_the_master,
    )
    from yolox.utils.dist import shared_random_seed

    obj = {"a": [1, 2.5, "x"], "b": None}
    t = pyobj2tensor(obj)  # official default device "cuda": the CPU without one
    assert t.dtype == torch.uint8 and tensor2pyobj(t) == obj
    states = {"w": torch.ones(2)}
    assert all_reduce(states) is states
    model = _tiny_net()
    all_reduce_norm(model)  # no-op, no error
    assert all_gather(3) == [3] and gather(3) == [3] and get_local_size() == 1
    assert 0 <= shared_random_seed() < 2**31
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1,3")
    assert get_num_devices() == 3
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert get_num_devices() == 0
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    assert get_num_devices() == torch.cuda.device_count()
    t0 = time_synchronized()
    with wait_for_the_master():
        pass
    assert time_synchronized() >= t0
    assert is_parallel(nn.DataParallel(model)) and not is_parallel(model)


def _worker(rank: int, world_size: int, port: int, out_dir: str) -> None:
    import torch.distributed as dist

    from yolox.utils import all_gather, all_reduce, gather, get_local_size
    from yolox.utils.dist import shared_random_seed

    os.environ["LOCAL_WORLD_SIZE"] = str(world_size)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=world_size)  # fmt: skip
    try:
        np.random.seed(rank)
        summed = all_reduce({"a": torch.full((2, 2), rank + 1.0), "b": torch.tensor([rank])})
        mean = all_reduce({"a": torch.full((3,), 2.0 * rank)}, op="mean")
        result = {
            "sum_a": summed["a"].tolist(),
            "sum_b": summed["b"].tolist(),
            "mean_a": mean["a"].tolist(),
            "all_gather": all_gather(rank * 10),
            "gather": gather(rank, dst=0),
            "seed": shared_random_seed(),
            "local_size": get_local_size(),
        }
        torch.save(result, os.path.join(out_dir, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_collectives_over_gloo_on_two_cpu_processes(tmp_path):
    import socket

    import torch.multiprocessing as mp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(_worker, args=(2, port, str(tmp_path)), nprocs=2, join=True)
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1))
    for r in (r0, r1):
        assert r["sum_a"] == [[3.0, 3.0], [3.0, 3.0]] and r["sum_b"] == [1]
        assert r["mean_a"] == [1.0, 1.0, 1.0]
        assert r["all_gather"] == [0, 10] and r["local_size"] == 2
    assert r0["gather"] == [0, 1] and r1["gather"] == []
    assert r0["seed"] == r1["seed"]


def test_memory_helpers_on_cpu():
    from yolox.utils import get_total_and_free_memory_in_Mb, mem_usage, occupy_mem

    assert mem_usage() > 0
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="no GPU"):
            get_total_and_free_memory_in_Mb(0)
        occupy_mem(0)  # nothing to occupy: no error
        occupy_mem(torch.device("cpu"))


def test_configure_helpers_respect_the_users_settings(monkeypatch):
    from yolox.utils import configure_module, configure_nccl, configure_omp

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    configure_omp()
    assert os.environ["OMP_NUM_THREADS"] == "1"
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    configure_omp(1)
    assert os.environ["OMP_NUM_THREADS"] == "3"
    monkeypatch.delenv("NCCL_LAUNCH_MODE", raising=False)
    configure_nccl()
    assert os.environ["NCCL_LAUNCH_MODE"] == "PARALLEL"
    configure_module()  # open-file limit and OpenCV threads: no error on this platform
    assert cv2.getNumThreads() in (0, 1)
    cv2.setNumThreads(-1)


# ------------------------------------------------------------------ logging
def test_caller_name_and_stream_to_loguru(monkeypatch, capsys):
    from yolox.utils.logger import StreamToLoguru, get_caller_name, redirect_sys_output

    assert get_caller_name() == __name__
    stream = StreamToLoguru(caller_names=("fakecoco",))
    messages = []
    sink = logger.add(lambda m: messages.append(m.record["message"]), level="INFO")
    try:
        fake = types.ModuleType("fakecoco.evaluation")
        exec("def shout(stream):\n    stream.write('Accumulating results\\n')\n", fake.__dict__)
        fake.shout(stream)  # printed from a listed package: to loguru
        stream.write("plain print\n")  # printed from here: to the real stdout
    finally:
        logger.remove(sink)
    assert messages == ["Accumulating results"]
    monkeypatch.setattr(sys, "stdout", sys.stdout)
    monkeypatch.setattr(sys, "stderr", sys.stderr)
    redirect_sys_output("INFO")
    assert isinstance(sys.stdout, StreamToLoguru) and isinstance(sys.stderr, StreamToLoguru)


def test_wandb_and_mlflow_loggers_fail_with_the_install_line_or_log(monkeypatch, tmp_path):
    from yolox.utils import MlflowLogger, WandbLogger

    monkeypatch.setitem(sys.modules, "wandb", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "mlflow", None)
    with pytest.raises(ImportError, match="pip install wandb"):
        WandbLogger(project="p")
    with pytest.raises(ImportError, match="pip install mlflow"):
        MlflowLogger()

    logged = []
    run = types.SimpleNamespace(log=lambda values, step=None: logged.append((values, step)),
                                finish=lambda: logged.append("finished"), id="r1")  # fmt: skip
    fake_wandb = types.SimpleNamespace(run=None, init=lambda **kwargs: run)
    monkeypatch.setitem(sys.modules, "wandb", fake_wandb)
    wb = WandbLogger(project="p", config={"lr": 0.1})
    wb.log_metrics({"train/loss": torch.tensor(1.5), "lr": 0.01}, step=3)
    wb.finish()
    assert logged == [({"train/loss": 1.5, "lr": 0.01}, 3), "finished"]

    calls = []
    fake_mlflow = types.SimpleNamespace(
        active_run=lambda: None,
        start_run=lambda run_name=None: calls.append(("start", run_name)),
        log_params=lambda p: calls.append(("params", sorted(p))),
        log_metrics=lambda m, step=None: calls.append(("metrics", m, step)),
        log_artifact=lambda path, artifact_path=None: calls.append(("artifact", path)),
        end_run=lambda: calls.append("end"),
    )
    monkeypatch.setitem(sys.modules, "mlflow", fake_mlflow)
    ml = MlflowLogger()
    args = types.SimpleNamespace(experiment_name="run", batch_size=8)
    exp = types.SimpleNamespace(max_epoch=3, model=nn.Linear(1, 1))
    ml.on_log(args, exp, 5, {"AP50": torch.tensor(0.5), "note": "x"})
    (tmp_path / "best_ckpt.pth").write_bytes(b"0")
    ml.on_train_end(args, str(tmp_path))
    assert calls[0] == ("start", "run")
    assert calls[1] == ("params", ["args.batch_size", "args.experiment_name", "exp.max_epoch"])
    assert calls[2] == ("metrics", {"AP50": 0.5}, 5)
    assert calls[3] == ("artifact", str(tmp_path / "best_ckpt.pth")) and calls[4] == "end"


# ------------------------------------------------------------------ exp, evaluators, data
def test_check_exp_value_rejects_sizes_that_are_not_multiples_of_32():
    from yolox.exp import Exp, check_exp_value
    from yolox.utils.errors import UserError

    exp = Exp()
    check_exp_value(exp)
    exp.input_size = (640, 650)
    with pytest.raises(UserError, match=r"input_size=\(640, 650\).*multiples of 32"):
        check_exp_value(exp)


def _write_xml(path, objects, size=(100, 120)):
    objs = "".join(
        f"<object><name>{n}</name><pose>Left</pose><truncated>0</truncated>"
        f"<difficult>{d}</difficult><bndbox><xmin>{b[0]}</xmin><ymin>{b[1]}</ymin>"
        f"<xmax>{b[2]}</xmax><ymax>{b[3]}</ymax></bndbox></object>"
        for n, b, d in objects
    )
    path.write_text(
        f"<annotation><size><width>{size[1]}</width><height>{size[0]}</height></size>"
        f"{objs}</annotation>"
    )


def test_voc_eval_from_files_matches_the_plain_devkit_reference(tmp_path):
    from yolox.evaluators.voc_eval import parse_rec, voc_eval
    from yolox.testing.voc_reference import reference_class_ap

    rng = np.random.default_rng(0)
    names, gts, lines = [], {}, []
    for i in range(6):
        name = f"img{i}"
        names.append(name)
        boxes = _random_boxes(3, 10 + i).round()
        difficult = [0, 0, int(i == 2)]
        _write_xml(tmp_path / f"{name}.xml", [("dog", b, d) for b, d in zip(boxes, difficult)])
        gts[i] = (boxes, np.array(difficult, bool))
        for b in boxes:
            jitter = b + rng.normal(0, 3, 4)
            lines.append((i, float(rng.uniform()), jitter))
        lines.append((i, float(rng.uniform()), _random_boxes(1, 99 + i)[0]))
    (tmp_path / "set.txt").write_text("\n".join(names))
    (tmp_path / "det_dog.txt").write_text(
        "".join(f"img{i} {s} {' '.join(f'{v:.3f}' for v in b)}\n" for i, s, b in lines)
    )
    recs = parse_rec(str(tmp_path / "img2.xml"))
    assert recs[2]["difficult"] == 1 and recs[0]["name"] == "dog" and recs[0]["pose"] == "Left"
    assert recs[0]["bbox"] == [int(v) for v in gts[2][0][0]]
    dets = [(i, s, [float(f"{v:.3f}") for v in b]) for i, s, b in lines]
    for use07 in (False, True):
        rec, prec, ap = voc_eval(
            str(tmp_path / "det_{}.txt"), str(tmp_path / "{}.xml"), str(tmp_path / "set.txt"),
            "dog", str(tmp_path / "cache"), ovthresh=0.5, use_07_metric=use07,
        )  # fmt: skip
        assert ap == pytest.approx(reference_class_ap(dets, gts, 0.5, use07))
        assert rec[-1] <= 1.0 and len(prec) == len(lines)
    assert (tmp_path / "cache" / "annots.pkl").is_file()
    (tmp_path / "det_cat.txt").write_text("")
    assert voc_eval(str(tmp_path / "det_{}.txt"), str(tmp_path / "{}.xml"),
                    str(tmp_path / "set.txt"), "cat", None) == (0, 0, 0)  # fmt: skip


def test_per_class_tables_read_the_cocoeval_arrays():
    from yolox.evaluators.coco_evaluator import per_class_AP_table, per_class_AR_table

    precision = -np.ones((10, 101, 3, 4, 3))
    precision[:, :, 0, 0, -1] = 0.5
    precision[:5, :, 1, 0, -1] = 1.0
    recall = -np.ones((10, 3, 4, 3))
    recall[:, 0, 0, -1] = 0.25
    fake = types.SimpleNamespace(eval={"precision": precision, "recall": recall})
    table = per_class_AP_table(fake, class_names=["a", "b", "c"])
    header, _, row = table.splitlines()
    assert [c.strip() for c in header.split("|")[1:-1]] == ["class", "AP"] * 3
    cells = [c.strip() for c in row.split("|")[1:-1]]
    assert cells == ["a", "50.000", "b", "100.000", "c", "nan"]
    ar = per_class_AR_table(fake, class_names=["a", "b", "c"], colums=2).splitlines()
    assert [c.strip() for c in ar[2].split("|")[1:-1]] == ["a", "25.000"]
    with pytest.raises(ValueError, match="2 class names for 3 classes"):
        per_class_AP_table(fake, class_names=["a", "b"])


def test_annotation_transform_agrees_with_the_xml_parser(tmp_path):
    from yolox.data.datasets.voc import AnnotationTransform
    from yolox.data.datasets.voc_xml import parse_voc_xml

    path = tmp_path / "a.xml"
    _write_xml(path, [("dog", (5, 6, 50, 60), 0), ("cat", (1, 2, 9, 9), 1)], size=(80, 90))
    res, info = AnnotationTransform()(ET.parse(path).getroot())
    parsed = parse_voc_xml(path)
    assert info == (parsed.height, parsed.width) == (80, 90)
    np.testing.assert_array_equal(res[:, :4], [np.array(o.box) - 1 for o in parsed.objects])
    from yolox.data import VOC_CLASSES

    assert res[:, 4].tolist() == [VOC_CLASSES.index("dog"), VOC_CLASSES.index("cat")]
    easy, _ = AnnotationTransform({"dog": 0, "cat": 1}, keep_difficult=False)(
        ET.parse(path).getroot()
    )
    assert easy.tolist() == [[4, 5, 49, 59, 0]]


def test_remove_useless_info_drops_what_training_never_reads():
    from pycocotools.coco import COCO

    from yolox.data.datasets.coco import remove_useless_info

    coco = COCO()
    coco.dataset = {
        "info": {}, "licenses": [],
        "images": [{"id": 1, "file_name": "a.jpg", "license": 3, "coco_url": "u",
                    "date_captured": "d", "flickr_url": "f"}],
        "annotations": [{"id": 1, "image_id": 1, "bbox": [0, 0, 1, 1], "segmentation": [[0]]}],
    }  # fmt: skip
    remove_useless_info(coco)
    assert coco.dataset == {
        "images": [{"id": 1, "file_name": "a.jpg"}],
        "annotations": [{"id": 1, "image_id": 1, "bbox": [0, 0, 1, 1]}],
    }


class _Numbers(torch.utils.data.Dataset):
    def __init__(self, start: int, n: int) -> None:
        self.values, self.input_dim = list(range(start, start + n)), (32, 32)

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, index):
        return index if isinstance(index, tuple) else self.values[index]

    def pull_item(self, index: int) -> int:
        return self.values[index]


def test_concat_datasets_route_indices_and_sampler_keys():
    from yolox.data.datasets import ConcatDataset, MixConcatDataset

    cat = ConcatDataset([_Numbers(0, 3), _Numbers(100, 2)])
    assert cat.input_dim == (32, 32) and len(cat) == 5
    assert [cat.pull_item(i) for i in range(5)] == [0, 1, 2, 100, 101]
    assert cat.pull_item(-1) == 101
    with pytest.raises(ValueError):
        cat.pull_item(-6)
    mix = MixConcatDataset([_Numbers(0, 3), _Numbers(100, 2)])
    assert mix[4] == 101
    assert mix[(True, 3, (64, 96))] == (True, 0, (64, 96))  # local index, key kept


def test_cache_dataset_reads_each_image_once(tmp_path):
    from yolox.data.datasets import CacheDataset
    from yolox.data.datasets.datasets_wrapper import cache_read_img

    class Images(CacheDataset):
        def __init__(self, cache_type):
            self.reads = 0
            super().__init__((32, 32), num_imgs=3, data_dir=str(tmp_path), cache_dir_name="c",
                             path_filename=["a.jpg", "b.jpg", "c.jpg"], cache=True,
                             cache_type=cache_type)  # fmt: skip

        @cache_read_img(use_cache=True)
        def read_img(self, index):
            self.reads += 1
            return np.full((2, 2, 3), index, np.uint8)

    for kind in ("ram", "disk"):
        ds = Images(kind)
        assert ds.reads == 3
        assert [int(ds.read_img(i)[0, 0, 0]) for i in range(3)] == [0, 1, 2]
        assert ds.reads == 3  # served from the cache
        assert int(ds.read_img(1, use_cache=False)[0, 0, 0]) == 1 and ds.reads == 4
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == ["a.npy", "b.npy", "c.npy"]
