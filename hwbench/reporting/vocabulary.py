"""One vocabulary for every table hwbench prints or writes: the style of each status and
verdict in the terminal, and the Markdown table. (Case and target labels live with the case,
hwbench/case.py; times in ms come from hwbench.measure.stats.latency_ms.)"""

from __future__ import annotations

from collections.abc import Sequence

# rich styles: a case's status, and a gate's verdict
STYLES = {
    "ok": "green",
    "failed": "bold red",
    "skipped": "yellow",
    "unstable": "yellow",  # beside "ok": a speed not to be trusted (CaseRecord.unstable)
    "PASS": "green",
    "INCONCLUSIVE": "yellow",
    "FAIL": "bold red",
    "MISSING": "bold magenta",  # in the baseline, ok; not in the candidate
}


def styled(word: str) -> str:
    """`word` (a status or a verdict) in its rich markup."""
    return f"[{STYLES[word]}]{word}[/]"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A GitHub-flavoured Markdown table, one line a row ('|' in a cell written as '/')."""
    cells = [list(header), ["---"] * len(header), *rows]
    return ["| " + " | ".join(str(c).replace("|", "/") for c in row) + " |" for row in cells]
