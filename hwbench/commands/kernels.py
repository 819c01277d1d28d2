"""`hwbench kernels`: each kernel's variants validated against its reference, then timed, with
GB/s or TFLOP/s (whichever bounds the kernel at that shape) and the % of the measured peak."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable

from rich.console import Console
from rich.table import Table

from hwbench.backends.base import Device
from hwbench.commands.output import stdout_console
from hwbench.kernels.registry import kernels, lookup
from hwbench.measure.kernel_bench import SHAPES, KernelSettings, Row, bench_kernel, check_dtype
from hwbench.registry import lookup as lookup_plugin
from hwbench.reporting.vocabulary import styled


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("kernels", help="micro-benchmark each kernel's variants")
    p.add_argument("--device", default="cpu", help="device to run on (default: cpu)")
    p.add_argument("--kernel", nargs="+", metavar="K", help="kernels to run (default: all)")
    p.add_argument("--shape", default="small", choices=SHAPES, help="named input shape")
    p.add_argument("--dtype", default="fp32", help="fp32 or bf16 (default: fp32)")
    p.add_argument("--time-budget", type=float, default=1.0, help="seconds timed per variant")
    p.add_argument("--json", action="store_true", help="print rows as JSON instead of a table")


def run(device: Device, names: Iterable[str], settings: KernelSettings) -> list[Row]:
    """Rows of every chosen kernel's variants (names checked before anything runs)."""
    chosen = [lookup(name) for name in names]
    if device.available()[0]:
        check_dtype(device, settings.dtype)
    return [row for kernel in chosen for row in bench_kernel(kernel, device, settings)]


def _time(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1e3:.3g} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.3g} us"


def _rate(row: Row) -> str:
    if row.rate is None:
        return "-"
    return (
        f"{row.rate / 1e9:.3g} GB/s" if row.bound == "memory" else f"{row.rate / 1e12:.3g} TFLOP/s"
    )


def _error(row: Row) -> str:
    if row.rel_l2 is None:
        return "-"
    return f"{row.rel_l2:.1e} / {row.tolerance:.0e}"


def table(rows: list[Row], title: str) -> Table:
    """Validated and timed variants; failures with their reason (skips are listed apart)."""
    out = Table("kernel", "variant", "status", "median", "rate", "% peak", "rel err / tol",
                title=title)  # fmt: skip
    for row in rows:
        if row.status == "skipped":
            continue
        pct = "n/a" if row.pct_of_peak is None else f"{row.pct_of_peak:.0f}%"
        status = styled(row.status)
        if row.status == "failed":
            status += f" {row.reason}"
        out.add_row(row.kernel, row.variant, status, _time(row.median_s), _rate(row), pct,
                    _error(row))  # fmt: skip
    return out


def print_rows(console: Console, rows: list[Row], title: str) -> None:
    """The table, then each skipped variant with its reason."""
    if any(row.status != "skipped" for row in rows):
        console.print(table(rows, title))
    else:
        console.print(f"{title}: no variant ran")
    for row in rows:
        if row.status == "skipped":
            console.print(f"skipped {row.kernel}/{row.variant}: {row.reason}")


def main(args: argparse.Namespace) -> int:
    device = lookup_plugin("devices", args.device)()
    settings = KernelSettings(args.shape, args.dtype, args.time_budget)
    rows = run(device, args.kernel or list(kernels()), settings)
    if args.json:
        print(json.dumps([row.as_dict() for row in rows], indent=1))
        return 0
    title = f"kernels on {device.name}, {settings.shape} shapes, {settings.dtype}"
    console = stdout_console()
    print_rows(console, rows, title)
    return 0
