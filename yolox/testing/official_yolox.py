"""Official YOLOX's own eager model as a benchmark runner, from a separate Python environment.

This project promises official checkpoints load unchanged, so the state dict of one of our
models builds Megvii's network too. :class:`OfficialYoloxModel` starts ``official_worker.py``
with another environment's interpreter (one where ``import yolox`` is Megvii's YOLOX), hands it
the weights and the input through temporary files, and then calls it like any other runner:
one request line, one forward there, one reply line. The round trip over the pipe costs tens of
microseconds on an idle machine (waking each process can take a millisecond or two when other
jobs keep the cores busy), and the worker copies its output into a file both processes map
(well under a millisecond even for yolox-s at 640), against forwards of tens to hundreds of
milliseconds. With this project's own package standing in for the official one (the same code
on both sides) the row measured 0.998x of eager fused for yolox-s@640 and 1.07x for nano@416 on
a loaded 2-core machine (benchmarks/inference_speed.md).

Optional and never a dependency: nothing here imports official YOLOX into this process.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Dict, Optional, Union

import numpy as np
import torch

from yolox.models.build import ModelConfig, describe_model
from yolox.utils.errors import RunFailed, UserError
from yolox.utils.model_utils import attention_module_names

__all__ = ["OfficialYoloxModel", "official_spec"]

WORKER = Path(__file__).with_name("official_worker.py")

#: seconds the worker gets to answer ``quit`` before it is killed
QUIT_GRACE_S = 10.0


def official_spec(model: torch.nn.Module) -> Dict:
    """The constructor arguments of official YOLOX's network for ``model`` (read off the model as
    built); refuses models official YOLOX cannot build (attention blocks, other necks/heads)."""
    config = describe_model(model, ModelConfig(neck="unknown"))
    if config.neck not in ("pafpn", "yolofpn"):
        raise UserError(
            f"official YOLOX builds YOLOPAFPN/YOLOFPN necks with a YOLOXHead; "
            f"{type(model).__name__} has {type(getattr(model, 'backbone', None)).__name__}"
        )
    attention = attention_module_names(model)
    if attention:
        raise UserError(
            f"official YOLOX has no attention blocks; this model has {len(attention)} "
            f"({attention[0]}, ...): compare a model without attention"
        )
    keys = ("neck", "depth", "width", "depthwise", "act", "num_classes", "darknet_depth")
    return {**{k: getattr(config, k) for k in keys}, "in_channels": list(config.in_channels)}


class OfficialYoloxModel:
    """Official YOLOX's eager fused model in a worker process; calling it runs one forward on
    the input given here and returns the decoded output [1, N, 5 + classes].

    The returned tensor is a view of the shared output file: valid until the next call. Use it
    as a context manager (or call :meth:`close`): the worker is always ended, and a worker whose
    parent dies reads end-of-input and exits by itself.
    """

    def __init__(
        self,
        python: Union[str, os.PathLike],
        model: torch.nn.Module,
        example_input: torch.Tensor,
        threads: int = 1,
    ) -> None:
        self.python = str(python)
        spec = official_spec(model)
        self._workdir = tempfile.TemporaryDirectory(prefix="yolox-official-")
        work = Path(self._workdir.name)
        torch.save(model.state_dict(), work / "state_dict.pt")
        torch.save(example_input.detach().cpu().float().contiguous(), work / "input.pt")
        spec.update(
            threads=int(threads),
            state_dict=str(work / "state_dict.pt"),
            input=str(work / "input.pt"),
            output=str(work / "output.npy"),
        )
        self._log = open(work / "worker_stderr.txt", "w+")
        self._process: Optional[subprocess.Popen] = None
        self._output: Optional[torch.Tensor] = None
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        try:
            self._process = subprocess.Popen(
                [self.python, str(WORKER), json.dumps(spec)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._log,
                cwd=work,  # outside this project: its own folder must not shadow the other yolox
                env=env,
                text=True,
                bufsize=1,
            )
        except OSError as exc:
            self.close()
            raise UserError(f"official YOLOX via {self.python}: cannot start it: {exc}") from exc
        self.pid = self._process.pid
        try:
            #: where the worker's ``yolox`` came from: yolox_file, yolox_version, torch_version, threads
            self.info: Dict = json.loads(self._reply("ready"))
            for loaded in ("state_dict", "input"):  # less left behind if this process is killed
                Path(spec[loaded]).unlink()
            self._output = torch.from_numpy(np.load(spec["output"], mmap_mode="r+"))
        except BaseException:  # Ctrl-C while it starts, too: no worker outlives a failed start
            self.close()
            raise

    def __call__(self) -> torch.Tensor:
        if self._process is None:
            raise RunFailed(f"official YOLOX via {self.python}: the worker was closed")
        try:
            self._process.stdin.write("run\n")
            self._process.stdin.flush()
        except (OSError, ValueError):  # the worker died (broken pipe) or was closed
            pass  # _reply reports why
        self._reply("ok")
        return self._output

    def _reply(self, expected: str) -> str:
        """The payload of the worker's next line if it starts with ``expected``; otherwise the
        worker is ended and its one-line error raised (import failures are the user's to fix)."""
        line = self._process.stdout.readline()
        word, _, payload = line.strip().partition(" ")
        if word == expected:
            return payload
        status = self._stop_worker()
        if word == "error":
            kind, _, message = payload.partition(": ")
        else:
            kind, message = "died", f"the worker exited with status {status}"
            self._log.seek(0)
            said = [s.strip() for s in self._log.read().splitlines() if s.strip()]
            message += f" ({said[-1]})" if said else ""
        self.close()
        error = UserError if kind == "import" else RunFailed
        raise error(f"official YOLOX via {self.python}: {message}")

    def _stop_worker(self) -> Optional[int]:
        """End the worker: ``quit``, then force after :data:`QUIT_GRACE_S`; its exit status."""
        process = self._process
        if process is None:
            return None
        if process.poll() is None:
            try:
                process.stdin.write("quit\n")
                process.stdin.flush()
            except (OSError, ValueError):  # broken pipe: it is exiting already
                pass
            try:
                process.wait(timeout=QUIT_GRACE_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for stream in (process.stdin, process.stdout):
            if stream:
                try:
                    stream.close()
                except OSError:  # a request still buffered for a worker that died: nothing to do
                    pass
        return process.returncode

    def close(self) -> None:
        """End the worker and delete the temporary files (safe to call twice)."""
        self._stop_worker()
        self._process = None
        self._output = None
        self._log.close()
        self._workdir.cleanup()

    def __enter__(self) -> OfficialYoloxModel:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
