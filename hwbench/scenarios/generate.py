"""Prefill then greedy decode with a KV cache, a batch of prompts at once: TTFT, TPOT, ITL,
E2E latency and output tokens/s (DESIGN.md section 5, vLLM's definitions)."""

from __future__ import annotations

from typing import ClassVar

from hwbench.errors import UsageError
from hwbench.scenarios.base import Scenario
from hwbench.workloads.base import Workload

# (prompt tokens, output tokens) per size
DEFAULT_LENGTHS: dict[str, tuple[int, int]] = {
    "tiny": (128, 32),
    "small": (256, 128),
    "full": (1024, 256),
}


class Generate(Scenario):
    name = "generate"
    kind = "generate"
    headline = "throughput"  # output tokens/s
    default_batches: ClassVar[tuple[int, ...]] = (1, 4, 16)

    def applies(self, workload: Workload) -> bool:
        return workload.family == "decoder"

    def batches(self, workload: Workload, requested: tuple[int, ...]) -> tuple[int, ...]:
        return requested or self.default_batches


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
    config = getattr(workload, "text", workload.config)  # the hf workload: the user's config
    return getattr(config, "max_position_embeddings", None)
