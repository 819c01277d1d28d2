"""The fused torch_npu operators named for a model's patterns (found in its recorded data
flow), linked to the NPU ladder rung and the kernels/ variants that use them; the dtype notes
per Ascend generation."""

from __future__ import annotations

import pytest
import torch

from hwbench.port.dtype_notes import BF16_SOURCE, FP32_CONV, NO_BF16, notes
from hwbench.port.fused import suggest
from hwbench.port.oplist import parse
from hwbench.port.record import Recorder, record
from hwbench.workloads import make_workload

# A list with two of the fused operators: npu_swiglu and the attention ones are missing.
OPLIST = """\
supported:
- mm
custom:
- func: npu_rms_norm(Tensor self, Tensor gamma, float epsilon=1e-06) -> (Tensor, Tensor)
  impl_ns: op_api
- func: npu_rotary_mul(Tensor self, Tensor r1, Tensor r2, str rotary_mode='half') -> Tensor
  impl_ns: op_api
"""


@pytest.fixture(scope="module")
def llama() -> dict:
    """llama tiny's suggestions against the hand-made list, by pattern."""
    calls = record(make_workload("llama", "tiny"), "fp32", 1)
    return {s.pattern: s for s in suggest(calls, parse(OPLIST, "9.9.9", "hand-made"))}


def test_llamas_patterns_are_found_once_per_layer_and_use(llama):
    calls = {pattern: found.calls for pattern, found in llama.items()}
    # 2 layers: 2 norms each and the final one; rotary on q and k; one MLP and attention each
    assert calls == {"RMSNorm": 5, "rotary embedding": 4, "SwiGLU": 2, "attention": 2,
                     "linear layers": 15}  # fmt: skip


def test_each_operator_says_whether_the_chosen_list_has_it(llama):
    assert llama["RMSNorm"].operators == {"npu_rms_norm": True}
    assert llama["SwiGLU"].operators == {"npu_swiglu": False}
    assert llama["attention"].operators == {
        "npu_fused_infer_attention_score": False,
        "npu_fusion_attention": False,
    }


def test_operators_link_to_the_npu_ladder_rung_and_the_kernel_variants(llama):
    assert llama["RMSNorm"].rungs == ("fused-npu-ops",)
    assert llama["RMSNorm"].kernels == ("rmsnorm/npu_rms_norm (kernels/rmsnorm.py)",)
    assert "rope/npu_rotary_mul (kernels/rope.py)" in llama["rotary embedding"].kernels
    assert llama["linear layers"].rungs == ("w8a8",)


def test_moe_gating_and_experts_are_named_and_unknown_without_a_list():
    calls = record(make_workload("moe", "tiny"), "fp32", 1)
    found = {s.pattern: s for s in suggest(calls, None)}
    assert found["MoE top-k softmax gating"].operators == {"npu_moe_gating_top_k_softmax": None}
    assert "npu_grouped_matmul" in found["MoE experts (one scatter per expert)"].operators
    assert found["MoE top-k softmax gating"].kernels == ("moe/npu_moe_fused (kernels/moe.py)",)


def test_a_quantized_matmul_is_a_pattern_of_its_own():
    a, b = (torch.randint(-8, 8, (32, 32), dtype=torch.int8) for _ in range(2))
    recorder = Recorder()
    with torch.inference_mode(), recorder:
        torch._int_mm(a, b)  # int8 x int8 -> int32, as W8A8 runs
    found = {s.pattern: s for s in suggest(recorder.top, None)}
    assert found["quantized matmul"].operators == {"npu_quant_matmul": None}


def test_dtype_notes_cite_their_source_and_follow_the_dtype():
    assert notes("bf16", []) == [NO_BF16] and "hiascend.com" in BF16_SOURCE
    fp32 = notes("fp32", ["mm"])
    assert any("allow_fp32_to_fp16" in n.text for n in fp32) and FP32_CONV not in fp32
    assert FP32_CONV in notes("fp32", ["convolution"])
    assert all(n.source for n in fp32)
