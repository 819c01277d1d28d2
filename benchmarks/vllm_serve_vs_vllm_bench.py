"""hwbench's serve client against vLLM's own serving benchmark (`vllm.benchmarks.serve`),
both pointed at ONE vLLM OpenAI server on the same checkpoint, at the same request rates,
request count and lengths, interleaved A B B A for several rounds; the verdict is on the
median of the per-round ratios of median TTFT and median TPOT (target: within +-10%).

A (hwbench): `hwbench.llm.serve_client.run_load` + `hwbench.llm.metrics.summarize_requests`, as
`hwbench.scenarios.serve.Serve.start` calls them (4 warm-up requests at rate inf on prompts of their
own, then the load).
B (vLLM): `vllm.benchmarks.serve` `add_cli_args` + `main` with `--backend vllm`.
C (diagnostic): hwbench's client sending vLLM's random-dataset text prompts.
D (diagnostic): C with its aiohttp session opened with trust_env=True, as vLLM's client opens
its own (benchmarks/client_trust_env_cost.py measures what that costs in a burst).
Rounds are A B C D D C B A; each arm runs in a fresh child process of this script, so none
inherits another's state, and on an empty prefix cache (the server's dev-mode
/reset_prefix_cache before each arm): every round sends the same prompts, which vLLM's prefix
cache (on by default) would otherwise serve from the second round on.

Run: flock /tmp/hwbench-quiet.lock python benchmarks/vllm_serve_vs_vllm_bench.py
(about 35 minutes on 2 cores)
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import json
import statistics
import tempfile
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

from _report import publish
from _vllm_arms import KV_CACHE_GB, OUTPUT_LEN, PROMPT_LEN, SIZE, WORKLOAD, checkpoint, run_self
from rich.table import Table

from hwbench.llm.text_prompts import WARMUP_REQUESTS  # vLLM's --num-warmups matches it

if TYPE_CHECKING:
    from hwbench.llm.vllm_server import VllmServer

NUM_REQUESTS = 48
RATES = (4.0, float("inf"))
ROUNDS = 6
ARMS = ("hwbench", "vllm", "hwbench-text", "hwbench-text-trust-env")  # A, B, C, D
# A B C D D C B A within every round; C and D are diagnostics
ORDER = (*ARMS, *reversed(ARMS))
TOLERANCE = 0.10
SEED = 0
# vLLM's random prompts are decoded to text and re-encoded; with this tokenizer some come
# back 129-130 tokens long, which a server limited to 128 + 32 refuses, so the one server
# both clients share allows a few more (hwbench's own serve case uses prompt + output).
MAX_MODEL_LEN = PROMPT_LEN + OUTPUT_LEN + 8
ARM = "--arm"  # how this script calls itself for one client arm
FIELDS = (
    "completed", "failed", "duration", "total_input_tokens", "total_output_tokens",
    "output_throughput", "median_ttft_ms", "mean_ttft_ms", "median_tpot_ms", "mean_tpot_ms",
    "median_itl_ms",
)  # fmt: skip


def hwbench_client(base_url: str, rate: float, n: int, vllm_text: bool = False) -> dict:
    """hwbench's serve client, as hwbench.scenarios.serve.Serve.start drives it; with
    `vllm_text`, on the prompts of vLLM's random dataset instead of hwbench's own."""
    from hwbench.llm.metrics import summarize_requests
    from hwbench.llm.serve_client import run_load
    from hwbench.llm.text_prompts import serve_prompts
    from hwbench.llm.vllm_server import SERVED_NAME
    from hwbench.workloads import make_workload

    workload = make_workload(WORKLOAD, SIZE, seed=SEED)
    own = serve_prompts(workload, checkpoint() / "tokenizer.json", n, PROMPT_LEN, SEED)
    prompts = vllm_prompts(base_url, rate, n) if vllm_text else own.timed
    run_load(base_url, SERVED_NAME, own.warm_up, OUTPUT_LEN, float("inf"))
    results, duration = run_load(base_url, SERVED_NAME, prompts, OUTPUT_LEN, rate, 1.0, SEED)
    errors = [r.error for r in results if not r.ok]
    if errors:
        raise RuntimeError(f"{len(errors)} hwbench requests failed: {errors[0]}")
    return summarize_requests(results, duration)


def vllm_argv(base_url: str, rate: float, n: int, model: Path) -> list[str]:
    from hwbench.llm.vllm_server import SERVED_NAME

    return [
        "--backend", "vllm",
        "--base-url", base_url,
        "--model", SERVED_NAME,
        "--tokenizer", str(model),
        "--dataset-name", "random",
        "--random-input-len", str(PROMPT_LEN),
        "--random-output-len", str(OUTPUT_LEN),
        "--num-prompts", str(n),
        "--request-rate", str(rate),
        "--ignore-eos",
        "--temperature", "0",
        "--num-warmups", str(WARMUP_REQUESTS),
        "--seed", str(SEED),
    ]  # fmt: skip


def vllm_prompts(base_url: str, rate: float, n: int) -> list:
    """The text prompts vLLM's serving benchmark sends with these arguments."""
    from vllm.benchmarks.datasets import get_samples
    from vllm.benchmarks.serve import add_cli_args
    from vllm.tokenizers import get_tokenizer
    from vllm.utils.argparse_utils import FlexibleArgumentParser

    parser = FlexibleArgumentParser()
    add_cli_args(parser)
    args = parser.parse_args(vllm_argv(base_url, rate, n, checkpoint()))
    with contextlib.redirect_stdout(io.StringIO()):
        return [r.prompt for r in get_samples(args, get_tokenizer(str(checkpoint())))]


