"""The kernel contract: a reference, variants validated against it, inputs and counts per shape.

A `Kernel` names one operator: `make` draws its inputs at a named shape (seeded, never zeros),
`reference` computes it in float32 math, `counts` gives its FLOP and compulsory bytes (inputs
read + outputs written + weights). Each `Variant` computes the same function another way, on
the devices it names, and is validated against the reference before it is timed (the style of
llm.c's dev/cuda/: https://github.com/karpathy/llm.c/tree/master/dev/cuda).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.util import find_spec
from typing import Any

import torch

from hwbench.backends.base import DTYPES, Device
from hwbench.measure.parity import TOLERANCES

Tensor = torch.Tensor
Inputs = tuple[Any, ...]
Dims = dict[str, int]
TORCH_DEVICES = ("cpu", "cuda", "npu")  # plain torch ops run on each (torch_npu on npu)
INDUCTOR_DEVICES = ("cpu", "cuda")  # where torch.compile's default backend generates code


@dataclass(frozen=True)
class Variant:
    """One way to compute a kernel: `fn(*prepare(inputs))` on the devices it names."""

    name: str
    fn: Callable[..., Tensor]
    devices: tuple[str, ...] = TORCH_DEVICES
    prepare: Callable[[Inputs], Inputs] | None = None  # untimed: quantize or pack weights
    requires: Callable[[Device], tuple[bool, str]] | None = None  # runtime needs beyond device
    precision: str | None = None  # tolerance key when it computes below the dtype ("int8")
    note: str = ""  # what it is, with the documentation it was written from

    def available(self, device: Device) -> tuple[bool, str]:
        """(True, "") or (False, why) for `device`; never raises."""
        if device.name not in self.devices:
            return (False, f"runs on {'/'.join(self.devices)}, not {device.name}")
        return self.requires(device) if self.requires else (True, "")

    def tolerance(self, dtype: str) -> float:
        """Largest relative L2 error against the reference that passes, for `dtype` inputs."""
        return TOLERANCES[self.precision or dtype]

    def arguments(self, inputs: Inputs) -> Inputs:
        """What `fn` is called with: the inputs, prepared where the variant needs it."""
        return self.prepare(inputs) if self.prepare else inputs


@dataclass(frozen=True)
class Kernel:
    """One operator: shapes by name, input generator, float32 reference, counts, variants."""

    name: str
    doc: str
    shapes: dict[str, Dims] = field(hash=False)  # "small" (tests), "large" (past the caches)
    make: Callable[[Dims, torch.dtype, torch.Generator], Inputs]  # CPU tensors
    reference: Callable[..., Tensor]  # float32 math, float32 output
    counts: Callable[[Dims, int], tuple[float, float]]  # (FLOP, bytes) at an element size
    variants: tuple[Variant, ...]

    def dims(self, shape: str) -> Dims:
        """The dimensions of a named shape; KeyError names the valid ones."""
        if shape not in self.shapes:
            raise KeyError(f"{self.name} has no shape {shape!r}; valid: {', '.join(self.shapes)}")
        return self.shapes[shape]

    def inputs(self, shape: str, dtype: str, device: torch.device, seed: int = 0) -> Inputs:
        """Seeded inputs at `shape`: floating tensors in `dtype`, all on `device`."""
        generator = torch.Generator().manual_seed(seed)
        made = self.make(self.dims(shape), DTYPES[dtype], generator)
        return tuple(t.to(device) if isinstance(t, Tensor) else t for t in made)

    def expected(self, inputs: Inputs) -> Tensor:
        """The reference output, computed on the CPU in float32 math."""
        return self.reference(*(t.cpu() if isinstance(t, Tensor) else t for t in inputs))

    def flops_bytes(self, shape: str, dtype: str) -> tuple[float, float]:
        """FLOP and compulsory bytes of one call at `shape` with `dtype` activations."""
        return self.counts(self.dims(shape), DTYPES[dtype].itemsize)


def randn(shape: tuple[int, ...], dtype: torch.dtype, gen: torch.Generator, std=1.0) -> Tensor:
    """Normal(0, std) values drawn in float32 from `gen`, then cast to `dtype`."""
    return (torch.randn(shape, generator=gen) * std).to(dtype)


def in_dtype(reference: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """The reference's math with its output cast back to the first input's dtype."""

    def eager(*args: Any) -> Tensor:
        return reference(*args).to(args[0].dtype)

    return eager


class Compiled:
    """`torch.compile(fn, dynamic=False)`, compiled on first call (the validation run)."""

    def __init__(self, fn: Callable[..., Tensor]) -> None:
        self.fn = fn
        self._compiled: Callable[..., Tensor] | None = None

    def __call__(self, *args: Any) -> Tensor:
        if self._compiled is None:
            self._compiled = torch.compile(self.fn, dynamic=False)
        return self._compiled(*args)


def inductor_toolchain(device: str) -> tuple[bool, str]:
    """Whether torch.compile's inductor can generate code for `device` here: a C++ compiler
    (CPU) or Triton (CUDA). Other devices compile with their own backends: nothing to check."""
    if device not in INDUCTOR_DEVICES:
        return (True, "")
    if device == "cuda" and find_spec("triton") is None:
        return (False, "inductor on cuda needs triton, which is not installed")
    from torch._inductor import config  # imports inductor, seconds: only when asked

    compilers = [c for c in config.cpp.cxx if c]
    if device == "cpu" and not any(shutil.which(c) for c in compilers):
        return (False, f"inductor on cpu needs a C++ compiler ({', '.join(compilers)}) on PATH")
    return (True, "")


def inductor(device: Device) -> tuple[bool, str]:
    """Whether torch.compile's inductor can generate code for `device` here."""
    return inductor_toolchain(device.name)


def compiled(reference: Callable[..., Tensor], note: str = "") -> Variant:
    """The reference, in the input dtype, through torch.compile (inductor fuses the upcasts)."""
    note = note or "torch.compile (inductor) of the reference math, one fused loop"
    fn = Compiled(in_dtype(reference))
    return Variant("compiled", fn, devices=INDUCTOR_DEVICES, requires=inductor, note=note)


def elementwise_kernel(
    name: str,
    doc: str,
    shapes: dict[str, Dims],
    functions: tuple[Callable, Callable, Callable],
    fused: Variant,
    *more: Variant,
    eager_note: str = "the reference math, unfused ops",
) -> Kernel:
    """A kernel of one pass over its tensors (rmsnorm, swiglu, rope), from its `functions`
    (make, reference, counts): the reference in the input dtype ("eager"), `fused`, the
    reference through torch.compile, then `more` (alternatives, the NPU's operator)."""
    make, reference, counts = functions
    eager = Variant("eager", in_dtype(reference), note=eager_note)
    variants = (eager, fused, compiled(reference), *more)
    return Kernel(name, doc, shapes, make, reference, counts, variants)


def torch_npu_ready(device: Device) -> tuple[bool, str]:
    """Whether torch_npu imports and an NPU is there (the npu device's own check)."""
    return device.available()


def npu_variant(name: str, fn: Callable[..., Tensor], note: str, **kw: Any) -> Variant:
    """A variant built on torch_npu's fused operators: runs only on the npu device."""
    return Variant(name, fn, devices=("npu",), requires=torch_npu_ready, note=note, **kw)
