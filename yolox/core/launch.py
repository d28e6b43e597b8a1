"""Process launching: single process, ``-d N`` (spawn), multi-machine, or torchrun.

Under torchrun (RANK/WORLD_SIZE/LOCAL_RANK in the environment) this process joins the group
directly. With ``-d N`` it spawns N workers and, if one fails, ``torch.multiprocessing``
terminates the others. In every distributed mode a :class:`~yolox.core.watchdog.Watchdog`
thread makes survivors exit when a peer stops, which also covers multi-machine runs.
"""

from __future__ import annotations

import os
import socket
import traceback
from datetime import timedelta
from typing import Any, Callable, Sequence
from urllib.parse import urlparse

import torch
import torch.distributed as dist
from loguru import logger

from yolox.core.watchdog import Watchdog
from yolox.utils.device import select_device
from yolox.utils.errors import UserError

__all__ = [
    "launch",
    "resolve_device",
    "bind_device",
    "default_backend",
    "default_num_devices",
    "launched_by_torchrun",
    "find_free_port",
    "DEFAULT_TIMEOUT",
]

# Collective timeout: long enough for rank-0-only work (COCO scoring, saving) while the other
# ranks wait; dead peers are caught much sooner by the watchdog.
DEFAULT_TIMEOUT = timedelta(minutes=30)


def resolve_device(name: str | torch.device | None, local_rank: int = 0) -> torch.device:
    """The device of this process: ``select_device(name)``, indexed by local rank on CUDA."""
    device = select_device(name)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", local_rank)
    return device


def bind_device(device: torch.device) -> None:
    """Make ``device`` the process's current CUDA device (NCCL needs it); no-op on CPU."""
    if device.type == "cuda":
        torch.cuda.set_device(device)


def default_backend(device: torch.device) -> str:
    return "nccl" if device.type == "cuda" else "gloo"


def default_num_devices(device_name: str | None) -> int:
    """Processes per machine when ``-d`` is not given: all GPUs, or one CPU process."""
    device = select_device(device_name)
    return torch.cuda.device_count() if device.type == "cuda" else 1


def launched_by_torchrun() -> bool:
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ and "LOCAL_RANK" in os.environ


def find_free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _init_group(
    backend: str | None,
    device_name: str | None,
    init_method: str,
    rank: int,
    world: int,
    timeout: timedelta,
) -> Watchdog:
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = resolve_device(device_name, local_rank)
    bind_device(device)
    backend = default_backend(device) if backend in (None, "", "auto") else backend
    dist.init_process_group(
        backend, init_method=init_method, rank=rank, world_size=world, timeout=timeout
    )
    host, port = os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"])
    return Watchdog(host, port, rank, world).start()


def _run_member(main_func: Callable, args: Sequence[Any], watchdog: Watchdog) -> None:
    try:
        main_func(*args)
        dist.barrier()
        watchdog.stop()
    except BaseException as exc:
        watchdog.mark_failed(f"{type(exc).__name__}: {exc}")
        raise
    finally:
        dist.destroy_process_group()


def _spawned_worker(
    local_rank: int,
    main_func: Callable,
    world_size: int,
    per_machine: int,
    machine_rank: int,
    backend: str | None,
    dist_url: str,
    device_name: str | None,
    timeout: timedelta,
    args: Sequence[Any],
) -> None:
    rank = machine_rank * per_machine + local_rank
    url = urlparse(dist_url)
    os.environ.update(
        RANK=str(rank),
        LOCAL_RANK=str(local_rank),
        WORLD_SIZE=str(world_size),
        LOCAL_WORLD_SIZE=str(per_machine),
        MASTER_ADDR=url.hostname or "127.0.0.1",
        MASTER_PORT=str(url.port),
    )
    try:
        watchdog = _init_group(backend, device_name, dist_url, rank, world_size, timeout)
    except Exception:
        traceback.print_exc()
        raise
    _run_member(main_func, args, watchdog)


def launch(
    main_func: Callable,
    num_gpus_per_machine: int,
    num_machines: int = 1,
    machine_rank: int = 0,
    backend: str | None = "auto",
    dist_url: str | None = None,
    args: Sequence[Any] = (),
    device_name: str | None = None,
    timeout: timedelta = DEFAULT_TIMEOUT,
) -> None:
    """Run ``main_func(*args)`` in every process of the job.

    ``backend`` "auto" picks NCCL on CUDA and Gloo on CPU. ``dist_url`` "auto" (single machine
    only) picks a free local port; multi-machine runs need ``tcp://host:port`` of machine 0.
    """
    if launched_by_torchrun():
        world = int(os.environ["WORLD_SIZE"])
        if world > 1:
            rank = int(os.environ["RANK"])
            watchdog = _init_group(backend, device_name, "env://", rank, world, timeout)
            _run_member(main_func, args, watchdog)
            return
    world_size = num_gpus_per_machine * num_machines
    if world_size <= 1:
        main_func(*args)
        return
    if dist_url in (None, "", "auto"):
        if num_machines != 1:
            raise UserError("--dist-url tcp://HOST:PORT is required with --num_machines > 1")
        dist_url = f"tcp://127.0.0.1:{find_free_port()}"
    parsed = urlparse(dist_url)
    if parsed.scheme != "tcp" or parsed.port is None:
        raise UserError(f"--dist-url must look like tcp://HOST:PORT, got {dist_url!r}")
    logger.info(
        f"Launching {num_gpus_per_machine} processes on machine {machine_rank} ({dist_url})"
    )
    torch.multiprocessing.start_processes(
        _spawned_worker,
        nprocs=num_gpus_per_machine,
        args=(
            main_func,
            world_size,
            num_gpus_per_machine,
            machine_rank,
            backend,
            dist_url,
            device_name,
            timeout,
            tuple(args),
        ),
        daemon=False,
        start_method="spawn",
    )
