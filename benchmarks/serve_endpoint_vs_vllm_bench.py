"""hwbench through `--endpoint` against vLLM's own serving benchmark (`vllm.benchmarks.serve`),
both pointed at ONE vLLM OpenAI server that this script starts as a user would (hwbench did
not start it as far as either client knows), at 4 requests/s, same request count and lengths,
interleaved A B B A for several rounds; the verdict is on the median of the per-round ratios
of median TTFT and median TPOT (target: within +-10%).

A (hwbench): the CLI, `python -m hwbench run --scenario serve --endpoint URL/v1 --workload llama
--tokenizer CHECKPOINT ...`, each arm a fresh process; its case's `metrics.llm`.
B (vLLM): `vllm.benchmarks.serve` as benchmarks/vllm_serve_vs_vllm_bench.py runs it (its
`--arm vllm` child).
Each arm starts on an empty prefix cache (the server's dev-mode /reset_prefix_cache).

SESSIONS: both clients run in a session of their own, as a user runs a client from another
shell than the server's. hwbench's worker always makes its own session (os.setsid, so a kill
takes all it started), and with Linux's autogroup scheduling (sched_autogroup_enabled=1 here)
a client in another session than the server's competes with it as a group: on this 2-core VM,
under other jobs' load, that tripled the median TTFT of either client (SESSIONS_NOTE).

Run: flock /tmp/hwbench-quiet.lock python benchmarks/serve_endpoint_vs_vllm_bench.py
(about 10 minutes on 2 cores)
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _report import publish
from _vllm_arms import KV_CACHE_GB, OUTPUT_LEN, PROMPT_LEN, SIZE, WORKLOAD, checkpoint
from rich.table import Table
from vllm_serve_vs_vllm_bench import (
    ARM,
    MAX_MODEL_LEN,
    NUM_REQUESTS,
    SEED,
    bench_server,
    reset_prefix_cache,
)

RATE = 4.0
ROUNDS = 4
ORDER = ("hwbench", "vllm", "vllm", "hwbench")
TOLERANCE = 0.10
OTHER = str(Path(__file__).with_name("vllm_serve_vs_vllm_bench.py"))
SESSIONS_NOTE = (
    "sessions: both clients each in a session of its own (B: start_new_session; A: hwbench's "
    "worker calls setsid). Measured before this run on the same server, load average 8-17 "
    "from other jobs, median TTFT / TPOT ms of a bare hwbench run_load client and of B, in "
    "the server's session vs a new one: run_load 14.7, 29.6, 13.1, 16.3 vs 51.9, 30.2, 60.6, "
    "70.7; vLLM bench 14.3, 15.3, 25.7, 13.7 vs 38.1, 53.9, 75.2, 49.9 (TPOT 2.2-4.6 vs "
    "0.01-4.5: in a new session the client often read a whole response at once). The first "
    "run of this script had B in the server's session and A in its own: A/B TTFT 3.0, a "
    "scheduling artifact of server and client sharing 2 cores, not of either client"
)


def hwbench_arm(url: str, tmp: Path) -> dict:
    """One `hwbench run --endpoint` in a fresh process: its serve case's llm fields."""
    out = Path(tempfile.mkdtemp(dir=tmp))
    cmd = [
        sys.executable, "-m", "hwbench", "run", "--out", str(out), "--machine", "m",
        "--scenario", "serve", "--endpoint", f"{url}/v1", "--workload", WORKLOAD,
        "--size", SIZE, "--tokenizer", str(checkpoint()), "--prompt-len", str(PROMPT_LEN),
        "--output-len", str(OUTPUT_LEN), "--batch", str(NUM_REQUESTS), "--request-rate",
        str(RATE), "--seed", str(SEED),
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, env=os.environ)
    [path] = (out / "m").glob("*.json")
    [case] = json.loads(path.read_text())["cases"]
    if done.returncode != 0 or case["status"] != "ok":
        raise RuntimeError(f"hwbench failed: {case.get('reason')} {done.stderr[-1000:]}")
    if not case["parity"].get("passed"):
        raise RuntimeError(f"hwbench parity: {case['parity']}")
    return case["metrics"]["llm"]


