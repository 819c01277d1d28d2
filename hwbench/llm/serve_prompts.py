"""What a serve case sends, from its own server or a server at `--endpoint`: timed and warm-up
prompts (text), the token ids its parity is checked on (None: not checked), and how the
prompts were made, for the record.

Prompts are of exact token lengths when hwbench has the served model's tokenizer: its own
checkpoint's (hwbench.llm.text_prompts), a `--model` directory's, or `--tokenizer`'s. Without
one they are pseudo-words, one per token asked for, and their lengths are the server's count
(`usage.prompt_tokens`): not controlled.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import torch

from hwbench.case import Case
from hwbench.llm.checkpoint import checkpoint_dir, exportable, pseudo_word
from hwbench.llm.endpoint_config import TOKENIZER_FILE, tokenizer_file
from hwbench.llm.generation import prompt_ids
from hwbench.llm.text_prompts import PARITY_PROMPTS, WARMUP_REQUESTS, serve_prompts, text_prompts
from hwbench.workloads.base import UserModel, Workload


@dataclass(frozen=True)
class CasePrompts:
    timed: list[str]
    warm_up: list[str]
    parity_ids: torch.Tensor | None  # (PARITY_PROMPTS, prompt_len); None: hwbench has no model
    exact: bool  # each timed prompt is exactly prompt_len tokens of the served tokenizer
    note: str  # how they were made


def case_prompts(case: Case, workload: Workload, prompt_len: int) -> CasePrompts:
    """The prompts of `case` (`prompt_len` tokens each, `case.batch` timed)."""
    if case.endpoint is None:
        tokenizer = checkpoint_dir(workload).directory / TOKENIZER_FILE
        own = serve_prompts(workload, tokenizer, case.batch, prompt_len, case.seed)
        return CasePrompts(own.timed, own.warm_up, own.parity_ids, True, TOKENIZED_BY_SERVER)
    loadable = exportable(workload)[0]
    parity_ids = serve_prompts_ids(workload, prompt_len, case.seed) if loadable else None
    tokenizer = served_tokenizer(case, workload)
    if tokenizer is None:
        timed = word_prompts(case.batch, prompt_len, case.seed + 1)
        warm_up = word_prompts(WARMUP_REQUESTS, prompt_len, case.seed + 2)
        note = (
            f"prompt lengths not controlled: {prompt_len} pseudo-words each, no tokenizer "
            "(--tokenizer); token counts are the server's (usage)"
        )
        return CasePrompts(timed, warm_up, parity_ids, False, note)
    timed, _ = text_prompts(tokenizer, case.batch, prompt_len, case.seed + 1)
    warm_up, _ = text_prompts(tokenizer, WARMUP_REQUESTS, prompt_len, case.seed + 2)
    note = f"text of exactly {prompt_len} tokens by {tokenizer}, " + TOKENIZED_BY_SERVER
    return CasePrompts(timed, warm_up, parity_ids, True, note)


TOKENIZED_BY_SERVER = "text, tokenized by the server"


def serve_prompts_ids(workload: Workload, prompt_len: int, seed: int) -> torch.Tensor:
    """The parity prompts' ids, as hwbench.llm.text_prompts.serve_prompts draws them."""
    return prompt_ids(workload, PARITY_PROMPTS, prompt_len, seed + 2)


def served_tokenizer(case: Case, workload: Workload) -> Path | None:
    """--tokenizer's file, else the tokenizer of the model hwbench has (its checkpoint's, or a
    --model directory's), else None."""
    if case.tokenizer is not None:
        return tokenizer_file(case.tokenizer)
    if isinstance(workload, UserModel):
        found = Path(workload.path) / TOKENIZER_FILE
        return found if found.is_file() else None
    if exportable(workload)[0]:
        return checkpoint_dir(workload).directory / TOKENIZER_FILE
    return None


def word_prompts(batch: int, words: int, seed: int) -> list[str]:
    """`batch` texts of `words` pseudo-words drawn from `seed`."""
    rng = random.Random(seed)
    return [" ".join(pseudo_word(rng) for _ in range(words)) for _ in range(batch)]
