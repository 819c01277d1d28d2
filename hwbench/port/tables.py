"""The terminal's view of a port document: rich tables and lines, read from the document
alone (what --json prints and the report shows are the same facts)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from hwbench.labels import workload_label

OP_COLUMNS = ("op", "verdict", "kernel", "calls", "FLOP %", "bytes %", "called from")
FUSED_COLUMNS = ("pattern", "calls", "torch_npu operator", "in the list", "NPU ladder rung")
FUSED_COLUMNS += ("kernels/ variant",)
STYLES = {"native": "green", "composite": "yellow", "cpu fallback": "bold red", "unchecked": ""}
LISTED = {True: "listed", False: "not listed", None: "?"}  # a fused operator in the list?
LISTED_STYLES = {"listed": "green", "not listed": "red"}


def verdict(word: str) -> str:
    return f"[{STYLES[word]}]{word}[/]" if STYLES.get(word) else word


def share(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def quantity(value: float, unit: str) -> str:
    for scale, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= scale:
            return f"{value / scale:.3g} {prefix}{unit}"
    return f"{value:g} {unit}"


def against(doc: dict[str, Any]) -> str:
    listed = doc["op_list"]
    return "no operator list" if listed is None else f"torch_npu {listed['version']}"


def title(doc: dict[str, Any]) -> str:
    workload = doc["workload"]
    return f"hwbench port: {workload_label(workload)} {workload['dtype']} against {against(doc)}"


def op_texts(op: dict[str, Any]) -> list[str]:
    """An operator's cells, in OP_COLUMNS' order."""
    shares = [share(op["flop_share"]), share(op["byte_share"])]
    return [op["op"], op["verdict"], op["path"], str(op["calls"]), *shares,
            ", ".join(op["callers"])]  # fmt: skip


def fused_texts(found: dict[str, Any]) -> list[list[str]]:
    """A suggestion's rows, one per operator, in FUSED_COLUMNS' order (the pattern, its calls,
    rungs and kernels on the first)."""
    named = [found["pattern"], str(found["calls"])]
    linked = [", ".join(found["rungs"]), "\n".join(found["kernels"])]
    return [
        [*(named if i == 0 else ["", ""]), op, LISTED[present], *(linked if i == 0 else ["", ""])]
        for i, (op, present) in enumerate(found["operators"].items())
    ]


def ops_table(doc: dict[str, Any]) -> Table:
    table = Table(*OP_COLUMNS, title=title(doc))
    for op in doc["ops"]:
        cells = op_texts(op)
        table.add_row(cells[0], verdict(cells[1]), *cells[2:])
    table.caption = "a composite operator's share is that of the operators it decomposes into"
    return table


def summary(doc: dict[str, Any]) -> str:
    counts, totals = doc["counts"], doc["totals"]
    found = ", ".join(f"{n} {v}" for v, n in counts.items()) or "not classified"
    own = doc["workload"]["flops"]
    return (
        f"{len(doc['ops'])} operators: {found}; {quantity(totals['flops'], 'FLOP')} "
        f"(the workload counts {quantity(own, 'FLOP')}), {quantity(totals['bytes'], 'B')} "
        f"moved by its kernels; list: {doc['op_list']['source'] if doc['op_list'] else '-'}"
    )


def listed(word: str) -> str:
    return f"[{LISTED_STYLES[word]}]{word}[/]" if word in LISTED_STYLES else word


def fused_table(doc: dict[str, Any]) -> Table:
    table = Table(*FUSED_COLUMNS, title="fused operators for this model's patterns")
    for found in doc["fused"]:
        for cells in fused_texts(found):
            table.add_row(*cells[:3], listed(cells[3]), *cells[4:])
    return table


def compare_table(doc: dict[str, Any]) -> Table:
    compared = doc["compare"]
    a, b = compared["a"]["version"], compared["b"]["version"]
    heading = f"{workload_label(doc['workload'])}: what changed from {a} to {b}"
    table = Table("op", f"torch_npu {a}", f"torch_npu {b}", title=heading)
    for row in compared["changed"]:
        table.add_row(row["op"], row["a"], row["b"])
    for row in compared["operators"]:
        table.add_row(row["operator"], listed(LISTED[row["a"]]), listed(LISTED[row["b"]]))
    return table


def print_document(console: Console, doc: dict[str, Any]) -> None:
    """Everything the document says, tables first, then the notes and the edges."""
    if doc["compare"]:
        compared = doc["compare"]
        if compared["changed"] or compared["operators"]:
            console.print(compare_table(doc))
        else:
            console.print(f"{workload_label(doc['workload'])}: no operator's verdict changed")
        for side in ("a", "b"):
            counts = ", ".join(f"{n} {v}" for v, n in compared[side]["counts"].items())
            console.print(f"torch_npu {compared[side]['version']}: {counts}")
    else:
        console.print(ops_table(doc))
        console.print(summary(doc))
    if doc["missing"]:
        console.print(f"[yellow]{doc['missing']}[/]")
    if doc["fused"]:
        console.print(fused_table(doc))
    console.print(f"dtype notes ({doc['workload']['dtype']}):")
    for note in doc["dtype_notes"]:
        console.print(f"  {note['chips']}: {note['text']} [{note['source']}]", markup=False)
    console.print("what this cannot say:")
    for edge in doc["edges"]:
        console.print(f"  {edge}")
