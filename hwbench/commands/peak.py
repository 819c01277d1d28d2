"""`hwbench peak`: measure a device's GEMM rate per dtype and its memory copy bandwidth.

GEMM: square C = A @ B, n doubled from `min_n` until one run lasts `min_run_s` (compute-bound
sizes), 2 n^3 FLOP per run, best of `runs`. Copy: dst.copy_(src) of `copy_mib` MiB (well past the
caches), counting read + write (2 x size bytes, as STREAM's copy does), best of `runs`. Each run
is timed by the device's own timer, which synchronizes. Stored with the environment as
OUT/<machine>/peaks-<device>.json, where `Device.peak` finds it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table

from hwbench.backends.peaks import PEAKS_SCHEMA, datasheet_for, peaks_path
from hwbench.commands.output import Steps, stderr_console, stdout_console
from hwbench.errors import UsageError, unknown_choice
from hwbench.machine import machine_name
from hwbench.registry import lookup
from hwbench.results.store import save

# torch, the devices and the environment fingerprint (which imports torch) are imported where
# they are used: every command module is imported to build `hwbench --help`.
if TYPE_CHECKING:
    from hwbench.backends.base import Device


@dataclass(frozen=True)
class PeakSettings:
    """Sizes and repetitions of `hwbench peak`'s measurements."""

    min_n: int = 2048
    max_n: int = 16384
    min_run_s: float = 0.01
    runs: int = 20
    warmup: int = 2
    copy_mib: int = 256

    def __post_init__(self) -> None:
        if self.runs < 1:
            raise UsageError(f"runs must be at least 1, got {self.runs}")


QUICK = PeakSettings(min_n=256, max_n=256, runs=3, warmup=1, copy_mib=16)


def best_s(device: Device, op: Callable[[], object], runs: int) -> float:
    """The shortest of `runs` device-timed runs of `op`, in seconds."""
    timer = device.timer()
    times = []
    for _ in range(runs):
        timer.start()
        op()
        times.append(timer.stop())
    return min(times) / 1e9


def matmul_op(device: Device, dtype: str, n: int) -> Callable[[], object]:
    """C = A @ B with n x n operands drawn at random (never zeros) on the device."""
    import torch

    from hwbench.backends.base import DTYPES

    a, b = (torch.randn(n, n, device=device.torch_device(), dtype=DTYPES[dtype]) for _ in "ab")
    c = torch.empty_like(a)
    return lambda: torch.mm(a, b, out=c)


def gemm_rate(device: Device, dtype: str, settings: PeakSettings) -> dict[str, Any]:
    """Best FLOP/s of an n x n matmul in `dtype`, n doubled until a run is long enough."""
    n = settings.min_n
    op = matmul_op(device, dtype, n)
    best_s(device, op, settings.warmup)
    while n < settings.max_n and best_s(device, op, 1) < settings.min_run_s:
        n *= 2
        op = matmul_op(device, dtype, n)
        best_s(device, op, settings.warmup)
    seconds = best_s(device, op, settings.runs)
    return {"n": n, "runs": settings.runs, "best_s": seconds, "flops_per_s": 2 * n**3 / seconds}


