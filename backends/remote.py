"""The device of a server hwbench did not start (`--endpoint URL`): whatever hardware the
server runs on, seen only through its API. Nothing is computed or timed on it from here; the
server's own report (its version, its model) goes into each case's session, and the run's
environment is the client's. Only the `endpoint` engine runs on it."""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from hwbench.backends.base import DTYPES, Device, MemoryStats

NOT_VISIBLE = "the server's memory is not visible to the client"


class Remote(Device):
    name = "remote"
    pairs_with: ClassVar[str] = "endpoint"  # the one engine that runs here

    def available(self) -> tuple[bool, str]:
        return (True, "")  # reachable or not is the case's to find out, per endpoint

    def torch_device(self, index: int = 0) -> torch.device:
        """The client's CPU: the parity reference is computed there."""
        return torch.device("cpu")

    def synchronize(self) -> None:
        """Requests are timed when their responses arrive: nothing to wait for here."""

    def memory(self) -> MemoryStats:
        return MemoryStats(peak_allocated=None, peak_reserved=None, note=NOT_VISIBLE)

    def reset_peak_memory(self) -> None:
        """Nothing to reset: `memory` sees nothing."""

    def energy(self) -> tuple[None, str]:
        return None, "the server's energy is not visible to the client"

    def supports_dtype(self, dtype: str) -> tuple[bool, str]:
        """The dtype is the one the server runs, as the target says (the parity tolerance)."""
        return (dtype in DTYPES, f"unknown dtype {dtype}")

    def info(self) -> dict[str, Any]:
        return {
            "name": "a server's device, measured through its endpoint",
            "note": "each case's session names the server (host, version, model); the "
            "environment of the run is the client machine's",
        }
