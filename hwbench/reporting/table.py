"""The terminal table of a result document, and the one line a finished case gets in a log."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from rich.markup import escape
from rich.table import Table
from rich.text import Text

from hwbench.labels import case_label, label, target_label
from hwbench.reporting import endpoint_lines, energy_cells
from hwbench.reporting.vocabulary import styled
from hwbench.results.record import CaseRecord

MEDIAN, THROUGHPUT, ROOF, LLM, NOTE = (
    "median ms [95% CI]", "samples/s", "% of roof (bound)", "TTFT / TPOT ms", "note",
)  # fmt: skip
ENERGY = energy_cells.HEADER
COLUMNS = (
    "case", "target", "status", MEDIAN, "p90 ms", THROUGHPUT, LLM, ENERGY, "GFLOP/s", ROOF,
    "parity rel-L2", NOTE,
)  # fmt: skip
# Left out in this order, least important first, when the table must fit a narrower width.
DROPPED_FIRST = ("p90 ms", "GFLOP/s", "parity rel-L2", ROOF, THROUGHPUT, ENERGY, LLM)
# Then columns narrow in tiers, the widest of a tier first, and a tier only once the one before
# has given all it can: the note, the case and the status wrap between words; the median puts
# its interval on a line of its own; the target label, which has no spaces, folds.
NARROWING = ((NOTE, "case", "status"), (MEDIAN,), ("target",))
LEAST = {NOTE: 12, "target": 9}  # the others keep their longest word (the median, its interval)
NOTE_ROOM = 24  # an optional column is shown only where it leaves the note this much
BORDER = 3  # a column's padding and its rule, in characters; the table adds one more


def number(value: float | None, spec: str, scale: float = 1.0) -> str:
    """`value / scale` formatted by `spec`; 'n/a' for a missing or NaN value, 'inf' or '-inf'
    for an infinite one (a CI bound from too few samples)."""
    if value is None or math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return format(value / scale, spec)


def _ms(value: float | None) -> str:
    return number(value, ".4g")


def median_cell(latency: dict[str, Any]) -> str:
    """The median with its 95% CI as `[low, high]`: the interval may be lopsided."""
    low, high = latency.get("median_ci_low"), latency.get("median_ci_high")
    return f"{_ms(latency['p50'])} [{_ms(low)}, {_ms(high)}]"


def roofline_cell(roofline: dict[str, Any]) -> str:
    """% of the roof at this intensity and the bound, from the measured peak or the datasheet;
    empty when neither is known (the caption says how to measure one)."""
    basis = roofline.get("bound_from")
    if basis is None:
        return ""
    return f"{number(roofline[basis]['pct_of_roof'], '.3g')}% {roofline['bound']} ({basis})"


def status_cell(case: CaseRecord) -> str:
    """The status in its style, and the unstable marker on an ok case whose speed is not to be
    trusted."""
    return styled(case.status) + (f" {styled('unstable')}" if case.unstable else "")


def note(case: CaseRecord) -> str:
    """Why a case failed, was skipped or is unstable; else why its sampling stopped."""
    if case.unstable:
        return case.unstable
    return case.reason if case.metrics is None else case.sampling.stop_reason


def llm_cell(case: CaseRecord) -> str:
    """Median TTFT / TPOT of a generate or serve case."""
    llm = (case.metrics or {}).get("llm")
    return f"{_ms(llm['median_ttft_ms'])} / {_ms(llm['median_tpot_ms'])}" if llm else ""


def case_cells(case: CaseRecord) -> dict[str, str]:
    """The row of a case by column (rich markup: labels escaped, the status styled)."""
    cells = {
        "case": escape(case_label(case.key)),
        "target": escape(target_label(case.key)),
        "status": status_cell(case),
        "parity rel-L2": endpoint_lines.parity_cell(case.parity),
        NOTE: escape(note(case)),
    }
    if case.metrics is None:  # failed, skipped, or --check-only
        return cells
    latency, roof = case.metrics["latency_ms"], case.roofline
    return {
        **cells,
        MEDIAN: median_cell(latency),
        "p90 ms": _ms(latency.get("p90")),
        THROUGHPUT: number(case.metrics.get("throughput"), ".4g"),
        LLM: llm_cell(case),
        ENERGY: energy_cells.joules_cell(case.energy),
        "GFLOP/s": number(roof.get("flops_per_s"), ".3g", 1e9) if roof else "",
        ROOF: roofline_cell(roof) if roof else "",
    }


def headline(case: CaseRecord) -> str:
    """One line for a log as a case finishes: its label, status, and its median with the 95% CI
    or the reason it has none."""
    name = label(case.key)
    if case.metrics is None:
        return f"{name}: {case.status}: {case.reason}"
    figure = f"{name}: {case.status}, median {median_cell(case.metrics['latency_ms'])} ms"
    return figure + (f"; unstable: {case.unstable}" if case.unstable else "")


def _cell_width(cell: str) -> int:
    return Text.from_markup(cell).cell_len


def natural_widths(headers: dict[str, str], rows: list[dict[str, str]]) -> dict[str, int]:
    """Each column's width on one line: its header or its widest cell."""
    return {
        c: max([_cell_width(h), *(_cell_width(row.get(c, "")) for row in rows)])
        for c, h in headers.items()
    }


def stacked(cell: str) -> str:
    """A median cell with its interval on a line of its own."""
    return cell.replace(" [", "\n[", 1)


