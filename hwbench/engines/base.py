"""The engine contract: turn (workload, device, options) into a session that runs one step."""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch

from hwbench.backends.base import DTYPES, Device
from hwbench.llm.generation import Generator, can_generate
from hwbench.workloads.base import Workload

Inputs = tuple[torch.Tensor, ...]  # a step's inputs, as Workload.inputs makes them


class Session(ABC):
    """A prepared model on a device; `run` is the step the harness times.

    `precision` names the parity tolerance (hwbench.measure.parity.TOLERANCES) the session's
    arithmetic is held to: its dtype, or e.g. "int8" for a quantized model; None: the dtype.
    `place` and `to_cpu` default to what a PyTorch module on `device` in `dtype` needs.
    """

    precision: str | None = None

    def __init__(self, device: Device, dtype: str = "fp32") -> None:
        self.device = device
        self.dtype = dtype

    def place(self, inputs: tuple[torch.Tensor, ...]) -> Any:
        """Inputs moved (and cast) to where `run` wants them; not timed."""
        return cast_inputs(inputs, self.device.torch_device(), self.dtype)

    @abstractmethod
    def run(self, placed: Any) -> Any:
        """One step on placed inputs; returns the outputs, possibly still in flight."""

    def to_cpu(self, outputs: Any) -> torch.Tensor:
        """The step's output as a float32 CPU tensor, for the parity check."""
        return outputs.detach().to("cpu", torch.float32)

    def details(self) -> dict[str, Any]:
        """Facts about how the session runs (effective providers, recompilations, ...)."""
        return {}


@dataclass(frozen=True)
class Spec:
    """What an engine is asked to run: a workload on a device in a dtype, with the target's
    engine options (all its options but dtype)."""

    workload: Workload
    device: Device
    dtype: str = "fp32"
    options: dict[str, str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Endpoint:
    """An OpenAI-compatible server up and healthy: where to send requests, the model name it
    serves, and facts for the record (checkpoint, log)."""

    base_url: str
    model: str
    details: dict[str, Any] = field(default_factory=dict)


class Engine(ABC):
    name: ClassVar[str]
    options: ClassVar[tuple[str, ...]] = ()  # engine-specific target options besides dtype
    # What scenarios can ask of it (Scenario.needs): "session" (`prepare`: one timed step),
    # "generator" (`prepare_generator`: token by token), "server" (`serve`: an endpoint)
    provides: ClassVar[tuple[str, ...]] = ("session",)
    # Modules its worker imports before every case, imported once by the fork server instead
    worker_preload: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def check_options(cls, options: dict[str, str], device: str) -> None:
        """Raise UsageError, naming the valid values, for a bad option value."""
        return None  # engines without options of their own accept any they declare

    def supports(self, workload: Workload, device: Device, dtype: str) -> tuple[bool, str]:
        """Whether this engine can run `workload` on `device` in `dtype`, and why not."""
        return device.supports_dtype(dtype)

    def provides_for(self, needs: str, workload: Workload) -> tuple[bool, str]:
        """Whether this engine gives a scenario what it `needs` for `workload`, and why not."""
        if needs not in self.provides:
            return False, f"engine {self.name} gives {' or '.join(self.provides)}, not a {needs}"
        if needs == "generator":
            return self.generation_support(workload)
        return True, ""

    def prepare(self, spec: Spec, example_inputs: Inputs | None = None) -> Session:
        """Load, compile or export: everything before the first step (timed as prepare_s).
        `example_inputs` are the case's inputs, for engines that compile or export per shape.
        Called only when `provides` has "session"."""
        raise NotImplementedError(f"engine {self.name} has no step session")

    def generation_support(self, workload: Workload) -> tuple[bool, str]:
        """Whether this engine can generate token by token with `workload`, and why not."""
        return can_generate(workload)

    def prepare_generator(self, spec: Spec, batch: int, max_len: int) -> Generator:
        """A generator for `batch` sequences of up to `max_len` tokens (prompt + output).
        Called only when `provides` has "generator"."""
        raise NotImplementedError(f"engine {self.name} does not generate")

    def serve(self, spec: Spec, max_len: int, log_path: Path) -> AbstractContextManager[Endpoint]:
        """A server of `workload` started on entry (healthy) and stopped, with all it
        started, on exit; its log at `log_path`. Called only when `provides` has "server"."""
        raise NotImplementedError(f"engine {self.name} does not serve")


def cast_inputs(
    inputs: tuple[torch.Tensor, ...], device: torch.device, dtype: str
) -> tuple[torch.Tensor, ...]:
    """Float inputs cast to `dtype`, integer inputs (token ids) kept, all moved to `device`."""
    torch_dtype = DTYPES[dtype]
    return tuple(
        t.to(device=device, dtype=torch_dtype) if t.is_floating_point() else t.to(device)
        for t in inputs
    )
