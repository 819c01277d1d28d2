"""Each kernel variant against its reference at the small shape, and the hand-counted
FLOP and bytes of one shape per kernel."""

import pytest
import torch

from hwbench.backends.cpu import CPU
from hwbench.errors import UsageError
from hwbench.kernels.base import TORCH_DEVICES
from hwbench.kernels.registry import kernels, lookup
from hwbench.measure.parity import rel_l2
from hwbench.registry import lookup as device

CPU_DEVICE = CPU()
CASES = [
    pytest.param(kernel, variant, id=f"{kernel.name}-{variant.name}")
    for kernel in kernels().values()
    for variant in kernel.variants
    if variant.available(CPU_DEVICE)[0]
]
EVERY_DEVICE_CASES = [  # plain torch ops, so they run on cpu, cuda and npu alike
    pytest.param(kernel, variant, id=f"{kernel.name}-{variant.name}")
    for kernel in kernels().values()
    for variant in kernel.variants
    if variant.devices == TORCH_DEVICES and variant.requires is None
]
NPU_CASES = [
    pytest.param(variant, id=f"{kernel.name}-{variant.name}")
    for kernel in kernels().values()
    for variant in kernel.variants
    if variant.devices == ("npu",)
]


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
@pytest.mark.parametrize("dtype", ["fp32", "bf16"])
@pytest.mark.parametrize(("kernel", "variant"), CASES)
def test_every_cpu_variant_matches_its_reference_at_the_small_shape(kernel, variant, dtype):
    inputs = kernel.inputs("small", dtype, torch.device("cpu"))
    output = variant.fn(*variant.arguments(inputs))
    assert output.dtype == inputs[0].dtype
    assert rel_l2(output, kernel.expected(inputs)) <= variant.tolerance(dtype)


def test_every_kernel_has_a_cpu_variant_beside_the_reference_and_an_npu_one():
    for kernel in kernels().values():
        names = [v.name for v in kernel.variants if v.available(CPU_DEVICE)[0]]
        assert len(names) >= 2, kernel.name
        assert any(v.devices == ("npu",) for v in kernel.variants), kernel.name
        assert set(kernel.shapes) == {"small", "large"}


@pytest.mark.parametrize("variant", NPU_CASES)
def test_npu_variants_are_unavailable_here_with_a_reason(variant):
    ok, reason = variant.available(device("devices", "npu")())
    assert not ok and "torch_npu" in reason
    ok, reason = variant.available(CPU_DEVICE)
    assert not ok and reason == "runs on npu, not cpu"
    assert "Ascend/op-plugin" in variant.note  # written from torch_npu's documentation


def test_inputs_are_seeded_and_never_zero():
    kernel = lookup("rmsnorm")
    first, again = (kernel.inputs("small", "fp32", torch.device("cpu")) for _ in range(2))
    assert torch.equal(first[0], again[0]) and first[0].abs().min() > 0


HAND_COUNTS = {  # kernel: (small-shape FLOP, bytes at fp32), counted by hand
    # 64 x 256 elements x 4 FLOP; read x + write y (2 x 64 x 256) + weight 256, x 4 bytes
    "rmsnorm": (65_536, 132_096),
    # (64 x 256 outputs) x 5 FLOP; read 64 x 512 + write 64 x 256 = 3 x 16,384 elements x 4 B
    "swiglu": (81_920, 196_608),
    # 2,048 elements x 3 FLOP; (2 x 2,048 + cos, sin 2 x 16 x 32) x 4 B
    "rope": (6_144, 20_480),
    # 32 x 33 / 2 = 528 causal pairs x 4 heads x 16 x 4 FLOP; q, out 2 x 2,048 + k, v 2 x 1,024
    "attention_prefill": (135_168, 24_576),
    # batch 2 x 4 heads x 64 keys x 16 x 4 FLOP; q, out 2 x 2 x 4 x 16 = 256 elements,
    # k, v 2 x 2 x 2 kv heads x 64 x 16 = 8,192 elements; (256 + 8,192) x 4 bytes
    "attention_decode": (32_768, 33_792),
    # 2 x 32 x 128 x 256; x 8,192 + y 4,096 floats, 32,768 int8 weights, 128 fp32 scales
    "quant_matmul": (2_097_152, 82_432),
    # router 2x16x8x64 = 16,384; routed 6x16x2x64x32 = 393,216; shared 6x16x64x32 = 196,608
    # bytes: (x, y 2,048 + router 512 + experts 3x8x64x32 = 49,152 + shared 6,144) x 4
    "moe": (606_208, 231_424),
}


@pytest.mark.parametrize("name", sorted(HAND_COUNTS))
def test_counts_match_a_hand_count(name):
    assert lookup(name).flops_bytes("small", "fp32") == HAND_COUNTS[name]


def test_bf16_counts_halve_the_activation_bytes_but_not_int8_weights():
    _, fp32 = lookup("quant_matmul").flops_bytes("small", "fp32")
    _, bf16 = lookup("quant_matmul").flops_bytes("small", "bf16")
    assert fp32 - bf16 == (8_192 + 4_096) * 2
    assert lookup("rmsnorm").flops_bytes("small", "bf16")[1] == 132_096 // 2


def test_an_unknown_kernel_is_an_error_listing_the_valid_ones():
    with pytest.raises(UsageError, match=r"unknown kernel 'attn'.*attention_decode.*swiglu"):
        lookup("attn")


def test_an_unknown_shape_names_the_valid_ones():
    with pytest.raises(KeyError, match="small, large"):
        lookup("rope").dims("huge")


@pytest.mark.parametrize(("kernel", "variant"), EVERY_DEVICE_CASES)
def test_a_variant_makes_its_tensors_on_its_inputs_device(kernel, variant):
    """Inputs on the meta device: a tensor the variant makes on the CPU meets them and raises
    a device mismatch (two such bugs failed only on an H200). Ops with no meta kernel (data-
    dependent sizes: nonzero, bincount) cannot be checked this way and are let through."""
    inputs = kernel.inputs("small", "fp32", torch.device("meta"))
    try:
        output = variant.fn(*variant.arguments(inputs))
    except NotImplementedError:
        pytest.skip("an op without a meta kernel")
    assert output.device.type == "meta"
