"""Text prompts of an exact token length, for the serve scenario.

Clients of a server send text, and vLLM's server tokenizes it inside the time to first token;
vLLM's serving benchmark sends text too. hwbench's serve requests are therefore text, made so
that the checkpoint's tokenizer turns each into exactly `prompt_len` tokens: pseudo-words of
the syllables the tokenizer was trained on (hwbench.llm.checkpoint), cut at `prompt_len` tokens,
decoded, and kept only if they encode back to the same ids (vLLM's random dataset instead
accepts prompts a token or two off the asked length).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import torch

from hwbench.llm.checkpoint import pseudo_word
from hwbench.llm.generation import prompt_ids
from hwbench.workloads.base import Workload

ATTEMPTS = 20  # draws per prompt before giving up; with the tokenizers made here the first holds


def text_prompts(
    tokenizer_file: Path, batch: int, prompt_len: int, seed: int
) -> tuple[list[str], torch.Tensor]:
    """`batch` texts drawn from `seed` and their token ids (batch, prompt_len): the tokenizer
    (a `tokenizer.json`) encodes each text, without special tokens, to exactly its row."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(tokenizer_file))
    rng = random.Random(seed)
    texts, rows = [], []
    for _ in range(batch):
        for _ in range(ATTEMPTS):
            words = " ".join(pseudo_word(rng) for _ in range(prompt_len))  # >= 1 token each
            ids = tokenizer.encode(words, add_special_tokens=False).ids[:prompt_len]
            text = tokenizer.decode(ids, skip_special_tokens=False)
            if tokenizer.encode(text, add_special_tokens=False).ids == ids:
                break
        else:
            raise RuntimeError(
                f"no text of exactly {prompt_len} tokens in {ATTEMPTS} draws: the tokenizer at "
                f"{tokenizer_file} does not give back the ids its decoded text came from"
            )
        texts.append(text)
        rows.append(ids)
    return texts, torch.tensor(rows, dtype=torch.int64)


PARITY_PROMPTS = 4  # serve: prompts whose logprobs are checked through the server
WARMUP_REQUESTS = 4  # serve: requests sent at once before the timed load


@dataclass
class ServePrompts:
    """A serve case's prompts: the timed and warm-up requests are text of exactly prompt_len
    tokens, with their ids; parity is checked on token ids."""

    timed: list[str]
    timed_ids: torch.Tensor  # (batch, prompt_len)
    warm_up: list[str]
    warm_up_ids: torch.Tensor  # (WARMUP_REQUESTS, prompt_len)
    parity_ids: torch.Tensor  # (PARITY_PROMPTS, prompt_len)


def serve_prompts(
    workload: Workload, tokenizer_file: Path, batch: int, prompt_len: int, seed: int
) -> ServePrompts:
    """Each set drawn from a seed of its own, so no timed prompt shares a first block with a
    parity or warm-up one: the server would serve it from vLLM's prefix cache (on by default)
    and skip its prefill (vLLM's throughput benchmark draws its warm-up prompts from another
    seed for the same reason)."""
    timed, timed_ids = text_prompts(tokenizer_file, batch, prompt_len, seed + 1)
    warm_up, warm_up_ids = text_prompts(tokenizer_file, WARMUP_REQUESTS, prompt_len, seed + 2)
    parity_ids = prompt_ids(workload, PARITY_PROMPTS, prompt_len, seed + 2)
    return ServePrompts(timed, timed_ids, warm_up, warm_up_ids, parity_ids)