def vllm_client(base_url: str, rate: float, n: int) -> dict:
    """vLLM's serving benchmark as a Python function."""
    from vllm.benchmarks.serve import add_cli_args, main
    from vllm.utils.argparse_utils import FlexibleArgumentParser

    parser = FlexibleArgumentParser()
    add_cli_args(parser)
    args = parser.parse_args(vllm_argv(base_url, rate, n, checkpoint()))
    with contextlib.redirect_stdout(io.StringIO()):
        result = main(args)
    if result.get("failed"):
        raise RuntimeError(f"{result['failed']} vLLM-bench requests failed")
    return result


def child(arm: str, base_url: str, rate: float, n: int, out: Path) -> None:
    if arm == "hwbench-text-trust-env":  # this child process only
        import aiohttp

        aiohttp.ClientSession = functools.partial(aiohttp.ClientSession, trust_env=True)
    if arm == "vllm":
        result = vllm_client(base_url, rate, n)
    else:
        result = hwbench_client(base_url, rate, n, vllm_text=arm.startswith("hwbench-text"))
    out.write_text(json.dumps({k: result.get(k) for k in FIELDS}))


def run_arm(arm: str, base_url: str, rate: float, n: int, tmp: Path) -> dict:
    reset_prefix_cache(base_url)
    return run_self(__file__, [ARM, arm, base_url, str(rate), str(n)], f"{arm}-client", tmp)


