"""Parity before speed: a case's output against the float32 CPU eager reference."""

from __future__ import annotations

from typing import Any

import torch

# Relative L2 norm of the difference allowed per precision a session reports: fp32 is held to
# float32 rounding; bf16 keeps 8 mantissa bits, fp16 10 with a narrower range; int8 (quant=int8
# or w8a8) carries quantization error (README, "How it measures").
TOLERANCES = {"fp32": 1e-4, "bf16": 2e-2, "fp16": 5e-3, "int8": 6e-2}


def rel_l2(output: torch.Tensor, reference: torch.Tensor) -> float:
    """||output - reference|| / ||reference||, in float64; inf on a shape mismatch or NaN."""
    if output.shape != reference.shape or not bool(torch.isfinite(output).all()):
        return float("inf")
    diff = output.detach().cpu().double() - reference.double()
    return float(diff.norm() / reference.double().norm().clamp_min(1e-30))


def compare(reference: torch.Tensor, output: torch.Tensor, dtype: str) -> dict[str, Any]:
    """Max absolute error, relative L2 error and the verdict under `dtype`'s tolerance."""
    tolerance = TOLERANCES[dtype]
    if output.shape != reference.shape:
        return {
            "passed": False,
            "tolerance": tolerance,
            "reason": f"output shape {list(output.shape)} != reference {list(reference.shape)}",
        }
    diff = output.detach().cpu().double() - reference.double()
    error = rel_l2(output, reference)
    finite = bool(torch.isfinite(output).all())
    passed = finite and error <= tolerance
    verdict = {
        "passed": passed,
        "tolerance": tolerance,
        "rel_l2": error,
        "max_abs": float(diff.abs().max()) if diff.numel() else 0.0,
    }
    if not passed:
        verdict["reason"] = (
            "output has NaN or inf"
            if not finite
            else f"relative L2 error {error:.3g} > tolerance {tolerance:g}"
        )
    return verdict


def compare_logprobs(reference: torch.Tensor, output: torch.Tensor, dtype: str) -> dict[str, Any]:
    """Prompt log-probabilities (B, T-1) against the reference's. Both are centred on the
    reference's mean first: a near-uniform model's log-probabilities all sit near
    -log(vocab), and the tolerance must apply to their spread, not to that constant."""
    center = reference.double().mean()
    verdict = compare(reference.double() - center, output.double() - center, dtype)
    return {**verdict, "compared": "prompt log-probabilities, centred on the reference's mean"}
