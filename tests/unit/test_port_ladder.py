"""The NPU ladder says, through `hwbench port`'s reader, whether the installed torch_npu lists
the operators its rungs call (`hwbench list` prints it)."""

from __future__ import annotations

from hwbench.ladders.npu import LADDER, installed_operators, operators
from hwbench.port import sources
from tests.unit.test_port_oplist import installed_torch_npu

OPLIST = """\
supported: []
custom:
- func: npu_rms_norm(Tensor self, Tensor gamma, float epsilon=1e-06) -> (Tensor, Tensor)
- func: npu_dynamic_quant(Tensor input, *, Tensor? smooth_scales=None) -> (Tensor, Tensor)
- func: npu_quant_matmul(Tensor x1, Tensor x2, Tensor scale) -> Tensor
"""


def rung(name: str):
    return next(r for r in LADDER.rungs if r.name == name)


def test_a_rungs_operators_are_the_torch_npu_ones_it_names():
    assert operators(rung("w8a8")) == ("npu_dynamic_quant", "npu_quant_matmul")
    assert "npu_rms_norm" in operators(rung("fused-npu-ops"))
    assert operators(rung("fp16")) == ()


def test_the_installed_torch_npu_is_checked_rung_by_rung(tmp_path, monkeypatch):
    site = installed_torch_npu(tmp_path / "site", "9.9.7", OPLIST)
    monkeypatch.syspath_prepend(str(site))
    lines = installed_operators()
    assert "w8a8: all 2 listed in torch_npu 9.9.7" in lines
    fused = next(line for line in lines if line.startswith("fused-npu-ops:"))
    assert "missing npu_rotary_mul" in fused and "npu_rms_norm," not in fused


def test_without_torch_npu_it_says_so(monkeypatch):
    monkeypatch.setattr(sources, "DISTRIBUTION", "hwbench-no-such-distribution")
    assert installed_operators() == [
        "torch_npu is not installed (hwbench port --torch-npu VERSION checks a release)"
    ]
