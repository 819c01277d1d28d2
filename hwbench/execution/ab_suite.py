"""A/B over several cases: ABBA blocks taken look by look, each case stopping once decided,
within a budget for all cases that is spread by need.

Designs. `sequential` (the default): a case is judged at the looks of
hwbench.analysis.sequential and stops at the first look that decides it (PASS or FAIL), at its
last look, or when its share of the budget would not cover its next look (INCONCLUSIVE).
`fixed`: every case takes exactly `blocks` blocks and is judged once (the design before
sequential sampling, hwbench.analysis.gate.RatioGate's rule).

Budget. Cases are visited in rounds. In a round, a case may use an equal share of the budget
left among the cases still to visit in that round, so time a decided case did not use goes to
those after it; a case whose share ran out is visited again next round with a share of what is
then left, as long as its next look fits (its seconds per block and load time so far predict
it). A case's first look is always taken, so every case ends with a ratio.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from hwbench.analysis.gate import INCONCLUSIVE, RatioGate
from hwbench.analysis.sequential import MAX_BLOCKS, LookRatio, Looks, SequentialGate
from hwbench.errors import UsageError, unknown_choice
from hwbench.execution.ab import Timed, abba, block_ratio
from hwbench.settings import AB_RULES, check_fields

DESIGNS = ("sequential", "fixed")
FIXED_BLOCKS = 12
DECIDED, LAST_LOOK, BUDGET = "decided", "looks ran out", "budget spent"

OpenArms = Callable[["CaseRun"], contextlib.AbstractContextManager[Mapping[str, Timed]]]
OnLook = Callable[["CaseRun", str], None]


@dataclass(frozen=True)
class Design:
    """How `hwbench ab` samples its cases."""

    name: str = "sequential"
    blocks: int | None = None  # fixed: the count (12); sequential: the most a case (64)
    samples: int = 5  # per arm per half-block
    budget_s: float | None = None  # all cases together; None: each case up to its last look

    def __post_init__(self) -> None:
        if self.name not in DESIGNS:
            raise unknown_choice("design", self.name, DESIGNS)
        check_fields(self, AB_RULES)
        if self.name == "fixed" and self.budget_s is not None:
            raise UsageError("--budget applies to the sequential design, not --design fixed")

    @property
    def looks(self) -> Looks:
        if self.name == "fixed":
            return Looks((self.blocks or FIXED_BLOCKS,))
        return Looks.up_to(self.blocks or MAX_BLOCKS)

    def gate(self, threshold: float) -> RatioGate:
        kind = SequentialGate if self.name == "sequential" else RatioGate
        return kind(field="per-block min", threshold=threshold)


def seconds(text: str) -> float:
    """A duration: "120", "120s", "2m" or "1.5h", in seconds."""
    scale = {"s": 1, "m": 60, "h": 3600}.get(text[-1:])
    try:
        return float(text[:-1] if scale else text) * (scale or 1)
    except ValueError:
        raise UsageError(f"--budget must be a duration such as 120s or 2m, got {text!r}") from None


@dataclass
class CaseRun:
    """One case's A/B sampling: its blocks so far and why it stopped."""

    label: str
    looks: Looks
    blocks: list[dict[str, list[float]]] = field(default_factory=list)
    verdict: str = INCONCLUSIVE  # at the last look taken, at the level sampling used
    stopped: str = ""  # DECIDED, LAST_LOOK or BUDGET; "" while open
    seconds: float = 0.0  # loading its arms and taking its blocks
    block_s: float = 0.0  # seconds spent taking blocks
    load_s: float = 0.0  # its last load

    def ratio(self) -> LookRatio:
        plain = block_ratio(self.blocks)
        return LookRatio(plain.log, plain.se, plain.df, share=self.looks.share(len(self.blocks)))

    def next_cost(self) -> float | None:
        """Seconds its next look should take, load included; None before its first block."""
        following = self.looks.after(len(self.blocks))
        if not self.blocks or following is None:
            return None
        return self.load_s + (following - len(self.blocks)) * self.block_s / len(self.blocks)

    @property
    def sampling(self) -> str:
        """'24 blocks, look 4 of 9: decided', for reports."""
        count = len(self.looks.counts)
        if count == 1:
            return f"{len(self.blocks)} blocks: a fixed count, one look"
        look = self.looks.index(len(self.blocks))
        return f"{len(self.blocks)} blocks, look {look} of {count}: {self.stopped}"


def run_cases(
    cases: list[CaseRun],
    open_arms: OpenArms,
    gate: RatioGate,
    alpha: float,
    per_half: int,
    budget_s: float | None = None,
    on_look: OnLook | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> None:
    """Sample `cases` (the module's docstring) until each has stopped; `open_arms(case)` loads
    its two arms ("a", "b") for the length of a `with`."""
    level = alpha / len(cases)  # Holm's strictest level, while sampling
    left = math.inf if budget_s is None else budget_s
    pending = list(cases)
    while pending:
        moved = False
        for index, case in enumerate(pending):
            start = clock()
            allowance = left / (len(pending) - index)
            moved |= _visit(case, open_arms, gate, level, per_half, allowance, on_look, clock)
            left -= clock() - start
        pending = [case for case in pending if not case.stopped]
        if not moved:
            break
    for case in pending:
        case.stopped = BUDGET


def _visit(
    case: CaseRun,
    open_arms: OpenArms,
    gate: RatioGate,
    level: float,
    per_half: int,
    allowance: float,
    on_look: OnLook | None,
    clock: Callable[[], float],
) -> bool:
    """Take looks on `case` while they fit in `allowance` seconds; whether it took any."""
    cost = case.next_cost()
    if cost is not None and cost > allowance:
        return False
    start = clock()
    with open_arms(case) as arms:
        case.load_s = clock() - start
        while not case.stopped:
            taken = len(case.blocks)
            began = clock()
            case.blocks += abba(arms, case.looks.after(taken) - taken, per_half, first=taken)
            case.block_s += clock() - began
            case.verdict = gate.verdict(case.ratio(), level)
            if case.verdict != INCONCLUSIVE:
                case.stopped = DECIDED
            elif case.looks.after(len(case.blocks)) is None:
                case.stopped = LAST_LOOK
            if on_look:
                on_look(case, case.stopped or "sampling on")
            cost = case.next_cost()
            if cost is not None and clock() - start + cost - case.load_s > allowance:
                break
    case.seconds += clock() - start
    return True
