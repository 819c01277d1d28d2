"""The worker's path for the token-by-token scenarios: `generate` (an engine's generator,
prefill then decode) and `serve` (vLLM's OpenAI server under load). Parity first, as for
every case: the prompt tokens' log-probabilities against the float32 CPU reference's
log-softmax on the same prompts (hwbench.parity.compare_logprobs)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hwbench import parity, roofline
from hwbench.backends.base import Device
from hwbench.case import Case
from hwbench.config import Target
from hwbench.engines.base import Engine
from hwbench.generation import (
    Generation,
    TorchGenerator,
    logprobs_of_prompt,
    measure_generations,
    prompt_ids,
)
from hwbench.llm_metrics import RequestResult, parse_slos, summarize_requests
from hwbench.scenarios.base import NS_PER_MS
from hwbench.stats import summarize
from hwbench.text_prompts import text_prompts
from hwbench.workloads.base import Workload

LOG_DIR_ENV = "HWBENCH_LOG_DIR"  # the runner's folder for logs kept beside the result
CASE_INDEX_ENV = "HWBENCH_CASE_INDEX"
PARITY_PROMPTS = 4  # serve: prompts whose logprobs are checked through the server
WARMUP_REQUESTS = 4  # serve: requests sent at once before the timed load
STORED_RUNS = 20  # generations whose token times are kept in the record


def reference(workload: Workload, prompts: torch.Tensor, output_len: int) -> dict[str, Any]:
    """The float32 CPU eager model's prompt log-probabilities and greedy continuation."""
    model = workload.build()
    with torch.inference_mode():
        logprobs = logprobs_of_prompt(model(prompts), prompts)
        if hasattr(model, "new_cache"):
            tokens = TorchGenerator(
                model, cpu_device(), len(prompts), prompts.shape[1] + output_len
            )
            greedy = tokens.generate(prompts, output_len).tokens
        else:  # the user's own model: recompute the whole sequence per token
            ids = prompts
            for _ in range(output_len):
                ids = torch.cat([ids, model(ids)[:, -1].argmax(-1, keepdim=True)], dim=1)
            greedy = ids[:, prompts.shape[1] :]
    return {"logprobs": logprobs, "tokens": greedy}


def cpu_device() -> Device:
    from hwbench.backends.cpu import CPU

    return CPU()


def run_generate(
    case: Case, workload: Workload, device: Device, engine: Engine, target: Target,
    record: dict[str, Any],
) -> dict[str, Any]:  # fmt: skip
    ok, why = engine.generation_support(workload)
    if not ok:
        return {**record, "status": "skipped", "reason": why}
    prompt_len, output_len = case.prompt_len, case.output_len
    prompts = prompt_ids(workload, case.batch, prompt_len, case.seed + 1)
    record["key"]["input_shapes"] = [list(prompts.shape)]
    expected = reference(workload, prompts, output_len)

    start = time.perf_counter()
    generator = engine.prepare_generator(
        workload, device, target.dtype, target.engine_options,
        batch=case.batch, max_len=prompt_len + output_len,
    )  # fmt: skip
    record["prepare_s"] = time.perf_counter() - start
    try:
        precision = generator.precision or target.dtype
        got = generator.prompt_logprobs(prompts)
        record["parity"] = verdict = parity.compare_logprobs(expected["logprobs"], got, precision)
        if not verdict["passed"]:
            return {**record, "status": "failed", "reason": f"parity: {verdict['reason']}"}
        first = generator.generate(prompts, output_len)
        record["first_run_s"] = first.wall_s
        verdict["greedy_token_match"] = float((first.tokens == expected["tokens"]).float().mean())
        if case.check_only:
            reason = "parity checked; not timed (--check-only)"
            return {**record, "status": "ok", "reason": reason, "session": generator.details()}
        device.reset_peak_memory()
        runs, measurement = measure_generations(
            lambda: generator.generate(prompts, output_len), case.harness
        )
        memory = device.memory()
        results = [request_result(prompt_len, times) for run in runs for times in run.times_s]
        duration = sum(run.wall_s for run in runs)
        llm = summarize_requests(results, duration, parse_slos(case.slo) if case.slo else None)
        record.update(
            status="ok",
            reason="",
            metrics=llm_metrics(llm, measurement.samples_ns, generations=len(runs)),
            samples_ns=measurement.samples_ns,
            loops=1,
            warmup_runs=1,
            sampling_s=measurement.sampling_s,
            stop_reason=measurement.stop_reason,
            rel_ci_halfwidth=measurement.rel_ci_halfwidth,
            token_times_s=token_times(runs),
            memory={"peak_allocated": memory.peak_allocated, "peak_reserved": memory.peak_reserved},
            session=generator.details(),
        )
        context = prompt_len + output_len // 2
        tpot_s = llm["median_tpot_ms"] / 1e3
        if tpot_s > 0:
            record["roofline"] = roofline.for_decode(
                workload, case.batch, context, target.dtype, tpot_s, device
            )
        return record
    finally:
        generator.close()


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


def llm_metrics(llm: dict[str, Any], e2e_ns: list[float], **counts: int) -> dict[str, Any]:
    """The case's metrics: vLLM's fields under `llm`, the E2E latency summary in ms (per
    generation or per request) and output tokens/s as the throughput."""
    latency = {k: v / NS_PER_MS if k != "n" else v for k, v in summarize(e2e_ns).items()}
    return {
        "latency_ms": latency,
        "throughput": llm["output_throughput"],
        "throughput_unit": "output tokens/s",
        "llm": llm,
        **counts,
    }