def least_width(column: str, rows: list[dict[str, str]]) -> int:
    """The narrowest a column in NARROWING gets: LEAST, else its longest word (the median: its
    longest line once stacked)."""
    if column in LEAST:
        return LEAST[column]
    cells = [Text.from_markup(row.get(column, "")).plain for row in rows]
    if column == MEDIAN:
        return max((len(line) for cell in cells for line in stacked(cell).splitlines()), default=1)
    return max(len(word) for cell in [column, *cells] for word in cell.split())


def fitted_widths(
    headers: dict[str, str], rows: list[dict[str, str]], width: int, wide: bool
) -> dict[str, int]:
    """Each shown column's width for a table at most `width` wide: the least important columns
    left out until the rest fit (all kept when `wide`), then the others narrowed."""
    widths = natural_widths(headers, rows)
    least = {c: min(widths[c], least_width(c, rows)) for tier in NARROWING for c in tier}
    # what the kept columns need: the first tier wrapped, but the note left some room
    room = {c: least[c] for c in NARROWING[0]} | {NOTE: min(widths[NOTE], NOTE_ROOM)}

    def excess(sizes: dict[str, int]) -> int:
        return sum(sizes.values()) + BORDER * len(sizes) + 1 - width

    for column in () if wide else DROPPED_FIRST:
        if column in widths and excess({**widths, **room}) > 0:
            del widths[column]
    return narrowed(widths, least, excess(widths))


def narrowed(widths: dict[str, int], least: dict[str, int], excess: int) -> dict[str, int]:
    """`widths` less `excess` characters, taken one at a time from the widest column of the
    first tier of NARROWING that is above its least width."""
    widths = dict(widths)
    for tier in NARROWING:
        roomy = [c for c in tier if widths[c] > least[c]]
        while excess > 0 and roomy:
            widest = max(roomy, key=widths.__getitem__)
            widths[widest] -= 1
            excess -= 1
            roomy = [c for c in tier if widths[c] > least[c]]
    return widths


def headers(document: dict[str, Any]) -> dict[str, str]:
    """The header of every column this document fills: the LLM column (and tokens/s as the
    throughput) only with generate or serve cases, the energy column only with a case that
    has an energy figure."""
    shown = [c for c in COLUMNS if c != ENERGY or energy_cells.any_energy(document["cases"])]
    if not any(llm_cell(case) for case in document["cases"]):
        return {c: c for c in shown if c != LLM}
    return {c: c for c in shown} | {THROUGHPUT: "samples/s or tokens/s"}


def caption(document: dict[str, Any], unavailable: Counter[str], hidden: list[str]) -> str | None:
    """Cases skipped for want of a device, peaks to measure, and columns left out."""
    devices = document["devices"]
    lines = [f"{n} case(s) skipped on {d}: {devices[d]['reason']}" for d, n in unavailable.items()]
    lines += no_peak_lines(document["cases"])
    lines += endpoint_lines.server_lines(document["cases"])
    lines += endpoint_lines.parity_lines(document["cases"])
    lines += energy_cells.missing_lines(document["cases"])
    if hidden:
        lines.append(f"{', '.join(hidden)} left out to fit the terminal: --wide shows them")
    return "\n".join(lines) or None


def no_peak_lines(cases: list[CaseRecord]) -> list[str]:
    """How to fill the roofline column, once per device that has cases without a peak."""
    missing: dict[str, dict[str, None]] = {}  # device: its dtypes, in order
    for case in cases:
        if case.roofline and case.roofline.get("bound_from") is None:
            missing.setdefault(case.key["device"], {})[case.key["dtype"]] = None
    return [
        f"no peak measured for {device} {', '.join(dtypes)}: run `hwbench peak --device {device}`"
        " to fill the roofline column"
        for device, dtypes in missing.items()
    ]


def rows_and_unavailable(document: dict[str, Any]) -> tuple[list[dict[str, str]], Counter[str]]:
    """The rows of the cases that ran, and the number of cases each unavailable device skipped."""
    unavailable: Counter[str] = Counter()
    rows = []
    for case in document["cases"]:
        device = case.key["device"]
        if case.status == "skipped" and not document["devices"][device]["available"]:
            unavailable[device] += 1
        else:
            rows.append(case_cells(case))
    return rows, unavailable


def results_table(document: dict[str, Any], width: int | None = None, wide: bool = False) -> Table:
    """One row per case that ran: median latency with its 95% CI, p90, throughput, roofline,
    parity, and a note. At most `width` columns wide (None: no limit), less important columns
    left out to fit unless `wide`. Cases skipped because a device is unavailable are summed
    up in the caption."""
    rows, unavailable = rows_and_unavailable(document)
    names = headers(document)
    widths: dict[str, int | None] = dict.fromkeys(names)  # None: as wide as its cells
    if width is not None:
        widths = {**fitted_widths(names, rows, width, wide)}
        if widths[MEDIAN] < natural_widths({MEDIAN: MEDIAN}, rows)[MEDIAN]:
            rows = [{**row, MEDIAN: stacked(row.get(MEDIAN, ""))} for row in rows]
    shown = [c for c in names if c in widths]
    hidden = [names[c] for c in names if c not in widths]
    table = Table(title=f"hwbench {document['suite']} on {document['machine']}")
    wrapping = {c for tier in NARROWING for c in tier}
    for column in shown:
        no_wrap = column not in wrapping
        table.add_column(names[column], width=widths[column], no_wrap=no_wrap, overflow="fold")
    for row in rows:
        table.add_row(*(row.get(column, "") for column in shown))
    table.caption = caption(document, unavailable, hidden)
    return table
