"""A user's Hugging Face directory as a workload: loading, outputs, counts, errors."""

from __future__ import annotations

import pytest
import torch

from hwbench.errors import UsageError
from hwbench.workloads import make_workload

transformers = pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def bert_dir(tmp_path_factory):
    config = transformers.BertConfig(
        vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=64,
    )  # fmt: skip
    torch.manual_seed(0)
    model = transformers.BertModel(config).eval()
    path = tmp_path_factory.mktemp("bert")
    model.save_pretrained(path)
    return path, model


@pytest.fixture(scope="module")
def llama_dir(tmp_path_factory):
    config = transformers.LlamaConfig(
        vocab_size=128, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
    )  # fmt: skip
    torch.manual_seed(0)
    model = transformers.LlamaForCausalLM(config).eval()
    path = tmp_path_factory.mktemp("llama")
    model.save_pretrained(path)
    return path, model


def test_encoder_outputs_match_transformers(bert_dir):
    path, reference = bert_dir
    workload = make_workload("hf", "tiny", model_path=str(path))
    assert workload.family == "encoder"
    (ids,) = workload.inputs(2)
    assert ids.shape == (2, 32) and ids.dtype == torch.int64
    with torch.no_grad():
        out = workload.build()(ids)
        torch.testing.assert_close(out, reference(input_ids=ids).last_hidden_state)
    assert out.shape == (2, 32, 32)


def test_causal_lm_outputs_match_transformers(llama_dir):
    path, reference = llama_dir
    workload = make_workload("hf", "tiny", model_path=str(path))
    assert workload.family == "decoder"
    (ids,) = workload.inputs(2)
    with torch.no_grad():
        out = workload.build()(ids)
        torch.testing.assert_close(out, reference(input_ids=ids).logits)
    assert out.shape == (2, 32, 128) and out.dtype == torch.float32


def test_causal_lm_counts_and_description(llama_dir):
    path, _ = llama_dir
    workload = make_workload("hf", "tiny", model_path=str(path))
    # per layer: q 32x32, k and v 32x16, o 32x32, gate/up/down 32x64; lm_head 32x128
    layer = 32 * 32 + 2 * 32 * 16 + 32 * 32 + 3 * 32 * 64
    linears = 2 * layer + 32 * 128
    attention = 4 * 32 * 32 * 2  # 4 * T * hidden * layers
    assert workload.flops(2) == 2 * 32 * (2 * linears + attention)
    params = 128 * 32 + linears + 2 * 2 * 32 + 32  # embeddings, linears, norms
    assert workload.params() == params
    assert workload.bytes_moved(2, 4) == (params + 2 * 32 * 128) * 4 + 2 * 32 * 8
    info = workload.describe()
    assert info["model_type"] == "llama" and info["params"] == params
    assert info["seq_len"] == 32 and info["path"] == str(path)


def test_missing_directory_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="no such directory"):
        make_workload("hf", "tiny", model_path=str(tmp_path / "absent"))


def test_directory_without_a_model_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match=r"no config\.json there"):
        make_workload("hf", "tiny", model_path=str(tmp_path))


def test_config_without_weights_is_a_usage_error(tmp_path, llama_dir):
    (tmp_path / "config.json").write_text((llama_dir[0] / "config.json").read_text())
    workload = make_workload("hf", "tiny", model_path=str(tmp_path))
    with pytest.raises(UsageError, match="cannot load the model"):
        workload.build()


def test_broken_config_is_a_usage_error(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(UsageError, match=r"unreadable config\.json"):
        make_workload("hf", "tiny", model_path=str(tmp_path))


def test_hf_needs_a_path_and_a_known_size(llama_dir):
    with pytest.raises(UsageError, match="needs --model"):
        make_workload("hf", "tiny")
    with pytest.raises(UsageError, match="full, small, tiny"):
        make_workload("hf", "medium", model_path=str(llama_dir[0]))


def test_a_user_model_is_labelled_by_its_name_not_a_size(bert_dir):
    from hwbench.config import Suite, Target
    from hwbench.execution.plan import expand

    path, _ = bert_dir
    suite = Suite(model_path=str(path), targets=(Target.parse("torch@cpu"),))
    [case, *_] = expand(suite)
    assert case.label() == f"{path.name} seq32 latency b1 torch@cpu"
    assert "tiny" not in case.label() and case.key()["model_name"] == f"{path.name} seq32"
    named = expand(Suite(model_path=str(path), model_name="my-bert", scenarios=("latency",)))
    assert named[0].label().startswith("my-bert seq32 latency b1")
