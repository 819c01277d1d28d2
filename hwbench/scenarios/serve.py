"""An OpenAI-compatible server under load: requests sent at Poisson (gamma) arrivals at one
request rate per case, every token streamed and timed; vLLM-bench-compatible fields and goodput
under the SLOs given. The case's batch is the number of requests it sends.

The server is the engine's (Engine.serve starts it; any failed request fails the case), or
one hwbench did not start (`--endpoint`, target endpoint@remote: the device under test is the
server's). There a failed request is counted (`failed`, `error_rate`; goodput counts only
completed requests), and the case fails only when none completed, when the server cannot be
reached or refuses the key or model (hwbench.llm.endpoint), or on parity. Parity is checked on
prompt log-probabilities where hwbench has the model and the server returns them; otherwise
the case's parity is `not checked`, with the reason.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections import Counter
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

import torch

from hwbench.backends.base import Device
from hwbench.case import Case
from hwbench.config import Suite, Target
from hwbench.engines.base import Endpoint, Engine, Spec
from hwbench.llm.endpoint_config import EndpointConfig
from hwbench.llm.metrics import RequestResult, case_metrics, parse_slos, summarize_requests
from hwbench.llm.reference import reference
from hwbench.llm.serve_prompts import CasePrompts, case_prompts
from hwbench.measure import parity
from hwbench.results.logs import log_path
from hwbench.results.record import NOT_TIMED, CaseRecord, Sampling, Timings
from hwbench.scenarios.generate import DecoderScenario
from hwbench.workloads.base import Workload

if TYPE_CHECKING:
    from hwbench.llm.serve_client import ClientOptions

DEVICE_UNDER_TEST = "the server at {host}, not this client machine (the run's environment)"


class Serve(DecoderScenario):
    name = "serve"
    needs = "server"
    default_requests: ClassVar[tuple[int, ...]] = (64,)
    default_rates: ClassVar[tuple[float, ...]] = (4.0, 16.0, math.inf)  # requests/s

    def batches(self, workload: Workload, requested: tuple[int, ...]) -> tuple[int, ...]:
        return requested or self.default_requests

    def cases(self, workload: Workload, suite: Suite, target: Target) -> list[Case]:
        rates = suite.request_rates or self.default_rates
        endpoint = {
            "endpoint": suite.endpoint,
            "served_model": suite.served_model,
            "tokenizer": suite.tokenizer,
            "api": suite.api,
            "api_key_env": suite.api_key_env,
            "request_timeout_s": suite.request_timeout_s,
            "tls_verify": suite.tls_verify,
        }
        return [
            replace(case, request_rate=rate, burstiness=suite.burstiness, **endpoint)
            for case in super().cases(workload, suite, target)
            for rate in rates
        ]

    def start(self, case: Case, workload: Workload, device: Device, engine: Engine) -> CaseRecord:
        """Start the server (or reach the endpoint), check parity through it, warm it up, then
        send the case's requests at its rate; a server started is stopped on every path and
        its log kept."""
        # Late, by name: the client needs aiohttp (the endpoint and vllm extras), and every
        # scenario module is imported to list the scenarios.
        from hwbench.llm.endpoint import EndpointError
        from hwbench.llm.serve_client import run_load

        target = case.parsed_target
        prompt_len, output_len = case.prompt_len, case.output_len
        assert prompt_len is not None and output_len is not None, "a decoder case has lengths"
        prompts = case_prompts(case, workload, prompt_len)
        key = {**case.key(), "input_shapes": [[case.batch, prompt_len]]}
        record = CaseRecord(key=key, status="ok", workload=workload.describe())
        start = time.perf_counter()
        try:
            serving, options, record = connect(case, workload, device, engine, record)
        except EndpointError as error:
            return replace(record, status="failed", reason=str(error))
        with serving as endpoint:
            record = replace(
                record,
                timings=Timings(prepare_s=time.perf_counter() - start),
                session=session_of(case, endpoint, prompts),
            )
            verdict = check_parity(endpoint, options, workload, prompts, target.dtype)
            record = replace(record, parity=verdict)
            if verdict.get("checked", True) and not verdict["passed"]:
                return replace(record, status="failed", reason=f"parity: {verdict['reason']}")
            if case.check_only:
                return replace(record, reason=NOT_TIMED)
            timeout = case.request_timeout_s
            url, model = endpoint.base_url, endpoint.model
            run_load(url, model, prompts.warm_up, output_len, math.inf, 1.0, 0, timeout, options)
            results, duration = run_load(
                url, model, prompts.timed, output_len, case.request_rate, case.burstiness,
                case.seed, timeout, options,
            )  # fmt: skip
        return measured(record, case, results, duration, prompts, prompt_len)


def connect(
    case: Case, workload: Workload, device: Device, engine: Engine, record: CaseRecord
) -> tuple[AbstractContextManager[Endpoint], ClientOptions, CaseRecord]:
    """The server to load and how to send to it: the engine's, started on entry (its log
    named in the record), or the case's endpoint, probed now (EndpointError if it cannot be
    measured)."""
    from hwbench.llm.endpoint import client_options, probe
    from hwbench.llm.serve_client import ClientOptions

    if case.endpoint is None:
        target = case.parsed_target
        log = log_path("vllm-server")
        spec = Spec(workload, device, target.dtype, target.engine_options)
        assert case.prompt_len is not None and case.output_len is not None
        serving = engine.serve(spec, case.prompt_len + case.output_len, log)
        return serving, ClientOptions(), record.with_details(server_log=str(log))
    config = endpoint_config(case)
    return contextlib.nullcontext(probe(config)), client_options(config), record


def session_of(case: Case, endpoint: Endpoint, prompts: CasePrompts) -> dict[str, Any]:
    """What the record says of the server and the prompts; for an endpoint, that the device
    under test is the server's."""
    session = {**endpoint.details, "prompts": prompts.note}
    if case.endpoint is not None:
        host = endpoint.details["endpoint"]["host"]
        session["device_under_test"] = DEVICE_UNDER_TEST.format(host=host)
    return session


