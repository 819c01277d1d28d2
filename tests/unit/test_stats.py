import math

import numpy as np
import pytest

from hwbench.measure.stats import median_ci, relative_ci_halfwidth, summarize


def test_percentiles_use_linear_interpolation():
    summary = summarize([1.0, 2.0, 3.0, 4.0])
    assert summary["p50"] == 2.5
    assert summary["p90"] == pytest.approx(3.7)
    assert summary["iqr"] == pytest.approx(3.25 - 1.75)
    assert summary["n"] == 4


def test_median_ci_is_unknown_with_too_few_samples():
    assert median_ci([1.0, 2.0, 3.0, 4.0, 5.0]) == (-math.inf, math.inf)
    assert relative_ci_halfwidth([1.0, 2.0]) == math.inf


def test_median_ci_covers_the_true_median_about_95_percent_of_the_time():
    rng = np.random.default_rng(0)
    trials = 2000
    covered = 0
    for _ in range(trials):
        low, high = median_ci(rng.exponential(1.0, size=31))
        covered += low <= math.log(2) <= high
    # order-statistic intervals are conservative: at least 95%, not absurdly more
    assert 0.94 <= covered / trials <= 0.995


def test_interval_narrows_as_samples_grow():
    rng = np.random.default_rng(1)
    few = relative_ci_halfwidth(rng.normal(100, 5, 20))
    many = relative_ci_halfwidth(rng.normal(100, 5, 2000))
    assert many < few / 4
