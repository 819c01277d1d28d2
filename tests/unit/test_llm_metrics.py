"""vLLM's serving metrics on hand-computed requests, SLO parsing and request arrivals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hwbench.errors import UsageError
from hwbench.llm.metrics import RequestResult, parse_slos, poisson_arrivals, summarize_requests

# A: 3 tokens, TPOT (0.3-0.1)/2 = 100 ms; B: one token, no TPOT; C: 5 tokens, TPOT 50 ms.
A = RequestResult(True, 10, 3, ttft_s=0.1, itl_s=[0.05, 0.15], e2el_s=0.3)
B = RequestResult(True, 20, 1, ttft_s=0.2, itl_s=[], e2el_s=0.2)
C = RequestResult(True, 30, 5, ttft_s=0.4, itl_s=[0.05] * 4, e2el_s=0.6)
FAILED = RequestResult(False, 40, 7, ttft_s=9.0, itl_s=[9.0], e2el_s=9.0, error="HTTP 500")


def test_counts_and_throughputs_leave_out_failed_requests():
    s = summarize_requests([A, B, C, FAILED], duration_s=2.0)
    assert (s["completed"], s["failed"], s["duration"]) == (3, 1, 2.0)
    assert (s["total_input_tokens"], s["total_output_tokens"]) == (60, 9)
    assert s["request_throughput"] == pytest.approx(1.5)
    assert s["output_throughput"] == pytest.approx(4.5)
    assert s["total_token_throughput"] == pytest.approx(34.5)
    assert "request_goodput" not in s


@pytest.mark.parametrize(
    ("metric", "mean", "median", "std", "p90", "p99"),
    [
        ("ttft", 700 / 3, 200, math.sqrt(140000 / 9), 360, 396),
        ("tpot", 75, 75, 25, 95, 99.5),  # B has one token: no TPOT
        ("itl", 400 / 6, 50, math.sqrt(12500 / 9), 100, 145),  # pooled: 50 x5, 150
        ("e2el", 1100 / 3, 300, math.sqrt(260000 / 9), 540, 594),
    ],
)
def test_latency_fields_in_ms(metric, mean, median, std, p90, p99):
    s = summarize_requests([A, B, C, FAILED], duration_s=2.0)
    got = [s[f"{k}_{metric}_ms"] for k in ("mean", "median", "std", "p90", "p99")]
    assert got == pytest.approx([mean, median, std, p90, p99])


def test_no_completed_request_gives_zeros_like_vllm():
    s = summarize_requests([FAILED], duration_s=1.0)
    assert s["completed"] == 0 and s["failed"] == 1
    assert s["mean_ttft_ms"] == s["p99_itl_ms"] == s["std_e2el_ms"] == 0.0


def test_duration_must_be_positive():
    with pytest.raises(ValueError, match="duration"):
        summarize_requests([A], duration_s=0.0)


@pytest.mark.parametrize(
    ("slos", "goodput"),
    [
        ({"ttft": 250, "tpot": 80}, 0.5),  # A misses TPOT, C misses TTFT; B's TPOT counts as 0
        ({"e2el": 300}, 1.0),  # A's 300 ms meets a 300 ms SLO: the limit is inclusive
        ({"tpot": 49}, 0.5),  # only B
        ({"ttft": 1000, "tpot": 1000, "e2el": 1000}, 1.5),  # the failed request never counts
    ],
)
def test_goodput_counts_requests_meeting_every_slo(slos, goodput):
    s = summarize_requests([A, B, C, FAILED], duration_s=2.0, slos_ms=slos)
    assert s["request_goodput"] == pytest.approx(goodput)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ttft=500ms,tpot=50ms", {"ttft": 500.0, "tpot": 50.0}),
        ("e2el=2s", {"e2el": 2000.0}),
        (" ttft = 250 , e2el=0.5s ", {"ttft": 250.0, "e2el": 500.0}),
    ],
)
def test_parse_slos(text, expected):
    assert parse_slos(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("itl=5ms", "unknown SLO 'itl'; valid: ttft, tpot, e2el"),
        ("ttft", "bad SLO 'ttft'"),
        ("ttft=fast", "bad SLO 'ttft=fast'"),
        ("ttft=5min", "bad SLO 'ttft=5min'"),
        ("ttft=1e", "bad SLO value '1e'"),
        ("tpot=-1ms", "SLO tpot must be a non-negative number"),
        ("", "no SLO in ''"),
    ],
)
def test_parse_slos_errors_are_one_line(text, message):
    with pytest.raises(UsageError, match=message) as caught:
        parse_slos(text)
    assert "\n" not in str(caught.value)


def test_infinite_rate_sends_everything_at_once():
    assert poisson_arrivals(5, math.inf, seed=3) == [0.0] * 5


def test_arrivals_are_seeded_increasing_and_end_at_n_over_rate():
    offsets = poisson_arrivals(200, rate=4.0, seed=7)
    assert offsets == poisson_arrivals(200, rate=4.0, seed=7)
    assert offsets != poisson_arrivals(200, rate=4.0, seed=8)
    assert offsets[0] > 0  # the first request waits one gap too, as in vLLM
    assert np.all(np.diff(offsets) > 0)
    assert offsets[-1] == pytest.approx(200 / 4.0)  # vLLM's rescaling


@pytest.mark.parametrize(("burstiness", "cv"), [(1.0, 1.0), (4.0, 0.5), (0.25, 2.0)])
def test_burstiness_sets_the_spread_of_gaps(burstiness, cv):
    gaps = np.diff([0.0, *poisson_arrivals(20000, rate=10.0, burstiness=burstiness, seed=1)])
    assert gaps.mean() == pytest.approx(0.1)
    assert gaps.std() / gaps.mean() == pytest.approx(cv, rel=0.05)  # Gamma(k): CV = 1/sqrt(k)


def test_infinite_burstiness_gives_even_gaps():
    assert np.diff(poisson_arrivals(5, rate=2.0, burstiness=math.inf)) == pytest.approx([0.5] * 4)


@pytest.mark.parametrize(("rate", "burstiness"), [(0.0, 1.0), (-1.0, 1.0), (1.0, 0.0)])
def test_non_positive_rate_or_burstiness_is_a_usage_error(rate, burstiness):
    with pytest.raises(UsageError, match="must be positive"):
        poisson_arrivals(3, rate, burstiness)
