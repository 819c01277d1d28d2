"""The report's section for `hwbench port` documents: per document, the torch_npu list it was
judged against, every operator with its verdict (CPU fallbacks first), what changed between
two releases, the fused operators for the model's patterns, the dtype notes with their
sources and what the check cannot say. Reads the documents alone (no torch)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from hwbench.port.tables import (
    FUSED_COLUMNS,
    LISTED,
    OP_COLUMNS,
    fused_texts,
    op_texts,
    summary,
    title,
)

Document = tuple[str, dict[str, Any]]
CLASSES = {"native": "ok", "composite": "skipped", "cpu fallback": "failed"}  # report.html


def _row(cells: Sequence[str], classes: Sequence[str] = ()) -> str:
    tds = "".join(
        f'<td class="{c}">{html.escape(t)}</td>' if c else f"<td>{html.escape(t)}</td>"
        for t, c in zip(cells, (*classes, *[""] * len(cells)), strict=False)
    )
    return f"<tr>{tds}</tr>"


def _table(header: Sequence[str], rows: list[str]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def ops_html(doc: dict[str, Any]) -> str:
    rows = [_row(op_texts(op), ["", CLASSES.get(op["verdict"], "")]) for op in doc["ops"]]
    return _table(OP_COLUMNS, rows)


def compare_html(doc: dict[str, Any]) -> str:
    compared = doc["compare"]
    a, b = compared["a"]["version"], compared["b"]["version"]
    rows = [_row([c["op"], c["a"], c["b"]]) for c in compared["changed"]]
    rows += [_row([c["operator"], LISTED[c["a"]], LISTED[c["b"]]]) for c in compared["operators"]]
    counts = [
        f"torch_npu {compared[side]['version']}: "
        + ", ".join(f"{n} {v}" for v, n in compared[side]["counts"].items())
        for side in ("a", "b")
    ]
    changed = _table(("op", f"torch_npu {a}", f"torch_npu {b}"), rows) if rows else ""
    return changed + "".join(map(_note, counts))


def fused_html(doc: dict[str, Any]) -> str:
    rows = [_row(cells) for found in doc["fused"] for cells in fused_texts(found)]
    return _table(FUSED_COLUMNS, rows) if rows else ""


def notes_html(doc: dict[str, Any]) -> str:
    items = "".join(
        f"<li>{html.escape(n['chips'])}: {html.escape(n['text'])} "
        f'<span class="note">[{html.escape(n["source"])}]</span></li>'
        for n in doc["dtype_notes"]
    )
    return f"<p>dtype notes ({html.escape(doc['workload']['dtype'])}):</p><ul>{items}</ul>"


def port_html(ports: Sequence[Document]) -> str:
    """The section, or nothing when no port document was given."""
    if not ports:
        return ""
    parts = ["<h2>Porting to Ascend (hwbench port)</h2>"]
    for name, doc in ports:
        parts.append(f"<h3>{html.escape(name)}: {html.escape(title(doc))}</h3>")
        parts.append(_note(summary(doc)) + (_note(doc["missing"]) if doc["missing"] else ""))
        parts.append(compare_html(doc) if doc["compare"] else ops_html(doc))
        parts += [fused_html(doc), notes_html(doc), "".join(map(_note, doc["edges"]))]
    return "".join(parts)
