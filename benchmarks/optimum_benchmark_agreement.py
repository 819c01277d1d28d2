"""hwbench's `transformers` engine against optimum-benchmark on the same checkpoint and shapes
(llama tiny's Hugging Face export, fp32, batch 1, 128 -> 32 tokens, CPU), and hwbench's own
eager model (`torch`) against both. Each arm is a fresh process; the three are interleaved
A B C C B A for several rounds. Verdict: the transformers engine within +-10% of
optimum-benchmark on prefill (its TTFT) and per-token latency (its TPOT), on the median of the
per-round ratios (round ratio: mean of the two B runs over the mean of the two A runs).

What each figure is:
- optimum-benchmark 0.6.0 (`inference` scenario, `pytorch` backend, per-token tracking on):
  `prefill` = generate() called -> its LogitsProcessor's first call (the prefill forward done,
  before the first token is picked); `per_token` = gaps between consecutive LogitsProcessor
  calls, one decode step each. Its tracker never clears its event list within a session, so
  the gaps of earlier generations are counted again after every later one, and the gap from
  one generation's last step to the next one's first is pooled too (optimum_benchmark/trackers/
  latency.py PerTokenLatencySessionTrackerLogitsProcessor.track); its median is still a decode
  step's.
- hwbench (llm/metrics.py, vLLM's definitions): TTFT = generate() called -> the first token on
  the host; TPOT = (E2E - TTFT) / (tokens - 1) per generation, median over generations; ITL =
  gaps between tokens, pooled, median.

optimum-benchmark 0.6.0 needs transformers < 5 and asks for datasets >= 4, which does not
install here; datasets 3.x works. So it runs in a virtual environment of its own, and so do
the hwbench arms (the same transformers for both):

  python -m venv /tmp/ob-venv
  /tmp/ob-venv/bin/pip install torch==2.13.0 'transformers>=4.57,<5' 'datasets>=3,<4' \
      accelerate colorlog flatten-dict huggingface-hub hydra-core nvidia-ml-py omegaconf \
      pandas psutil rich typing-extensions safetensors tokenizers numpy scipy matplotlib
  /tmp/ob-venv/bin/pip install --no-deps optimum-benchmark==0.6.0
  /tmp/ob-venv/bin/pip install --no-deps --no-build-isolation -e .

Run: flock /tmp/hwbench-quiet.lock /tmp/ob-venv/bin/python benchmarks/optimum_benchmark_agreement.py
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
from _vllm_arms import OUTPUT_LEN, PROMPT_LEN, SIZE, WORKLOAD, checkpoint, run_self
from rich.table import Table

from hwbench.packages import package_version
from hwbench.results import store

ROUNDS = 5
# Every arm single-threaded (OMP_NUM_THREADS, which torch reads at start-up). With torch's
# default of 2 threads on this shared 2-core VM, 5 of 6 fresh processes of one plain
# generate() script ran about 20x slower than the sixth (750 against 40 ms for 32 tokens: each
# parallel region waiting for a thread that another tenant holds off its core), whichever tool
# timed them; with 1 thread, 24-48 ms in 4 of 4.
THREADS = "1"
ENV = {**os.environ, "OMP_NUM_THREADS": THREADS}
ORDER = ("optimum", "transformers", "torch", "torch", "transformers", "optimum")
TOLERANCE = 0.10
MEASURE_S = 3.0  # each arm's measuring time: optimum's `duration`, hwbench's --time-budget
MIN_RUNS = 10  # optimum's `iterations` (hwbench's harness asks for 10 samples at least)
OPTIMUM_ARM = "--optimum-arm"  # how this script calls itself for one optimum-benchmark arm
RAW = Path(tempfile.gettempdir()) / "optimum_benchmark_agreement.raw.json"  # not committed
FIELDS = ("prefill_ms", "per_token_ms")  # the figures the verdict is on, in each arm's result


def optimum_child(model: str, output_json: Path) -> None:
    """In a child process: optimum-benchmark's inference scenario on `model`, in-process."""
    from optimum_benchmark import (
        Benchmark,
        BenchmarkConfig,
        InferenceConfig,
        InlineConfig,
        PyTorchConfig,
    )

    config = BenchmarkConfig(
        name="agreement",
        launcher=InlineConfig(device_isolation=False),
        backend=PyTorchConfig(
            model=model, device="cpu", task="text-generation", torch_dtype="float32",
            no_weights=False,
        ),
        scenario=InferenceConfig(
            latency=True, memory=False, energy=False, warmup_runs=2, iterations=MIN_RUNS,
            duration=int(MEASURE_S),
            input_shapes={"batch_size": 1, "sequence_length": PROMPT_LEN},
            generate_kwargs={"max_new_tokens": OUTPUT_LEN, "min_new_tokens": OUTPUT_LEN},
        ),
    )  # fmt: skip
    report = Benchmark.launch(config).to_dict()
    prefill, per_token = report["prefill"]["latency"], report["per_token"]["latency"]
    result = {
        "prefill_ms": prefill["p50"] * 1e3,
        "per_token_ms": per_token["p50"] * 1e3,
        "itl_ms": per_token["p50"] * 1e3,  # its per-token figure is a median of pooled gaps
        "generations": prefill["count"],
    }
    output_json.write_text(json.dumps(result))


