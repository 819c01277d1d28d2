"""Every aten call of a workload's forward on the CPU, with what each composite call
decomposes into.

Run under `torch.inference_mode()`, a TorchDispatchMode sees the calls before their
CompositeImplicitAutograd decomposition (aten.linear, aten.scaled_dot_product_attention: the
level at which torch_npu may register a kernel of its own). Each call that decomposes is then
run through its composite kernel with the recorder still on, so its children are recorded in
turn: what the NPU would run where torch_npu has no kernel for the parent. Attention runs with
SDPA's math backend, whose decomposition is plain aten, not the CPU's own flash kernel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch._C import DispatchKey
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.weak import WeakIdKeyDictionary

from hwbench.backends.base import DTYPES
from hwbench.port.counts import bytes_moved, flops, has_formula, tensors
from hwbench.workloads.base import Workload


@dataclass(eq=False)
class Call:
    """One operator call as the dispatcher saw it."""

    key: str  # "add.Tensor", "mm"; another namespace is kept: "quantized::linear_dynamic"
    decomposes: str | None  # "implicit" / "explicit" (its composite kernel), or None
    via_out: str | None  # the out= overload a structured op's default kernel calls
    sources: list[Call]  # the calls that made its tensor arguments (for pattern matching)
    dtypes: frozenset[str]
    children: list[Call] = field(default_factory=list)
    counted: bool = False  # its FLOPs come from a formula (none of its callers has one)
    flops: int = 0  # its own where counted; else 0
    bytes: int = 0  # tensors read and written by it alone

    def total_flops(self) -> int:
        """Its own FLOPs where counted, else those of the calls it decomposes into."""
        return self.flops or sum(child.total_flops() for child in self.children)


def _has(func: torch._ops.OpOverload, key: str) -> bool:
    return torch._C._dispatch_has_kernel_for_dispatch_key(func.name(), key)


def op_key(func: torch._ops.OpOverload) -> str:
    """The operator's key: add.Tensor, mm (default overload), quantized::linear_dynamic."""
    namespace, name = func._schema.name.split("::")
    key = name if func._overloadname == "default" else f"{name}.{func._overloadname}"
    return key if namespace == "aten" else f"{namespace}::{key}"


def decomposition(func: torch._ops.OpOverload) -> str | None:
    if _has(func, "CompositeImplicitAutograd"):
        return "implicit"
    return "explicit" if _has(func, "CompositeExplicitAutograd") else None


def out_overload(func: torch._ops.OpOverload) -> str | None:
    """The out= overload through which a backend without a kernel of its own runs a
    structured op (its CompositeExplicitAutogradNonFunctional kernel), e.g. gelu -> gelu.out."""
    if not _has(func, "CompositeExplicitAutogradNonFunctional"):
        return None
    namespace, name = func._schema.name.split("::")
    base = name[:-1] if name.endswith("_") and not name.endswith("__") else name  # add_ -> add
    packet = getattr(getattr(torch.ops, namespace), base, None)
    overloads = packet.overloads() if packet is not None else []
    candidates = (f"{func._overloadname}_out", "out")
    return next((f"{base}.{c}" for c in candidates if c in overloads), None)


class Recorder(TorchDispatchMode):
    """Records each call in a tree: a composite call holds the calls it decomposes into."""

    def __init__(self) -> None:
        super().__init__()
        self.top: list[Call] = []
        self._open: list[Call] = []
        self._made = WeakIdKeyDictionary()  # tensor -> the Call that returned it

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        call = self._called(func, tensors((args, kwargs)))
        self._open.append(call)
        try:
            out = self._run(func, call.decomposes, args, kwargs)
        finally:
            self._open.pop()
        for tensor in tensors(out):
            self._made[tensor] = call  # after its children: the caller sees this call
        if call.counted:
            call.flops = flops(func, args, kwargs, out)
        call.bytes = bytes_moved(func, args, kwargs, out)
        return out

    def _called(self, func: torch._ops.OpOverload, arguments: list[torch.Tensor]) -> Call:
        """A new call, placed under the call it is part of (or at the top)."""
        made = [self._made[t] for t in arguments if t in self._made]
        dtypes = frozenset(str(t.dtype).removeprefix("torch.") for t in arguments)
        call = Call(op_key(func), decomposition(func), out_overload(func), made, dtypes)
        call.counted = has_formula(func) and not any(c.counted for c in self._open)
        (self._open[-1].children if self._open else self.top).append(call)
        return call

    def _run(
        self, func: torch._ops.OpOverload, decomposes: str | None, args: tuple, kwargs: dict
    ) -> Any:
        if decomposes == "implicit":
            with self:
                return func.decompose(*args, **kwargs)
        if decomposes == "explicit":
            with self:
                return func._op_dk(DispatchKey.CompositeExplicitAutograd, *args, **kwargs)
        return func(*args, **kwargs)


def record(workload: Workload, dtype: str, batch: int) -> list[Call]:
    """The top-level calls of one forward of `workload` at `batch`, in `dtype`, on the CPU."""
    torch_dtype = DTYPES[dtype]
    model = workload.build().to(torch_dtype)
    inputs = [t.to(torch_dtype) if t.is_floating_point() else t for t in workload.inputs(batch)]
    recorder = Recorder()
    with torch.inference_mode(), sdpa_kernel(SDPBackend.MATH), recorder:
        model(*inputs)
    return recorder.top
