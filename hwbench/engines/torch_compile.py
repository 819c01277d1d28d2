"""torch.compile: inductor on CPU and CUDA, npugraph_ex or torchair on Ascend NPUs.

torch.compile compiles on the first call, for that call's shapes. With `example_inputs` given
to `prepare`, prepare makes that call, so compiling counts in prepare_s; without them the
worker's first run compiles and it counts in first_run_s (`details()["compiled_in"]` says
which). Shapes are static by default (`dynamic=false`): the timed loop runs one shape, so one
graph per shape is what is measured. Every step runs under torch.inference_mode, the compiling
call included: calling under no_grad after compiling under inference_mode recompiles (seen with
torch 2.13).

Dynamo's process-wide counters are read before compiling, after the first run and at
`details()`: a frame compiled after the first run is a recompilation inside the timed loop, a
measurement bug, reported as `recompiles_after_first_run` (0 in a sound case). The worker runs
one case per process, so the counts are this session's.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from hwbench.backends.base import Device
from hwbench.engines.base import Engine, Inputs, Session, Spec
from hwbench.engines.compile_settings import DEFAULT_BACKEND, CompileSettings
from hwbench.engines.transforms import ModelOptions
from hwbench.kernels.base import inductor_toolchain
from hwbench.llm.generation import Generator, TorchGenerator
from hwbench.torch_features import compiles_transformers_models, present
from hwbench.workloads.base import Workload
from hwbench.workloads.hf import HFModel


def compile_counts() -> dict[str, int]:
    """Dynamo's and inductor's process-wide counts (torch._dynamo.utils.counters)."""
    from torch._dynamo.utils import counters

    return {
        "frames": counters["frames"]["total"],
        "graphs": counters["stats"]["unique_graphs"],
        "graph_breaks": sum(counters["graph_break"].values()),
        "fxgraph_cache_hits": counters["inductor"]["fxgraph_cache_hit"],
        "fxgraph_cache_misses": counters["inductor"]["fxgraph_cache_miss"],
    }


class CompiledSession(Session):
    def __init__(
        self,
        model: torch.nn.Module,
        device: Device,
        dtype: str,
        settings: CompileSettings,
        precision: str | None = None,
    ) -> None:
        super().__init__(device, dtype)
        self.settings = settings
        self.precision = precision or dtype  # the parity tolerance key
        self.before = compile_counts()
        self.compiled = torch.compile(model, **settings.compile_kwargs())
        self.after_first: dict[str, int] | None = None
        self.compiled_in = "first_run"
        # CUDA graph trees: each call starts a new step (torch.compiler docs)
        self.mark_step = settings.backend == "inductor" and settings.mode == "reduce-overhead"

    def run(self, placed: tuple[torch.Tensor, ...]) -> Any:
        if self.mark_step:
            torch.compiler.cudagraph_mark_step_begin()
        with torch.inference_mode():
            outputs = self.compiled(*placed)
        if self.after_first is None:
            self.after_first = compile_counts()
        return outputs

    def details(self) -> dict[str, Any]:
        now = compile_counts()
        first = self.after_first or now
        settings = self.settings
        return {
            "backend": settings.backend,
            "mode": settings.mode,
            "dynamic": settings.dynamic,
            "fullgraph": settings.fullgraph,
            "compiled_in": self.compiled_in,
            "precision": self.precision,
            # 0 graphs: this process had already compiled this code for these guards
            "graphs": first["graphs"] - self.before["graphs"],
            "graph_breaks": first["graph_breaks"] - self.before["graph_breaks"],
            "recompiles_after_first_run": now["frames"] - first["frames"],
            "fxgraph_cache_hits": first["fxgraph_cache_hits"] - self.before["fxgraph_cache_hits"],
            "fxgraph_cache_misses": first["fxgraph_cache_misses"]
            - self.before["fxgraph_cache_misses"],
        }


class TorchCompile(Engine):
    name = "torch-compile"
    provides: ClassVar[tuple[str, ...]] = ("session", "generator")
    options: ClassVar[tuple[str, ...]] = CompileSettings.OPTIONS + ModelOptions.OPTIONS
    # What inductor's first CPU compile imports (found with sys.modules before and after one,
    # torch 2.13): ~2.5 s a worker no longer spends, out of ~3.7 s for a first compile. Those
    # this torch lacks are left out: codegen.wrapper_fxir is new in 2.8, and importing it
    # failed every torch-compile case on torch 2.6 with ModuleNotFoundError.
    worker_preload: ClassVar[tuple[str, ...]] = present(
        (
            "torch._inductor.compile_fx",
            "torch._dynamo.backends.inductor",
            "torch._inductor.codegen.cpp_wrapper_gpu",
            "torch._inductor.codegen.wrapper_fxir",
            "torch._inductor.codegen.memory_planning",
            "torch.utils.cpp_extension",
            "torch.export._trace",
            "torch.distributed.tensor.experimental",
        )
    )

    @classmethod
    def check_options(cls, options: dict[str, str], device: str) -> None:
        """Raise UsageError, naming the valid values, for a bad option value."""
        CompileSettings.parse(options, device)
        ModelOptions.parse(options, device)

    def supports(self, workload: Workload, device: Device, dtype: str) -> tuple[bool, str]:
        if device.name not in DEFAULT_BACKEND:
            return (False, f"torch-compile has no compile backend for device {device.name}")
        supported, why = device.supports_dtype(dtype)
        if not supported:
            return (False, why)
        if isinstance(workload, HFModel):
            supported, why = compiles_transformers_models()
            if not supported:
                return (False, why)
        return inductor_toolchain(device.name)

    def prepare(self, spec: Spec, example_inputs: Inputs | None = None) -> Session:
        settings = CompileSettings.parse(spec.options, spec.device.name)
        transforms = ModelOptions.parse(spec.options, spec.device.name)
        model = transforms.build(spec.workload, spec.device, spec.dtype)
        session = CompiledSession(model, spec.device, spec.dtype, settings, transforms.precision)
        if example_inputs is not None:
            session.run(session.place(example_inputs))
            spec.device.synchronize()
            session.compiled_in = "prepare"
        return session

    def prepare_generator(self, spec: Spec, batch: int, max_len: int) -> Generator:
        """Prefill and decode compiled on the first generation (counted in first_run_s)."""
        settings = CompileSettings.parse(spec.options, spec.device.name)
        transforms = ModelOptions.parse(spec.options, spec.device.name)
        model = transforms.build(spec.workload, spec.device, spec.dtype)
        return TorchGenerator(
            model, spec.device, batch, max_len, settings.compile_kwargs(), transforms.precision
        )