def run_hwbench(engine: str, tmp: Path) -> dict:
    """One `hwbench run` of the generate case on `engine`@cpu, in a fresh process."""
    out = tmp / f"{engine}-{time.monotonic_ns()}"
    cmd = [
        sys.executable, "-m", "hwbench", "run",
        "--workload", WORKLOAD, "--size", SIZE, "--scenario", "generate",
        "--target", f"{engine}@cpu", "--batch", "1",
        "--prompt-len", str(PROMPT_LEN), "--output-len", str(OUTPUT_LEN),
        "--time-budget", str(MEASURE_S), "--out", str(out), "--machine", "m",
    ]  # fmt: skip
    subprocess.run(cmd, capture_output=True, check=False, env=ENV)
    [path] = (out / "m").glob("*.json")
    [case] = store.load(path)["cases"]
    if case.status != "ok":
        raise RuntimeError(f"hwbench {engine} case {case.status}: {case.reason}")
    llm = case.metrics["llm"]
    return {
        "prefill_ms": llm["median_ttft_ms"],
        "per_token_ms": llm["median_tpot_ms"],
        "itl_ms": llm["median_itl_ms"],
        "generations": case.metrics["generations"],
        "parity": case.parity["rel_l2"],
    }


def run_arm(arm: str, model: Path, tmp: Path) -> dict:
    if arm == "optimum":
        return run_self(__file__, [OPTIMUM_ARM, str(model)], "optimum", tmp, ENV)
    return run_hwbench(arm, tmp)


def ratio(rounds: list[dict], field: str, over: str, under: str) -> list[float]:
    """Per round: mean of `over`'s two runs / mean of `under`'s, for `field`."""
    return [
        statistics.mean(r[field] for r in got[over]) / statistics.mean(r[field] for r in got[under])
        for got in rounds
    ]


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"


def main() -> None:
    model = checkpoint()
    rounds: list[dict[str, list[dict]]] = []
    with tempfile.TemporaryDirectory() as folder:
        for index in range(ROUNDS):
            got: dict[str, list[dict]] = {arm: [] for arm in ORDER}
            for arm in ORDER:
                got[arm].append(run_arm(arm, model, Path(folder)))
            rounds.append(got)
            print(index + 1, json.dumps(got), flush=True)
    RAW.write_text(json.dumps(rounds))
    publish("optimum_benchmark_agreement", round_table(rounds), verdict_notes(rounds))


def round_table(rounds: list[dict[str, list[dict]]]) -> Table:
    table = Table(
        "round",
        "A optimum (A1; A2)",
        "B transformers (B1; B2)",
        "C torch (C1; C2)",
        "B/A",
        "C/A",
        title=(
            f"prefill or TTFT / per-token or TPOT, ms: hwbench transformers@cpu (B) and "
            f"torch@cpu (C) against optimum-benchmark {package_version('optimum-benchmark')} "
            f"(A); {WORKLOAD} {SIZE}, fp32, batch 1, {PROMPT_LEN} -> {OUTPUT_LEN} tokens, "
            f"transformers {package_version('transformers')}; A B C C B A, fresh processes"
        ),
    )
    for index, got in enumerate(rounds):
        cells = [
            "; ".join(f"{r['prefill_ms']:.2f} / {r['per_token_ms']:.3f}" for r in got[arm])
            for arm in ("optimum", "transformers", "torch")
        ]
        gains = [
            " / ".join(f"{ratio([got], f, arm, 'optimum')[0]:.3f}" for f in FIELDS)
            for arm in ("transformers", "torch")
        ]
        table.add_row(str(index + 1), *cells, *gains)
    return table


def verdict_notes(rounds: list[dict[str, list[dict]]]) -> list[str]:
    """Medians of the per-round ratios with their range, and the verdict."""
    notes = [
        f"every arm ran with OMP_NUM_THREADS={THREADS} (torch threads {THREADS})",
        "ratios of latencies (below 1: faster than the denominator), per round: median (min-max)",
    ]
    passed = True
    pairs = (("transformers", "optimum"), ("torch", "optimum"), ("torch", "transformers"))
    for over, under in pairs:
        for field in FIELDS:
            values = ratio(rounds, field, over, under)
            notes.append(f"{over}/{under} {field}: median {spread(values)} over {len(values)}")
            if (over, under) == pairs[0]:
                passed &= abs(statistics.median(values) - 1) <= TOLERANCE
    itl = ratio(rounds, "itl_ms", "transformers", "optimum")
    notes.append(f"transformers ITL (median of pooled gaps)/optimum per_token: {spread(itl)}")
    word = "PASS" if passed else "FAIL"
    notes.append(
        f"verdict: {word} (transformers engine within +-{TOLERANCE:.0%} of optimum-benchmark "
        "on prefill and per-token latency, median of the per-round ratios)"
    )
    return notes


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == OPTIMUM_ARM:
        optimum_child(sys.argv[2], Path(sys.argv[3]))
    else:
        main()
