"""Text prompts of an exact token length, for the serve scenario.

Clients of a server send text, and vLLM's server tokenizes it inside the time to first token;
vLLM's serving benchmark sends text too. hwbench's serve requests are therefore text, made so
that the checkpoint's tokenizer turns each into exactly `prompt_len` tokens: pseudo-words of
the syllables the tokenizer was trained on (hwbench.checkpoint), cut at `prompt_len` tokens,
decoded, and kept only if they encode back to the same ids (vLLM's random dataset instead
accepts prompts a token or two off the asked length).
"""

from __future__ import annotations

import random
from pathlib import Path

import torch

from hwbench.checkpoint import pseudo_word

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
