"""Where a result sits on the roofline, and the roofline floor of a chip that is not here.

Arithmetic intensity I = FLOP / byte moved; a peak (P FLOP/s, B bytes/s) has its ridge at
I = P / B. A step with I >= ridge is compute-bound (its roof is P), below it memory-bound (its
roof is I * B). Percentages are of the peak, None where that peak is unknown.
"""

from __future__ import annotations

from typing import Any

from hwbench.backends.base import DTYPES, Device
from hwbench.backends.peaks import Peak, bound_at, datasheet_for
from hwbench.workloads.base import KVCacheDecoder, Workload


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def _pct(achieved: float, peak: float | None) -> float | None:
    ratio = _ratio(achieved, peak)
    return None if ratio is None else 100 * ratio


def against(
    peak: Peak | None, flops_per_s: float, bytes_per_s: float, intensity: float | None
) -> dict[str, Any] | None:
    """Achieved rates against one peak: % of each rate, ridge point, bound; None without one."""
    if peak is None:
        return None
    ridge = _ratio(peak.flops_per_s, peak.bytes_per_s)  # FLOP/byte
    bound = None
    roof = None  # attainable FLOP/s at this intensity
    if ridge is not None and intensity is not None:
        bound = bound_at(intensity, ridge)
        roof = min(peak.flops_per_s, intensity * peak.bytes_per_s)
    return {
        "peak_flops_per_s": peak.flops_per_s,
        "peak_bytes_per_s": peak.bytes_per_s,
        "ridge_flop_per_byte": ridge,
        "pct_of_peak_flops": _pct(flops_per_s, peak.flops_per_s),
        "pct_of_peak_bytes": _pct(bytes_per_s, peak.bytes_per_s),
        "pct_of_roof": _pct(flops_per_s, roof),
        "bound": bound,
        "source": peak.source,
        "confidence": peak.confidence,
    }


def position(
    flops: float, bytes_moved: float, step_s: float, measured: Peak | None, datasheet: Peak | None
) -> dict[str, Any]:
    """Achieved FLOP/s and bytes/s of a step, against the measured and the datasheet peak.

    `bound` comes from the measured peak where it has both rates, else from the datasheet."""
    flops_per_s, bytes_per_s = flops / step_s, bytes_moved / step_s
    intensity = _ratio(flops, bytes_moved)
    result: dict[str, Any] = {
        "flops_per_step": flops,
        "bytes_per_step": bytes_moved,
        "flops_per_s": flops_per_s,
        "bytes_per_s": bytes_per_s,
        "intensity_flop_per_byte": intensity,
        "measured": against(measured, flops_per_s, bytes_per_s, intensity),
        "datasheet": against(datasheet, flops_per_s, bytes_per_s, intensity),
        "bound": None,
        "bound_from": None,
    }
    for basis in ("measured", "datasheet"):
        if result[basis] is not None and result[basis]["bound"] is not None:
            result.update(bound=result[basis]["bound"], bound_from=basis)
            break
    return result


def for_case(
    workload: Workload, batch: int, dtype: str, step_s: float, device: Device
) -> dict[str, Any]:
    """The roofline block of a result: the workload's counts at `batch` over the median step,
    against the device's measured peak and the datasheet peak of its chip (if known)."""
    chip = datasheet_for(device.info()["name"])
    return position(
        workload.flops(batch),
        workload.bytes_moved(batch, DTYPES[dtype].itemsize),
        step_s,
        measured=device.peak(dtype),
        datasheet=chip.peak(dtype) if chip else None,
    )


def for_decode(
    workload: Workload, batch: int, context: int, dtype: str, step_s: float, device: Device
) -> dict[str, Any] | None:
    """The roofline block of one decode step (one token per sequence attending to `context`
    positions) over the median TPOT; None for workloads without decode counts."""
    if not isinstance(workload, KVCacheDecoder):
        return None
    chip = datasheet_for(device.info()["name"])
    return {
        **position(
            workload.decode_flops(batch, context),
            workload.decode_bytes(batch, context, DTYPES[dtype].itemsize),
            step_s,
            measured=device.peak(dtype),
            datasheet=chip.peak(dtype) if chip else None,
        ),
        "step": f"decode at context {context}, timed by the median TPOT",
    }


def floor(flops: float, bytes_moved: float, peak: Peak) -> dict[str, Any]:
    """The roofline lower bound of a step's latency: max(FLOP / peak FLOP/s, bytes / peak B/s)."""
    if peak.flops_per_s is None or peak.bytes_per_s is None:
        raise ValueError("a floor needs both a FLOP/s and a bytes/s peak")
    compute_s, memory_s = flops / peak.flops_per_s, bytes_moved / peak.bytes_per_s
    return {
        "compute_s": compute_s,
        "memory_s": memory_s,
        "latency_s": max(compute_s, memory_s),
        "bound": bound_at(flops / bytes_moved, peak.flops_per_s / peak.bytes_per_s),
    }
