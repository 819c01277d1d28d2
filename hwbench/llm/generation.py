"""Token-by-token generation: the contract engines implement for the `generate` scenario, the
greedy prefill + decode loop of the PyTorch engines over a static KV cache (as gpt-fast), and
the loop that repeats generations until the median end-to-end latency is known.

Every generation is greedy with a fixed output length (no end-of-sequence stop), so all
engines do the same work. Token arrival times are taken after the device has finished the
token (synchronized), in seconds since the generation started.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from hwbench.backends.base import Device
from hwbench.measure.harness import HarnessConfig, Measurement, stop_reason
from hwbench.measure.stats import relative_ci_halfwidth
from hwbench.workloads.base import KVCacheDecoder, Workload, generator, text_config


@dataclass
class Generation:
    """One batch generated: output ids (B, N) on the CPU and, per sequence, the arrival time
    of each of its N tokens in seconds since the generation started."""

    tokens: torch.Tensor
    times_s: list[list[float]]
    wall_s: float  # start to the last token of the batch


class Generator(ABC):
    """A model prepared to generate for prompts of one batch size and length.

    `precision` names the parity tolerance (hwbench.measure.parity.TOLERANCES); None: the dtype.
    """

    precision: str | None = None

    @abstractmethod
    def generate(self, prompts: torch.Tensor, output_len: int) -> Generation:
        """Greedy generation of exactly `output_len` tokens after `prompts` (B, T) int64."""

    @abstractmethod
    def prompt_logprobs(self, prompts: torch.Tensor) -> torch.Tensor:
        """(B, T-1) float32 on the CPU: log p(prompt[:, t+1] | prompt[:, :t+1])."""

    def details(self) -> dict[str, Any]:
        return {}

    def close(self) -> None:  # noqa: B027 (most generators hold nothing to release)
        """Release the model, worker processes and caches."""


def can_generate(workload: Workload) -> tuple[bool, str]:
    """Whether the PyTorch engines can generate with `workload` (a decoder with a KV cache)."""
    if workload.family != "decoder" or not isinstance(workload, KVCacheDecoder):
        return False, f"workload {workload.name} has no KV-cache decoder for the torch engines"
    return True, ""


def prompt_ids(workload: Workload, batch: int, prompt_len: int, seed: int) -> torch.Tensor:
    """(batch, prompt_len) token ids drawn from `seed` over the whole vocabulary."""
    vocab = text_config(workload).vocab_size
    return torch.randint(0, vocab, (batch, prompt_len), generator=generator(seed))


def logprobs_of_prompt(logits: torch.Tensor, prompts: torch.Tensor) -> torch.Tensor:
    """(B, T-1): log-softmax of logits (B, T, V) at each next prompt token, in float32."""
    logprobs = torch.log_softmax(logits[:, :-1].float(), dim=-1)
    return logprobs.gather(-1, prompts[:, 1:, None].to(logits.device))[..., 0].cpu()


class TorchGenerator(Generator):
    """Prefill, then one token per step through the model's static KV cache. With `compile`
    (torch.compile's keyword arguments), prefill and decode are compiled apart, each for its
    one shape; the decode position is a tensor so every step reuses one graph."""

    def __init__(
        self,
        model: torch.nn.Module,
        device: Device,
        batch: int,
        max_len: int,
        compile_kwargs: dict[str, Any] | None = None,
        precision: str | None = None,
    ) -> None:
        self.model, self.device, self.precision = model, device, precision
        # CUDA graph trees: each call starts a new step (torch.compiler docs)
        self.mark_step = (compile_kwargs or {}).get("mode") == "reduce-overhead"
        dtype = next(model.parameters()).dtype
        if dtype not in (torch.float32, torch.bfloat16, torch.float16):
            dtype = torch.float32  # quantized weights: activations stay float32
        with torch.inference_mode():
            self.cache = model.new_cache(batch, max_len, dtype, device.torch_device())
        # One compiled function: static shapes give prefill and decode a graph each.
        self._step = self._forward
        if compile_kwargs is not None:
            self._step = torch.compile(self._forward, **compile_kwargs)

    def _forward(self, ids: torch.Tensor, start: torch.Tensor) -> torch.Tensor:
        return self.model(ids, self.cache, start)[:, -1].argmax(-1)  # (B,)

    def _next(self, ids: torch.Tensor, start: torch.Tensor) -> torch.Tensor:
        if self.mark_step:
            torch.compiler.cudagraph_mark_step_begin()
        return self._step(ids, start).clone()  # a graph's output buffer is reused

    def generate(self, prompts: torch.Tensor, output_len: int) -> Generation:
        target = self.device.torch_device()
        ids = prompts.to(target)
        positions = torch.arange(prompts.shape[1] + output_len, device=target)
        tokens, times = [], []
        with torch.inference_mode():
            self.device.synchronize()
            start = time.perf_counter()
            token = self._next(ids, positions[0])
            for step in range(output_len):
                self.device.synchronize()
                times.append(time.perf_counter() - start)
                tokens.append(token)
                if step + 1 < output_len:
                    pos = positions[prompts.shape[1] + step]
                    token = self._next(token[:, None], pos)
        out = torch.stack(tokens, dim=1).cpu()
        return Generation(out, [list(times) for _ in range(len(prompts))], times[-1])

    def prompt_logprobs(self, prompts: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            logits = self.model(prompts.to(self.device.torch_device()))
        return logprobs_of_prompt(logits, prompts)

    def details(self) -> dict[str, Any]:
        return {"precision": self.precision, "kv_cache": "static", "max_len": self.cache.max_len}


def measure_generations(
    generate: Callable[[], Generation], config: HarnessConfig
) -> tuple[list[Generation], Measurement]:
    """One warm-up generation, then timed ones until the stopping rule on their wall times
    (the step harness's rule: min samples and time, then the median's CI or the budget)."""
    generate()
    runs: list[Generation] = []
    measurement = Measurement()
    start = time.perf_counter()
    while True:
        run = generate()
        runs.append(run)
        measurement.samples_ns.append(run.wall_s * 1e9)
        measurement.sampling_s = time.perf_counter() - start
        reason = stop_reason(measurement, config)
        if reason:
            measurement.stop_reason = reason
            measurement.rel_ci_halfwidth = relative_ci_halfwidth(measurement.samples_ns)
            return runs, measurement
