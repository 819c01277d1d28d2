"""Each operator the forward calls, judged against a torch_npu operator list.

native: torch_npu lists a kernel for it (its path: op_api/aclnn, acl_op, or torch_npu itself),
directly or, for a structured op, through the out= overload its default kernel calls.
composite: no kernel of its own, but a composite kernel that decomposes it into other
operators, each judged in turn (listed under it). fallback: neither; torch_npu's
npu_cpu_fallback runs it on the CPU, copying its tensors there and back, with one warning
("CAUTION: The operator 'aten::isin.Tensor_Tensor_out' is not currently supported on the NPU
backend and will fall back to run on the CPU", github.com/Ascend/pytorch/issues/40: a
structured op reaching its out= overload). Without a list every operator is "unchecked".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from hwbench.port.oplist import OpList
from hwbench.port.record import Call

NATIVE, COMPOSITE, FALLBACK, UNCHECKED = "native", "composite", "cpu fallback", "unchecked"
VERDICTS = (FALLBACK, COMPOSITE, NATIVE, UNCHECKED)  # the order tables list them in
MODEL = "model"  # the caller of a top-level operator
COMPOSITE_KERNELS = {
    "implicit": "CompositeImplicitAutograd",
    "explicit": "CompositeExplicitAutograd",
}


@dataclass
class OpRow:
    """One operator: its verdict, kernel path, calls and the cost it carries."""

    op: str
    verdict: str
    path: str
    calls: int = 0
    flops: int = 0  # of the calls it stands for: its own, or those it decomposes into
    bytes: int = 0
    callers: set[str] = field(default_factory=set)  # "model" or the composite parents
    dtypes: set[str] = field(default_factory=set)


def judge(call: Call, oplist: OpList | None) -> tuple[str, str]:
    """(verdict, kernel path or how it decomposes) of one call."""
    if oplist is None:
        return UNCHECKED, ""
    if entry := oplist.entry(call.key):
        return NATIVE, entry.path
    if call.via_out and (entry := oplist.entry(call.via_out)):
        return NATIVE, f"{entry.path} via {call.via_out}"
    if call.decomposes:
        return COMPOSITE, COMPOSITE_KERNELS[call.decomposes]
    return FALLBACK, f"none, nor for {call.via_out}" if call.via_out else "none"


@dataclass(frozen=True)
class Classified:
    """The rows and the forward's totals: FLOPs, and bytes its kernels move on the NPU."""

    rows: list[OpRow]
    flops: int
    bytes: int

    def counts(self) -> dict[str, int]:
        """How many operators each verdict has."""
        return {v: sum(r.verdict == v for r in self.rows) for v in (NATIVE, COMPOSITE, FALLBACK)}


def classify(calls: Iterable[Call], oplist: OpList | None) -> Classified:
    """One row per operator, fallbacks first, then by FLOPs, bytes and calls."""
    rows: dict[str, OpRow] = {}
    spent = [_visit(call, MODEL, oplist, rows) for call in calls]
    order = {verdict: i for i, verdict in enumerate(VERDICTS)}
    ranked = sorted(
        rows.values(), key=lambda r: (order[r.verdict], -r.flops, -r.bytes, -r.calls, r.op)
    )
    return Classified(ranked, sum(f for f, _ in spent), sum(b for _, b in spent))


def _visit(
    call: Call, caller: str, oplist: OpList | None, rows: dict[str, OpRow]
) -> tuple[int, int]:
    """Adds `call` (and, for a composite, what it decomposes into) to `rows`; returns the
    (FLOPs, bytes) it stands for: a kernel's own, or its children's."""
    verdict, path = judge(call, oplist)
    row = rows.setdefault(call.key, OpRow(call.key, verdict, path))
    if verdict == COMPOSITE:
        spent = [_visit(child, call.key, oplist, rows) for child in call.children]
        cost = (sum(f for f, _ in spent), sum(b for _, b in spent))
    else:
        cost = (call.total_flops(), call.bytes)
    row.calls += 1
    row.flops += cost[0]
    row.bytes += cost[1]
    row.callers.add(caller)
    row.dtypes |= call.dtypes
    return cost
