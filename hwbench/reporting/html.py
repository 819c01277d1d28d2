"""`hwbench report`: one self-contained HTML file (charts inline) and a Markdown summary."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from importlib.resources import files
from string import Template
from typing import Any

from hwbench import __version__
from hwbench.analysis.compare import Cell, arms, comparison
from hwbench.labels import case_label, target_label
from hwbench.reporting.charts import charts
from hwbench.reporting.vocabulary import markdown_table

Docs = list[tuple[str, dict[str, Any]]]  # (name, result document)
DEFINITIONS = (
    (
        "Latency (ms per step)",
        "Each sample is the mean over the calibrated number of steps; "
        "p50/p90/p99 by linear interpolation (numpy's default); the median's 95% CI from order "
        "statistics (distribution-free).",
    ),
    ("Throughput (samples/s)", "batch / median step time."),
    (
        "Achieved FLOP/s and bytes/s",
        "The workload's FLOPs (a multiply-add is 2) and compulsory "
        "bytes (weights once, inputs, output) per step, over the median step time.",
    ),
    (
        "Arithmetic intensity",
        "FLOP per byte moved; on the roofline a step is memory-bound left "
        "of the ridge (peak FLOP/s / peak bytes/s) and compute-bound right of it.",
    ),
    (
        "Ratio",
        "candidate / baseline median step time (above 1: slower), with a 95% CI from a "
        "block bootstrap of each side's time-ordered samples.",
    ),
    (
        "Parity",
        "Relative L2 error of the output against the float32 CPU eager reference; a case "
        "over its dtype's tolerance fails and reports no speed. Generate and serve cases: "
        "the prompt tokens' log-probabilities, centred on the reference's mean.",
    ),
    (
        "Generate and serve (vLLM's definitions)",
        "TTFT: request start to its first output token; TPOT: (E2EL - TTFT) / (output "
        "tokens - 1); ITL: gaps between consecutive tokens, pooled; E2EL: request latency; "
        "throughput: output tokens/s over the timed window; goodput: requests/s meeting every "
        "SLO. Latency columns are per generation (generate) or per request (serve).",
    ),
)
CASE_HEADER = (
    "source",
    "case",
    "target",
    "status",
    "p50 ms",
    "p90 ms",
    "p99 ms",
    "median 95% CI ms",
    "samples/s",
    "GFLOP/s",
    "GB/s",
    "parity rel-L2",
    "note",
)


def _table(header: tuple[str, ...] | list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def case_rows(documents: Docs) -> list[list[str]]:
    rows = []
    for name, document in documents:
        for case in document["cases"]:
            key, status = case.key, case.status
            head = [name, case_label(key), target_label(key), status]
            if status != "ok":
                rows.append([*head, *[""] * 8, case.reason])
                continue
            lat, roof = case.metrics["latency_ms"], case.roofline or {}
            parity = (case.parity or {}).get("rel_l2")
            rows.append(
                [
                    *head,
                    *(f"{lat[p]:.4g}" for p in ("p50", "p90", "p99")),
                    f"{lat['median_ci_low']:.4g}-{lat['median_ci_high']:.4g}",
                    _number(case.metrics.get("throughput"), 1),
                    _number(roof.get("flops_per_s"), 1e9),
                    _number(roof.get("bytes_per_s"), 1e9),
                    "" if parity is None else f"{parity:.1e}",
                    case.sampling.stop_reason,
                ]
            )
    return rows


def _number(value: float | None, unit: float) -> str:
    return "" if value is None else f"{value / unit:.4g}"


def environment_rows(documents: Docs) -> list[list[str]]:
    rows = []
    for name, document in documents:
        env = document.get("environment", {})
        git = env.get("git") or {}
        packages = ", ".join(f"{k} {v}" for k, v in (env.get("packages") or {}).items() if v)
        devices = "; ".join(
            f"{d}: {'available' if s.get('available') else s.get('reason')}"
            for d, s in (document.get("devices") or {}).items()
        )
        rows.append(
            [
                name,
                document["machine"],
                document["created"],
                str(env.get("cpu")),
                f"{env.get('physical_cores')}/{env.get('logical_cores')}",
                f"{(env.get('memory_bytes') or 0) / 2**30:.0f} GiB",
                str(env.get("os")),
                str(env.get("python")),
                packages,
                devices,
                f"{git.get('commit')}{' (dirty)' if git.get('dirty') else ''}",
            ]
        )
    return rows


ENV_HEADER = (
    "source",
    "machine",
    "created",
    "CPU",
    "cores phys/log",
    "memory",
    "OS",
    "Python",
    "packages",
    "devices",
    "hwbench commit",
)


def comparison_rows(documents: Docs) -> tuple[list[str], list[list[str]]]:
    """Backend against backend (and file against file): median ratios to the first arm."""
    arm_list = arms(documents)
    if len(arm_list) < 2:
        return [], []
    header = ["case", *(arm.label for arm in arm_list)]
    return header, [[label, *(_cell(c) for c in cells)] for label, cells in comparison(arm_list)]


def _cell(cell: Cell | None) -> str:
    if cell is None:
        return "-"
    if cell.ratio is None:
        return f"{cell.median_ms:.4g} ms"
    low, high = cell.ratio.interval(0.05)
    return f"{cell.median_ms:.4g} ms (x{cell.ratio.estimate:.3f}, {low:.3f}-{high:.3f})"


def html_report(documents: Docs, title: str) -> str:
    """The whole report as one HTML page."""
    definitions = "".join(
        f"<dt>{html.escape(t)}</dt><dd>{html.escape(d)}</dd>" for t, d in DEFINITIONS
    )
    header, rows = comparison_rows(documents)
    compared = (
        _table(header, rows)
        if rows
        else '<p class="note">One target only: nothing to compare against.</p>'
    )
    body = (
        f"<h2>Environment</h2>{_table(ENV_HEADER, environment_rows(documents))}"
        f"<h2>Metric definitions</h2><dl>{definitions}</dl>"
        f"<h2>Results</h2>{_table(CASE_HEADER, case_rows(documents))}"
        f"{charts(documents)}"
        f"<h2>Backend against backend</h2>{compared}"
        '<p class="note">Cells: median ms per step (xR, 95% CI of the ratio to the first '
        "column).</p>"
    )
    template = Template(files("hwbench.reporting").joinpath("templates/report.html").read_text())
    return template.substitute(
        title=html.escape(title),
        generated=datetime.now(UTC).isoformat(timespec="seconds"),
        version=__version__,
        sources=html.escape(", ".join(n for n, _ in documents)),
        body=body,
    )


def markdown_report(documents: Docs, title: str) -> str:
    """A Markdown summary: environment, the results table, the comparison."""

    header, rows = comparison_rows(documents)
    lines = [
        f"# {title}",
        "",
        "## Environment",
        "",
        *markdown_table(ENV_HEADER, environment_rows(documents)),
    ]
    lines += ["", "## Results", "", *markdown_table(CASE_HEADER, case_rows(documents))]
    if rows:
        lines += ["", "## Backend against backend", "", *markdown_table(header, rows)]
    lines += ["", "Definitions: " + " ".join(f"**{t}**: {d}" for t, d in DEFINITIONS)]
    return "\n".join(lines) + "\n"
