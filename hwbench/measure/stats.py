"""Summary statistics of timing samples: percentiles, spread, the median's confidence interval."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

PERCENTILES = (50, 90, 99)


def median_ci(samples: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """Distribution-free confidence interval of the median from order statistics.

    The k-th and (n-k+1)-th smallest samples bound the median with probability
    1 - 2 * P(Binomial(n, 1/2) < k); (-inf, inf) when n is too small for `confidence`.
    """
    # binomial CDF; scipy.special takes 0.1 s to import (not at `hwbench --help`), scipy.stats
    # 0.5 s more
    from scipy.special import bdtr

    values = np.sort(np.asarray(samples, dtype=float))
    n = len(values)
    cdf = bdtr(np.arange(n + 1), n, 0.5)
    k = int(np.searchsorted(cdf, (1 - confidence) / 2))  # Binomial(n, 1/2) quantile
    if n == 0 or k < 1:
        return (-math.inf, math.inf)
    return (float(values[k - 1]), float(values[n - k]))


def relative_ci_halfwidth(samples: Sequence[float], confidence: float = 0.95) -> float:
    """Half the width of the median's CI as a fraction of the median (inf when unknown)."""
    low, high = median_ci(samples, confidence)
    median = float(np.median(samples)) if len(samples) else 0.0
    if not math.isfinite(low) or median <= 0:
        return math.inf
    return (high - low) / 2 / median


def summarize(samples: Sequence[float]) -> dict[str, float]:
    """Percentiles (numpy's linear interpolation), mean, stdev, min, max, IQR and the
    median's 95% CI of `samples`, in the samples' unit."""
    values = np.asarray(samples, dtype=float)
    q25, q75 = np.percentile(values, [25, 75])
    low, high = median_ci(values)
    summary = {f"p{p}": float(np.percentile(values, p)) for p in PERCENTILES}
    summary.update(
        mean=float(values.mean()),
        stdev=float(values.std(ddof=1)) if len(values) > 1 else 0.0,
        min=float(values.min()),
        max=float(values.max()),
        iqr=float(q75 - q25),
        median_ci_low=low,
        median_ci_high=high,
        n=len(values),
    )
    return summary


NS_PER_MS = 1e6


def latency_ms(samples_ns: Sequence[float]) -> dict[str, float]:
    """`summarize` of samples in ns, in ms (the count `n` kept as is)."""
    return {k: v / NS_PER_MS if k != "n" else v for k, v in summarize(samples_ns).items()}
