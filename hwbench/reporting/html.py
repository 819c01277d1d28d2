"""`hwbench report`: one self-contained HTML file, charts inline, in the order of its Markdown
summary: headline, comparisons, environment per machine, results per file, then the charts and
the definitions."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib.resources import files
from string import Template
from types import MappingProxyType

from hwbench import __version__
from hwbench.reporting import details, headline
from hwbench.reporting.charts import charts
from hwbench.reporting.comparisons import Compared, Docs, grids, sections
from hwbench.reporting.definitions import (
    COMPARISON_NOTE,
    DEFINITIONS,
    HEADLINE_NOTE,
    NO_COMPARISON,
)
from hwbench.reporting.environment import environments, package_rows, table_rows
from hwbench.reporting.loadgen_section import loadgen_html
from hwbench.reporting.markdown import markdown_report as markdown_report  # the CLI's import
from hwbench.reporting.port_section import port_html

Cell = str | list[str]  # a table cell: text, or lines
NONE: Mapping[int, str] = MappingProxyType({})
WRAPPED = ("case", "target", "note")  # result columns whose text may wrap


def _cell(cell: Cell) -> str:
    lines = [cell] if isinstance(cell, str) else cell
    return "<br>".join(html.escape(line) for line in lines)


def _td(cell: Cell, kind: str) -> str:
    """A cell; `kind` 'status' styles it by its words (ok, unstable...), else it is a class."""
    if kind == "status" and isinstance(cell, str):
        kind = cell
    attribute = f' class="{html.escape(kind)}"' if kind else ""
    return f"<td{attribute}>{_cell(cell)}</td>"


def _rows(rows: Sequence[Sequence[Cell]], classes: Mapping[int, str]) -> str:
    return "".join(
        "<tr>" + "".join(_td(c, classes.get(i, "")) for i, c in enumerate(row)) + "</tr>"
        for row in rows
    )


def _table(
    header: Sequence[str], rows: Sequence[Sequence[Cell]], classes: Mapping[int, str] = NONE
) -> str:
    """An HTML table; `classes` maps a column to its cells' class ('nw': not wrapped)."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{_rows(rows, classes)}</tbody></table>"


def _note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def headline_html(documents: Docs, by_target: list[Compared]) -> str:
    noise = "".join(f"<li>{html.escape(line)}</li>" for line in headline.noise_lines(documents))
    body = "".join(
        f'<tr class="group"><th colspan="{len(headline.HEADER)}">{html.escape(title)}</th></tr>'
        + _rows(rows, {2: "nw"})
        for title, rows in headline.headline_groups(by_target)
    )
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headline.HEADER)
    return (
        "<h2>Headline</h2>"
        + (f'<ul class="noise">{noise}</ul>' if noise else "")
        + f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        + _note(HEADLINE_NOTE)
    )


def comparison_html(title: str, found: list[Compared]) -> str:
    parts = [f"<h2>{html.escape(title)}</h2>"]
    if not found:
        parts.append(_note(NO_COMPARISON))
    for item in found:
        parts.append(f"<h3>{html.escape(item.workload)}</h3>")
        if item.comparison is None:
            parts.append(_note(item.note))
            continue
        tables = grids(item.comparison, item.workload)
        parts += [_table(h, rows, dict.fromkeys(range(1, len(h)), "nw")) for h, rows in tables]
    return "".join(parts) + _note(COMPARISON_NOTE)


def environment_html(documents: Docs) -> str:
    parts = ["<h2>Environment</h2>"]
    for machine in environments(documents):
        parts.append(
            f"<h3>{html.escape(machine.machine)}</h3>"
            + _table(("field", "value"), table_rows(machine))
            + f"<details><summary>packages ({len(machine.packages)} installed)</summary>"
            + _table(("package", "version"), package_rows(machine))
            + "</details>"
        )
    return "".join(parts)


def results_html(documents: Docs) -> str:
    parts = ["<h2>Results</h2>"]
    for name, document in documents:
        header, rows, skipped = details.file_table(document)
        heading = f"{name} ({document.get('machine', '')}, suite {document.get('suite', '')})"
        parts.append(f"<h3>{html.escape(heading)}</h3>")
        classes = {i: "status" if h == "status" else "nw" for i, h in enumerate(header)}
        classes = {i: kind for i, kind in classes.items() if header[i] not in WRAPPED}
        parts.append(_table(header, rows, classes) + "".join(map(_note, skipped)))
    return "".join(parts)


def html_report(documents: Docs, title: str, ports: Docs = ()) -> str:
    """The whole report as one HTML page; `ports`: `hwbench port` documents, after the results."""
    found = sections(documents)
    definitions = "".join(
        f"<dt>{html.escape(t)}</dt><dd>{html.escape(d)}</dd>" for t, d in DEFINITIONS
    )
    body = (
        headline_html(documents, found[0][1])
        + "".join(comparison_html(heading, compared) for heading, compared in found)
        + environment_html(documents)
        + results_html(documents)
        + loadgen_html(documents)
        + port_html(ports)
        + charts(documents)
        + f"<h2>Metric definitions</h2><dl>{definitions}</dl>"
    )
    template = Template(files("hwbench.reporting").joinpath("templates/report.html").read_text())
    return template.substitute(
        title=html.escape(title),
        generated=datetime.now(UTC).isoformat(timespec="seconds"),
        version=__version__,
        sources=html.escape(", ".join(n for n, _ in documents)),
        body=body,
    )
