"""What `min_tokens` costs vLLM when `ignore_eos` already fixes the output length.

hwbench's vLLM requests once sent min_tokens = max_tokens beside ignore_eos; vLLM's own
benchmarks send ignore_eos alone. With ignore_eos, vLLM stops a request only at max_tokens,
so min_tokens changes no output, but it engages vLLM's min-tokens logits processor on each
step. One engine (the workload's checkpoint, fp32, eager) generates the same token-id prompts
with both settings in ABBA / BAAB order; each arm's figure is the median wall time of one
llm.generate() of 32 tokens, over ROUNDS x 2 calls.

Run: flock /tmp/hwbench-quiet.lock python benchmarks/vllm_min_tokens_cost.py   (~3 minutes)
"""

from __future__ import annotations

import os
import statistics
import time

from _report import publish
from _vllm_arms import KV_CACHE_GB, OUTPUT_LEN, PROMPT_LEN, checkpoint
from rich.table import Table

ROUNDS = 12
BATCHES = (1, 4, 16)


def main() -> None:
    os.environ["VLLM_CPU_KVCACHE_SPACE"] = KV_CACHE_GB
    from vllm import LLM, SamplingParams
    from vllm.inputs import TokensPrompt

    llm = LLM(
        model=str(checkpoint()),
        dtype="float32",
        enforce_eager=True,
        seed=0,
        max_model_len=PROMPT_LEN + OUTPUT_LEN,
    )
    common = {"max_tokens": OUTPUT_LEN, "ignore_eos": True, "temperature": 0.0}
    arms = {
        "ignore_eos": SamplingParams(**common),
        "ignore_eos + min_tokens": SamplingParams(**common, min_tokens=OUTPUT_LEN),
    }
    table = Table(
        "prompts",
        *(f"{name}: median ms" for name in arms),
        "ratio",
        "output tokens each",
        title=f"vLLM generate of {PROMPT_LEN} -> {OUTPUT_LEN} tokens, with and without min_tokens",
    )
    for batch in BATCHES:
        ids = [[(7 * i + j) % 1000 + 2 for j in range(PROMPT_LEN)] for i in range(batch)]
        prompts = [TokensPrompt(prompt_token_ids=p) for p in ids]
        lengths = set()
        for params in arms.values():  # warm-up, and the output length each setting gives
            outputs = llm.generate(prompts, params, use_tqdm=False)
            lengths |= {len(o.outputs[0].token_ids) for o in outputs}
        times: dict[str, list[float]] = {name: [] for name in arms}
        names = list(arms)
        for index in range(ROUNDS):
            order = names + names[::-1] if index % 2 else names[::-1] + names
            for name in order:
                start = time.perf_counter()
                llm.generate(prompts, arms[name], use_tqdm=False)
                times[name].append(time.perf_counter() - start)
        medians = [statistics.median(times[name]) * 1e3 for name in names]
        ratio = medians[1] / medians[0]
        table.add_row(str(batch), *(f"{m:.1f}" for m in medians), f"{ratio:.3f}", str(lengths))
    publish(
        "vllm_min_tokens_cost",
        table,
        [
            f"ratio = (ignore_eos + min_tokens) / ignore_eos; {ROUNDS} rounds of A B B A / "
            "B A A B on one engine; 'output tokens each': the lengths both settings gave",
            "engine: vllm.LLM on the llama tiny checkpoint (hwbench.llm.checkpoint), float32, "
            f"enforce_eager, seed 0, VLLM_CPU_KVCACHE_SPACE={KV_CACHE_GB}; greedy",
        ],
    )


if __name__ == "__main__":
    main()
