"""A stand-in sysfs powercap tree: RAPL zones whose counters the test sets (no figure from it
is a measurement). Layout as Linux's Documentation/ABI/testing/sysfs-class-powercap has it."""

from __future__ import annotations

import os
from pathlib import Path

ZONES = {  # directory: (name, max_energy_range_uj)
    "intel-rapl:0": ("package-0", 262143328850),
    "intel-rapl:0:0": ("core", 262143328850),  # part of the package: not summed
    "intel-rapl:0:1": ("dram", 65712999613),
    "intel-rapl:1": ("psys", 262143328850),  # the whole platform: not summed
}


def make_rapl_stand_in(root: Path) -> Path:
    """The tree under `root`/rapl-stand-in, every counter at 0 µJ; returns the tree's root."""
    tree = root / "rapl-stand-in"
    for directory, (name, range_uj) in ZONES.items():
        zone = tree / directory
        zone.mkdir(parents=True)
        (zone / "name").write_text(f"{name}\n")
        (zone / "max_energy_range_uj").write_text(f"{range_uj}\n")
        (zone / "energy_uj").write_text("0\n")
    return tree


def set_counter(tree: Path, directory: str, uj: int) -> None:
    """Set a zone's energy_uj, atomically (a reader never sees half a number)."""
    path = tree / directory / "energy_uj"
    partial = path.with_suffix(".partial")
    partial.write_text(f"{uj}\n")
    os.replace(partial, path)
