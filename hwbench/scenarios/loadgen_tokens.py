"""MLPerf's Server scenario on a serving engine (vLLM), with LoadGen's token latencies: each
sample is a prompt (token ids) streamed for `output_len` tokens at Poisson arrivals of the
target QPS; LoadGen times TTFT from `FirstTokenComplete` and TPOT from the token count
(`use_token_latencies`), and judges the run against its TTFT and TPOT bounds (100 ms each by
default, loadgen/test_settings.h). The case's batch is the number of prompts in the library.

As in loadgen-server, LoadGen's AccuracyOnly run comes first: each prompt it issues returns its
prompt log-probabilities, compared with the float32 CPU reference (the serve scenario's
parity). LoadGen repeats samples in the performance run, so a repeated prompt can be served
from vLLM's prefix cache (on by default), as in MLPerf's own LLM runs.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import torch

from hwbench.backends.base import Device
from hwbench.case import Case
from hwbench.config import Suite, Target
from hwbench.engines.base import Endpoint, Engine, Spec
from hwbench.llm.generation import prompt_ids
from hwbench.llm.reference import reference
from hwbench.loadgen.config import GIVEN_NAMES, loadgen_config
from hwbench.loadgen.run import mlperf_loadgen, run_loadgen
from hwbench.loadgen.settings import loadgen_settings
from hwbench.loadgen.summary import figure_text
from hwbench.measure import parity
from hwbench.measure.stats import latency_ms
from hwbench.results.logs import log_path
from hwbench.results.record import NOT_TIMED, CaseRecord, Sampling, Timings
from hwbench.scenarios.generate import DecoderScenario
from hwbench.workloads.base import Workload


class ServerTokens(DecoderScenario):
    name = "loadgen-server-tokens"
    needs = "server"
    default_prompts: ClassVar[tuple[int, ...]] = (64,)

    def batches(self, workload: Workload, requested: tuple[int, ...]) -> tuple[int, ...]:
        return requested or self.default_prompts

    def cases(self, workload: Workload, suite: Suite, target: Target) -> list[Case]:
        given = {name: getattr(suite, name) for name in GIVEN_NAMES}
        config = loadgen_config("Server", workload.size, given)
        return [
            replace(case, loadgen=replace(config, sample_count=case.batch))
            for case in super().cases(workload, suite, target)
        ]

    def start(self, case: Case, workload: Workload, device: Device, engine: Engine) -> CaseRecord:
        """Start the server, check parity on LoadGen's accuracy run, then its performance
        run; the server is stopped on every path and its log kept."""
        try:
            lg = mlperf_loadgen()
        except ImportError as error:
            return case.outcome("skipped", f"{error}: pip install 'hwbench[loadgen]'")
        assert case.prompt_len is not None and case.output_len is not None
        prompts = prompt_ids(workload, case.batch, case.prompt_len, case.seed + 1)
        logs = log_path("loadgen").with_suffix("").resolve()
        server_log = log_path("vllm-server")
        record = CaseRecord(
            key={**case.key(), "input_shapes": [list(prompts.shape)]},
            status="ok",
            workload=workload.describe(),
            details={"loadgen_logs": str(logs), "server_log": str(server_log)},
        )
        target = case.parsed_target
        began = time.perf_counter()
        spec = Spec(workload, device, target.dtype, target.engine_options)
        with engine.serve(spec, case.prompt_len + case.output_len, server_log) as endpoint:
            record = replace(
                record,
                timings=Timings(prepare_s=time.perf_counter() - began),
                session=endpoint.details,
            )
            checked = self.check(record, lg, endpoint, case, workload, prompts)
            if not checked.ok or case.check_only:
                return checked
            return self.perform(checked, lg, endpoint, case, prompts)

    def run_on(
        self,
        lg: Any,
        endpoint: Endpoint,
        case: Case,
        prompts: torch.Tensor,
        mode: str,
        log_dir: Path,
    ) -> tuple[Any, dict[str, Any]]:
        from hwbench.loadgen.token_sut import TokenSUT  # aiohttp: the vllm extra's only

        assert case.loadgen is not None and case.output_len is not None
        settings = loadgen_settings(lg, case.loadgen, mode, 1e6, 1, case.seed)
        settings.use_token_latencies = True
        sut = TokenSUT(
            lg,
            endpoint.base_url,
            endpoint.model,
            prompts.tolist(),
            case.output_len,
            accuracy=mode == "AccuracyOnly",
        )
        return sut, run_loadgen(lg, sut, settings, case.batch, log_dir)

    def check(
        self,
        record: CaseRecord,
        lg: Any,
        endpoint: Endpoint,
        case: Case,
        workload: Workload,
        prompts: torch.Tensor,
    ) -> CaseRecord:
        """Parity on every prompt LoadGen issued in its AccuracyOnly run."""
        logs = record.details["loadgen_logs"]
        sut, _ = self.run_on(lg, endpoint, case, prompts, "AccuracyOnly", Path(logs, "accuracy"))
        if sut.errors:
            return replace(record, status="failed", reason=f"accuracy run: {sut.errors[0]}")
        asked = sorted(sut.logprobs)
        expected = reference(workload, prompts[asked], 1)["logprobs"]
        got = torch.tensor([sut.logprobs[i] for i in asked])
        verdict = parity.compare_logprobs(expected, got, case.parsed_target.dtype)
        verdict["compared"] += f"; {len(asked)} of {case.batch} prompts, as LoadGen issued them"
        record = replace(record, parity=verdict)
        if not verdict["passed"]:
            return replace(record, status="failed", reason=f"parity: {verdict['reason']}")
        return replace(record, reason=NOT_TIMED) if case.check_only else record

    def perform(
        self, record: CaseRecord, lg: Any, endpoint: Endpoint, case: Case, prompts: torch.Tensor
    ) -> CaseRecord:
        """LoadGen's performance run: figures only if VALID and no request failed."""
        began = time.perf_counter()
        logs = Path(record.details["loadgen_logs"])
        sut, judged = self.run_on(lg, endpoint, case, prompts, "PerformanceOnly", logs)
        record = replace(
            record, timings=replace(record.timings, sampling_s=time.perf_counter() - began)
        ).with_details(loadgen=judged)
        if sut.errors:
            reason = f"{len(sut.errors)} requests failed: {sut.errors[0]}"
            return replace(record, status="failed", reason=reason)
        if judged["result"] != "VALID":
            return replace(record, status="failed", reason=f"LoadGen: INVALID: {judged['reason']}")
        return replace(
            record,
            metrics={"latency_ms": latency_ms(sut.e2e_ns), "throughput": judged["qps"]},
            samples_ns=tuple(sut.e2e_ns),
            sampling=Sampling(stop_reason=f"LoadGen Server VALID: {figure_text(judged)}"),
        )
