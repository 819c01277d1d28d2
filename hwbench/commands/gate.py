"""`hwbench gate`: baseline against candidate, per-case verdicts, exit 1 on a regression."""

from __future__ import annotations

import argparse
import os
import xml.etree.ElementTree as ET
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

from hwbench.analysis.compare import ratio_of_medians
from hwbench.analysis.energy_view import energy_views
from hwbench.analysis.gate import (
    FAIL,
    INCONCLUSIVE,
    MISSING,
    PASS,
    VERDICTS,
    Outcome,
    RatioGate,
    across_machines,
    exit_code,
    failing,
    judge,
    pair_cases,
)
from hwbench.commands.output import stdout_console
from hwbench.errors import SaveError, UsageError
from hwbench.reporting.inputs import read_inputs
from hwbench.reporting.vocabulary import markdown_table, styled
from hwbench.results import files

MACHINES_NOTE = "the ratios measure the machines as well as the change (--same-machine: refuse it)"
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
    parser.add_argument(
        "--require-all",
        action=argparse.BooleanOptionalAction,
        help="exit 1 when a case that ran in the baseline is MISSING from the candidate "
        "(default: on with several baselines)",
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
    gate.add_argument(
        "--metric",
        choices=("time", "energy"),
        default="time",
        help="time: median step time (default); energy: joules per sample or token, one "
        "figure per pass of each step case",
    )
    gate.add_argument(
        "--same-machine",
        action="store_true",
        help="refuse (exit 2) a baseline from another machine, CPU, core count or device",
    )
    add_verdict_options(gate)


def ratio_table(outcomes: list[Outcome], title: str) -> Table:
    table = Table("case", "baseline ms", "candidate ms", "ratio", "CI", "verdict", title=title)
    for o, row in zip(outcomes, rows(o for o in outcomes), strict=True):
        table.add_row(*row[:-1], f"{styled(o.verdict)} {said(o)}")
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


def said(o: Outcome) -> str:
    """The verdict's message, and how the case was sampled where an A/B run says."""
    return f"{o.message} ({o.sampling})".strip() if o.sampling else o.message


def headline(outcomes: list[Outcome], inconclusive_fails: bool, require_all: bool = False) -> str:
    """The run's verdict, as the exit code has it: FAIL when a case fails (or is inconclusive
    under --inconclusive-fails, or MISSING under --require-all), else INCONCLUSIVE when any
    case is, else PASS."""
    verdicts = {o.verdict for o in outcomes}
    if verdicts & failing(inconclusive_fails, require_all):
        return FAIL
    return INCONCLUSIVE if INCONCLUSIVE in verdicts else PASS


def counts(outcomes: list[Outcome]) -> dict[str, int]:
    return {v: sum(o.verdict == v for o in outcomes) for v in VERDICTS}


def qualifier(outcomes: list[Outcome], inconclusive_fails: bool, require_all: bool) -> str:
    """What the headline owes to options and missing cases: ' (--require-all: 2 of 9 cases
    MISSING)', or nothing."""
    n, why = counts(outcomes), []
    if inconclusive_fails and n[INCONCLUSIVE] and not n[FAIL]:
        why.append("--inconclusive-fails: exit 1")
    if n[MISSING]:
        missing = f"{n[MISSING]} of {len(outcomes)} cases MISSING"
        why.append(f"--require-all: {missing}" if require_all else missing)
    return f" ({'; '.join(why)})" if why else ""


def markdown(
    outcomes: list[Outcome],
    notes: list[str],
    title: str,
    threshold: float,
    inconclusive_fails: bool = False,
    require_all: bool = False,
    warnings: Sequence[str] = (),
) -> str:
    n = counts(outcomes)
    head = headline(outcomes, inconclusive_fails, require_all)
    lines = [
        f"## {title}: {head}{qualifier(outcomes, inconclusive_fails, require_all)}",
        "",
        f"{n[PASS]} pass, {n[INCONCLUSIVE]} inconclusive, {n[FAIL]} fail, {n[MISSING]} missing; "
        f"ratio = candidate / baseline median, threshold {threshold:.0%}, Holm-corrected CIs.",
        "",
    ]
    lines += [f"**Warning**: {warning}; {MACHINES_NOTE}." for warning in warnings]
    lines += [""] if warnings else []
    table = [
        [*row[:-1], f"**{o.verdict}** {said(o)}".strip()]
        for o, row in zip(outcomes, rows(outcomes), strict=True)
    ]
    lines += markdown_table(MARKDOWN_HEADER, table)
    lines += [""] + [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"


def junit(outcomes: list[Outcome], suite: str, fails: Collection[str] = (FAIL,)) -> str:
    """One testcase per case: failure on a verdict that fails the run (`fails`), skipped on
    any other INCONCLUSIVE or MISSING."""
    failed = sum(o.verdict in fails for o in outcomes)
    skips = sum(o.verdict in {INCONCLUSIVE, MISSING} - set(fails) for o in outcomes)
    root = ET.Element("testsuites")
    node = ET.SubElement(
        root,
        "testsuite",
        name=suite,
        tests=str(len(outcomes)),
        failures=str(failed),
        skipped=str(skips),
        errors="0",
    )
    for o, row in zip(outcomes, rows(outcomes), strict=True):
        case = ET.SubElement(node, "testcase", classname=suite, name=o.label, time="0")
        detail = o.message if o.verdict == MISSING else f"ratio {row[3]} CI {row[4]}"
        detail += f"; {o.sampling}" if o.sampling else ""
        if o.verdict in fails:
            ET.SubElement(case, "failure", message=o.message or detail).text = detail
        elif o.verdict in (INCONCLUSIVE, MISSING):
            ET.SubElement(case, "skipped", message=f"{o.verdict.lower()}: {detail}")
        ET.SubElement(case, "system-out").text = detail
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def publish(
    args: argparse.Namespace,
    outcomes: list[Outcome],
    notes: list[str],
    title: str,
    warnings: Sequence[str] = (),
    require_all: bool = False,
) -> int:
    """Print the verdicts, write the reports asked for; the exit code. `warnings`: lines the
    reader must see (a baseline from another machine)."""
    console = stdout_console()
    console.print(ratio_table(outcomes, title))
    for note in notes:
        console.print(f"note: {note}", highlight=False)
    for warning in warnings:
        console.print(f"[yellow]warning[/]: {escape(warning)}; {MACHINES_NOTE}", highlight=False)
    inconclusive, missing = args.inconclusive_fails, require_all  # fail the run when found
    head = headline(outcomes, inconclusive, missing)
    console.print(f"verdict: {styled(head)}{qualifier(outcomes, inconclusive, missing)}")
    text = markdown(outcomes, notes, title, args.threshold, inconclusive, missing, warnings)
    if args.markdown:
        files.write_text(args.markdown, text)
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        summary = Path(os.environ["GITHUB_STEP_SUMMARY"])
        try:
            with summary.open("a") as handle:  # appended to: other steps write there too
                handle.write(text)
        except OSError as error:
            raise SaveError(summary, error) from None
    if args.junit:
        files.write_text(args.junit, junit(outcomes, title, failing(inconclusive, missing)))
    return exit_code(outcomes, inconclusive, missing)


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
    warnings = across_machines([*history, baseline], candidate)
    if warnings and args.same_machine:
        raise UsageError(f"--same-machine: {warnings[0]}")
    title, energy_notes = "hwbench gate", []
    if args.metric == "energy":
        views, energy_notes = energy_views([*history, baseline, candidate])
        [*history, baseline, candidate] = views
        if not any(case.timed for case in candidate["cases"]):
            why = energy_notes[0] if energy_notes else "no ok case"
            raise UsageError(f"--metric energy: no candidate case has energy to gate ({why})")
        title = "hwbench gate --metric energy (the ms columns hold J per sample or token)"
    outcomes, notes = pair_cases(
        baseline,
        candidate,
        lambda b, c: ratio_of_medians(b.samples_ns, c.samples_ns),
        history,
    )
    if all(o.verdict == MISSING for o in outcomes):
        raise UsageError("no case ran in both files: nothing to gate")
    judge(outcomes, RatioGate(threshold=args.threshold), args.alpha)
    notes.append(HISTORY_NOTE.format(len(history) + 1) if history else DRIFT_NOTE)
    notes += baseline_notes + candidate_notes + energy_notes
    require_all = bool(history) if args.require_all is None else args.require_all
    return publish(args, outcomes, notes, title, warnings, require_all)
