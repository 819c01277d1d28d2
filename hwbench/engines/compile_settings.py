"""torch.compile's target options, and the compile backend each device name maps to.

NPU backends, written from their docs (not run here): torch_npu registers "npugraph_ex"
(`torch.compile(model, backend="npugraph_ex", fullgraph=True, dynamic=False)`, Ascend/torchair
docs/zh/npugraph_ex/quick_start.md); torchair's backend is
`torchair.get_npu_backend(compiler_config=torchair.CompilerConfig())`, whose `config.mode` is
"max-autotune" (Ascend IR through GE, the default) or "reduce-overhead" (aclgraph capture)
(hiascend.com TorchAir user guide, get_npu_backend and reduce-overhead pages).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any, ClassVar

from hwbench.errors import UsageError, unknown_choice

INDUCTOR_MODES = ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")
# backend -> the modes it takes
BACKEND_MODES: dict[str, tuple[str, ...]] = {
    "inductor": INDUCTOR_MODES,
    "torchair": ("default", "reduce-overhead", "max-autotune"),
    "npugraph_ex": ("default",),  # it is a graph capture already
    "aot_eager": ("default",),  # dynamo + AOTAutograd, no code generation (debugging)
    "eager": ("default",),  # dynamo capture only (debugging)
}
# backend -> the devices it runs on (None: any)
BACKEND_DEVICES: dict[str, tuple[str, ...] | None] = {
    "inductor": ("cpu", "cuda"),
    "torchair": ("npu",),
    "npugraph_ex": ("npu",),
    "aot_eager": None,
    "eager": None,
}
DEFAULT_BACKEND = {"cpu": "inductor", "cuda": "inductor", "npu": "npugraph_ex"}
BOOLS = {"true": True, "false": False}
DYNAMIC = {"false": False, "true": True, "auto": None}  # auto: torch's automatic dynamic


@dataclass(frozen=True)
class CompileSettings:
    """The torch-compile target options, e.g. `torch-compile@cuda:mode=max-autotune`."""

    OPTIONS: ClassVar[tuple[str, ...]] = ("mode", "backend", "fullgraph", "dynamic")
    mode: str
    backend: str
    fullgraph: bool
    dynamic: bool | None

    @classmethod
    def parse(cls, options: dict[str, str], device: str) -> CompileSettings:
        """Settings for `device`; a bad value is a UsageError naming the valid ones."""
        backend = options.get("backend") or default_backend(device)
        check_backend(backend, device)
        mode = options.get("mode", "default")
        if mode not in BACKEND_MODES[backend]:
            raise unknown_choice(f"mode for backend {backend}", mode, BACKEND_MODES[backend])
        if mode == "reduce-overhead" and device == "cpu":
            raise UsageError("mode reduce-overhead captures CUDA graphs; on cpu it is 'default'")
        return cls(
            mode=mode,
            backend=backend,
            fullgraph=choice(options, "fullgraph", "false", BOOLS),
            dynamic=choice(options, "dynamic", "false", DYNAMIC),
        )

    def compile_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for torch.compile."""
        kwargs: dict[str, Any] = {"fullgraph": self.fullgraph, "dynamic": self.dynamic}
        if self.backend == "inductor":
            return {**kwargs, "backend": "inductor", "mode": self.mode}
        if self.backend == "npugraph_ex":
            import_module("torch_npu")  # registers the backend
            return {**kwargs, "backend": "npugraph_ex"}
        if self.backend == "torchair":
            return {**kwargs, "backend": torchair_backend(self.mode)}
        return {**kwargs, "backend": self.backend}


def default_backend(device: str) -> str:
    if device not in DEFAULT_BACKEND:
        raise unknown_choice("device for engine torch-compile", device, list(DEFAULT_BACKEND))
    return DEFAULT_BACKEND[device]


def check_backend(backend: str, device: str) -> None:
    if backend not in BACKEND_MODES:
        raise unknown_choice("backend for engine torch-compile", backend, list(BACKEND_MODES))
    devices = BACKEND_DEVICES[backend]
    if devices is not None and device not in devices:
        raise UsageError(f"backend {backend} runs on {', '.join(devices)}, not on {device}")


def choice(options: dict[str, str], key: str, default: str, valid: dict[str, Any]) -> Any:
    value = options.get(key, default)
    if value not in valid:
        raise unknown_choice(f"{key} for engine torch-compile", value, list(valid))
    return valid[value]


def torchair_backend(mode: str) -> Any:
    """torchair's NPU backend; "default" keeps torchair's own default mode (max-autotune)."""
    import_module("torch_npu")  # torchair's docs import torch_npu first
    torchair = import_module("torchair")
    config = torchair.CompilerConfig()
    if mode != "default":
        config.mode = mode
    return torchair.get_npu_backend(compiler_config=config)
