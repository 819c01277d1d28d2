"""The built-in workloads: determinism, outputs, and FLOP/byte counts checked by hand."""

from __future__ import annotations

import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from hwbench.errors import UsageError
from hwbench.workloads import builtin_workloads, make_workload
from hwbench.workloads.base import param_count

# tiny output shapes at batch 3
SHAPES = {"mlp": (3, 256), "resnet50": (3, 1000), "bert": (3, 64, 128), "llama": (3, 64, 1024)}
NAMES = list(SHAPES)


def counted_flops(name: str, batch: int) -> int:
    """FLOPs torch's FlopCounterMode sees; the math SDPA backend, so attention is bmm."""
    workload = make_workload(name, "tiny")
    model, inputs = workload.build(), workload.inputs(batch)
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as mode:
        model(*inputs)
    return mode.get_total_flops()


def test_builtin_workloads_are_registered():
    assert set(NAMES) <= set(builtin_workloads())
    assert "hf" not in builtin_workloads()


@pytest.mark.parametrize("name", NAMES)
def test_build_is_deterministic_in_seed(name):
    first, again = make_workload(name, "tiny").build(), make_workload(name, "tiny").build()
    other = make_workload(name, "tiny", seed=1).build()
    same = zip(first.state_dict().items(), again.state_dict().values(), strict=True)
    for (key, a), b in same:
        assert torch.equal(a, b), key
    pairs = zip(first.parameters(), other.parameters(), strict=True)
    assert any(not torch.equal(a, c) for a, c in pairs)
    assert not first.training
    assert all(p.dtype == torch.float32 for p in first.parameters())


@pytest.mark.parametrize("name", NAMES)
def test_inputs_are_deterministic_and_not_zero(name):
    workload = make_workload(name, "tiny")
    (a,), (b,), (c,) = workload.inputs(4, seed=0), workload.inputs(4, seed=0), workload.inputs(4, 1)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a.device.type == "cpu" and a.dtype in (torch.float32, torch.int64)
    assert a.count_nonzero() > a.numel() // 2
    assert workload.input_shapes(4) == [list(a.shape)]


@pytest.mark.parametrize("name", NAMES)
def test_forward_is_finite_and_varied(name):
    workload = make_workload(name, "tiny")
    with torch.no_grad():
        out = workload.build()(*workload.inputs(3))
    assert out.shape == SHAPES[name] and out.dtype == torch.float32
    assert torch.isfinite(out).all()
    assert 0.05 < out.std().item() < 50
    assert not torch.allclose(out[0], out[1])


def test_unknown_name_lists_the_workloads():
    with pytest.raises(UsageError, match=r"valid: bert, .*llama, mlp, moe, resnet50"):
        make_workload("resnet5O", "tiny")


@pytest.mark.parametrize("name", NAMES)
def test_unknown_size_lists_the_sizes(name):
    with pytest.raises(UsageError, match="full, small, tiny"):
        make_workload(name, "huge")


def test_mlp_counts():
    mlp = make_workload("mlp", "tiny")  # 256 -> 1024 -> 256 -> 1024 -> 256, batch 4
    assert mlp.flops(4) == 4 * (2 * 4 * 256 * 1024)
    params = 2 * (256 * 1024 + 1024) + 2 * (1024 * 256 + 256)
    assert mlp.bytes_moved(4, 2) == (params + 4 * 256 + 4 * 256) * 2
    assert param_count(mlp.build()) == params
    assert counted_flops("mlp", 4) == mlp.flops(4)


def test_resnet50_full_counts():
    resnet = make_workload("resnet50", "full")
    # conv MACs of one 224x224 image, stage by stage (4.09 G, as torchvision's model table)
    stem = 112 * 112 * 7 * 7 * 3 * 64

    def stage(size_in, size, cin, planes, blocks):
        first = size_in**2 * cin * planes + size**2 * (9 * planes**2 + 4 * planes**2)
        projection = size**2 * cin * 4 * planes
        rest = (blocks - 1) * size**2 * (4 * planes**2 + 9 * planes**2 + 4 * planes**2)
        return first + projection + rest

    convs = stage(56, 56, 64, 64, 3) + stage(56, 28, 256, 128, 4)
    convs += stage(28, 14, 512, 256, 6) + stage(14, 7, 1024, 512, 3)
    macs = stem + convs + 2048 * 1000
    assert macs == 4_089_184_256
    assert resnet.flops(2) == 2 * 2 * macs
    assert resnet.bytes_moved(2, 4) == (25_557_032 + 2 * 3 * 224 * 224 + 2 * 1000) * 4
    assert param_count(resnet.build()) == 25_557_032  # torchvision's resnet50


