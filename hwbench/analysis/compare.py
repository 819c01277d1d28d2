"""Which cases may be compared, and the ratio of their medians with a confidence interval.

Cases match on what they are (workload, size, scenario, batch, input shapes, token counts);
the columns differ along one axis (`AXES`): the target (engine, device, dtype, options, on
its machine), the dtype alone, the machine, or the run (file). Every column is divided by
the first, the baseline, whichever precision it ran at; a cell in another dtype than its
baseline's says so.

Ratios are candidate / baseline of median step times (above 1: the candidate is slower). The
interval is on the log scale, from the standard error of log(ratio): a circular block
bootstrap of each side's time-ordered samples for two result files (blocks keep bursts of
interference together), or the spread of paired per-block log-ratios for A/B runs (a
trimmed mean, with Yuen's standard error).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hwbench.errors import UsageError
from hwbench.labels import case_label, target_label
from hwbench.results.record import CaseRecord

# What a case is, apart from where it ran: cases compared across targets, precisions and
# machines share all of these.
SLOT_FIELDS = (
    "workload", "size", "scenario", "batch", "model_path", "model_name", "seed",
    "prompt_len", "output_len", "request_rate", "burstiness",  # generate and serve
    "loadgen",  # LoadGen scenarios: their settings
)  # fmt: skip
# What must agree for a comparison to mean anything; named when it does not.
IDENTITY_FIELDS = ("workload", "size", "input_shapes", "output_len")
AXES = ("target", "dtype", "machine", "run")  # what the columns of a comparison differ in
RESAMPLES = 2000
MAX_RESAMPLED = 50_000_000  # samples drawn per bootstrap at most (bounds time and memory)
CHUNK = 2_000_000  # samples drawn per vectorized batch


@dataclass(frozen=True)
class Ratio:
    """log(candidate / baseline) with its standard error; `df` is inf for a normal interval."""

    log: float
    se: float
    df: float = math.inf

    @property
    def estimate(self) -> float:
        return math.exp(self.log)

    def p_value(self) -> float:
        """Two-sided p-value of "no change" (ratio 1)."""
        from scipy.special import ndtr, stdtr  # 0.13 s to import: not at `hwbench --help`

        if self.se == 0:
            return 1.0 if self.log == 0 else 0.0
        z = -abs(self.log) / self.se
        return float(2 * (ndtr(z) if math.isinf(self.df) else stdtr(self.df, z)))

    def interval(self, alpha: float) -> tuple[float, float]:
        """The (1 - alpha) confidence interval of the ratio."""
        from scipy.special import ndtri, stdtrit  # as in p_value

        q = 1 - alpha / 2
        crit = float(ndtri(q) if math.isinf(self.df) else stdtrit(self.df, q))
        return (math.exp(self.log - crit * self.se), math.exp(self.log + crit * self.se))


def bootstrap_log_medians(samples: Sequence[float], rng: np.random.Generator) -> np.ndarray:
    """log(median) of circular-block resamples of time-ordered `samples`."""
    values = np.log(np.asarray(samples, dtype=float))
    n = len(values)
    block = max(1, round(n ** (1 / 3)))  # the n^(1/3) rate of Hall, Horowitz & Jing (1995)
    resamples = int(np.clip(MAX_RESAMPLED // n, 200, RESAMPLES))
    per_chunk = max(1, CHUNK // n)
    out = []
    for start in range(0, resamples, per_chunk):
        count = min(per_chunk, resamples - start)
        starts = rng.integers(0, n, size=(count, -(-n // block), 1))
        index = ((starts + np.arange(block)) % n).reshape(count, -1)[:, :n]
        out.append(np.median(values[index], axis=1))
    return np.concatenate(out)


def ratio_of_medians(
    baseline_ns: Sequence[float], candidate_ns: Sequence[float], seed: int = 0
) -> Ratio:
    """Median ratio of two independent runs; its standard error by block bootstrap."""
    if len(baseline_ns) < 2 or len(candidate_ns) < 2:
        raise UsageError("a ratio needs at least 2 samples on each side")
    rng = np.random.default_rng(seed)
    base, cand = bootstrap_log_medians(baseline_ns, rng), bootstrap_log_medians(candidate_ns, rng)
    log = math.log(float(np.median(candidate_ns)) / float(np.median(baseline_ns)))
    return Ratio(log, math.sqrt(float(np.var(base, ddof=1) + np.var(cand, ddof=1))))


def ratio_to_history(history_ns: Sequence[Sequence[float]], candidate_ns: Sequence[float]) -> Ratio:
    """One candidate run against k >= 2 baseline runs of the same case taken at other times
    (main's last runs, say): log ratio of the candidate's median to the geometric mean of the
    baseline medians; standard error that of predicting one more run from their run-to-run
    spread, s * sqrt(1 + 1/k), with k - 1 degrees of freedom (Student's t prediction
    interval), and never below the candidate's own within-run bootstrap error. Drift between
    runs, which one pair of files cannot show, widens the interval instead of failing."""
    if len(history_ns) < 2:
        raise UsageError("a baseline history needs at least 2 runs")
    if len(candidate_ns) < 2:
        raise UsageError("a ratio needs at least 2 samples on each side")
    logs = np.log([float(np.median(run)) for run in history_ns])
    k = len(logs)
    spread = float(np.std(logs, ddof=1)) * math.sqrt(1 + 1 / k)
    within = float(np.std(bootstrap_log_medians(candidate_ns, np.random.default_rng(0)), ddof=1))
    log = math.log(float(np.median(candidate_ns))) - float(logs.mean())
    return Ratio(log, max(spread, within), df=k - 1)


def paired_ratio(log_ratios: Sequence[float], trim: float = 0.2) -> Ratio:
    """Trimmed mean of paired log-ratios with Yuen's standard error (from the winsorized
    variance) and h - 1 degrees of freedom, h the count kept; a block hit by a burst of
    interference moves neither much."""
    values = np.asarray(log_ratios, dtype=float)
    n, cut = len(values), int(trim * len(values))
    kept = n - 2 * cut
    if kept < 2:
        raise UsageError(f"a paired ratio needs at least 2 blocks after trimming, got {n}")
    ordered = np.sort(values)
    winsorized = np.clip(values, ordered[cut], ordered[n - cut - 1])
    se = math.sqrt((n - 1) * float(np.var(winsorized, ddof=1)) / (kept * (kept - 1)))
    return Ratio(float(ordered[cut : n - cut].mean()), se, df=kept - 1)


def slot(key: dict[str, Any]) -> tuple:
    """The case apart from where it ran (engine, device, dtype, options, machine)."""
    return tuple(_hashable(key.get(field)) for field in SLOT_FIELDS)


def run_key(key: dict[str, Any]) -> tuple:
    """The full case key, minus the shapes the worker adds (checked apart)."""
    return tuple(sorted((k, _hashable(v)) for k, v in key.items() if k != "input_shapes"))


def _hashable(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value


def differences(a: dict[str, Any], b: dict[str, Any], fields: Sequence[str]) -> list[str]:
    """'field: A vs B' for each of `fields` where two keys disagree (absent fields agree)."""
    return [
        f"{field} {a[field]!r} vs {b[field]!r}"
        for field in fields
        if field in a and field in b and _hashable(a[field]) != _hashable(b[field])
    ]


def check_comparable(a: dict[str, Any], b: dict[str, Any], what: str) -> None:
    """UsageError naming the identity fields on which two case keys differ."""
    diff = differences(a, b, IDENTITY_FIELDS)
    if diff:
        raise UsageError(f"refusing to compare {what}: {'; '.join(diff)} differ")


@dataclass(frozen=True)
class Placed:
    """A timed case with the file and machine it came from."""

    source: str
    machine: str
    case: CaseRecord


def placed_cases(documents: list[tuple[str, dict[str, Any]]]) -> list[Placed]:
    """Every ok case with a speed, in file order; `documents` are (name, document)."""
    return [
        Placed(name, document.get("machine", ""), case)
        for name, document in documents
        for case in document["cases"]
        if case.timed
    ]


def _column_and_row(item: Placed, by: str, naming: dict[str, bool]) -> tuple[str, str]:
    """The column a case falls in along axis `by`, and the label of its row."""
    key, case_text = item.case.key, case_label(item.case.key)
    target = target_label(key)
    where = f"{item.machine}: " if naming["machines"] else ""
    if by == "dtype":
        undtyped = target_label({**key, "dtype": "fp32"})
        return key["dtype"], f"{case_text} {where}{undtyped}"
    if by == "machine":
        return item.machine, f"{case_text} {target}"
    if by == "run":
        return item.source, f"{case_text} {target}"
    source = f"{item.source} " if naming["runs"] else ""
    return f"{source}{where}{target}", case_text


def _naming(items: list[Placed]) -> dict[str, bool]:
    """Whether target columns must name the machine (several) or the file (a target that
    appears in two files of one machine: run against run)."""
    machines = len({i.machine for i in items}) > 1
    seen: dict[tuple[str, str], str] = {}
    runs = False
    for item in items:
        first = seen.setdefault((item.machine, target_label(item.case.key)), item.source)
        runs = runs or first != item.source
    return {"machines": machines, "runs": runs}


@dataclass(frozen=True)
class Cell:
    """One column's case in a row: its median (ms) with the median's CI, dtype, parity and
    stability, and its ratio to the baseline column's case (None in the baseline column)."""

    case: CaseRecord
    ratio: Ratio | None
    baseline_dtype: str

    @property
    def median_ms(self) -> float:
        return self.case.metrics["latency_ms"]["p50"]

    @property
    def dtype(self) -> str:
        return self.case.key["dtype"]

    @property
    def across_precisions(self) -> bool:
        return self.dtype != self.baseline_dtype

    @property
    def parity(self) -> str:
        """'ok 3.1e-07' (rel-L2 against the fp32 CPU reference), 'not checked' when it could
        not be (an endpoint's), or '' when there is none."""
        verdict = self.case.parity or {}
        if verdict.get("checked") is False:
            return "not checked"
        if "rel_l2" not in verdict:
            return ""
        return f"{'ok' if verdict.get('passed', True) else 'failed'} {verdict['rel_l2']:.1e}"


