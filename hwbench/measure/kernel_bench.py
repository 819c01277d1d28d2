"""Micro-benchmarks of kernels: each variant validated against the reference, then timed by
the device's timer through hwbench's harness; rates as GB/s or TFLOP/s, whichever bounds it."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from statistics import median

from hwbench.backends.base import DTYPES, Device
from hwbench.backends.peaks import Peak, bound_at
from hwbench.errors import UsageError, unknown_choice
from hwbench.kernels.base import Kernel, Variant
from hwbench.measure.harness import HarnessConfig, measure
from hwbench.measure.parity import rel_l2

SHAPES = ("small", "large")
FALLBACK_RIDGE = 10.0  # FLOP/byte: compute-bound above it when the device has no peak


@dataclass(frozen=True)
class KernelSettings:
    """Which shape and dtype, and how long to time each variant."""

    shape: str = "small"
    dtype: str = "fp32"
    time_budget_s: float = 1.0  # sampling per variant, after warm-up

    def __post_init__(self) -> None:
        if self.shape not in SHAPES:
            raise unknown_choice("shape", self.shape, SHAPES)
        if self.dtype not in DTYPES:
            raise unknown_choice("dtype", self.dtype, list(DTYPES))
        if self.time_budget_s <= 0:
            raise UsageError(f"time budget must be > 0 seconds, got {self.time_budget_s}")

    def harness(self) -> HarnessConfig:
        budget = self.time_budget_s
        return HarnessConfig(
            warmup_s=min(0.1, budget), min_time_s=min(0.2, budget), time_budget_s=budget
        )


@dataclass
class Row:
    """One kernel x variant at one shape and dtype: its verdict, time and rates."""

    kernel: str
    variant: str
    shape: str
    dtype: str
    status: str  # "ok", "failed" (error or validation) or "skipped"
    reason: str = ""
    rel_l2: float | None = None
    tolerance: float | None = None
    median_s: float | None = None
    best_s: float | None = None  # the fastest sample: for comparing with a best-of-N peak
    flops: float = 0.0
    bytes: float = 0.0
    bound: str = ""  # "memory" or "compute"
    rate: float | None = None  # bytes/s when memory-bound, FLOP/s when compute-bound
    pct_of_peak: float | None = None

    def as_dict(self) -> dict:
        """The row as saved: an error that is not finite (the output held NaN or inf) as null,
        since JSON has neither (hwbench/results/store.py)."""
        data = asdict(self)
        if data["rel_l2"] is not None and not math.isfinite(data["rel_l2"]):
            data["rel_l2"] = None
        return data


def bound_of(flops: float, moved: float, peak: Peak | None) -> str:
    """Compute-bound at or above the peak's ridge point (FLOP/byte), memory-bound below."""
    ridge = FALLBACK_RIDGE
    if peak is not None and peak.flops_per_s and peak.bytes_per_s:
        ridge = peak.flops_per_s / peak.bytes_per_s
    return bound_at(flops / moved, ridge)


def add_rates(row: Row, peak: Peak | None) -> Row:
    """Fill bound, rate and % of peak from the row's counts and median time."""
    row.bound = bound_of(row.flops, row.bytes, peak)
    memory = row.bound == "memory"
    row.rate = (row.bytes if memory else row.flops) / row.median_s
    roof = None if peak is None else peak.bytes_per_s if memory else peak.flops_per_s
    row.pct_of_peak = 100 * row.rate / roof if roof else None
    return row


def validate(variant: Variant, inputs: tuple, row: Row, device: Device, expected) -> tuple | None:
    """Prepare and run once, compare with the reference: the prepared arguments if it passed,
    else None with the error and the failure reason recorded in `row`."""
    try:
        args = variant.arguments(inputs)
        output = variant.fn(*args)
        device.synchronize()
    except Exception as error:  # any variant error fails that variant, not the whole run
        row.status, row.reason = "failed", f"error: {str(error).splitlines()[0][:160]}"
        return None
    row.rel_l2 = rel_l2(output, expected)
    if not math.isfinite(row.rel_l2) or row.rel_l2 > row.tolerance:
        row.status = "failed"
        row.reason = f"validation: relative L2 error {row.rel_l2:.3g} > {row.tolerance:g}"
        return None
    return args


def bench_variant(
    kernel: Kernel,
    variant: Variant,
    inputs: tuple,
    expected,
    device: Device,
    s: KernelSettings,
    peak: Peak | None,
) -> Row:
    """Validate one variant, then time it (only if it passed)."""
    row = Row(kernel.name, variant.name, s.shape, s.dtype, "skipped")
    ok, reason = variant.available(device)
    if not ok:
        row.reason = reason
        return row
    row.flops, row.bytes = kernel.flops_bytes(s.shape, s.dtype)
    row.tolerance = variant.tolerance(s.dtype)
    args = validate(variant, inputs, row, device, expected)
    if args is None:
        return row
    result = measure(lambda: variant.fn(*args), device.timer(), s.harness())
    row.status, row.median_s = "ok", median(result.samples_ns) / 1e9
    row.best_s = min(result.samples_ns) / 1e9
    if variant.precision and peak is not None:  # the dtype's FLOP/s is no roof for int8 math
        peak = replace(peak, flops_per_s=None)
    return add_rates(row, peak)


def bench_kernel(
    kernel: Kernel, device: Device, settings: KernelSettings, peak: Peak | None = None
) -> list[Row]:
    """Every variant of `kernel` on `device`, skipped ones with the reason why; rates against
    `peak`, else the device's measured peak where it has one."""
    ok, reason = device.available()
    if not ok:
        why = f"device {device.name} unavailable: {reason}"
        return [
            Row(kernel.name, v.name, settings.shape, settings.dtype, "skipped", why)
            for v in kernel.variants
        ]
    inputs = kernel.inputs(settings.shape, settings.dtype, device.torch_device())
    expected = kernel.expected(inputs)
    peak = peak or device.peak(settings.dtype)
    return [
        bench_variant(kernel, v, inputs, expected, device, settings, peak) for v in kernel.variants
    ]


def check_dtype(device: Device, dtype: str) -> None:
    """UsageError when the device cannot compute in `dtype`."""
    ok, reason = device.supports_dtype(dtype)
    if not ok:
        raise UsageError(f"{device.name} cannot run {dtype}: {reason}")
