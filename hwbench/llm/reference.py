"""The float32 CPU reference of a decoder: its prompt log-probabilities and greedy tokens, which
every engine's generate and serve cases must reproduce."""

from __future__ import annotations

from typing import Any

import torch

from hwbench.backends.cpu import CPU
from hwbench.llm.generation import TorchGenerator, logprobs_of_prompt
from hwbench.workloads.base import KVCacheDecoder, Workload


def reference(workload: Workload, prompts: torch.Tensor, output_len: int) -> dict[str, Any]:
    """The float32 CPU eager model's prompt log-probabilities and greedy continuation."""
    model = workload.build()
    with torch.inference_mode():
        logprobs = logprobs_of_prompt(model(prompts), prompts)
        if isinstance(workload, KVCacheDecoder):
            tokens = TorchGenerator(model, CPU(), len(prompts), prompts.shape[1] + output_len)
            greedy = tokens.generate(prompts, output_len).tokens
        else:  # the user's own model: recompute the whole sequence per token
            ids = prompts
            for _ in range(output_len):
                ids = torch.cat([ids, model(ids)[:, -1].argmax(-1, keepdim=True)], dim=1)
            greedy = ids[:, prompts.shape[1] :]
    return {"logprobs": logprobs, "tokens": greedy}
