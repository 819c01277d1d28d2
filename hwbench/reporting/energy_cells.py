"""A case's `energy` block in words, one vocabulary for the table, the HTML report, `compare`
and the ladder: joules per unit of work and its inverse, or why there is no figure."""

from __future__ import annotations

from typing import Any

from hwbench.analysis.energy_view import primary_unit
from hwbench.results.record import CaseRecord

UNITS = {"sample": ("sample", "samples"), "output_token": ("token", "tokens")}
UNITS["request"] = ("request", "requests")
HEADER = "J per sample or token"


def measured(energy: dict[str, Any] | None) -> bool:
    return bool(energy) and energy.get("status") == "measured"


def joules_per_unit(energy: dict[str, Any] | None) -> tuple[float, str] | None:
    """(J per unit, unit) of a measured block, else None."""
    if not measured(energy):
        return None
    assert energy is not None
    unit = primary_unit(energy)
    return (energy["joules_per"][unit], unit) if unit else None


def joules_cell(energy: dict[str, Any] | None) -> str:
    """'0.0123 J/sample ±2%', 'too short', 'not exposed', or '' without a block."""
    if not energy:
        return ""
    figure = joules_per_unit(energy)
    if figure is None:
        return str(energy.get("status", ""))
    bound = energy.get("resolution_bound_pct")
    within = f" ±{bound:.2g}%" if bound is not None else ""
    return f"{figure[0]:.3g} J/{UNITS[figure[1]][0]}{within}"


def efficiency_cell(energy: dict[str, Any] | None) -> str:
    """'81.3 tokens/J, 95 W mean' for a measured block, else ''."""
    figure = joules_per_unit(energy)
    if figure is None or figure[0] <= 0:
        return ""
    assert energy is not None
    return f"{1 / figure[0]:.3g} {UNITS[figure[1]][1]}/J, {energy['mean_w']:.3g} W mean"


def any_energy(cases: list[CaseRecord]) -> bool:
    """Whether a case holds an energy figure (or a window too short for one)."""
    return any(c.energy and c.energy.get("status") in ("measured", "too short") for c in cases)


def missing_lines(cases: list[CaseRecord]) -> list[str]:
    """'energy not exposed on cpu: why', once per device and reason."""
    found: dict[str, None] = {}
    for case in cases:
        energy = case.energy or {}
        if energy.get("status") in ("not exposed", "failed"):
            line = f"energy {energy['status']} on {case.key['device']}: {energy.get('reason', '')}"
            found[line] = None
    return list(found)


def gain(first: dict[str, Any] | None, energy: dict[str, Any] | None) -> float | None:
    """How many times fewer joules per unit than `first` (same unit), else None."""
    a, b = joules_per_unit(first), joules_per_unit(energy)
    if a is None or b is None or a[1] != b[1] or b[0] <= 0:
        return None
    return a[0] / b[0]