def token_times(runs: list[Generation]) -> list[list[list[float]]]:
    """Arrival times (s) of each sequence's tokens, for the first STORED_RUNS generations."""
    return [[[round(t, 7) for t in seq] for seq in run.times_s] for run in runs[:STORED_RUNS]]


def log_path(name: str) -> Path | None:
    """Where a case's log goes: the folder the runner keeps beside the result, if any."""
    folder = os.environ.get(LOG_DIR_ENV)
    if not folder:
        return None
    index = os.environ.get(CASE_INDEX_ENV, "0")
    Path(folder).mkdir(parents=True, exist_ok=True)
    return Path(folder) / f"case{int(index):03d}-{name}.log"


@dataclass
class ServePrompts:
    """A serve case's prompts: the timed and warm-up requests are text of exactly prompt_len
    tokens (hwbench.text_prompts), with their ids; parity is checked on token ids."""

    timed: list[str]
    timed_ids: torch.Tensor  # (batch, prompt_len)
    warm_up: list[str]
    warm_up_ids: torch.Tensor  # (WARMUP_REQUESTS, prompt_len)
    parity_ids: torch.Tensor  # (PARITY_PROMPTS, prompt_len)


def serve_prompts(
    workload: Workload, tokenizer_file: Path, batch: int, prompt_len: int, seed: int
) -> ServePrompts:
    """Each set drawn from a seed of its own, so no timed prompt shares a first block with a
    parity or warm-up one: the server would serve it from vLLM's prefix cache (on by default)
    and skip its prefill (vLLM's throughput benchmark draws its warm-up prompts from another
    seed for the same reason)."""
    timed, timed_ids = text_prompts(tokenizer_file, batch, prompt_len, seed + 1)
    warm_up, warm_up_ids = text_prompts(tokenizer_file, WARMUP_REQUESTS, prompt_len, seed + 2)
    parity_ids = prompt_ids(workload, PARITY_PROMPTS, prompt_len, seed + 2)
    return ServePrompts(timed, timed_ids, warm_up, warm_up_ids, parity_ids)


def run_serve(
    case: Case, workload: Workload, device: Device, engine: Engine, target: Target,
    record: dict[str, Any],
) -> dict[str, Any]:  # fmt: skip
    """Start the server, check parity through it, warm it up, then send the case's requests
    at its rate; the server is stopped on every path and its log kept."""
    from hwbench.checkpoint import checkpoint_dir
    from hwbench.engines.vllm_engine import server_for
    from hwbench.serve_client import prompt_logprobs, run_load
    from hwbench.vllm_server import SERVED_NAME

    prompt_len, output_len = case.prompt_len, case.output_len
    entry = checkpoint_dir(workload)
    prompts = serve_prompts(
        workload, entry.directory / "tokenizer.json", case.batch, prompt_len, case.seed
    )
    record["key"]["input_shapes"] = [list(prompts.timed_ids.shape)]
    checked = prompts.parity_ids
    log = log_path("vllm-server") or Path(f"hwbench-vllm-server-{os.getpid()}.log")
    record["server_log"] = str(log)
    start = time.perf_counter()
    with server_for(entry.directory, target, device, prompt_len + output_len, log) as server:
        record["prepare_s"] = time.perf_counter() - start
        expected = reference(workload, checked, 1)["logprobs"]
        got = torch.tensor(
            [prompt_logprobs(server.base_url, SERVED_NAME, p.tolist()) for p in checked]
        )
        record["parity"] = verdict = parity.compare_logprobs(expected, got, target.dtype)
        if not verdict["passed"]:
            return {**record, "status": "failed", "reason": f"parity: {verdict['reason']}"}
        if case.check_only:
            return {**record, "status": "ok", "reason": "parity checked; not timed (--check-only)"}
        run_load(server.base_url, SERVED_NAME, prompts.warm_up, output_len, float("inf"))
        results, duration = run_load(
            server.base_url, SERVED_NAME, prompts.timed, output_len,
            case.request_rate, case.burstiness, case.seed,
        )  # fmt: skip
    llm = summarize_requests(results, duration, parse_slos(case.slo) if case.slo else None)
    record["session"] = {
        "checkpoint": str(entry.directory),
        "checkpoint_cache": entry.status,
        "prompts": "text, tokenized by the server",
    }
    errors = [r.error for r in results if not r.ok]
    if errors:
        reason = f"{len(errors)} of {len(results)} requests failed: {errors[0]}"
        return {**record, "status": "failed", "reason": reason, "partial_metrics": llm}
    lengths = sorted({r.prompt_len for r in results} - {prompt_len})
    if lengths:
        reason = f"the server made prompts of {lengths} tokens of text made for {prompt_len}"
        return {**record, "status": "failed", "reason": reason, "partial_metrics": llm}
    e2e_ns = [r.e2el_s * 1e9 for r in results]
    record.update(
        status="ok",
        reason="",
        metrics=llm_metrics(llm, e2e_ns, requests=len(results)),
        samples_ns=e2e_ns,
        loops=1,
        sampling_s=duration,
        stop_reason="all requests done",
        requests=[
            {"ttft_s": r.ttft_s, "e2el_s": r.e2el_s, "output_len": r.output_len} for r in results
        ],
    )
    return record  # no roofline: the decode batch changes as requests come and go