def vllm_arm(url: str, tmp: Path) -> dict:
    """vLLM's benchmark in a session of its own, as from another shell (see SESSIONS)."""
    out = tmp / f"vllm-{time.monotonic_ns()}.json"
    cmd = [sys.executable, OTHER, ARM, "vllm", url, str(RATE), str(NUM_REQUESTS), str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, start_new_session=True)
    if done.returncode != 0 or not out.exists():
        raise RuntimeError(f"vllm bench failed: {done.stderr[-2000:]}")
    return json.loads(out.read_text())


def main() -> None:

    rounds: list[dict[str, list[dict]]] = []
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        server = bench_server(checkpoint(), tmp / "server.log")
        with server:
            for _ in range(ROUNDS):
                got: dict[str, list[dict]] = {"hwbench": [], "vllm": []}
                for arm in ORDER:
                    reset_prefix_cache(server.base_url)
                    run_arm = hwbench_arm if arm == "hwbench" else vllm_arm
                    got[arm].append(run_arm(server.base_url, tmp))
                rounds.append(got)
                print(summary(got), flush=True)
    report(rounds)


def summary(got: dict[str, list[dict]]) -> str:
    return " | ".join(
        f"{arm} TTFT {fmt([d['median_ttft_ms'] for d in runs])} TPOT "
        f"{fmt([d['median_tpot_ms'] for d in runs])}"
        for arm, runs in got.items()
    )


def report(rounds: list[dict[str, list[dict]]]) -> None:
    table = Table(
        "metric", "round", "A hwbench --endpoint (A1, A2)", "B vLLM bench (B1, B2)", "A/B",
        title=(
            f"median TTFT and TPOT ms: hwbench run --endpoint (A) vs vllm.benchmarks.serve (B), "
            f"one vLLM server, {WORKLOAD} {SIZE}, {NUM_REQUESTS} requests at {RATE:g}/s, "
            f"{PROMPT_LEN} -> {OUTPUT_LEN} tokens, fp32, eager"
        ),
    )  # fmt: skip
    verdicts = []
    for metric in ("ttft", "tpot"):
        field = f"median_{metric}_ms"
        ratios = []
        for i, got in enumerate(rounds, 1):
            a = [d[field] for d in got["hwbench"]]
            b = [d[field] for d in got["vllm"]]
            ratios.append(statistics.mean(a) / statistics.mean(b))
            table.add_row(metric.upper(), str(i), fmt(a), fmt(b), f"{ratios[-1]:.3f}")
        median = statistics.median(ratios)
        ok = abs(median - 1) <= TOLERANCE
        verdicts.append(ok)
        verdict = f"{median:.3f} {'PASS' if ok else 'FAIL'}"
        table.add_row(metric.upper(), "median", "", "", verdict, end_section=True)
    notes = [
        f"verdict: {'PASS' if all(verdicts) else 'FAIL'} (median per-round ratio of median TTFT "
        f"and of median TPOT within +-{TOLERANCE:.0%}; round = A B B A, ratio = mean(A) / "
        "mean(B))",
        f"server: hwbench.llm.vllm_server.VllmServer on the {WORKLOAD} {SIZE} checkpoint, dtype "
        f"float32, --enforce-eager, --seed {SEED}, --max-model-len {MAX_MODEL_LEN}, "
        f"VLLM_CPU_KVCACHE_SPACE={KV_CACHE_GB}, VLLM_SERVER_DEV_MODE=1; started once, shared; "
        "prefix cache emptied before each arm",
        f"A: python -m hwbench run --scenario serve --endpoint URL/v1 --workload {WORKLOAD} "
        f"--tokenizer CHECKPOINT --prompt-len {PROMPT_LEN} --output-len {OUTPUT_LEN} --batch "
        f"{NUM_REQUESTS} --request-rate {RATE:g}: parity checked through prompt_logprobs "
        "(every arm passed), 4 warm-up requests, then the timed load",
        "B: vllm.benchmarks.serve main() --backend vllm --dataset-name random "
        f"--random-input-len {PROMPT_LEN} --random-output-len {OUTPUT_LEN} --num-prompts "
        f"{NUM_REQUESTS} --request-rate {RATE:g} --ignore-eos --temperature 0 --num-warmups 4 "
        f"--seed {SEED} (benchmarks/vllm_serve_vs_vllm_bench.py's arm B)",
        "noise: 2 cores shared with the server and with other jobs on this VM",
        SESSIONS_NOTE,
    ]
    publish("serve_endpoint_vs_vllm_bench", table, notes)


def fmt(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


if __name__ == "__main__":
    main()