@dataclass(frozen=True)
class Comparison:
    """Rows of cells, one column per value of the axis; the first column is the baseline."""

    by: str
    columns: list[str]
    rows: list[tuple[str, list[Cell | None]]]

    @property
    def baseline(self) -> str:
        return self.columns[0]

    @property
    def across_precisions(self) -> bool:
        return any(c is not None and c.across_precisions for _, cells in self.rows for c in cells)


def compare(
    documents: list[tuple[str, dict[str, Any]]], by: str = "target", baseline: str | None = None
) -> Comparison:
    """The timed cases of `documents` side by side along axis `by`, each column's median ratio
    to the baseline column's (the first to appear, or the one named `baseline`, matched whole
    or as its last word). UsageError when there is nothing to compare, or when a column
    shares no case with the baseline (naming the nearest difference)."""
    if by not in AXES:
        raise UsageError(f"unknown axis {by!r}; valid: {', '.join(AXES)}")
    items = placed_cases(documents)
    naming = _naming(items)
    grid: dict[str, dict[str, CaseRecord]] = {}
    for item in items:
        column, row = _column_and_row(item, by, naming)
        grid.setdefault(column, {}).setdefault(row, item.case)
    columns = _baseline_first(list(grid), baseline)
    if len(columns) < 2:
        found = columns[0] if columns else "no timed case"
        raise UsageError(f"nothing to compare along {by}: the files hold one {by} ({found})")
    _check_columns(grid, columns)
    rows = []
    for row in dict.fromkeys(r for column in columns for r in grid[column]):
        base = grid[columns[0]].get(row)
        cells: list[Cell | None] = []
        for column in columns:
            case = grid[column].get(row)
            if case is None:
                cells.append(None)
                continue
            ratio = median_ratio(base, case) if base and column != columns[0] else None
            cells.append(Cell(case, ratio, base.key["dtype"] if base else case.key["dtype"]))
        rows.append((row, cells))
    return Comparison(by, columns, rows)


def _baseline_first(columns: list[str], baseline: str | None) -> list[str]:
    if baseline is None:
        return columns
    chosen = [c for c in columns if baseline in (c, c.split()[-1])]
    if not chosen:
        raise UsageError(f"no column {baseline!r}; columns: {', '.join(columns)}")
    return [chosen[0], *(c for c in columns if c != chosen[0])]


def _check_columns(grid: dict[str, dict[str, CaseRecord]], columns: list[str]) -> None:
    """UsageError unless each column shares a row with the baseline, with the same shapes."""
    base = grid[columns[0]]
    for column in columns[1:]:
        shared = base.keys() & grid[column].keys()
        if not shared:
            diffs = [
                differences(a.key, b.key, (*SLOT_FIELDS, "input_shapes"))
                for a in base.values()
                for b in grid[column].values()
            ]
            nearest = "; ".join(min(diffs, key=len)) or "the targets differ in more than the axis"
            raise UsageError(f"refusing to compare {column} with {columns[0]}: {nearest}")
        for row in shared:
            check_comparable(base[row].key, grid[column][row].key, column)


def median_ratio(baseline: CaseRecord, candidate: CaseRecord) -> Ratio:
    return ratio_of_medians(baseline.samples_ns, candidate.samples_ns)
