"""hwbench's LLM metrics and serving client against vLLM itself: its `calculate_metrics` on the
same requests, and one real server on a tiny Llama checkpoint (~45 s on 2 cores)."""

from __future__ import annotations

import importlib.util
import math

import psutil
import pytest

from hwbench.llm_metrics import RequestResult, summarize_requests

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


def test_real_server_streams_and_matches_eager_logprobs(tmp_path, monkeypatch):
    import torch

    from hwbench.checkpoint import checkpoint_dir
    from hwbench.serve_client import prompt_logprobs, run_load
    from hwbench.vllm_server import SERVED_NAME, VllmServer
    from hwbench.workloads import make_workload

    monkeypatch.setenv("HWBENCH_CACHE_DIR", str(tmp_path / "cache"))
    workload = make_workload("llama", "tiny")
    directory = checkpoint_dir(workload).directory
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 1024, (4, 32), generator=generator)  # (prompts, tokens)
    prompts = ids.tolist()
    env = {"VLLM_CPU_KVCACHE_SPACE": "1"}
    log = tmp_path / "vllm.log"
    with VllmServer(directory, log_path=log, env=env, health_timeout_s=300) as server:
        processes = [psutil.Process(server.pid), *psutil.Process(server.pid).children(True)]
        results, duration = run_load(server.base_url, SERVED_NAME, prompts, 8, math.inf)
        served = [prompt_logprobs(server.base_url, SERVED_NAME, p) for p in prompts]
    assert not [p for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]

    assert [(r.ok, r.prompt_len, r.output_len, len(r.itl_s)) for r in results] == [
        (True, 32, 8, 7)
    ] * 4, [r.error for r in results]
    for r in results:
        assert r.e2el_s == pytest.approx(r.ttft_s + sum(r.itl_s))
    summary = summarize_requests(results, duration)
    assert (summary["completed"], summary["total_output_tokens"]) == (4, 32)
    print(f"\nserved {duration:.3f} s:", {k: round(v, 3) for k, v in summary.items()})

    with torch.no_grad():
        logits = workload.build().eval()(ids).float()  # (4, 32, vocab)
    expected = torch.log_softmax(logits, -1)[:, :-1].gather(-1, ids[:, 1:, None])[..., 0]
    diff = (torch.tensor(served, dtype=torch.float64) - expected.double()).abs().max().item()
    print(f"prompt logprobs: {expected.numel()} positions, max |vLLM - eager| = {diff:.3g}")
    assert diff < 1e-5
