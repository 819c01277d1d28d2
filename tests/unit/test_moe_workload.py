"""The moe workload (determinism, counts by hand) and kernel sets swapped into the decoders."""

from __future__ import annotations

import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from hwbench.errors import UsageError
from hwbench.measure.parity import compare
from hwbench.workloads import builtin_workloads, make_workload
from hwbench.workloads.base import param_count

# tiny: vocab 1024, hidden 128, 2 layers, 4 heads (2 kv) of 32, T 64, 8 experts of 64, 1 shared, k 2
ATTENTION = 2 * 128 * 128 + 2 * 128 * 64  # q, o and k, v weights
EXPERT = 3 * 128 * 64  # gate, up, down of one expert (and of the one shared expert)
LAYER = ATTENTION + 2 * 128 + 8 * 128 + 8 * EXPERT + EXPERT  # + norms, router, experts, shared
PARAMS = 2 * LAYER + 2 * 1024 * 128 + 128  # + embeddings, lm_head, final norm


@pytest.fixture(scope="module")
def moe():
    return make_workload("moe", "tiny")


def test_moe_is_a_builtin_decoder(moe):
    assert "moe" in builtin_workloads()
    assert (moe.name, moe.family) == ("moe", "decoder")
    assert moe.describe()["n_routed_experts"] == 8


def test_build_and_inputs_are_deterministic_in_seed(moe):
    first, again = moe.build().state_dict(), make_workload("moe", "tiny").build().state_dict()
    assert all(torch.equal(v, again[k]) for k, v in first.items())
    other = make_workload("moe", "tiny", seed=1).build().state_dict()
    assert not torch.equal(
        first["model.layers.0.mlp.gate.weight"], other["model.layers.0.mlp.gate.weight"]
    )
    (a,), (b,), (c,) = moe.inputs(2, seed=0), moe.inputs(2, seed=0), moe.inputs(2, seed=1)
    assert torch.equal(a, b) and not torch.equal(a, c) and a.count_nonzero() > a.numel() // 2


def test_forward_is_finite_varied_and_routes_decisively(moe):
    model = moe.build()
    with torch.no_grad():
        out = model(*moe.inputs(3))
    assert out.shape == (3, 64, 1024) and torch.isfinite(out).all()
    assert 0.05 < out.std().item() < 50 and not torch.allclose(out[0], out[1])
    router = model.model.layers[0].mlp.gate.weight
    assert 0.8 < router.std().item() * 128**0.5 < 1.2  # logits of std ~1, not near ties


def test_counts_by_hand(moe):
    assert param_count(moe.build()) == moe.params() == PARAMS
    per_token_layer = ATTENTION + 2 * 64 * 4 * 32 + 8 * 128 + (2 + 1) * EXPERT  # MACs: k + shared
    assert moe.flops(2) == 2 * 64 * 2 * (2 * per_token_layer + 128 * 1024)
    assert moe.bytes_moved(2, 2) == (PARAMS + 2 * 64 * 1024) * 2 + 2 * 64 * 8
    idle = 2 * (8 - 2) * EXPERT  # one token reaches 2 of 8 experts per layer
    cache = 2 * 2 * 1 * 10 * 2 * 32
    assert moe.decode_bytes(1, 10, 2) == (PARAMS - idle + 1024 + cache) * 2 + 8


def test_flops_match_the_flop_counter(moe):
    model, inputs = moe.build(), moe.inputs(2)
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as mode:
        model(*inputs)
    assert mode.get_total_flops() == moe.flops(2)


def test_full_is_deepseek_v2_lite_sized():
    full = make_workload("moe", "full")
    assert full.config.n_routed_experts == 64 and full.config.num_experts_per_tok == 6
    assert 15e9 < full.params() < 17e9  # DeepSeek-V2-Lite: 15.7 B (MLA there, MHA here)


@pytest.mark.parametrize("name", ["llama", "moe"])
@pytest.mark.parametrize("kernels", ["sdpa", "fused"])
def test_a_kernel_set_keeps_parity_and_the_weights(name, kernels):
    workload = make_workload(name, "tiny")
    reference, swapped = workload.build(), workload.build_with(kernels, "cpu")
    inputs = workload.inputs(2, seed=1)
    with torch.no_grad():
        verdict = compare(reference(*inputs), swapped(*inputs), "fp32")
    assert verdict["passed"], verdict
    assert {m.ops.name for m in swapped.modules() if hasattr(m, "ops")} == {kernels}


def test_the_fused_set_takes_the_kernels_variants():
    from hwbench.kernels.moe import sorted_dispatch
    from hwbench.kernels.rmsnorm import fused, npu_rms_norm
    from hwbench.workloads.kernel_sets import kernel_set

    assert kernel_set("fused", "cpu").rms_norm is fused
    assert kernel_set("fused", "cpu").moe is sorted_dispatch
    assert kernel_set("fused", "npu").rms_norm is npu_rms_norm


def test_an_unknown_kernel_set_names_the_valid_ones():
    with pytest.raises(UsageError, match="valid: fused, reference, sdpa"):
        make_workload("llama", "tiny").build_with("flash", "cpu")
    with pytest.raises(UsageError, match="valid: reference"):
        make_workload("mlp", "tiny").build_with("fused", "cpu")