def reset_prefix_cache(base_url: str) -> None:
    """Empty the server's prefix cache (a dev-mode endpoint), so that no arm is served the
    previous rounds' prompts from it: every round sends the same prompts."""
    request = urllib.request.Request(f"{base_url}/reset_prefix_cache", method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:
        if not json.loads(response.read())["success"]:
            raise RuntimeError("the server did not reset its prefix cache")


def bench_server(model: Path, log_path: Path) -> VllmServer:
    """The one vLLM CPU server both clients are pointed at: fp32, eager, seeded; dev mode for
    /reset_prefix_cache."""
    from hwbench.llm.vllm_server import VllmServer  # late, as each arm's child skips it

    return VllmServer(
        model,
        log_path=log_path,
        dtype="float32",
        max_model_len=MAX_MODEL_LEN,
        enforce_eager=True,
        extra_args=["--seed", str(SEED)],
        env={"VLLM_CPU_KVCACHE_SPACE": KV_CACHE_GB, "VLLM_SERVER_DEV_MODE": "1"},
        health_timeout_s=600,
    )


def main() -> None:
    from hwbench.llm.serve_client import run_load
    from hwbench.llm.vllm_server import SERVED_NAME

    model = checkpoint()
    rows: dict[float, list[dict]] = {}
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        server = bench_server(model, tmp / "server.log")
        with server:
            warm = [[(7 * i + j) % 1000 + 2 for j in range(PROMPT_LEN)] for i in range(16)]
            run_load(server.base_url, SERVED_NAME, warm, OUTPUT_LEN, float("inf"))
            for rate in RATES:
                rows[rate] = []
                for _ in range(ROUNDS):
                    got: dict[str, list] = {arm: [] for arm in ORDER}
                    for arm in ORDER:
                        got[arm].append(run_arm(arm, server.base_url, rate, NUM_REQUESTS, tmp))
                    rows[rate].append(got)
                    print(rate, summary_line(got), flush=True)
    report(rows)


def report(rows: dict[float, list[dict]]) -> None:
    verdicts = []
    both = Table.grid()
    for metric in ("ttft", "tpot"):
        field = f"median_{metric}_ms"
        table = Table(
            "rate req/s",
            "round",
            "A hwbench (A1, A2)",
            "B vLLM bench (B1, B2)",
            "C hwbench client, vLLM's prompts",
            "D = C, trust_env",
            "A/B",
            "C/B",
            "D/B",
            title=(
                f"median {metric.upper()} ms: hwbench serve client (A) vs vllm.benchmarks.serve "
                f"(B), one vLLM server, {WORKLOAD} {SIZE}, {NUM_REQUESTS} requests, "
                f"{PROMPT_LEN} -> {OUTPUT_LEN} tokens, fp32, eager"
            ),
        )
        for rate, rounds in rows.items():
            ratios: dict[str, list[float]] = {"A": [], "C": [], "D": []}
            for i, got in enumerate(rounds, 1):
                a, b, c, d = ([run[field] for run in got[arm]] for arm in ARMS)
                for name, values in (("A", a), ("C", c), ("D", d)):
                    ratios[name].append(statistics.mean(values) / statistics.mean(b))
                table.add_row(
                    f"{rate:g}", str(i), fmt(a), fmt(b), fmt(c), fmt(d),
                    *(f"{ratios[name][-1]:.3f}" for name in "ACD"),
                )  # fmt: skip
            median = statistics.median(ratios["A"])
            ok = abs(median - 1) <= TOLERANCE
            verdicts.append(ok)
            table.add_row(
                f"{rate:g}", "median", "", "", "", "",
                f"{median:.3f} {'PASS' if ok else 'FAIL'}",
                f"{statistics.median(ratios['C']):.3f}",
                f"{statistics.median(ratios['D']):.3f}",
                end_section=True,
            )  # fmt: skip
        both.add_row(table)
    runs = [d for rounds in rows.values() for got in rounds for d in got["vllm"]]
    tokens = sorted({d["total_input_tokens"] / d["completed"] for d in runs})
    notes = [
        f"verdict: {'PASS' if all(verdicts) else 'FAIL'} (median per-round ratio of median TTFT "
        f"and of median TPOT within +-{TOLERANCE:.0%} at every rate; round = A B C D D C B A, "
        "ratio = mean(A) / mean(B)); C and D are diagnostics, not part of the verdict",
        f"server: hwbench.llm.vllm_server.VllmServer on {checkpoint()}, dtype float32, "
        f"--enforce-eager, --seed {SEED}, --max-model-len {MAX_MODEL_LEN}, "
        f"VLLM_CPU_KVCACHE_SPACE={KV_CACHE_GB}; vLLM's other limits at their defaults; started "
        "once, warmed with 16 requests, shared by both clients; its prefix cache emptied "
        "before each arm (VLLM_SERVER_DEV_MODE=1, POST /reset_prefix_cache)",
        f"A (hwbench): text prompts of exactly {PROMPT_LEN} tokens (hwbench.llm.text_prompts: "
        "pseudo-words of the tokenizer's syllables, seed 1, checked to tokenize back to "
        f"{PROMPT_LEN} ids; the server tokenizes them inside TTFT), streamed /v1/completions "
        f"with max_tokens = {OUTPUT_LEN}, ignore_eos, temperature 0; Poisson arrivals from "
        "numpy default_rng(0), rescaled so the last is at n/rate (as vLLM does); 4 warm-up "
        "requests at rate inf first, on prompts of their own "
        "(hwbench.llm.text_prompts.serve_prompts, seed 2), so no timed prompt is in the "
        "prefix cache",
        "B (vLLM): vllm.benchmarks.serve main() --backend vllm --dataset-name random "
        f"--random-input-len {PROMPT_LEN} --random-output-len {OUTPUT_LEN} --num-prompts "
        f"{NUM_REQUESTS} --request-rate R --ignore-eos --temperature 0 --num-warmups "
        f"{WARMUP_REQUESTS} --seed {SEED}: text prompts (the server tokenizes them inside TTFT; "
        f"mean prompt tokens per request {', '.join(f'{t:.2f}' for t in tokens)} vs hwbench's "
        f"{PROMPT_LEN}); Poisson arrivals from np.random.seed(0); one ready-check request and "
        "4 warm-up copies of the first prompt before the run (so its first timed request finds "
        "its prompt in the prefix cache)",
        "definitions, the same in both: TTFT = send to the first SSE chunk carrying choices; "
        "TPOT = (E2EL - TTFT) / (output tokens - 1) per request, output tokens from the final "
        "usage chunk; median over requests (numpy). The clients differ in reading the stream "
        "(vLLM: iter_any() chunks split into SSE messages; hwbench: line by line) and in "
        "vLLM's gc.freeze() before its run.",
        "C (diagnostic): hwbench's client (as A) sending B's text prompts: C/B compares the "
        "clients on the same prompts, A/C the prompts (hwbench's exact-length texts vs vLLM's "
        "random-dataset texts) with the same client.",
        "D (diagnostic): C with aiohttp's trust_env=True, which vLLM's client sets: each "
        "request then makes two thread-pool hops (netrc and proxy lookups) after its clock "
        "starts and before it is sent, which in a burst delay the first bytes of all "
        "(benchmarks/client_trust_env_cost.txt); D/B compares the clients with that one "
        "setting made equal.",
        "noise: 2 shared cores, server and client on the same cores; at rate inf all requests "
        "arrive at once and TTFT depends on the prefill schedule, so per-round ratios scatter.",
    ]
    publish("vllm_serve_vs_vllm_bench", both, notes)


def fmt(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def summary_line(got: dict[str, list]) -> str:
    parts = []
    for arm in ARMS:
        runs = got[arm]
        parts.append(arm + " " + fmt([d["median_ttft_ms"] for d in runs]))
        parts.append(fmt([d["median_tpot_ms"] for d in runs]))
    return " | ".join(parts)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument(ARM, nargs=5, metavar=("CLIENT", "URL", "RATE", "N", "JSON"))
    cli = parser.parse_args()
    if cli.arm:
        arm, url, rate, n, path = cli.arm
        child(arm, url, float(rate), int(n), Path(path))
    else:
        main()
