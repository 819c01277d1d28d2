"""Shared by the benchmark scripts: print a rich table and keep it as a text file beside them."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from hwbench.backends.cpu import CPU
from hwbench.results.env import fingerprint

HERE = Path(__file__).parent


def machine_line() -> str:
    """One line that says what machine a benchmark ran on."""
    env, cpu = fingerprint(), CPU().info()
    return (
        f"machine: {env['cpu']}, {cpu['affinity_cores']} cores usable, torch threads "
        f"{cpu['torch_threads']}, {env['memory_bytes'] / 2**30:.0f} GiB, torch "
        f"{env['packages']['torch']}, hwbench {env['git']['commit'] or 'uncommitted'}"
        f"{' (dirty)' if env['git']['dirty'] else ''}; load average "
        f"{', '.join(f'{x:.2f}' for x in env['load_average'])} at the end"
    )


def publish(name: str, table: Table, notes: list[str]) -> None:
    """Print `table` and `notes`, and save them as benchmarks/<name>.txt."""
    console = Console(record=True, width=120)
    console.print(table)
    for note in [machine_line(), *notes]:
        console.print(note)
    (HERE / f"{name}.txt").write_text(console.export_text())
