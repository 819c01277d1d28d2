"""hwbench's LLM metrics against vLLM's own `calculate_metrics` on the same requests (the
serving client against a real server is tested in tests/e2e/test_serve_cli.py)."""

from __future__ import annotations

import importlib.util

import pytest

from hwbench.llm.metrics import RequestResult, summarize_requests

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("vllm") is None, reason="vllm is not installed"),
]

REQUESTS = [
    RequestResult(True, 10, 3, ttft_s=0.1, itl_s=[0.05, 0.15], e2el_s=0.3),
    RequestResult(True, 20, 1, ttft_s=0.2, itl_s=[], e2el_s=0.2),
    RequestResult(True, 30, 5, ttft_s=0.4, itl_s=[0.05, 0.07, 0.03, 0.05], e2el_s=0.6),
    RequestResult(False, 40, 0, ttft_s=0.0, itl_s=[], e2el_s=0.0, error="HTTP 500"),
]
SLOS = {"ttft": 250.0, "tpot": 80.0}


def test_summary_matches_vllm_calculate_metrics():
    from vllm.benchmarks.lib.endpoint_request_func import RequestFuncOutput
    from vllm.benchmarks.serve import calculate_metrics

    outputs = [
        RequestFuncOutput(
            success=r.ok,
            latency=r.e2el_s,
            output_tokens=r.output_len,
            ttft=r.ttft_s,
            itl=r.itl_s,
            prompt_len=r.prompt_len,
        )
        for r in REQUESTS
    ]
    theirs, _ = calculate_metrics([], outputs, 2.0, None, [90, 99], SLOS)
    ours = summarize_requests(REQUESTS, 2.0, SLOS)
    expected = {
        "completed": theirs.completed,
        "failed": theirs.failed,
        "total_input_tokens": theirs.total_input,
        "total_output_tokens": theirs.total_output,
        **{k: getattr(theirs, k) for k in ("request_throughput", "request_goodput")},
        **{k: getattr(theirs, k) for k in ("output_throughput", "total_token_throughput")},
    }
    for m in ("ttft", "tpot", "itl", "e2el"):
        for stat in ("mean", "median", "std"):
            expected[f"{stat}_{m}_ms"] = getattr(theirs, f"{stat}_{m}_ms")
        for p, value in getattr(theirs, f"percentiles_{m}_ms"):
            expected[f"p{p}_{m}_ms"] = value
    assert {k: ours[k] for k in expected} == pytest.approx(expected)
