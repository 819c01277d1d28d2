"""`hwbench floor`: the roofline floor of a workload on a chip that is not here.

Latency >= max(FLOP / peak FLOP/s, bytes / peak bytes/s) from cited datasheet peaks; throughput
<= batch / that latency. An estimate, never a measurement: every line says so.
"""

from __future__ import annotations

import argparse

from hwbench.backends.peaks import CHIPS, Cited, chip
from hwbench.errors import UsageError, unknown_choice

LABEL = "floor (not measured)"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "floor", help="roofline floor of latency on a chip from its cited peaks (not measured)"
    )
    parser.add_argument("--workload", required=True, help="workload name")
    parser.add_argument("--size", default="tiny", help="tiny, small or full (default: tiny)")
    parser.add_argument("--chip", required=True, help=f"one of: {', '.join(CHIPS)}")
    parser.add_argument("--batch", type=int, default=1, help="batch size (default: 1)")
    parser.add_argument("--dtype", default="bf16", help="fp32, bf16 or fp16 (default: bf16)")


def _cited(label: str, value: str, cited: Cited) -> str:
    return f"  {label:<20} {value:<16} [{cited.confidence}] {cited.source}"


def main(args: argparse.Namespace) -> int:
    # imported here, as they import torch: every command module is imported to build
    # `hwbench --help`
    from hwbench.analysis.roofline import floor
    from hwbench.backends.base import DTYPES
    from hwbench.workloads import make_workload

    entry = chip(args.chip)
    if args.dtype not in DTYPES:
        raise unknown_choice("dtype", args.dtype, list(DTYPES))
    if args.dtype not in entry.flops:
        published = ", ".join(entry.flops)
        raise UsageError(f"no published {args.dtype} rate for {entry.chip}; it has: {published}")
    if args.batch < 1:
        raise UsageError(f"--batch must be at least 1, got {args.batch}")
    workload = make_workload(args.workload, args.size)
    flops = workload.flops(args.batch)
    moved = workload.bytes_moved(args.batch, DTYPES[args.dtype].itemsize)
    bound = floor(flops, moved, entry.peak(args.dtype))
    latency = bound["latency_s"]
    print(f"{args.workload}/{args.size} batch {args.batch} {args.dtype} on {entry.chip}: {LABEL}")
    work = f"{flops:.4g} FLOP, {moved:.4g} bytes ({flops / moved:.3g} FLOP/byte)"
    print(f"  {'work per step':<20} {work}")
    peak_flops = entry.flops[args.dtype]
    print(_cited(f"peak {args.dtype}", f"{peak_flops.value / 1e12:.4g} TFLOP/s", peak_flops))
    print(_cited("memory bandwidth", f"{entry.bandwidth.value / 1e9:.4g} GB/s", entry.bandwidth))
    print(f"  {'latency floor':<20} {latency * 1e3:.4g} ms ({bound['bound']}-bound), {LABEL}")
    print(f"  {'throughput ceiling':<20} {args.batch / latency:.4g} samples/s, {LABEL}")
    return 0
