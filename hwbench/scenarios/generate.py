"""Prefill then greedy decode with a KV cache, a batch of prompts at once: TTFT, TPOT, ITL,
E2E latency and output tokens/s, with vLLM's definitions (hwbench/llm/metrics.py). Parity
first: the prompt tokens' log-probabilities against the float32 CPU reference's log-softmax
on the same prompts (hwbench.measure.parity.compare_logprobs)."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import ClassVar

from hwbench.analysis.roofline import for_decode
from hwbench.backends.base import Device
from hwbench.case import Case
from hwbench.config import Suite, Target
from hwbench.engines.base import Engine, Spec
from hwbench.errors import UsageError
from hwbench.llm.generation import Generation, measure_generations, prompt_ids
from hwbench.llm.metrics import (
    case_metrics,
    parse_slos,
    request_result,
    summarize_requests,
    token_times,
)
from hwbench.llm.reference import reference
from hwbench.measure import parity
from hwbench.measure.energy import open_window
from hwbench.results.record import NOT_TIMED, CaseRecord, Sampling, Timings
from hwbench.scenarios.base import Scenario
from hwbench.workloads.base import Workload, text_config

# (prompt tokens, output tokens) per size
DEFAULT_LENGTHS: dict[str, tuple[int, int]] = {
    "tiny": (128, 32),
    "small": (256, 128),
    "full": (1024, 256),
}


class DecoderScenario(Scenario):
    """A scenario of decoder workloads whose cases carry prompt and output lengths."""

    def applies(self, workload: Workload) -> bool:
        return workload.family == "decoder"

    def cases(self, workload: Workload, suite: Suite, target: Target) -> list[Case]:
        prompt, output = lengths(workload, suite.prompt_len, suite.output_len)
        return [
            replace(case, prompt_len=prompt, output_len=output)
            for case in super().cases(workload, suite, target)
        ]


class Generate(DecoderScenario):
    name = "generate"
    needs = "generator"
    default_batches: ClassVar[tuple[int, ...]] = (1, 4, 16)

    def batches(self, workload: Workload, requested: tuple[int, ...]) -> tuple[int, ...]:
        return requested or self.default_batches

    def start(self, case: Case, workload: Workload, device: Device, engine: Engine) -> CaseRecord:
        target = case.parsed_target
        prompt_len, output_len = case.prompt_len, case.output_len
        assert prompt_len is not None and output_len is not None, "a decoder case has lengths"
        prompts = prompt_ids(workload, case.batch, prompt_len, case.seed + 1)
        key = {**case.key(), "input_shapes": [list(prompts.shape)]}
        expected = reference(workload, prompts, output_len)

        start = time.perf_counter()
        spec = Spec(workload, device, target.dtype, target.engine_options)
        generator = engine.prepare_generator(spec, case.batch, prompt_len + output_len)
        record = CaseRecord(
            key=key,
            status="ok",
            workload=workload.describe(),
            timings=Timings(prepare_s=time.perf_counter() - start),
        )
        energy = open_window(device)
        try:
            precision = generator.precision or target.dtype
            got = generator.prompt_logprobs(prompts)
            verdict = parity.compare_logprobs(expected["logprobs"], got, precision)
            if not verdict["passed"]:
                reason = f"parity: {verdict['reason']}"
                return replace(record, status="failed", reason=reason, parity=verdict)
            first = generator.generate(prompts, output_len)
            match = float((first.tokens == expected["tokens"]).float().mean())
            record = replace(
                record,
                parity={**verdict, "greedy_token_match": match},
                session=generator.details(),
                timings=replace(record.timings, first_run_s=first.wall_s),
            )
            if case.check_only:
                return replace(record, reason=NOT_TIMED)
            device.reset_peak_memory()
            harness = energy.lengthen(case.harness, segments=1)
            energy.measure_idle()
            made: list[Generation] = []  # the warm-up generation too: it is in the window

            def generate() -> Generation:
                made.append(generator.generate(prompts, output_len))
                return made[-1]

            energy.start()
            runs, measurement = measure_generations(generate, harness)
            energy.stop(
                output_token=sum(g.tokens.numel() for g in made), request=len(made) * case.batch
            )
            memory = device.memory()
        finally:
            generator.close()
            energy.close()
        results = [request_result(prompt_len, times) for run in runs for times in run.times_s]
        duration = sum(run.wall_s for run in runs)
        llm = summarize_requests(results, duration, parse_slos(case.slo) if case.slo else None)
        tpot_s = llm["median_tpot_ms"] / 1e3
        context = prompt_len + output_len // 2
        return replace(
            record,
            metrics=case_metrics(llm, measurement.samples_ns, generations=len(runs)),
            samples_ns=tuple(measurement.samples_ns),
            sampling=Sampling(
                warmup_runs=1,
                stop_reason=measurement.stop_reason,
                rel_ci_halfwidth=measurement.rel_ci_halfwidth,
            ),
            memory=memory.to_json(),
            roofline=for_decode(workload, case.batch, context, target.dtype, tpot_s, device)
            if tpot_s > 0
            else None,
            timings=replace(record.timings, sampling_s=measurement.sampling_s),
            energy=energy.block(),
            details={"token_times_s": token_times([run.times_s for run in runs])},
        )


def lengths(workload: Workload, prompt_len: int | None, output_len: int | None) -> tuple[int, int]:
    """The case's (prompt, output) lengths: the user's, else the size's default; a UsageError
    when they do not fit the model's positions."""
    default_prompt, default_output = DEFAULT_LENGTHS[workload.size]
    prompt, output = prompt_len or default_prompt, output_len or default_output
    if prompt < 2 or output < 1:
        raise UsageError(
            f"prompt length must be >= 2 and output length >= 1, got {prompt}/{output}"
        )
    limit = max_positions(workload)
    if limit is not None and prompt + output > limit:
        raise UsageError(
            f"prompt {prompt} + output {output} tokens exceed {workload.name}/{workload.size}'s "
            f"{limit} positions"
        )
    return prompt, output


def max_positions(workload: Workload) -> int | None:
    return getattr(text_config(workload), "max_position_embeddings", None)
