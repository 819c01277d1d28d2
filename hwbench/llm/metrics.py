"""LLM serving metrics with the names and definitions of vLLM's `vllm.benchmarks.serve`.

TTFT = time to the first chunk carrying output; ITL = gaps between later chunks (all requests
pooled); TPOT = (E2EL - TTFT) / (output_len - 1) per request with output_len > 1; E2EL = send
to last output chunk. Failed requests count in `failed` only. Spread is numpy's population
std and percentiles use numpy's linear interpolation, as vLLM's do; an empty list gives 0.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hwbench.errors import UsageError
from hwbench.measure.stats import latency_ms

METRICS = ("ttft", "tpot", "itl", "e2el")
SLO_KEYS = ("ttft", "tpot", "e2el")
PERCENTILES = (90, 99)
SLO_PATTERN = re.compile(r"^\s*(\w+)\s*=\s*([0-9.eE+-]+)\s*(ms|s)?\s*$")


@dataclass
class RequestResult:
    """One request as the client saw it; times in seconds."""

    ok: bool
    prompt_len: int
    output_len: int  # output tokens received
    ttft_s: float
    itl_s: list[float]  # gaps between consecutive output chunk arrivals
    e2el_s: float
    error: str = ""


def tpot_s(result: RequestResult) -> float | None:
    """Time per output token after the first, or None with fewer than two output tokens."""
    if result.output_len <= 1:
        return None
    return (result.e2el_s - result.ttft_s) / (result.output_len - 1)


def summarize_requests(
    results: Sequence[RequestResult], duration_s: float, slos_ms: dict[str, float] | None = None
) -> dict[str, float | int]:
    """vLLM's benchmark result fields for `results` run over `duration_s` seconds;
    `request_goodput` when `slos_ms` (keys ttft, tpot, e2el) is given."""
    if duration_s <= 0:
        raise ValueError(f"duration must be positive, got {duration_s} s")
    done = [r for r in results if r.ok]
    total_in = sum(r.prompt_len for r in done)
    total_out = sum(r.output_len for r in done)
    summary: dict[str, float | int] = {
        "completed": len(done),
        "failed": len(results) - len(done),
        "duration": duration_s,
        "total_input_tokens": total_in,
        "total_output_tokens": total_out,
        "request_throughput": len(done) / duration_s,
        "output_throughput": total_out / duration_s,
        "total_token_throughput": (total_in + total_out) / duration_s,
    }
    samples = {
        "ttft": [r.ttft_s for r in done],
        "tpot": [t for t in map(tpot_s, done) if t is not None],
        "itl": [gap for r in done for gap in r.itl_s],
        "e2el": [r.e2el_s for r in done],
    }
    for name in METRICS:
        summary.update(latency_fields(name, samples[name]))
    if slos_ms:
        good = sum(meets_slos(r, slos_ms) for r in done)
        summary["request_goodput"] = good / duration_s
    return summary


def latency_fields(name: str, seconds: Sequence[float]) -> dict[str, float]:
    """mean/median/std/p90/p99 of `seconds` in ms, keyed as vLLM keys them (0 when empty)."""
    values = np.asarray(seconds if len(seconds) else [0.0], dtype=float) * 1000
    fields = {
        f"mean_{name}_ms": float(values.mean()),
        f"median_{name}_ms": float(np.median(values)),
        f"std_{name}_ms": float(values.std()),
    }
    fields.update({f"p{p}_{name}_ms": float(np.percentile(values, p)) for p in PERCENTILES})
    return fields


def meets_slos(result: RequestResult, slos_ms: dict[str, float]) -> bool:
    """Whether a completed request is within every SLO; TPOT counts as 0 below two tokens."""
    observed_s = {"ttft": result.ttft_s, "tpot": tpot_s(result) or 0.0, "e2el": result.e2el_s}
    return all(observed_s[key] <= limit / 1000 for key, limit in slos_ms.items())


def parse_slos(text: str) -> dict[str, float]:
    """`ttft=500ms,tpot=50ms,e2el=2s` as {key: milliseconds}; a bare number is in ms."""
    slos: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        match = SLO_PATTERN.match(item)
        if match is None:
            raise UsageError(f"bad SLO {item!r}; expected KEY=VALUE[ms|s], e.g. ttft=500ms")
        key, number, unit = match.groups()
        if key not in SLO_KEYS:
            raise UsageError(f"unknown SLO {key!r}; valid: {', '.join(SLO_KEYS)}")
        try:
            value = float(number) * (1000 if unit == "s" else 1)
        except ValueError:
            raise UsageError(f"bad SLO value {number!r} in {item!r}") from None
        if not math.isfinite(value) or value < 0:
            raise UsageError(f"SLO {key} must be a non-negative number, got {number!r}")
        slos[key] = value
    if not slos:
        raise UsageError(f"no SLO in {text!r}; expected e.g. ttft=500ms,tpot=50ms")
    return slos


def poisson_arrivals(n: int, rate: float, burstiness: float = 1.0, seed: int = 0) -> list[float]:
    """Send offsets (s) of `n` requests at `rate` req/s, as vLLM's `get_request` draws them.

    Gaps are Gamma(shape=burstiness, scale=1/(rate*burstiness)) (exponential at 1), the first
    request too waits one gap; the offsets are then scaled so the last is n/rate, as vLLM
    does to stop the throughput varying with the seed. rate=inf sends all at once.
    """
    if rate <= 0 or burstiness <= 0:
        raise UsageError(f"request rate and burstiness must be positive, got {rate}, {burstiness}")
    if n == 0 or math.isinf(rate):
        return [0.0] * n
    if math.isinf(burstiness):
        gaps = np.full(n, 1.0 / rate)
    else:
        rng = np.random.default_rng(seed)
        gaps = rng.gamma(shape=burstiness, scale=1.0 / (rate * burstiness), size=n)
    offsets = np.cumsum(gaps)
    offsets *= (n / rate) / offsets[-1]
    return [float(t) for t in offsets]


STORED_RUNS = 20  # generations whose token times are kept in the record


def request_result(prompt_len: int, times: list[float]) -> RequestResult:
    """One sequence of a generation as a request: its token arrival times since the start."""
    return RequestResult(
        ok=True,
        prompt_len=prompt_len,
        output_len=len(times),
        ttft_s=times[0],
        itl_s=list(np.diff(times)),
        e2el_s=times[-1],
    )


def case_metrics(llm: dict[str, Any], e2e_ns: Sequence[float], **counts: int) -> dict[str, Any]:
    """A generate or serve case's metrics: vLLM's fields under `llm`, the E2E latency summary
    in ms (per generation or per request) and output tokens/s as the throughput."""
    return {
        "latency_ms": latency_ms(e2e_ns),
        "throughput": llm["output_throughput"],
        "throughput_unit": "output tokens/s",
        "llm": llm,
        **counts,
    }


def token_times(times_s: Sequence[list[list[float]]]) -> list[list[list[float]]]:
    """Arrival times (s) of each sequence's tokens, for the first STORED_RUNS generations."""
    return [[[round(t, 7) for t in seq] for seq in run] for run in times_s[:STORED_RUNS]]
