"""A decoder workload saved as a Hugging Face directory, so transformers and vLLM load the
very weights the PyTorch engines run: `config.json`, `model.safetensors`, and a byte-level BPE
tokenizer trained here on text drawn from the seed (nothing is downloaded).

Directories are cached by a hash of what they depend on (hwbench.export_cache), so a
second case, a server and vLLM's own benchmark all read the same files.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import torch

from hwbench.errors import UsageError
from hwbench.export_cache import CacheEntry, cache_root, fetch
from hwbench.workloads.base import HFExportable, UserModel, Workload

FORMAT_VERSION = 1  # bump when the files written here change
BOS, EOS = "<|begin_of_text|>", "<|end_of_text|>"  # ids 0 and 1 of every tokenizer made here
CORPUS_WORDS = 40_000
SYLLABLES = [c + v for c in "bcdfghjklmnprstvwz" for v in "aeiou"] + list("aeiou")


def exportable(workload: Workload) -> tuple[bool, str]:
    """Whether `workload` can be saved as a Hugging Face checkpoint, and why not."""
    if isinstance(workload, UserModel):
        return True, ""  # the user's own directory is the checkpoint
    why = f"workload {workload.name} has no Hugging Face architecture to save as"
    if not isinstance(workload, HFExportable):
        return False, why
    try:
        workload.hf_config_dict()
    except NotImplementedError:
        return False, why
    return True, ""


def checkpoint_dir(workload: Workload) -> CacheEntry:
    """The workload's Hugging Face directory, exported once per (workload, size, seed, config)."""
    if isinstance(workload, UserModel):
        return CacheEntry(Path(workload.path), "user model", 0.0)
    ok, why = exportable(workload)
    if not ok:
        raise UsageError(why)
    parts = {
        "format": FORMAT_VERSION,
        "workload": workload.name,
        "size": workload.size,
        "seed": workload.seed,
        "config": workload.hf_config_dict(),
        "torch": torch.__version__.split("+")[0],
    }
    return fetch(cache_root("checkpoints"), parts, lambda d: save_checkpoint(workload, d))


def save_checkpoint(workload: Workload, directory: Path) -> None:
    """Write config.json, model.safetensors, generation_config.json and the tokenizer."""
    from safetensors.torch import save_file

    state = workload.hf_state_dict(workload.build())
    state = {k: v.detach().contiguous() for k, v in state.items()}
    save_file(state, str(directory / "model.safetensors"), metadata={"format": "pt"})
    config = hf_config(workload)
    (directory / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True))
    generation = {"bos_token_id": 0, "eos_token_id": 1, "do_sample": False}
    (directory / "generation_config.json").write_text(json.dumps(generation, indent=2))
    save_tokenizer(config["vocab_size"], workload.seed, directory)


def hf_config(workload: Workload) -> dict[str, Any]:
    """The workload's `config.json`: its config fields (a LlamaConfig's unless they name
    another model_type) plus the ids of the tokenizer's special tokens, in float32 (the dtype
    the weights are stored in)."""
    return {
        "model_type": "llama",
        **workload.hf_config_dict(),
        "torch_dtype": "float32",
        "bos_token_id": 0,
        "eos_token_id": 1,
    }


def save_tokenizer(vocab_size: int, seed: int, directory: Path) -> None:
    """A byte-level BPE tokenizer of at most `vocab_size` tokens (BOS and EOS first), trained
    on words made of syllables drawn from `seed`, saved as transformers' fast tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[BOS, EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(synthetic_corpus(seed), trainer=trainer)
    # Reserved tokens fill the rest, as Llama 3's do, so that every id the model has (and the
    # prompts draw from) is a token: vLLM refuses prompt ids beyond the tokenizer's.
    missing = vocab_size - tokenizer.get_vocab_size()
    tokenizer.add_special_tokens([f"<|reserved_special_token_{i}|>" for i in range(missing)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token=BOS, eos_token=EOS)
    fast.save_pretrained(str(directory))


def synthetic_corpus(seed: int, lines: int = 400) -> list[str]:
    """Lines of pseudo-words drawn from `seed`."""
    rng = random.Random(seed)
    words_per_line = CORPUS_WORDS // lines
    return [" ".join(pseudo_word(rng) for _ in range(words_per_line)) for _ in range(lines)]


def pseudo_word(rng: random.Random) -> str:
    """1-4 syllables, the stuff the tokenizer is trained on."""
    return "".join(rng.choices(SYLLABLES, k=rng.randint(1, 4)))