def copy_rate(device: Device, settings: PeakSettings) -> dict[str, Any]:
    """Best bytes/s (read + write) of a device-to-device tensor copy."""
    import torch

    size = settings.copy_mib * 2**20
    src = torch.full((size // 4,), 1.5, device=device.torch_device())  # float32
    dst = torch.empty_like(src)
    best_s(device, lambda: dst.copy_(src), settings.warmup)
    seconds = best_s(device, lambda: dst.copy_(src), settings.runs)
    return {
        "bytes": size,
        "runs": settings.runs,
        "best_s": seconds,
        "bytes_per_s": 2 * size / seconds,
    }


def gemm_rates(
    device: Device, dtypes: tuple[str, ...], settings: PeakSettings, steps: Steps
) -> tuple[dict[str, Any], dict[str, str]]:
    """GEMM rates of the dtypes the device supports, and why it skips the others."""
    gemm, skipped = {}, {}
    for dtype in dtypes:
        steps.doing(f"GEMM {dtype}")
        ok, reason = device.supports_dtype(dtype)
        if ok:
            rate = gemm[dtype] = gemm_rate(device, dtype, settings)
            steps.done(f"GEMM {dtype}: {_flops(rate['flops_per_s'])} at n={rate['n']}")
        else:
            skipped[dtype] = reason
            steps.done(f"GEMM {dtype}: skipped: {reason}")
    return gemm, skipped


def measure(
    device: Device, dtypes: tuple[str, ...], settings: PeakSettings, steps: Steps
) -> dict[str, Any]:
    """The peaks document: GEMM per supported dtype (others under `skipped`), copy, context."""
    from hwbench.results.env import fingerprint

    gemm, skipped = gemm_rates(device, dtypes, settings, steps)
    steps.doing("copy")
    copy = copy_rate(device, settings)
    steps.done(f"copy: {copy['bytes_per_s'] / 1e9:.4g} GB/s")
    return {
        "schema": PEAKS_SCHEMA,
        "schema_version": 1,
        "device": device.name,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "device_info": device.info(),
        "device_environment": device.environment(),
        "environment": fingerprint(),
        "settings": asdict(settings),
        "gemm": gemm,
        "skipped": skipped,
        "copy": copy,
    }


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    peak = subparsers.add_parser("peak", help="measure GEMM FLOP/s per dtype and copy bandwidth")
    peak.add_argument("--device", default="cpu", help="device to measure (default: cpu)")
    peak.add_argument("--dtype", help="comma-separated dtypes (default: all the device supports)")
    peak.add_argument("--out", type=Path, default=Path("results"), help="results directory")
    peak.add_argument("--machine", help="folder name for this machine (default: host name)")
    peak.add_argument("--runs", type=int, help="timed runs per measurement (best is kept)")
    peak.add_argument("--quick", action="store_true", help="tiny sizes, for tests (not peaks)")


def settings_from(args: argparse.Namespace) -> PeakSettings:
    settings = QUICK if args.quick else PeakSettings()
    return settings if args.runs is None else replace(settings, runs=args.runs)


def dtypes_from(args: argparse.Namespace, device: Device) -> tuple[str, ...]:
    from hwbench.backends.base import DTYPES

    if args.dtype is None:
        return tuple(d for d in DTYPES if device.supports_dtype(d)[0])
    chosen = tuple(d.strip() for d in args.dtype.split(",") if d.strip())
    for dtype in chosen:
        if dtype not in DTYPES:
            raise unknown_choice("dtype", dtype, list(DTYPES))
    return chosen


def _flops(value: float) -> str:
    return f"{value / 1e12:.4g} TFLOP/s" if value >= 1e12 else f"{value / 1e9:.4g} GFLOP/s"


def report(document: dict[str, Any]) -> Table:
    """Measured rates beside the datasheet figure of the chip, where hwbench knows it."""
    name = document["device_info"]["name"]
    chip = datasheet_for(name)
    table = Table("measure", "size", "best ms", "rate", "datasheet", title=f"peaks of {name}")
    for dtype, gemm in document["gemm"].items():
        sheet = chip.flops.get(dtype) if chip else None
        cited = f"{_flops(sheet.value)} ({sheet.confidence})" if sheet else "-"
        rate = _flops(gemm["flops_per_s"])
        table.add_row(f"GEMM {dtype}", f"n={gemm['n']}", f"{gemm['best_s'] * 1e3:.4g}", rate, cited)
    copy = document["copy"]
    cited = f"{chip.bandwidth.value / 1e9:.4g} GB/s ({chip.bandwidth.confidence})" if chip else "-"
    rate = f"{copy['bytes_per_s'] / 1e9:.4g} GB/s"
    table.add_row(
        "copy (read+write)",
        f"{copy['bytes'] >> 20} MiB",
        f"{copy['best_s'] * 1e3:.4g}",
        rate,
        cited,
    )
    for dtype, reason in document["skipped"].items():
        table.add_row(f"GEMM {dtype}", "", "", "skipped", reason)
    return table


def main(args: argparse.Namespace) -> int:
    device = lookup("devices", args.device)()
    ok, reason = device.available()
    if not ok:
        raise UsageError(f"device {args.device} unavailable: {reason}")
    dtypes = dtypes_from(args, device)
    with Steps(stderr_console(), total=len(dtypes) + 1) as steps:  # a GEMM per dtype, the copy
        document = measure(device, dtypes, settings_from(args), steps)
    path = peaks_path(args.out, machine_name(args.machine), device.name)
    save(document, path)
    console = stdout_console()
    console.print(report(document))
    console.print(f"peaks: {path}")
    return 0
