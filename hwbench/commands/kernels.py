"""`hwbench kernels`: each kernel's variants validated against its reference, then timed, with
GB/s or TFLOP/s (whichever bounds the kernel at that shape) and the % of the measured peak.
Saved with the environment as OUT/<machine>/<timestamp>-kernels.json."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from hwbench.commands.output import Steps, stderr_console, stdout_console
from hwbench.machine import machine_name
from hwbench.registry import lookup as lookup_plugin
from hwbench.reporting.vocabulary import styled
from hwbench.results import store
from hwbench.results.files import check_writable

# The kernels, their bench and the environment fingerprint import torch, so they are imported
# where they are used: every command module is imported to build `hwbench --help`.
if TYPE_CHECKING:
    from hwbench.backends.base import Device
    from hwbench.measure.kernel_bench import KernelSettings, Row

# The saved file. Version 1: {schema, schema_version, machine, created, environment, devices
# (as in a result file), settings (shape, dtype, time_budget_s), rows (one per variant)}.
KERNELS_SCHEMA = "hwbench-kernels"
KERNELS_SCHEMA_VERSION = 1


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("kernels", help="micro-benchmark each kernel's variants")
    p.add_argument("--device", default="cpu", help="device to run on (default: cpu)")
    p.add_argument("--kernel", nargs="+", metavar="K", help="kernels to run (default: all)")
    p.add_argument("--shape", default="small", help="named input shape: small or large (small)")
    p.add_argument("--dtype", default="fp32", help="fp32 or bf16 (default: fp32)")
    p.add_argument("--time-budget", type=float, default=1.0, help="seconds timed per variant")
    p.add_argument("--out", type=Path, default=Path("results"), help="results directory")
    p.add_argument("--machine", help="folder name for this machine (default: host name)")
    p.add_argument("--json", action="store_true", help="print the saved document as JSON")


def run(device: Device, names: Iterable[str], settings: KernelSettings, steps: Steps) -> list[Row]:
    """Rows of every chosen kernel's variants (names checked before anything runs)."""
    from hwbench.kernels.registry import lookup
    from hwbench.measure.kernel_bench import bench_kernel, check_dtype

    chosen = [lookup(name) for name in names]
    if device.available()[0]:
        check_dtype(device, settings.dtype)
    rows: list[Row] = []
    for kernel in chosen:
        steps.doing(kernel.name)
        found = bench_kernel(kernel, device, settings)
        steps.done(kernel_line(kernel.name, found))
        rows += found
    return rows


def kernel_line(kernel: str, rows: list[Row]) -> str:
    """A kernel's variants on one line: status and median of each, the skipped counted."""
    ran = [row for row in rows if row.status != "skipped"]
    parts = [f"{row.variant} {row.status}" + _median(row) for row in ran]
    skipped = len(rows) - len(ran)
    line = f"{kernel}: {', '.join(parts) or 'no variant ran'}"
    return line + (f"; {skipped} skipped" if skipped else "")


def _median(row: Row) -> str:
    return "" if row.median_s is None else f" {_time(row.median_s)}"


def document(device: Device, settings: KernelSettings, rows: list[Row], machine: str) -> dict:
    """The saved file: the rows with the settings, the device and the environment."""
    from hwbench.results.env import fingerprint

    ok, reason = device.available()
    described: dict[str, Any] = {"available": ok, "reason": reason}
    described |= {"info": device.info(), "environment": device.environment()} if ok else {}
    return {
        "schema": KERNELS_SCHEMA,
        "schema_version": KERNELS_SCHEMA_VERSION,
        "machine": machine,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "environment": fingerprint(),
        "devices": {device.name: described},
        "settings": asdict(settings),
        "rows": [row.as_dict() for row in rows],
    }


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


def save(saved: dict[str, Any], out: Path) -> Path:
    """`saved` written (atomically) as OUT/<machine>/<timestamp>-kernels.json; its path."""
    return store.save_new(saved, store.result_path(out, saved["machine"], "kernels"))


def main(args: argparse.Namespace) -> int:
    from hwbench.kernels.registry import kernels
    from hwbench.measure.kernel_bench import KernelSettings

    device = lookup_plugin("devices", args.device)()
    settings = KernelSettings(args.shape, args.dtype, args.time_budget)
    names = args.kernel or list(kernels())
    check_writable(args.out / machine_name(args.machine))  # before anything is measured
    console = stderr_console()
    with Steps(console, total=len(names)) as steps:
        rows = run(device, names, settings, steps)
    saved = document(device, settings, rows, machine_name(args.machine))
    path = save(saved, args.out)
    if args.json:
        print(store.dumps(saved))
    else:
        title = f"kernels on {device.name}, {settings.shape} shapes, {settings.dtype}"
        print_rows(stdout_console(), rows, title)
    console.print(f"results: {path}")
    return 0
