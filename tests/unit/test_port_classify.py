"""The forward recorded on the CPU and each operator judged against a hand-made torch_npu list:
native (its kernel path, or through a structured op's out= overload), composite (what it
decomposes into judged in turn), and an op the list lacks planted to be a CPU fallback."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from hwbench.port.classify import COMPOSITE, FALLBACK, MODEL, NATIVE, UNCHECKED, classify
from hwbench.port.oplist import parse
from hwbench.port.record import Recorder, record
from hwbench.workloads import make_workload

OPLIST = """\
supported:
- as_strided
- func: addmm(Tensor self, Tensor mat1, Tensor mat2, *, Scalar beta=1, Scalar alpha=1) -> Tensor
  impl_ns: acl_op, op_api
- func: add.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor
  impl_ns: op_api
- func: abs(Tensor self) -> Tensor
  impl_ns: op_api
- func: gelu.out(Tensor self, *, str approximate='none', Tensor(a!) out) -> Tensor(a!)
  impl_ns: acl_op
"""


class Toy(nn.Module):
    """A linear layer and GELU, and lgamma: planted, as the list has no kernel for it."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.proj(x)  # (2, 4)
        return F.gelu(h) + torch.lgamma(h.abs() + 1)


def recorded(module: nn.Module, *inputs: torch.Tensor) -> list:
    recorder = Recorder()
    with torch.inference_mode(), recorder:
        module(*inputs)
    return recorder.top


def toy_rows(oplist_text: str | None = OPLIST) -> dict:
    oplist = parse(oplist_text, "9.9.9", "hand-made") if oplist_text else None
    found = classify(recorded(Toy().eval(), torch.randn(2, 8)), oplist)
    return {row.op: row for row in found.rows}, found


def test_the_recorder_keeps_composite_calls_with_what_they_decompose_into():
    top = recorded(Toy().eval(), torch.randn(2, 8))
    assert [c.key for c in top][:2] == ["linear", "gelu"]
    linear = top[0]
    assert linear.decomposes == "implicit" and [c.key for c in linear.children] == ["t", "addmm"]
    assert top[1].via_out == "gelu.out"  # a structured op's default kernel calls its out=
    assert linear.total_flops() == 2 * 2 * 8 * 4  # addmm's, by torch's formula
    assert top[1].sources == [linear]  # gelu's input came from the linear call


def test_each_operator_is_native_composite_or_a_cpu_fallback():
    rows, found = toy_rows()
    assert (rows["linear"].verdict, rows["linear"].path) == (COMPOSITE, "CompositeImplicitAutograd")
    assert (rows["addmm"].verdict, rows["addmm"].path) == (NATIVE, "acl_op/op_api")
    assert rows["addmm"].callers == {"linear"} and rows["linear"].callers == {MODEL}
    assert rows["as_strided"].verdict == NATIVE  # t -> transpose.int -> as_strided
    assert (rows["gelu"].verdict, rows["gelu"].path) == (NATIVE, "acl_op via gelu.out")
    assert found.counts()[FALLBACK] == 1


def test_a_planted_op_the_list_lacks_is_reported_as_a_cpu_fallback():
    rows, _ = toy_rows()
    assert rows["lgamma"].verdict == FALLBACK
    assert rows["lgamma"].path == "none, nor for lgamma.out"
    rows, _ = toy_rows(
        OPLIST + "- func: lgamma.out(Tensor self, *, Tensor(a!) out) -> Tensor(a!)\n"
    )
    assert rows["lgamma"].verdict == NATIVE


def test_shares_add_up_over_the_operators_that_run_as_kernels():
    rows, found = toy_rows()
    assert rows["linear"].flops == rows["addmm"].flops == found.flops == 128
    kernels = [r for r in rows.values() if r.verdict in (NATIVE, FALLBACK)]
    assert sum(r.bytes for r in kernels) == found.bytes > 0


def test_without_a_list_every_operator_is_unchecked():
    rows, found = toy_rows(None)
    assert {r.verdict for r in rows.values()} == {UNCHECKED} and "addmm" not in rows
    assert found.flops == 128


def test_a_workloads_forward_counts_the_flops_the_workload_states():
    workload = make_workload("mlp", "tiny")
    calls = record(workload, "fp32", 2)
    assert classify(calls, None).flops == workload.flops(2)
