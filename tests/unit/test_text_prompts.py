"""The serve scenario's text prompts: exactly prompt_len tokens under the checkpoint's own
tokenizer, as transformers (what vLLM's server uses) loads it; none shares a first KV block
with the case's parity or warm-up prompts."""

import pytest
import torch

from hwbench.llm.checkpoint import checkpoint_dir
from hwbench.llm.text_prompts import text_prompts
from hwbench.workloads import make_workload

pytest.importorskip("transformers")
pytest.importorskip("tokenizers")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HWBENCH_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        workload = make_workload("llama", "tiny")
        yield workload, checkpoint_dir(workload).directory


@pytest.mark.parametrize("prompt_len", [1, 24, 128, 256])
def test_each_text_is_exactly_its_ids_under_the_servers_tokenizer(checkpoint, prompt_len):
    from transformers import AutoTokenizer

    _, directory = checkpoint
    texts, ids = text_prompts(directory / "tokenizer.json", 6, prompt_len, seed=1)
    assert ids.shape == (6, prompt_len) and len(texts) == 6
    tokenizer = AutoTokenizer.from_pretrained(directory, local_files_only=True)
    for text, row in zip(texts, ids, strict=True):
        # vLLM's completions endpoint encodes with special tokens (none are added here)
        assert tokenizer(text)["input_ids"] == row.tolist()
    assert len(set(texts)) == 6


def test_the_seed_decides_the_prompts(checkpoint):
    _, directory = checkpoint
    file = directory / "tokenizer.json"
    assert text_prompts(file, 3, 32, seed=5)[0] == text_prompts(file, 3, 32, seed=5)[0]
    assert text_prompts(file, 3, 32, seed=5)[0] != text_prompts(file, 3, 32, seed=6)[0]


def test_a_tokenizer_that_does_not_round_trip_is_an_error(checkpoint, tmp_path):
    from tokenizers import Tokenizer, decoders

    _, directory = checkpoint
    broken = Tokenizer.from_file(str(directory / "tokenizer.json"))
    broken.decoder = decoders.WordPiece()  # keeps the byte-level marks in decoded text
    broken.save(str(tmp_path / "tokenizer.json"))
    with pytest.raises(RuntimeError, match="does not give back the ids"):
        text_prompts(tmp_path / "tokenizer.json", 1, 16, seed=0)


def test_serve_timed_prompts_share_no_first_block_with_parity_or_warm_up(checkpoint):
    from hwbench.llm.text_prompts import PARITY_PROMPTS, WARMUP_REQUESTS, serve_prompts

    workload, directory = checkpoint
    for seed in (0, 1, 7):
        prompts = serve_prompts(workload, directory / "tokenizer.json", 16, 128, seed)
        assert prompts.timed_ids.shape == (16, 128) and len(prompts.timed) == 16
        assert len(prompts.warm_up) == WARMUP_REQUESTS
        assert len(prompts.parity_ids) == PARITY_PROMPTS
        # vLLM's prefix cache matches whole blocks from the start (16 tokens on the CPU)
        firsts = {tuple(row[:16].tolist()) for row in prompts.timed_ids}
        others = torch.cat([prompts.warm_up_ids, prompts.parity_ids])
        assert not firsts & {tuple(row[:16].tolist()) for row in others}
