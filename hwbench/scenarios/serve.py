"""An OpenAI-compatible server under load: requests sent at Poisson (gamma) arrivals at one
request rate per case, every token streamed and timed; vLLM-bench-compatible fields and goodput
under the SLOs given. The case's batch is the number of requests it sends. The engine starts
the server (Engine.serve); parity is checked through it, on prompt log-probabilities."""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import ClassVar

import torch

from hwbench.backends.base import Device
from hwbench.case import Case
from hwbench.config import Suite, Target
from hwbench.engines.base import Engine, Spec
from hwbench.llm.checkpoint import checkpoint_dir
from hwbench.llm.metrics import case_metrics, parse_slos, summarize_requests
from hwbench.llm.reference import reference
from hwbench.llm.text_prompts import serve_prompts
from hwbench.measure import parity
from hwbench.results.logs import log_path
from hwbench.results.record import NOT_TIMED, CaseRecord, Sampling, Timings
from hwbench.scenarios.generate import DecoderScenario
from hwbench.workloads.base import Workload


class Serve(DecoderScenario):
    name = "serve"
    needs = "server"
    default_requests: ClassVar[tuple[int, ...]] = (64,)
    default_rates: ClassVar[tuple[float, ...]] = (4.0, 16.0, math.inf)  # requests/s

    def batches(self, workload: Workload, requested: tuple[int, ...]) -> tuple[int, ...]:
        return requested or self.default_requests

    def cases(self, workload: Workload, suite: Suite, target: Target) -> list[Case]:
        rates = suite.request_rates or self.default_rates
        return [
            replace(case, request_rate=rate, burstiness=suite.burstiness)
            for case in super().cases(workload, suite, target)
            for rate in rates
        ]

    def start(self, case: Case, workload: Workload, device: Device, engine: Engine) -> CaseRecord:
        """Start the server, check parity through it, warm it up, then send the case's
        requests at its rate; the server is stopped on every path and its log kept."""
        # Late, by name: the client needs aiohttp, which comes with the vllm extras only, and
        # every scenario module is imported to list the scenarios.
        from hwbench.llm.serve_client import prompt_logprobs, run_load

        target = case.parsed_target
        prompt_len, output_len = case.prompt_len, case.output_len
        assert prompt_len is not None and output_len is not None, "a decoder case has lengths"
        tokenizer = checkpoint_dir(workload).directory / "tokenizer.json"
        prompts = serve_prompts(workload, tokenizer, case.batch, prompt_len, case.seed)
        key = {**case.key(), "input_shapes": [list(prompts.timed_ids.shape)]}
        log = log_path("vllm-server")
        record = CaseRecord(
            key=key, status="ok", workload=workload.describe(), details={"server_log": str(log)}
        )
        checked = prompts.parity_ids
        start = time.perf_counter()
        spec = Spec(workload, device, target.dtype, target.engine_options)
        serving = engine.serve(spec, prompt_len + output_len, log)
        with serving as endpoint:
            record = replace(
                record,
                timings=Timings(prepare_s=time.perf_counter() - start),
                session={**endpoint.details, "prompts": "text, tokenized by the server"},
            )
            expected = reference(workload, checked, 1)["logprobs"]
            got = torch.tensor(
                [prompt_logprobs(endpoint.base_url, endpoint.model, p.tolist()) for p in checked]
            )
            verdict = parity.compare_logprobs(expected, got, target.dtype)
            record = replace(record, parity=verdict)
            if not verdict["passed"]:
                return replace(record, status="failed", reason=f"parity: {verdict['reason']}")
            if case.check_only:
                return replace(record, reason=NOT_TIMED)
            run_load(endpoint.base_url, endpoint.model, prompts.warm_up, output_len, math.inf)
            results, duration = run_load(
                endpoint.base_url, endpoint.model, prompts.timed, output_len,
                case.request_rate, case.burstiness, case.seed,
            )  # fmt: skip
        llm = summarize_requests(results, duration, parse_slos(case.slo) if case.slo else None)
        errors = [r.error for r in results if not r.ok]
        wrong_lengths = sorted({r.prompt_len for r in results} - {prompt_len})
        if errors or wrong_lengths:
            reason = (
                f"{len(errors)} of {len(results)} requests failed: {errors[0]}"
                if errors
                else f"the server made prompts of {wrong_lengths} tokens of text made for "
                f"{prompt_len}"
            )
            return replace(record, status="failed", reason=reason).with_details(partial_metrics=llm)
        e2e_ns = [r.e2el_s * 1e9 for r in results]
        # No roofline: the decode batch changes as requests come and go.
        requests = [
            {"ttft_s": r.ttft_s, "e2el_s": r.e2el_s, "output_len": r.output_len} for r in results
        ]
        return replace(
            record,
            metrics=case_metrics(llm, e2e_ns, requests=len(results)),
            samples_ns=tuple(e2e_ns),
            sampling=Sampling(stop_reason="all requests done"),
            timings=replace(record.timings, sampling_s=duration),
        ).with_details(requests=requests)
