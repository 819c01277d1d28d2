"""The report's words: what each metric means, and how its tables read."""

from __future__ import annotations

DEFINITIONS = (
    (
        "Latency (ms per step)",
        "Each sample is the mean over the calibrated number of steps; "
        "p50/p90/p99 by linear interpolation (numpy's default); the median's 95% CI from order "
        "statistics (distribution-free), written [low, high].",
    ),
    ("Throughput (samples/s)", "batch / median step time."),
    (
        "Achieved FLOP/s and bytes/s",
        "The workload's FLOPs (a multiply-add is 2) and compulsory "
        "bytes (weights once, inputs, output) per step, over the median step time.",
    ),
    (
        "Arithmetic intensity",
        "FLOP per byte moved; on the roofline a step is memory-bound left of the ridge (peak "
        "FLOP/s / peak bytes/s of its dtype) and compute-bound right of it.",
    ),
    (
        "Ratio (xR [low, high])",
        "candidate / baseline median step time (below 1: faster), with a 95% CI from a "
        "block bootstrap of each side's time-ordered samples. The baseline is a comparison's "
        "first column.",
    ),
    (
        "Speed-up",
        "baseline / fastest median step time (the inverse of the ratio), with the inverse of "
        "the ratio's 95% CI; a win across precisions (bf16 vs fp32) says so.",
    ),
    (
        "Unstable",
        "An ok case whose speed is not to be trusted: too few samples, a 95% CI of the median "
        "wider than +-10%, or passes that disagree. The note says which.",
    ),
    (
        "Noise floor",
        "The spread between two timings of the same step in one run (an A/A canary); "
        "differences below it are not meaningful in that run.",
    ),
    (
        "Parity",
        "Relative L2 error of the output against the float32 CPU eager reference; a case "
        "over its dtype's tolerance fails and reports no speed. Generate and serve cases: "
        "the prompt tokens' log-probabilities, centred on the reference's mean.",
    ),
    (
        "Generate and serve (vLLM's definitions)",
        "TTFT: request start to its first output token; TPOT: (E2EL - TTFT) / (output "
        "tokens - 1); ITL: gaps between consecutive tokens, pooled; E2EL: request latency; "
        "throughput: output tokens/s over the timed window; goodput: requests/s meeting every "
        "SLO. Latency columns are per generation (generate) or per request (serve).",
    ),
    (
        "Energy (J per sample or token; samples or tokens per J)",
        "The device's own counter (RAPL package + DRAM on the CPU, NVML's total energy on "
        "NVIDIA, npu-smi's power integrated on Ascend) read around the timed window only: "
        "joules over the samples (step cases) or output tokens (generate, serve) made in it. "
        "Idle power is measured before the case and not subtracted. ±N% bounds what the "
        "counter's update period can hide; over 10%, the case says `too short` and gives no "
        "figure. `not exposed`: the device has no counter hwbench can read (the reason says "
        "why).",
    ),
)
HEADLINE_NOTE = (
    "Per workload and case: the target with the least median time, and its speed-up over "
    "the workload's baseline (its first target) with the 95% interval."
)
COMPARISON_NOTE = (
    "Cells: median ms per step, then xR [low, high]: the time ratio to the baseline (below 1: "
    "faster) and its 95% interval."
)
NO_COMPARISON = "No workload ran at more than one of these: nothing to compare."
