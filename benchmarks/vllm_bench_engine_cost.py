"""Where hwbench's vLLM offline figure and `vllm.benchmarks.throughput`'s part, on one machine
state: the engine each builds and the call each times, crossed, in one process.

Engines: hwbench's (`Vllm.prepare_generator`: `vllm.LLM(...)`, whose constructor turns stats
logging off unless asked, vllm/entrypoints/llm.py) and vLLM's benchmark's
(`LLM.from_engine_args(EngineArgs.from_cli_args(args))`: every EngineArgs field passed, so
`disable_log_stats=False`, stats on), the latter also with `--disable-log-stats`.
Calls: hwbench's `VllmGenerator.generate` (token ids, greedy) and the call vLLM's benchmark
times (`_run_vllm_requests`: its random text prompts, temperature 1). Every arm empties the
prefix cache first. Each round runs the six arms in a shuffled order and back (seeded).

Run: flock /tmp/hwbench-quiet.lock python benchmarks/vllm_bench_engine_cost.py   (~6 minutes)
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path

from _report import publish
from _vllm_arms import KV_CACHE_GB, OUTPUT_LEN, PROMPT_LEN, SIZE, WORKLOAD, checkpoint
from rich.table import Table
from vllm_offline_vs_vllm_bench import VLLM_LEN_SLACK, tokens_out, vllm_argv

NUM_PROMPTS = (16, 64)
ROUNDS = 12
BASE = "hwbench engine, hwbench call"


def measure(n: int) -> dict[str, list[float]]:
    """Output tokens/s of each engine x call arm, ROUNDS x 2 samples each."""
    from vllm import LLM
    from vllm.benchmarks.throughput import _run_vllm_requests, add_cli_args, get_requests
    from vllm.engine.arg_utils import EngineArgs
    from vllm.tokenizers import get_tokenizer
    from vllm.utils.argparse_utils import FlexibleArgumentParser

    from hwbench.backends.cpu import CPU
    from hwbench.engines.base import Spec
    from hwbench.engines.vllm_engine import Vllm, VllmGenerator, VllmSettings
    from hwbench.llm.generation import prompt_ids
    from hwbench.workloads import make_workload

    model, workload = checkpoint(), make_workload(WORKLOAD, SIZE)
    parser = FlexibleArgumentParser()
    add_cli_args(parser)
    argv = vllm_argv(n, model, Path(tempfile.gettempdir()) / "unused.json")
    requests = get_requests(parser.parse_args(argv), get_tokenizer(str(model)))
    max_len = PROMPT_LEN + OUTPUT_LEN + VLLM_LEN_SLACK

    def bench_engine(args: list[str]) -> VllmGenerator:
        """The engine vLLM's benchmark builds from `args`, behind hwbench's generate."""
        llm = LLM.from_engine_args(EngineArgs.from_cli_args(parser.parse_args(args)))
        return VllmGenerator(llm, VllmSettings({}, "cpu"), str(model), "")

    generators = {
        "hwbench engine": Vllm().prepare_generator(Spec(workload, CPU()), n, max_len),
        "vLLM bench engine": bench_engine(argv),
        "vLLM bench engine, --disable-log-stats": bench_engine([*argv, "--disable-log-stats"]),
    }
    prompts = prompt_ids(workload, n, PROMPT_LEN, 1)

    def hwbench_call(generator: VllmGenerator) -> float:
        run = generator.generate(prompts, OUTPUT_LEN)
        return run.tokens.numel() / run.wall_s

    def vllm_call(generator: VllmGenerator) -> float:
        generator.llm.reset_prefix_cache()
        elapsed, outputs = _run_vllm_requests(generator.llm, requests, 1, True, False, False, False)
        return tokens_out(outputs) / elapsed

    calls: dict[str, Callable[[VllmGenerator], float]] = {
        "hwbench call": hwbench_call,
        "vLLM bench call": vllm_call,
    }
    arms = {f"{e}, {c}": (generators[e], calls[c]) for e in generators for c in calls}
    got: dict[str, list[float]] = {arm: [] for arm in arms}
    shuffle = random.Random(0)
    with contextlib.redirect_stderr(io.StringIO()):  # tqdm bars
        for round_ in range(ROUNDS + 1):  # round 0: warm-up, dropped
            order = list(arms)
            shuffle.shuffle(order)
            for arm in order + order[::-1]:
                generator, call = arms[arm]
                value = call(generator)
                if round_:
                    got[arm].append(value)
    for generator in generators.values():
        generator.close()
    return got


def main() -> None:
    os.environ["VLLM_CPU_KVCACHE_SPACE"] = KV_CACHE_GB
    results = {n: measure(n) for n in NUM_PROMPTS}
    arms = list(results[NUM_PROMPTS[0]])
    table = Table(
        "arm (engine, call)",
        *(f"{n} prompts: tok/s (ratio)" for n in NUM_PROMPTS),
        title=(
            f"vLLM offline, {WORKLOAD} {SIZE}, {PROMPT_LEN} -> {OUTPUT_LEN} tokens, fp32, eager: "
            f"median output tokens/s over {ROUNDS} x 2 calls, ratio to '{BASE}'"
        ),
    )
    for arm in arms:
        cells = []
        for n in NUM_PROMPTS:
            base = statistics.median(results[n][BASE])
            median = statistics.median(results[n][arm])
            cells.append(f"{median:.0f} ({median / base:.3f})")
        table.add_row(arm, *cells)
    notes = [
        "'vLLM bench engine, vLLM bench call' is what vllm.benchmarks.throughput main() "
        "times; 'hwbench engine, hwbench call' is what `hwbench run --scenario generate "
        "--target vllm@cpu` times; the rows between split the gap into the engine's "
        "settings (stats logging) and the call's definition (text prompts tokenized inside "
        "the timed call, temperature-1 sampling, tqdm).",
        f"engine settings otherwise equal (checked by comparing vllm_config): float32, "
        f"enforce_eager, seed 0, VLLM_CPU_KVCACHE_SPACE={KV_CACHE_GB}, max_num_seqs = prompts, "
        f"max_model_len {PROMPT_LEN + OUTPUT_LEN + VLLM_LEN_SLACK}.",
    ]
    publish("vllm_bench_engine_cost", table, notes)


if __name__ == "__main__":
    main()
