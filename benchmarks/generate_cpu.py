"""Greedy generation on this CPU: torch (eager, static KV cache), torch-compile (inductor,
prefill and decode compiled apart) and vllm (offline `vllm.LLM`) on the same llama tiny
checkpoint, 128 -> 32 tokens at batches 1, 4 and 16, in one `hwbench run --scenario
generate`; output tokens/s, median TTFT and TPOT, and parity against the float32 reference.

Run: flock /tmp/hwbench-quiet.lock python benchmarks/generate_cpu.py   (about 10 minutes)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _report import publish
from rich.table import Table

from hwbench.results import store

TARGETS = ("torch@cpu", "torch-compile@cpu", "vllm@cpu")
BATCHES = (1, 4, 16)
PROMPT_LEN, OUTPUT_LEN = 128, 32
COMMAND = [
    "hwbench", "run", "--workload", "llama", "--size", "tiny", "--scenario", "generate",
    *(arg for target in TARGETS for arg in ("--target", target)),
    "--batch", ",".join(map(str, BATCHES)),
    "--prompt-len", str(PROMPT_LEN), "--output-len", str(OUTPUT_LEN),
]  # fmt: skip


def run(out: Path) -> dict:
    cmd = [sys.executable, "-m", *COMMAND, "--out", str(out), "--machine", "m"]
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": os.environ.get("VLLM_CPU_KVCACHE_SPACE", "1")}
    subprocess.run(cmd, env=env, check=False, capture_output=True)
    [path] = (out / "m").glob("*.json")
    return store.load(path)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        document = run(Path(tmp))
    table = Table(
        "engine",
        "batch",
        "tok/s",
        "TTFT ms",
        "TPOT ms",
        "gen ms",
        "gens",
        "prepare s",
        "1st gen s",
        "parity rel-L2",
        "token match",
        title=(
            f"generate on this CPU: llama tiny fp32, {PROMPT_LEN} -> {OUTPUT_LEN} tokens, greedy "
            "(hwbench run --scenario generate)"
        ),
    )
    engines = [t.split("@")[0] for t in TARGETS]
    order = sorted(
        document["cases"], key=lambda c: (engines.index(c.key["engine"]), c.key["batch"])
    )
    for case in order:
        key, parity = case.key, case.parity or {}
        row = [key["engine"], str(key["batch"])]
        if case.status != "ok":
            row += [f"{case.status}: {case.reason[:60]}", *[""] * 6]
        else:
            llm, metrics = case.metrics["llm"], case.metrics
            row += [
                f"{llm['output_throughput']:.0f}",
                f"{llm['median_ttft_ms']:.2f}",
                f"{llm['median_tpot_ms']:.3f}",
                f"{metrics['latency_ms']['p50']:.1f}",
                str(metrics["generations"]),
                f"{case.timings.prepare_s:.1f}",
                f"{case.timings.first_run_s:.2f}",
            ]
        row += [
            f"{parity['rel_l2']:.1e}" if "rel_l2" in parity else "",
            f"{parity['greedy_token_match']:.3f}" if "greedy_token_match" in parity else "",
        ]
        table.add_row(*row)
    statuses = [c.status for c in document["cases"]]
    vllm = next((c.session for c in document["cases"] if c.key["engine"] == "vllm"), {})
    publish(
        "generate_cpu",
        table,
        [
            f"command: {' '.join(COMMAND)}; {statuses.count('ok')} ok, "
            f"{statuses.count('skipped')} skipped, {statuses.count('failed')} failed; vllm "
            f"{vllm.get('vllm', '?')}, VLLM_CPU_KVCACHE_SPACE=1, enforce_eager",
            "columns: TTFT, TPOT, gen (one generation) = medians; gens = timed generations; "
            "tok/s = output tokens of all timed generations / sum of their wall times; "
            "TTFT = generation start to a sequence's first token (the prefill of the whole "
            "batch); TPOT = (E2E - TTFT) / (output tokens - 1) per sequence; medians over all "
            "sequences of all timed generations; generation = the batch from start to its last "
            "token. One warm-up generation before timing; sampling stops at the harness budget.",
            "parity: prompt-token log-probabilities against the float32 eager reference "
            "(rel-L2; for torch and torch-compile they come from the uncompiled module, so "
            "0 is expected for both and says nothing about the compiled graphs); token match "
            "= share of the first generation's tokens equal to the reference's greedy tokens "
            "(random weights give near-ties, so float32 rounding in a different kernel order "
            "can flip a token and everything after it).",
            "prepare s: engine set-up (vllm: engine start-up); 1st gen s: the first "
            "(untimed) generation, which for torch-compile includes compiling prefill and decode.",
        ],
    )


if __name__ == "__main__":
    main()
