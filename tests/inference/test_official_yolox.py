"""The official-YOLOX row of benchmarks/inference_speed.py, through its worker process.

No official YOLOX is installed here, so a wrapper interpreter whose ``yolox`` is this checkout
stands in for "another environment": the worker builds the network through the official
constructor API (which this package mirrors), loads our state dict strictly and fuses it; its
output must then equal our own fused model's.
"""

from __future__ import annotations

import copy
import importlib
import importlib.util
import inspect
import os
import re
import shlex
import signal
import sys
from pathlib import Path

import pytest
import torch

from yolox.exp import get_exp
from yolox.testing.fixtures import perturb_
from yolox.testing.official_yolox import OfficialYoloxModel
from yolox.utils.errors import RunFailed, UserError
from yolox.utils.model_utils import fuse_model

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(os.name != "posix", reason="wrapper interpreters are sh scripts")


def _interpreter(folder: Path, name: str, pythonpath: Path) -> Path:
    """A stand-in for another environment's python: this one, with ``pythonpath`` first."""
    path = folder / name
    path.write_text(
        f"#!/bin/sh\nPYTHONPATH={shlex.quote(str(pythonpath))} "
        f'exec {shlex.quote(sys.executable)} "$@"\n'
    )
    path.chmod(0o755)
    return path


@pytest.fixture()
def nano():
    torch.manual_seed(0)
    model = get_exp(None, "yolox-nano").get_model()
    perturb_(model, seed=0)
    return model.eval()


def test_worker_output_equals_our_fused_model_and_worker_ends(tmp_path, nano):
    x = torch.rand(1, 3, 96, 128, generator=torch.Generator().manual_seed(3)) * 255
    with torch.inference_mode():
        ours = fuse_model(copy.deepcopy(nano))(x)
    python = _interpreter(tmp_path, "python", ROOT)
    with OfficialYoloxModel(python, nano, x, threads=torch.get_num_threads()) as official:
        assert Path(official.info["yolox_file"]) == ROOT / "yolox" / "__init__.py"
        for _ in range(2):  # the first output comes from start-up, the second from a request
            out = official().clone()
            assert out.shape == ours.shape == (1, 12 * 16 + 6 * 8 + 3 * 4, 85)
            scale = ours.abs().amax(dim=(0, 1)).clamp(min=1.0)
            assert float(((out - ours).abs().amax(dim=(0, 1)) / scale).max()) < 1e-5
        os.kill(official.pid, signal.SIGKILL)  # a worker that dies mid-run
        official._process.wait()  # dead before the next request (the request then stays buffered)
        with pytest.raises(RunFailed, match=r"via .*python: the worker exited with status -9"):
            official()
    with pytest.raises(ProcessLookupError):
        os.kill(official.pid, 0)  # reaped, not left as a zombie


def test_interpreter_without_official_yolox_is_a_user_error(tmp_path, nano):
    impostor = tmp_path / "site" / "yolox"  # an environment whose yolox does not import
    impostor.mkdir(parents=True)
    (impostor / "__init__.py").write_text("raise ImportError('not the YOLOX you want')\n")
    python = _interpreter(tmp_path, "python", impostor.parent)
    x = torch.rand(1, 3, 64, 64) * 255
    with pytest.raises(UserError) as error:
        OfficialYoloxModel(python, nano, x)
    assert str(error.value) == (
        f"official YOLOX via {python}: cannot import official YOLOX: "
        "ImportError: not the YOLOX you want"
    )
    with pytest.raises(UserError, match="no-such-python: cannot start it"):
        OfficialYoloxModel(tmp_path / "no-such-python", nano, x)


def test_weights_official_yolox_cannot_take_fail_in_one_line(tmp_path, nano):
    nano.head.depthwise = False  # the worker builds a plain head: the depthwise keys don't fit
    x = torch.rand(1, 3, 64, 64) * 255
    with pytest.raises(RunFailed) as error:
        OfficialYoloxModel(_interpreter(tmp_path, "python", ROOT), nano, x)
    message = str(error.value)
    assert "official YOLOX does not take the weights" in message and "\n" not in message
    assert "Unexpected key(s)" in message or "Missing key(s)" in message


def test_models_with_attention_are_refused_before_starting(tmp_path):
    exp = get_exp(None, "yolox-nano")
    exp.attention = "se"
    with pytest.raises(UserError, match="official YOLOX has no attention blocks"):
        OfficialYoloxModel(tmp_path / "never-started", exp.get_model(), torch.zeros(1, 3, 64, 64))


def _benchmark_module():
    spec = importlib.util.spec_from_file_location(
        "inference_speed", ROOT / "benchmarks" / "inference_speed.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_times_the_official_row_with_the_others(tmp_path):
    benchmark = _benchmark_module()
    python = _interpreter(tmp_path, "python", ROOT)
    args = benchmark.make_parser().parse_args(
        ["--runs", "2", "--warmup", "1", "--threads", "1", "--official-python", str(python)]
    )
    rows = {r["variant"]: r for r in benchmark.bench("yolox-nano:64", args)}
    official, fused = rows["official YOLOX eager fused"], rows["eager fused"]
    assert official["runs"] == fused["runs"] == 2 and official["vs_fused"] > 0
    assert official["official_yolox"]["threads"] == 1
    # same weights, same fusion: exactly as far from eager unfused as our own fused model
    assert abs(official["max_rel_diff"] - fused["max_rel_diff"]) < 1e-6
    table = re.sub(" +", " ", benchmark.to_markdown(rows.values()))  # tabulate pads the cells
    assert "| official YOLOX eager fused |" in table
    described = benchmark.describe_official(official)
    assert "note: that is this project's own package" in described
    assert "WARNING" not in described
    broken = {**official, "max_rel_diff": 0.5}
    assert "WARNING: official YOLOX's output differs" in benchmark.describe_official(broken)


#: parameter names of the official YOLOX callables the worker uses (YOLOX v0.1-0.3), in order
OFFICIAL_SIGNATURES = {
    "yolox.models.YOLOX": ["backbone", "head"],
    "yolox.models.YOLOPAFPN": ["depth", "width", "in_features", "in_channels", "depthwise", "act"],
    "yolox.models.YOLOFPN": ["depth", "in_features"],
    "yolox.models.YOLOXHead": [
        "num_classes",
        "width",
        "strides",
        "in_channels",
        "act",
        "depthwise",
    ],
    "yolox.utils.fuse_model": ["model"],
}


@pytest.mark.parametrize("name", sorted(OFFICIAL_SIGNATURES))
def test_this_package_stands_in_with_the_official_signatures(name):
    """The stand-in above is only meaningful if the worker's official calls mean the same here;
    extra parameters of ours (attention) come after the official ones and are optional."""
    module, _, attribute = name.rpartition(".")
    target = getattr(importlib.import_module(module), attribute)
    params = list(inspect.signature(target).parameters.values())
    official = OFFICIAL_SIGNATURES[name]
    assert [p.name for p in params[: len(official)]] == official
    assert all(p.default is not inspect.Parameter.empty for p in params[len(official) :])
