"""The Markdown summary of `hwbench report`: the HTML report's tables, in its order, without
the charts."""

from __future__ import annotations

from collections.abc import Sequence

from hwbench.reporting import details, headline
from hwbench.reporting.comparisons import Compared, Docs, grids, sections
from hwbench.reporting.definitions import (
    COMPARISON_NOTE,
    DEFINITIONS,
    HEADLINE_NOTE,
    NO_COMPARISON,
)
from hwbench.reporting.environment import environments, table_rows
from hwbench.reporting.vocabulary import markdown_table


def _md(rows: Sequence[Sequence[str | list[str]]]) -> list[list[str]]:
    return [[c if isinstance(c, str) else "<br>".join(c) for c in row] for row in rows]


def markdown_comparison(title: str, found: list[Compared]) -> list[str]:
    lines = ["", f"## {title}", *(["", NO_COMPARISON] if not found else [])]
    for item in found:
        lines += ["", f"### {item.workload}", ""]
        if item.comparison is None:
            lines.append(item.note)
        for header, rows in grids(item.comparison, item.workload) if item.comparison else []:
            lines += [*markdown_table(header, _md(rows)), ""]
    return [*lines, "", COMPARISON_NOTE]


def markdown_environment(documents: Docs) -> list[str]:
    lines = ["", "## Environment"]
    for machine in environments(documents):
        versions = [f"{p} {'/'.join(v for v, _ in found)}" for p, found in machine.packages]
        rows = [*table_rows(machine), ("packages", ", ".join(versions))]
        lines += ["", f"### {machine.machine}", "", *markdown_table(("field", "value"), _md(rows))]
    return lines


def markdown_results(documents: Docs) -> list[str]:
    lines = ["", "## Results"]
    for name, document in documents:
        header, rows, skipped = details.file_table(document)
        lines += ["", f"### {name} ({document.get('machine', '')})", ""]
        lines += [*markdown_table(header, rows), *(f"\n{line}" for line in skipped)]
    return lines


def markdown_report(documents: Docs, title: str) -> str:
    """A Markdown summary: headline, comparisons, environment per machine, results per file."""
    found = sections(documents)
    rows = [
        row
        for heading, group in headline.headline_groups(found[0][1])
        for row in [[f"**{heading}**", "", "", ""], *group]
    ]
    lines = [f"# {title}", "", "## Headline", ""]
    noise = headline.noise_lines(documents)
    lines += [*(f"- {line}" for line in noise), *([""] if noise else [])]
    lines += [*markdown_table(headline.HEADER, rows), "", HEADLINE_NOTE]
    for heading, compared in found:
        lines += markdown_comparison(heading, compared)
    lines += markdown_environment(documents) + markdown_results(documents)
    lines += ["", "Definitions: " + " ".join(f"**{t}**: {d}" for t, d in DEFINITIONS)]
    return "\n".join(lines) + "\n"
