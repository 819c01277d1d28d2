"""`hwbench gate`: baseline against candidate, per-case verdicts, exit 1 on a regression."""

from __future__ import annotations

import argparse
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from rich.table import Table

from hwbench.analysis.compare import ratio_of_medians
from hwbench.analysis.gate import (
    FAIL,
    INCONCLUSIVE,
    PASS,
    Outcome,
    RatioGate,
    exit_code,
    judge,
    pair_cases,
)
from hwbench.commands.output import stdout_console
from hwbench.errors import UsageError
from hwbench.reporting.inputs import read_inputs
from hwbench.reporting.vocabulary import markdown_table, styled

MARKDOWN_HEADER = ("case", "baseline ms", "candidate ms", "ratio", "CI", "verdict")
DRIFT_NOTE = (
    "the intervals cover the noise within each run, not drift between the two runs; give "
    "several baseline runs (--baseline A.json B.json ...) to cover it, or, on a shared runner, "
    "use `hwbench ab`, which times both arms interleaved (benchmarks/gate_quality.txt)"
)
HISTORY_NOTE = (
    "ratios are to the geometric mean of the {} baseline runs' medians; intervals are t "
    "prediction intervals from their run-to-run spread (cases in fewer than 2 of them: within-run "
    "intervals)"
)


