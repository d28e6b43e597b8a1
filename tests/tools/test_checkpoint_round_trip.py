"""A checkpoint alone reproduces its run's evaluation: eval/demo/export with ``-c`` only use
the trained test size, thresholds, dataset format and VOC metric, and name the run."""

from __future__ import annotations

import pytest
import torch

from yolox.tools import eval as eval_tool
from yolox.tools.train import main as train_main


def _grid_aligned_boxes(annotations) -> None:
    """Make every ground truth a 64 px square centred on the 64 px grid of the 256 px images:
    at the 128 px test size these are the 32 px boxes the untrained head predicts around its
    stride-32 grid points, so the run scores a non-zero AP without minutes of training, and
    another test size scores differently."""
    for xml in annotations.glob("*.xml"):
        text = xml.read_text()
        head, tail = text[: text.index("<object>")], "</annotation>\n"
        objects = []
        cells = ((1, 1), (2, 2), (3, 3), (1, 3))
        for (i, j), name in zip(cells, ("circle", "square", "triangle", "circle")):
            box = [64 * i - 32, 64 * j - 32, 64 * i + 32, 64 * j + 32]
            objects.append(
                f"<object><name>{name}</name><difficult>0</difficult><bndbox><xmin>{box[0]}"
                f"</xmin><ymin>{box[1]}</ymin><xmax>{box[2]}</xmax><ymax>{box[3]}</ymax>"
                "</bndbox></object>\n"
            )
        xml.write_text(head + "".join(objects) + tail)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """One epoch (almost no learning) of nano on a small generated VOC dataset at 128 px."""
    from yolox.exp import get_exp

    root = tmp_path_factory.mktemp("roundtrip")
    exp_file = root / "my_voc.py"
    exp_file.write_text(
        "from yolox.exp.synthetic import SyntheticExp\n\n"
        "class Exp(SyntheticExp):\n"
        "    synthetic_format = 'voc'\n\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.exp_name = 'my_voc'\n"
        f"        self.data_dir = {str(root / 'data')!r}\n"
        "        self.synthetic_images = (8, 8)\n"
        "        self.input_size = self.test_size = (128, 128)\n"
        "        self.random_size = (4, 4)\n"
        "        self.max_epoch, self.warmup_epochs, self.no_aug_epochs = 1, 0, 0\n"
        "        self.eval_interval, self.test_conf, self.nmsthre = 1, 0.0, 0.6\n"
        "        self.basic_lr_per_img = 1e-6\n"
    )
    get_exp(str(exp_file), None).prepare_data()
    _grid_aligned_boxes(root / "data" / "Annotations")
    argv = ["-f", str(exp_file), "-b", "8", "--device", "cpu", "output_dir", str(root / "out")]
    assert train_main(argv) == 0
    return root, root / "out" / "my_voc" / "best_ckpt.pth"


def _eval_from_checkpoint(ckpt, data_dir, *extra):
    args = eval_tool.make_parser().parse_args(
        ["-c", str(ckpt), "--data-dir", str(data_dir), "-b", "8", "--device", "cpu", *extra]
    )
    exp = eval_tool.prepare_exp(args)
    return exp, eval_tool.evaluate(exp, args, 1)


@pytest.mark.slow
def test_eval_from_the_checkpoint_alone_reproduces_the_training_ap(trained_run):
    root, ckpt = trained_run
    state = torch.load(ckpt, weights_only=True)
    assert state["inference"]["input_size"] == [128, 128]  # the exp's, not the last multi-scale
    exp, scores = _eval_from_checkpoint(ckpt, root / "data", "--format", "voc")
    assert tuple(exp.test_size) == (128, 128) and exp.test_conf == 0.0 and exp.nmsthre == 0.6
    assert exp.voc_metric == "voc10" and exp.val_sets == ("val",)
    assert state["best_ap"] > 0
    assert scores["ap50_95"] == pytest.approx(state["best_ap"], abs=1e-9)
    # the size matters: the 640 px that checkpoint-only tools used to assume scores otherwise
    _, at_640 = _eval_from_checkpoint(ckpt, root / "data", "--tsize", "640")
    assert at_640["ap50_95"] != pytest.approx(state["best_ap"], abs=1e-6)


@pytest.mark.slow
def test_demo_and_export_use_the_trained_size_and_run_name(trained_run, tmp_path, monkeypatch):
    import onnx

    from yolox.tools import demo, export_onnx

    root, ckpt = trained_run
    image = next((root / "data").rglob("*.jpg"))
    monkeypatch.chdir(tmp_path)
    argv = ["image", "-c", str(ckpt), "--path", str(image), "--save_result", "--device", "cpu"]
    assert demo.main(argv) == 0
    written = list((tmp_path / "YOLOX_outputs").rglob("*.jpg"))
    assert len(written) == 1 and written[0].parts[-4:-2] == ("my_voc", "vis_res")
    predictor = demo.build_predictor(demo.make_parser().parse_args(argv), None)
    assert predictor.test_size == (128, 128)

    out = tmp_path / "m.onnx"
    argv = ["-c", str(ckpt), "--output-name", str(out), "--no-onnxsim"]
    assert export_onnx.main(argv) == 0
    dims = onnx.load(str(out)).graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in dims] == [1, 3, 128, 128]
