import torch

from hwbench.measure.parity import compare


def test_identical_outputs_pass_with_zero_error():
    x = torch.randn(4, 8)
    verdict = compare(x, x.clone(), "fp32")
    assert verdict["passed"] and verdict["rel_l2"] == 0.0


def test_error_over_the_dtype_tolerance_fails_with_the_reason():
    x = torch.randn(1000)
    noisy = x + 1e-2 * x.norm() / 1000**0.5 * torch.randn(1000)  # ~1e-2 relative L2
    assert not compare(x, noisy, "fp32")["passed"]
    assert compare(x, noisy, "bf16")["passed"]
    assert "tolerance" in compare(x, noisy, "fp32")["reason"]


def test_nan_and_shape_mismatch_fail():
    x = torch.randn(3)
    assert not compare(x, torch.tensor([1.0, float("nan"), 0.0]), "bf16")["passed"]
    assert "shape" in compare(x, torch.randn(4), "fp32")["reason"]
