"""Result documents seen through their energy, for `hwbench gate --metric energy`: each ok
case's samples become its segments' joules per unit (one segment per pass of a step case), so
the gate judges energy with the ratio, interval and correction it judges time with."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from hwbench.labels import label
from hwbench.results.record import CaseRecord

UNIT_ORDER = ("sample", "output_token", "request")  # the first a case has is its unit


def primary_unit(energy: dict[str, Any]) -> str | None:
    """The unit a case's energy is quoted in: samples for step cases, else output tokens."""
    per = energy.get("joules_per") or {}
    return next((unit for unit in UNIT_ORDER if unit in per), None)


def energy_samples(case: CaseRecord) -> tuple[list[float], str]:
    """The case's per-segment joules per unit, or [] and why it has none to gate."""
    energy = case.energy or {}
    if energy.get("status") != "measured":
        reason = f": {energy['reason']}" if energy.get("reason") else ""
        return [], f"energy {energy.get('status', 'not recorded')}{reason}"
    unit = primary_unit(energy)
    figures = (energy.get("segment_joules_per") or {}).get(unit, []) if unit else []
    if len(figures) < 2:
        return [], f"{len(figures)} timed segment(s) of energy; a ratio needs 2 or more"
    return figures, ""


def energy_view(document: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """`document` with each ok case's samples and median made of its energy figures (the
    median in `latency_ms.p50`, in J per unit); ok cases without two figures are left out,
    with a note each."""
    cases, notes = [], []
    for case in document["cases"]:
        if not case.timed:
            cases.append(case)
            continue
        figures, why = energy_samples(case)
        if not figures:
            notes.append(f"{label(case.key)}: not gated on energy ({why})")
            continue
        latency = {**case.metrics["latency_ms"], "p50": float(np.median(figures))}
        metrics = {**case.metrics, "latency_ms": latency}
        cases.append(replace(case, samples_ns=tuple(figures), metrics=metrics))
    return {**document, "cases": cases}, notes


def energy_views(documents: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """Each document's energy view, and their notes once each."""
    views, notes = [], {}
    for document in documents:
        view, found = energy_view(document)
        views.append(view)
        notes.update(dict.fromkeys(found))
    return views, list(notes)
