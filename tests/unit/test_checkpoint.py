"""A decoder saved as a Hugging Face directory that transformers loads to the same function."""

import json

import pytest
import torch

from hwbench.errors import UsageError
from hwbench.llm.checkpoint import checkpoint_dir, exportable
from hwbench.workloads import make_workload

pytest.importorskip("transformers")
pytest.importorskip("safetensors")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HWBENCH_CACHE_DIR", str(tmp_path))
    return tmp_path


def test_transformers_loads_the_same_weights_and_a_tokenizer_covering_the_vocabulary(cache):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    workload = make_workload("llama", "tiny", seed=3)
    entry = checkpoint_dir(workload)
    assert entry.status == "miss"
    names = {p.name for p in entry.directory.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= names
    config = json.loads((entry.directory / "config.json").read_text())
    assert config["vocab_size"] == 1024 and config["model_type"] == "llama"

    tokenizer = AutoTokenizer.from_pretrained(entry.directory, local_files_only=True)
    assert len(tokenizer) == config["vocab_size"]  # every id the prompts draw is a token
    assert tokenizer.bos_token_id == 0 and tokenizer.eos_token_id == 1

    model = AutoModelForCausalLM.from_pretrained(entry.directory, local_files_only=True).eval()
    ids = workload.inputs(2, seed=1)[0][:, :24]
    with torch.inference_mode():
        ours, theirs = workload.build()(ids), model(ids).logits
    assert torch.allclose(ours, theirs, atol=1e-5)


def test_the_second_export_is_a_cache_hit_and_another_seed_another_directory(cache):
    first = checkpoint_dir(make_workload("llama", "tiny"))
    again = checkpoint_dir(make_workload("llama", "tiny"))
    other = checkpoint_dir(make_workload("llama", "tiny", seed=1))
    assert again.status == "hit" and again.directory == first.directory
    assert other.directory != first.directory


@pytest.mark.parametrize("name", ["mlp", "moe"])
def test_workloads_without_a_transformers_architecture_are_refused(cache, name):
    workload = make_workload(name, "tiny")
    assert exportable(workload)[0] is False
    with pytest.raises(UsageError, match="no Hugging Face architecture"):
        checkpoint_dir(workload)
