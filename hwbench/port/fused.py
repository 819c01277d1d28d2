"""The torch_npu fused operators that replace a pattern of this model's forward, whether the
chosen torch_npu lists them, the NPU ladder rung that calls them and the kernels/ variants that
validate and time them (`hwbench kernels --device npu`).

Patterns are found on the top-level calls, following each call's tensor arguments back to the
calls that made them (through casts and views); the operators are those the NPU ladder's
sources document (Ascend/op-plugin docs/zh/custom_APIs/torch_npu/<operator>.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from hwbench.port.oplist import OpList
from hwbench.port.record import Call

# Calls that pass a tensor on as it is, for pattern matching: casts, views, copies.
THROUGH = {"to.dtype", "_to_copy", "view", "reshape", "_unsafe_view", "expand", "unsqueeze",
           "squeeze.dim", "transpose.int", "t", "permute", "contiguous", "clone"}  # fmt: skip
SOFTMAX = {"softmax.int", "_softmax", "_safe_softmax"}
MATMULS = {"matmul", "bmm", "baddbmm", "mm"}
SCATTERS = {"index_add_", "index_add", "scatter_add_", "scatter_add", "index_put_"}
QUANTIZED = {"_int_mm", "_weight_int8pack_mm", "quantized::linear_dynamic", "quantized::linear"}
LINEAR = {"linear", "addmm", "mm", "matmul"}


def made_by(call: Call) -> list[Call]:
    """The calls that made `call`'s tensor arguments, looking through THROUGH."""
    found: list[Call] = []
    for source in call.sources:
        found += made_by(source) if source.key in THROUGH else [source]
    return found


def upstream(call: Call, hops: int) -> set[str]:
    """Keys of the calls up to `hops` calls before `call` in its data flow."""
    keys: set[str] = set()
    layer = [call]
    for _ in range(hops):
        layer = [source for c in layer for source in made_by(c)]
        keys |= {c.key for c in layer}
    return keys


def rms_norm(call: Call) -> bool:
    return call.key == "rms_norm" or (
        call.key == "rsqrt"
        and "mean.dim" in upstream(call, 2)
        and bool({"pow.Tensor_Scalar", "mul.Tensor"} & upstream(call, 3))
    )


def rotary(call: Call) -> bool:
    """x * cos + rotate_half(x) * sin, rotate_half = cat(-x2, x1)."""
    sources = made_by(call)
    return (
        call.key == "add.Tensor"
        and len(sources) == 2
        and all(s.key == "mul.Tensor" for s in sources)
        and "cat" in upstream(call, 2)
        and "neg" in upstream(call, 3)
    )


def swiglu(call: Call) -> bool:
    return call.key == "mul.Tensor" and any(s.key == "silu" for s in made_by(call))


def attention(call: Call) -> bool:
    return call.key == "scaled_dot_product_attention" or (
        call.key in SOFTMAX and bool(MATMULS & upstream(call, 3))
    )


def moe_gating(call: Call) -> bool:
    return call.key == "topk" and bool(SOFTMAX & upstream(call, 2))


@dataclass(frozen=True)
class Pattern:
    """A pattern, the calls that show it and the torch_npu operators that replace it."""

    name: str
    found: Callable[[Call], bool]
    operators: tuple[str, ...]
    note: str = ""


PATTERNS = (
    Pattern("RMSNorm", rms_norm, ("npu_rms_norm",)),
    Pattern("rotary embedding", rotary, ("npu_rotary_mul",)),
    Pattern("SwiGLU", swiglu, ("npu_swiglu",)),
    Pattern(
        "attention",
        attention,
        ("npu_fused_infer_attention_score", "npu_fusion_attention"),
        "the first for inference (prefill and decode), the second the training kernel",
    ),
    Pattern("MoE top-k softmax gating", moe_gating, ("npu_moe_gating_top_k_softmax",)),
    Pattern(
        "MoE experts (one scatter per expert)",
        lambda call: call.key in SCATTERS,
        ("npu_moe_init_routing", "npu_grouped_matmul", "npu_moe_finalize_routing"),
    ),
    Pattern("quantized matmul", lambda call: call.key in QUANTIZED, ("npu_quant_matmul",)),
    Pattern(
        "linear layers",
        lambda call: call.key in LINEAR,
        ("npu_dynamic_quant", "npu_quant_matmul"),
        "W8A8 quantization: int8 weights and activations change the numbers (int8 tolerance)",
    ),
)


@dataclass(frozen=True)
class Suggestion:
    """A pattern found `calls` times; each operator with whether the list has it (None: no
    list), the NPU ladder rungs and the kernels/ variants that use it."""

    pattern: str
    calls: int
    operators: dict[str, bool | None]
    rungs: tuple[str, ...]
    kernels: tuple[str, ...]
    note: str


def suggest(calls: Iterable[Call], oplist: OpList | None) -> list[Suggestion]:
    """A suggestion for each pattern the top-level `calls` show, in PATTERNS' order."""
    calls = list(calls)
    found = []
    for pattern in PATTERNS:
        seen = sum(pattern.found(call) for call in calls)
        if seen:
            listed = {op: oplist.has_name(op) if oplist else None for op in pattern.operators}
            rungs, kernels = uses(pattern.operators)
            found.append(Suggestion(pattern.name, seen, listed, rungs, kernels, pattern.note))
    return found


def uses(operators: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The NPU ladder's rungs and the kernels/ variants whose description names an operator."""
    from hwbench.kernels.registry import kernels
    from hwbench.ladders.npu import LADDER

    def names(text: str) -> bool:
        return any(re.search(rf"\b{op}\b", text) for op in operators)

    rungs = tuple(rung.name for rung in LADDER.rungs if names(rung.adds))
    variants = tuple(
        f"{kernel.name}/{v.name} (kernels/{v.fn.__module__.rsplit('.', 1)[-1]}.py)"
        for kernel in kernels().values()
        for v in kernel.variants
        if names(f"{v.name} {v.note}")
    )
    return rungs, variants