def fraction(text: str) -> float:
    """A threshold as a fraction: "0.05" or "5%"."""
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a fraction or percentage: {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must lie in [0, 1): {text!r}")
    return value


def add_verdict_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by `gate` and `ab`."""
    parser.add_argument("--threshold", type=fraction, default=0.05, help="slowdown floor (0.05)")
    parser.add_argument("--alpha", type=fraction, default=0.01, help="family-wise error (0.01)")
    parser.add_argument("--markdown", type=Path, help="write a Markdown summary here")
    parser.add_argument("--junit", type=Path, help="write JUnit XML here (one test per case)")
    parser.add_argument(
        "--inconclusive-fails", action="store_true", help="exit 1 on INCONCLUSIVE as well"
    )


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    gate = subparsers.add_parser(
        "gate", help="fail on significant slowdowns past a threshold (exit 0 pass, 1 fail)"
    )
    gate.add_argument(
        "--baseline",
        type=Path,
        nargs="+",
        action="extend",
        required=True,
        help="result or pytest-benchmark file; several (oldest first, e.g. main's last runs) "
        "judge the candidate against their run-to-run spread",
    )
    gate.add_argument("--candidate", type=Path, required=True, help="result or pytest-benchmark")
    add_verdict_options(gate)


def ratio_table(outcomes: list[Outcome], title: str) -> Table:
    table = Table("case", "baseline ms", "candidate ms", "ratio", "CI", "verdict", title=title)
    for o, row in zip(outcomes, rows(o for o in outcomes), strict=True):
        table.add_row(*row[:-1], f"{styled(o.verdict)} {o.message}")
    return table


def rows(outcomes: Any) -> list[list[str]]:
    """case, baseline ms, candidate ms, ratio, CI (with its level), verdict."""
    found = []
    for o in outcomes:
        ms = [f"{v:.4g}" if v is not None else "" for v in (o.baseline_ms, o.candidate_ms)]
        ci = o.interval
        ratio = f"{o.ratio.estimate:.3f}" if o.ratio else ""
        span = f"{ci[0]:.3f}-{ci[1]:.3f} ({1 - o.alpha:.2%})" if ci else ""
        found.append([o.label, *ms, ratio, span, o.verdict])
    return found


def headline(outcomes: list[Outcome], inconclusive_fails: bool) -> str:
    """The run's verdict, as the exit code has it: FAIL when a case fails (or is inconclusive
    under --inconclusive-fails), else INCONCLUSIVE when any case is, else PASS."""
    verdicts = {o.verdict for o in outcomes}
    if FAIL in verdicts or (inconclusive_fails and INCONCLUSIVE in verdicts):
        return FAIL
    return INCONCLUSIVE if INCONCLUSIVE in verdicts else PASS


def markdown(
    outcomes: list[Outcome],
    notes: list[str],
    title: str,
    threshold: float,
    inconclusive_fails: bool = False,
) -> str:
    counts = {v: sum(o.verdict == v for o in outcomes) for v in (PASS, INCONCLUSIVE, FAIL)}
    head = headline(outcomes, inconclusive_fails)
    exit_note = " (--inconclusive-fails: exit 1)" if head == FAIL and not counts[FAIL] else ""
    lines = [
        f"## {title}: {head}{exit_note}",
        "",
        f"{counts['PASS']} pass, {counts[INCONCLUSIVE]} inconclusive, {counts[FAIL]} fail; "
        f"ratio = candidate / baseline median, threshold {threshold:.0%}, Holm-corrected CIs.",
        "",
    ]
    table = [
        [*row[:-1], f"**{o.verdict}** {o.message}".strip()]
        for o, row in zip(outcomes, rows(outcomes), strict=True)
    ]
    lines += markdown_table(MARKDOWN_HEADER, table)
    lines += [""] + [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"


def junit(outcomes: list[Outcome], suite: str) -> str:
    """One testcase per case: failure on FAIL, skipped on INCONCLUSIVE."""
    fails = sum(o.verdict == FAIL for o in outcomes)
    skips = sum(o.verdict == INCONCLUSIVE for o in outcomes)
    root = ET.Element("testsuites")
    node = ET.SubElement(
        root,
        "testsuite",
        name=suite,
        tests=str(len(outcomes)),
        failures=str(fails),
        skipped=str(skips),
        errors="0",
    )
    for o, row in zip(outcomes, rows(outcomes), strict=True):
        case = ET.SubElement(node, "testcase", classname=suite, name=o.label, time="0")
        detail = f"ratio {row[3]} CI {row[4]}"
        if o.verdict == FAIL:
            ET.SubElement(case, "failure", message=o.message or detail).text = detail
        elif o.verdict == INCONCLUSIVE:
            ET.SubElement(case, "skipped", message=f"inconclusive: {detail}")
        ET.SubElement(case, "system-out").text = detail
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def publish(args: argparse.Namespace, outcomes: list[Outcome], notes: list[str], title: str) -> int:
    """Print the verdicts, write the reports asked for; the exit code."""
    console = stdout_console()
    console.print(ratio_table(outcomes, title))
    for note in notes:
        console.print(f"note: {note}", highlight=False)
    console.print(f"verdict: {styled(headline(outcomes, args.inconclusive_fails))}")
    text = markdown(outcomes, notes, title, args.threshold, args.inconclusive_fails)
    if args.markdown:
        args.markdown.write_text(text)
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        with open(os.environ["GITHUB_STEP_SUMMARY"], "a") as summary:
            summary.write(text)
    if args.junit:
        args.junit.write_text(junit(outcomes, title))
    return exit_code(outcomes, args.inconclusive_fails)


def baseline_documents(paths: list[Path]) -> tuple[list[dict[str, Any]], list[str]]:
    """The baseline files (folders and globs expanded), oldest first by their `created`."""
    inputs = read_inputs(paths)
    documents = sorted((doc for _, doc in inputs.documents), key=lambda d: d.get("created", ""))
    return documents, inputs.notes


def candidate_document(path: Path) -> tuple[dict[str, Any], list[str]]:
    """The one candidate result `path` names (a folder or glob must hold exactly one)."""
    inputs = read_inputs([path])
    if len(inputs.documents) != 1:
        names = ", ".join(name for name, _ in inputs.documents)
        raise UsageError(
            f"--candidate must name one result file; {path} holds {len(inputs.documents)}: {names}"
        )
    return inputs.documents[0][1], inputs.notes


def main(args: argparse.Namespace) -> int:
    [*history, baseline], baseline_notes = baseline_documents(args.baseline)
    candidate, candidate_notes = candidate_document(args.candidate)
    outcomes, notes = pair_cases(
        baseline,
        candidate,
        lambda b, c: ratio_of_medians(b.samples_ns, c.samples_ns),
        history,
    )
    if not outcomes:
        raise UsageError("no case ran in both files: nothing to gate")
    judge(outcomes, RatioGate(threshold=args.threshold), args.alpha)
    notes.append(HISTORY_NOTE.format(len(history) + 1) if history else DRIFT_NOTE)
    notes += baseline_notes + candidate_notes
    return publish(args, outcomes, notes, "hwbench gate")
