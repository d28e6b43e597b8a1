"""Overlap host-to-device copies with compute: fetch batch k+1 while batch k trains."""

from __future__ import annotations

from typing import Any, Iterable, Optional, Tuple, Union

import torch

__all__ = ["DataPrefetcher"]


class DataPrefetcher:
    """Iterate (inputs, targets) already moved to ``device``.

    On CUDA the copy runs on a side stream (with pinned memory it overlaps the current step);
    elsewhere it is a plain ``.to(device)``. ``next()`` returns (None, None) at the end.
    """

    def __init__(self, loader: Iterable, device: Optional[Union[str, torch.device]] = None) -> None:
        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        self.loader = iter(loader)
        self.stream = torch.cuda.Stream(device=self.device) if self.device.type == "cuda" else None
        self.next_input: Optional[torch.Tensor] = None
        self.next_target: Optional[torch.Tensor] = None
        self.preload()

    def preload(self) -> None:
        """Start fetching and copying the next batch."""
        try:
            batch = next(self.loader)
        except StopIteration:
            self.next_input = self.next_target = None
            return
        inputs, targets = batch[0], batch[1]
        if self.stream is None:
            self.next_input = inputs.to(self.device)
            self.next_target = targets.to(self.device)
            return
        with torch.cuda.stream(self.stream):
            self.next_input = inputs.to(self.device, non_blocking=True)
            self.next_target = targets.to(self.device, non_blocking=True)

    def next(self) -> Tuple[Any, Any]:
        """The prefetched (inputs, targets); the copy is synchronised before they are used."""
        if self.stream is not None:
            torch.cuda.current_stream(self.device).wait_stream(self.stream)
        inputs, targets = self.next_input, self.next_target
        if self.stream is not None:
            if inputs is not None:
                inputs.record_stream(torch.cuda.current_stream(self.device))
            if targets is not None:
                targets.record_stream(torch.cuda.current_stream(self.device))
        self.preload()
        return inputs, targets

    def __next__(self) -> Tuple[Any, Any]:
        inputs, targets = self.next()
        if inputs is None:
            raise StopIteration
        return inputs, targets

    def __iter__(self) -> DataPrefetcher:
        return self
