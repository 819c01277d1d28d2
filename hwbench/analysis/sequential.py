"""Sequential A/B verdicts: a case is judged at planned looks, and sampling stops once decided.

Looks. A case is judged after 8, 12, 16, 24, 32, 48, 64, 96, 128 blocks (powers of two and 1.5
times them, up to the most blocks allowed; `Looks.up_to`). Look k spends a share alpha_k of the
error rate, its interval taken at level alpha_k: the first look half of alpha, as most cases are
decided there (no change and speed-ups on a machine of ordinary noise), the other looks equal
shares of the other half. By Bonferroni's inequality the chance that any of the looks shows a
slowdown that is not there is at most sum(alpha_k) = alpha, however the looks end and whatever
the correlation between them. This is error spending (Lan & DeMets, "Discrete sequential
boundaries for clinical trials", Biometrika 70(3), 1983; Jennison & Turnbull, Group Sequential
Methods with Applications to Clinical Trials, Chapman & Hall/CRC, 2000) with the union bound in
place of the exact joint distribution of the looks (so the shares may be any that sum to 1):
conservative, and valid for the trimmed, t-distributed statistic of each look (scipy's t).
Stopping early without a verdict (a time budget) spends less. Across cases the gate keeps
Holm's correction: while sampled, a case is judged at alpha / m (Holm's first and strictest
level, m cases); at the end all are judged by Holm (hwbench.analysis.gate.judge), whose levels
are never stricter, with each case's ratio at the look it stopped at.

Decision. Between no change (1) and the threshold (1 + t) lies an indifference zone, as in
Wald's sequential probability ratio test (A. Wald, Sequential Analysis, Wiley 1947), which
tells "no slowdown" from "a slowdown of t" and may answer either in between:
  PASS  the interval's upper end is within the threshold (high <= 1 + t);
  FAIL  otherwise, once the interval lies above 1 (low > 1): significantly slower, and a slowdown
        of t not ruled out. The interval is symmetric on the log scale, so a FAIL's estimate
        is past the zone's middle, sqrt(1 + t); nearer 1, a case PASSes first;
  else  sample on (INCONCLUSIVE if the looks or the budget run out).
So a slowdown of t or more FAILs once the interval has left 1 behind, and no change FAILs with
probability at most alpha. The fixed design's rule (hwbench.analysis.gate.RatioGate) wants the
estimate itself past 1 + t, which a true slowdown of exactly t reaches only about half the time.
"""

from __future__ import annotations

from dataclasses import dataclass

from hwbench.analysis.compare import Ratio
from hwbench.analysis.gate import FAIL, INCONCLUSIVE, PASS, RatioGate

FIRST_LOOK = 8  # blocks: after trimming 20% each side, 6 left (5 degrees of freedom)
MAX_BLOCKS = 128  # the sequential design's default most blocks a case
FIRST_SHARE = 0.5  # of alpha, spent at the first look


@dataclass(frozen=True)
class Looks:
    """The block counts at which a case is judged, and the share of alpha each look spends."""

    counts: tuple[int, ...]
    shares: tuple[float, ...] = ()  # empty: equal; they must sum to at most 1

    def __post_init__(self) -> None:
        if not self.counts or list(self.counts) != sorted(set(self.counts)) or self.counts[0] < 2:
            raise ValueError(f"looks must be increasing block counts >= 2, got {self.counts}")
        if not self.shares:
            object.__setattr__(self, "shares", (1 / len(self.counts),) * len(self.counts))
        if len(self.shares) != len(self.counts) or sum(self.shares) > 1 + 1e-12:
            raise ValueError(f"one share of alpha a look, summing to <= 1, got {self.shares}")

    @classmethod
    def up_to(cls, most: int, first: int = FIRST_LOOK) -> Looks:
        """first, 1.5 first, 2 first, 3 first, 4 first, ... below `most`, then `most`; half of
        alpha at the first look, the other half in equal shares."""
        counts, n = [], first
        while n < most:
            counts.append(n)
            n = n * 3 // 2 if n & (n - 1) == 0 else n * 4 // 3  # 8 -> 12 -> 16 -> 24 -> 32
        counts.append(most)
        if len(counts) == 1:
            return cls((most,))
        later = (1 - FIRST_SHARE) / (len(counts) - 1)
        return cls(tuple(counts), (FIRST_SHARE, *[later] * (len(counts) - 1)))

    def share(self, taken: int) -> float:
        """The fraction of alpha the look at `taken` blocks may spend."""
        return self.shares[self.index(taken) - 1]

    def after(self, taken: int) -> int | None:
        """The block count of the next look once `taken` blocks are in; None after the last."""
        return next((n for n in self.counts if n > taken), None)

    def index(self, taken: int) -> int:
        """1-based number of the look at `taken` blocks."""
        return self.counts.index(taken) + 1


@dataclass(frozen=True)
class LookRatio(Ratio):
    """A ratio seen at one look of a sequential design: it may spend `share` of alpha, so its
    interval at alpha is the plain one at alpha * share and its p-value is p / share."""

    share: float = 1.0

    def p_value(self) -> float:
        return min(1.0, super().p_value() / self.share)

    def interval(self, alpha: float) -> tuple[float, float]:
        return super().interval(alpha * self.share)


@dataclass(frozen=True)
class SequentialGate(RatioGate):
    """The sequential design's verdict (the module's docstring): FAIL once above 1."""

    def verdict(self, ratio: Ratio, alpha: float) -> str:
        low, high = ratio.interval(alpha)
        if high <= 1 + self.threshold:
            return PASS
        return FAIL if low > 1 else INCONCLUSIVE

    def slower_by(self) -> str:
        return f"slower, by {self.threshold:.0%} or more not ruled out"