def endpoint_config(case: Case) -> EndpointConfig:
    assert case.endpoint is not None
    return EndpointConfig(
        case.endpoint, case.served_model, case.api, case.api_key_env, case.tls_verify
    )


def check_parity(
    endpoint: Endpoint,
    options: ClientOptions,
    workload: Workload,
    prompts: CasePrompts,
    dtype: str,
) -> dict[str, Any]:
    """The server's prompt log-probabilities against the float32 CPU reference's, or a
    `not checked` verdict saying why they cannot be compared."""
    from hwbench.llm.serve_client import NoPromptLogprobs, prompt_logprobs

    if prompts.parity_ids is None:
        return not_checked(
            "hwbench has no copy of the served model (name it with --workload or --model)"
        )
    expected = reference(workload, prompts.parity_ids, 1)["logprobs"]
    try:
        got = [
            prompt_logprobs(endpoint.base_url, endpoint.model, ids.tolist(), options)
            for ids in prompts.parity_ids
        ]
    except NoPromptLogprobs as error:
        return not_checked(f"the server returns no prompt log-probabilities ({error})")
    return parity.compare_logprobs(expected, torch.tensor(got), dtype)


def not_checked(reason: str) -> dict[str, Any]:
    return {"checked": False, "reason": reason}


def measured(
    record: CaseRecord,
    case: Case,
    results: list[RequestResult],
    duration: float,
    prompts: CasePrompts,
    prompt_len: int,
) -> CaseRecord:
    """The record of the load: failed when it must be (see the module), else its metrics."""
    llm = summarize_requests(results, duration, parse_slos(case.slo) if case.slo else None)
    errors = Counter(r.error for r in results if not r.ok)
    done = [r for r in results if r.ok]
    llm["error_rate"] = (len(results) - len(done)) / len(results)
    counted = sorted({r.prompt_len for r in done})
    short = sum(r.output_len < (case.output_len or 0) for r in done)
    reason = failure(case, results, errors, counted, prompts, prompt_len)
    requests = [request_row(r) for r in results]
    if reason:
        return replace(record, status="failed", reason=reason).with_details(
            partial_metrics=llm, requests=requests
        )
    e2e_ns = [r.e2el_s * 1e9 for r in done]
    # No roofline: the decode batch changes as requests come and go.
    return replace(
        record,
        metrics=case_metrics(llm, e2e_ns, requests=len(results)),
        samples_ns=tuple(e2e_ns),
        sampling=Sampling(
            stop_reason=stop_reason(errors, len(results), counted, short, prompts, case)
        ),
        timings=replace(record.timings, sampling_s=duration),
    ).with_details(requests=requests)


def failure(
    case: Case,
    results: list[RequestResult],
    errors: Counter[str],
    counted: list[int],
    prompts: CasePrompts,
    prompt_len: int,
) -> str:
    """Why the load fails the case, or ''."""
    failed = sum(errors.values())
    if failed and (case.endpoint is None or failed == len(results)):
        return f"{failed} of {len(results)} requests failed: {errors.most_common(1)[0][0]}"
    wrong = [n for n in counted if n != prompt_len]
    if prompts.exact and case.api == "completions" and wrong:
        return (
            f"the server counted {wrong} tokens in prompts made of {prompt_len}: it tokenizes "
            "differently (is the tokenizer the served model's?)"
        )
    return ""


def stop_reason(
    errors: Counter[str],
    sent: int,
    counted: list[int],
    short: int,
    prompts: CasePrompts,
    case: Case,
) -> str:
    """'all requests done', with what the reader must know beside the figures."""
    parts = ["all requests done"]
    if errors:
        common, _ = errors.most_common(1)[0]
        parts.append(f"{sum(errors.values())} of {sent} failed (error rate; first kind: {common})")
    if counted and (not prompts.exact or case.api == "chat"):
        what = "not controlled" if not prompts.exact else "with the chat template"
        parts.append(f"prompts {what}: {counted[0]}-{counted[-1]} tokens as the server counted")
    if short:
        parts.append(f"{short} ended before max_tokens (the server stopped them: EOS?)")
    return "; ".join(parts)


def request_row(result: RequestResult) -> dict[str, Any]:
    row: dict[str, Any] = {
        "ttft_s": result.ttft_s,
        "e2el_s": result.e2el_s,
        "output_len": result.output_len,
    }
    if result.prompt_len:
        row["prompt_len"] = result.prompt_len
    return row | ({"error": result.error} if not result.ok else {})
