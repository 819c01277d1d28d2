"""Greedy generation over the static KV cache, the prompt log-probabilities parity compares,
and how the generate and serve scenarios expand into cases."""

import itertools
import math

import pytest
import torch

from hwbench.backends.cpu import CPU
from hwbench.config import Suite, Target
from hwbench.errors import UsageError
from hwbench.execution.plan import expand
from hwbench.llm.generation import TorchGenerator, logprobs_of_prompt, prompt_ids
from hwbench.measure import parity
from hwbench.measure.harness import HarnessConfig
from hwbench.scenarios.generate import lengths
from hwbench.workloads import make_workload


@pytest.fixture(scope="module")
def llama():
    workload = make_workload("llama", "tiny")
    return workload, workload.build()


def full_recompute_greedy(model, prompts, steps):
    ids = prompts
    with torch.inference_mode():
        for _ in range(steps):
            ids = torch.cat([ids, model(ids)[:, -1].argmax(-1, keepdim=True)], dim=1)
    return ids[:, prompts.shape[1] :]


def test_cached_greedy_tokens_equal_recomputing_the_whole_sequence(llama):
    workload, model = llama
    prompts = prompt_ids(workload, 3, 20, seed=5)
    run = TorchGenerator(model, CPU(), 3, 32).generate(prompts, 12)
    assert run.tokens.shape == (3, 12)
    assert torch.equal(run.tokens, full_recompute_greedy(model, prompts, 12))


def test_a_second_generation_on_the_same_cache_gives_the_same_tokens(llama):
    workload, model = llama
    generator = TorchGenerator(model, CPU(), 2, 40)
    first = generator.generate(prompt_ids(workload, 2, 30, seed=1), 10)
    other = prompt_ids(workload, 2, 24, seed=2)
    assert torch.equal(
        generator.generate(other, 10).tokens, full_recompute_greedy(model, other, 10)
    )
    again = generator.generate(prompt_ids(workload, 2, 30, seed=1), 10)
    assert torch.equal(again.tokens, first.tokens)


def test_token_times_rise_and_the_wall_time_is_the_last_token(llama):
    workload, model = llama
    run = TorchGenerator(model, CPU(), 2, 24).generate(prompt_ids(workload, 2, 16, seed=1), 8)
    for times in run.times_s:
        assert len(times) == 8
        assert all(b >= a for a, b in itertools.pairwise(times))
        assert times[0] > 0
    assert run.wall_s == run.times_s[0][-1]


def test_prompt_logprobs_are_the_log_softmax_at_each_next_token(llama):
    workload, model = llama
    prompts = prompt_ids(workload, 2, 10, seed=3)
    got = TorchGenerator(model, CPU(), 2, 16).prompt_logprobs(prompts)
    with torch.inference_mode():
        logits = model(prompts)
    want = [
        [torch.log_softmax(logits[b, t], -1)[prompts[b, t + 1]].item() for t in range(9)]
        for b in range(2)
    ]
    assert got.shape == (2, 9)
    assert torch.allclose(got, torch.tensor(want), atol=1e-6)
    assert torch.equal(got, logprobs_of_prompt(logits, prompts))


def test_logprob_parity_is_judged_on_the_spread_not_the_constant_offset():
    reference = -6.9 + 0.2 * torch.randn(4, 63, generator=torch.Generator().manual_seed(0))
    assert parity.compare_logprobs(reference, reference + 1e-6, "fp32")["passed"]
    noisy = reference + 0.01 * torch.randn(4, 63, generator=torch.Generator().manual_seed(1))
    # 0.01 noise is 1.5e-3 of |logprob| but 5% of their spread: not fp32, not even bf16
    assert parity.compare(reference, noisy, "fp32")["rel_l2"] < 2e-3
    verdict = parity.compare_logprobs(reference, noisy, "bf16")
    assert not verdict["passed"] and "tolerance" in verdict["reason"]


def test_lengths_default_per_size_and_must_fit_the_positions():
    workload = make_workload("llama", "tiny")  # 256 positions
    assert lengths(workload, None, None) == (128, 32)
    assert lengths(workload, 200, 56) == (200, 56)
    with pytest.raises(UsageError, match="exceed llama/tiny's 256 positions"):
        lengths(workload, 250, 10)


def suite(**kwargs):
    defaults = {"workloads": ("llama", "mlp"), "harness": HarnessConfig()}
    return Suite(**{**defaults, **kwargs})


def test_generate_expands_over_decoders_and_engines_that_generate():
    targets = tuple(Target.parse(t) for t in ("torch@cpu", "onnxruntime@cpu", "vllm@cpu"))
    cases = expand(suite(targets=targets, scenarios=("generate",), batches=(1, 4)))
    assert {(c.workload, c.parsed_target.engine, c.batch) for c in cases} == {
        ("llama", "torch", 1), ("llama", "torch", 4), ("llama", "vllm", 1), ("llama", "vllm", 4),
    }  # fmt: skip
    assert {(c.prompt_len, c.output_len) for c in cases} == {(128, 32)}
    assert cases[0].key()["prompt_len"] == 128 and "request_rate" not in cases[0].key()


def test_serve_makes_one_case_per_request_rate():
    targets = (Target.parse("vllm@cpu"),)
    cases = expand(
        suite(targets=targets, scenarios=("serve",), request_rates=(2.0, math.inf), output_len=8)
    )
    assert [(c.request_rate, c.output_len) for c in cases] == [(2.0, 8), (math.inf, 8)]
    assert [c.key()["request_rate"] for c in cases] == ["2", "inf"]


def test_vllm_with_only_step_scenarios_is_a_usage_error_that_says_why():
    with pytest.raises(UsageError, match=r"latency \(needs a session\).*vllm gives generator"):
        expand(suite(targets=(Target.parse("vllm@cpu"),), scenarios=("latency",)))


@pytest.mark.parametrize(
    "bad",
    [{"request_rates": (0.0,)}, {"burstiness": 0.0}, {"prompt_len": 0}, {"slo": "latency=5ms"}],
)
def test_bad_llm_settings_are_usage_errors(bad):
    with pytest.raises(UsageError):
        suite(**bad)