def test_resnet50_tiny_flops_match_flop_counter():
    assert counted_flops("resnet50", 2) == make_workload("resnet50", "tiny").flops(2)


def test_bert_counts():
    bert = make_workload("bert", "tiny")  # T 64, hidden 128, 4 heads, FFN 512, 2 layers
    per_token_layer = 2 * (4 * 128 * 128 + 2 * 128 * 512) + 2 * 2 * 64 * 128
    assert bert.flops(2) == 2 * 64 * 2 * per_token_layer
    embeddings = 1024 * 128 + 128 * 128 + 2 * 128 + 2 * 128
    layer = 4 * (128 * 128 + 128) + 128 * 512 + 512 + 512 * 128 + 128 + 2 * 2 * 128
    params = embeddings + 2 * layer
    assert bert.bytes_moved(2, 4) == (params + 2 * 64 * 128) * 4 + 2 * 64 * 8
    assert param_count(bert.build()) == params
    assert counted_flops("bert", 2) == bert.flops(2)


def test_bert_matches_transformers():
    transformers = pytest.importorskip("transformers")
    bert = make_workload("bert", "tiny")
    c = bert.config
    hf_config = transformers.BertConfig(
        vocab_size=c.vocab_size, hidden_size=c.hidden_size, num_hidden_layers=2,
        num_attention_heads=4, intermediate_size=512, max_position_embeddings=128,
        attn_implementation="eager",
    )  # fmt: skip
    reference = transformers.BertModel(hf_config, add_pooling_layer=False).eval()
    renames = {
        "embeddings.word.": "embeddings.word_embeddings.",
        "embeddings.position.": "embeddings.position_embeddings.",
        "embeddings.token_type.": "embeddings.token_type_embeddings.",
        "embeddings.norm.": "embeddings.LayerNorm.",
        "layers.": "encoder.layer.",
        ".query.": ".attention.self.query.", ".key.": ".attention.self.key.",
        ".value.": ".attention.self.value.", ".attn_out.": ".attention.output.dense.",
        ".attn_norm.": ".attention.output.LayerNorm.", ".ffn_in.": ".intermediate.dense.",
        ".ffn_out.": ".output.dense.", ".ffn_norm.": ".output.LayerNorm.",
    }  # fmt: skip
    model = bert.build()
    state = {}
    for key, value in model.state_dict().items():
        for old, new in renames.items():
            key = key.replace(old, new)
        state[key] = value
    reference.load_state_dict(state, strict=True)
    (ids,) = bert.inputs(2)
    with torch.no_grad():
        expected = reference(input_ids=ids).last_hidden_state
        torch.testing.assert_close(model(ids), expected, atol=1e-5, rtol=1e-5)


def test_llama_counts():
    llama = make_workload("llama", "tiny")  # T 64, hidden 128, heads 4 (2 kv) of 32, FFN 352
    linear = 128 * 128 + 2 * 128 * 2 * 32 + 128 * 128 + 3 * 128 * 352  # MACs per token, layer
    attention = 2 * 64 * 4 * 32  # MACs per token, layer: scores and values
    per_token = 2 * (2 * (linear + attention) + 128 * 1024)  # 2 layers + lm_head
    assert llama.flops(2) == 2 * 64 * per_token
    params = 2 * 1024 * 128 + 128 + 2 * (linear + 2 * 128)
    assert llama.bytes_moved(2, 2) == (params + 2 * 64 * 1024) * 2 + 2 * 64 * 8
    assert param_count(llama.build()) == llama.params() == params
    cache = 2 * 2 * 2 * 10 * 2 * 32  # (k, v) x layers x batch x context x kv heads x head_dim
    assert llama.decode_bytes(2, 10, 2) == (params + 2 * 1024 + cache) * 2 + 2 * 8
    assert counted_flops("llama", 2) == llama.flops(2)


def test_llama_sizes():
    assert make_workload("llama", "small").params() == 124_668_672
    assert make_workload("llama", "full").params() == 8_030_261_248  # Llama-3-8B
