"""Official YOLOX's eager fused model, served to ``benchmarks/inference_speed.py`` from ANOTHER
Python environment (started by :class:`yolox.testing.official_yolox.OfficialYoloxModel`).

Run by that environment's interpreter as a plain script, with PYTHONPATH cleared and this file's
folder taken off ``sys.path``, so ``yolox`` below is whatever package that environment has
(Megvii's YOLOX) and nothing of this project is imported. It uses only names the official
package has had since its first release: ``yolox.models.YOLOX``/``YOLOPAFPN``/``YOLOFPN``/
``YOLOXHead`` and ``yolox.utils.fuse_model``, plus torch and numpy (official requirements).

Line protocol on the process's original stdout (anything else it prints goes to stderr):

- worker: ``ready {json}`` once the model is built, loaded strictly, fused and has run once, or
  ``error KIND: message`` (KIND ``import``, ``load`` or ``run``) and exit status 1;
- parent: ``run``; worker: ``ok`` after one forward, its output copied into the shared file;
- parent: ``quit``, or end of input (the parent died): the worker exits.
"""

import json
import os
import sys


def _protocol_stream():
    """The original stdout, kept for the protocol; file descriptor 1 then points at stderr."""
    stream = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return stream


def _fail(reply, kind: str, message: str) -> None:
    one_line = " ".join(str(message).split())
    reply.write(f"error {kind}: {one_line[:400]}\n")
    sys.exit(1)


def _build(spec: dict, torch):
    """The network as official ``Exp.get_model`` builds it: constructors, then BN eps/momentum
    (not stored in checkpoints, so it must be set here like the official exps do)."""
    from yolox.models import YOLOX, YOLOXHead

    shared = {k: spec[k] for k in ("in_channels", "act", "depthwise")}
    if spec["neck"] == "yolofpn":
        from yolox.models import YOLOFPN

        backbone = YOLOFPN(depth=spec["darknet_depth"])
    else:
        from yolox.models import YOLOPAFPN

        backbone = YOLOPAFPN(spec["depth"], spec["width"], **shared)
    head = YOLOXHead(spec["num_classes"], spec["width"], **shared)
    model = YOLOX(backbone, head)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.eps, module.momentum = 1e-3, 0.03
    return model


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    reply = _protocol_stream()
    spec = json.loads(sys.argv[1])
    try:
        import yolox  # noqa: I001  (first: fails fast where there is none)
        from yolox.models import YOLOX, YOLOXHead  # noqa: F401  (fail here, not later)
        from yolox.utils import fuse_model

        import numpy as np
        import torch
    except Exception as exc:  # ImportError, or a broken install raising anything else
        _fail(reply, "import", f"cannot import official YOLOX: {type(exc).__name__}: {exc}")
    try:
        model = _build(spec, torch)
        state = torch.load(spec["state_dict"], map_location="cpu")
        model.load_state_dict(state, strict=True)
    except Exception as exc:
        _fail(reply, "load", f"official YOLOX does not take the weights: {exc}")
    torch.set_num_threads(spec["threads"])
    model.eval()
    model.head.decode_in_inference = True
    model = fuse_model(model)
    x = torch.load(spec["input"], map_location="cpu")
    no_grad = getattr(torch, "inference_mode", torch.no_grad)  # the parent's eager rows use it
    try:
        with no_grad():
            first = model(x).numpy()
    except Exception as exc:
        _fail(reply, "run", f"official YOLOX's forward failed: {type(exc).__name__}: {exc}")
    output = np.lib.format.open_memmap(spec["output"], "w+", first.dtype, first.shape)
    output[...] = first
    info = {
        "yolox_file": os.path.realpath(yolox.__file__),
        "yolox_version": str(getattr(yolox, "__version__", "unknown")),
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
    }
    reply.write(f"ready {json.dumps(info)}\n")
    for line in sys.stdin:
        if line.strip() != "run":
            break
        try:
            with no_grad():
                output[...] = model(x).numpy()
        except Exception as exc:
            _fail(reply, "run", f"official YOLOX's forward failed: {type(exc).__name__}: {exc}")
        reply.write("ok\n")


if __name__ == "__main__":
    main()
