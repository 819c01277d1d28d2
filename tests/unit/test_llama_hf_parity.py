"""The llama workload against transformers' LlamaForCausalLM, and its KV cache against itself."""

from __future__ import annotations

import pytest
import torch

from hwbench.workloads import make_workload
from hwbench.workloads.llama import LlamaModel

transformers = pytest.importorskip("transformers")


def reference(config_dict: dict) -> torch.nn.Module:
    config = transformers.LlamaConfig(**config_dict)
    config._attn_implementation = "eager"
    return transformers.LlamaForCausalLM(config).eval()


def close(actual: torch.Tensor, expected: torch.Tensor, tol: float = 1e-4) -> bool:
    return (actual - expected).abs().max().item() <= tol * max(1.0, expected.abs().max().item())


@pytest.fixture(scope="module")
def tiny():
    llama = make_workload("llama", "tiny")
    return llama, llama.build(), llama.inputs(2)[0]


def test_logits_match_transformers(tiny):
    llama, model, ids = tiny
    hf = reference(llama.hf_config_dict())
    hf.load_state_dict(model.state_dict(), strict=True)
    with torch.no_grad():
        ours, theirs = model(ids), hf(input_ids=ids).logits
    assert ours.shape == (2, 64, 1024)
    assert close(ours, theirs)


def test_decoding_with_the_cache_matches_the_full_forward(tiny):
    _, model, ids = tiny
    prompt = ids.shape[1] - 4
    cache = model.new_cache(batch=2, max_len=80, dtype=torch.float32)
    with torch.no_grad():
        full = model(ids)
        steps = [model(ids[:, :prompt], cache, 0)]
        steps += [model(ids[:, pos : pos + 1], cache, pos) for pos in range(prompt, ids.shape[1])]
    assert [s.shape[1] for s in steps] == [prompt, 1, 1, 1, 1]
    assert close(torch.cat(steps, dim=1), full)


def test_cache_is_static(tiny):
    llama, model, _ = tiny
    cache = model.new_cache(batch=3, max_len=16, dtype=torch.bfloat16)
    c = llama.config
    shape = (3, c.num_key_value_heads, 16, c.head_dim)
    assert len(cache.k) == len(cache.v) == c.num_hidden_layers
    assert all(t.shape == shape and t.dtype == torch.bfloat16 for t in cache.k + cache.v)


@pytest.mark.parametrize("size", ["small", "full"])
def test_state_dict_names_and_shapes_match_transformers(size):
    llama = make_workload("llama", size)
    config = transformers.LlamaConfig(**llama.hf_config_dict())
    with torch.device("meta"):
        model = LlamaModel(llama.config)
        hf = transformers.LlamaForCausalLM(config)
    assert {k: v.shape for k, v in model.state_dict().items()} == {
        k: v.shape for k, v in hf.state_dict().items()
    }
    assert config.num_key_value_heads == llama.config.num_key_value_heads
    if size == "full":
        rope = getattr(config, "rope_parameters", None) or {"rope_theta": config.rope_theta}
        assert rope["rope_theta"] == 500000.0  # transformers 5 moved it into rope_parameters
