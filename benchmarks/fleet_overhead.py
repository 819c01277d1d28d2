"""What running a suite on Ray costs and buys on this machine (hwbench/fleet/).

The suite: N independent CPU cases (the tiny mlp, torch@cpu, latency b1 and throughput at
batches 1..N-1), each in one go (--passes 1) with a 0.3 s sampling budget, OMP_NUM_THREADS=1
everywhere (so that a local worker and a Ray task's worker compute alike: Ray would set the
variable to the task's CPUs where it is unset).

1. Per-case overhead of a Ray task over a local worker: the steady per-case time (between the
   first case's end and the last's, over N-1 cases) of the local runner (run_suite) against a
   fleet run on a one-node Ray cluster of one CPU (ray.cluster_utils.Cluster on 127.0.0.1).
   The fleet's one-time costs (joining the cluster, probing the nodes, the first case's
   worker start) are reported apart.
2. Speed-up of two one-CPU nodes over one: the span from the first case's start to the last
   case's end on the nodes, and the whole run's wall time (joining and probing included).

Run: python benchmarks/fleet_overhead.py [--cases 8] [--repeats 2] > benchmarks/fleet_overhead.txt
"""

from __future__ import annotations

import os

os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # 127.0.0.1 only (hwbench/fleet/connect.py)
os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
os.environ["OMP_NUM_THREADS"] = "1"

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from hwbench.config import Suite, Target
from hwbench.execution.plan import expand
from hwbench.execution.runner import run_suite
from hwbench.fleet.runner import run_fleet
from hwbench.measure.harness import HarnessConfig

VM_NOTE = """\
# What a 2-core VM allows: each node is one CPU in Ray's accounting (num_cpus=1, so it runs one
# case at a time, its worker at OMP_NUM_THREADS=1), but every process shares the VM's 2 vCPUs:
# the head (this script), Ray's GCS and raylets, the Ray workers with their fork servers, and
# the case workers. Two nodes can at best halve the cases' span (x2.0); the whole run also
# pays each fresh cluster's setup (joining, probing every node, the first task's fork server).
# Other tenants share the VM too (the load average above): numbers move between runs."""
NODE = {"node_ip_address": "127.0.0.1", "num_cpus": 1, "object_store_memory": 80 * 1024**2}


def make_suite(cases: int) -> Suite:
    return Suite(
        workloads=("mlp",),
        targets=(Target.parse("torch@cpu"),),
        scenarios=("latency", "throughput"),
        batches=tuple(range(1, cases)),
        harness=HarnessConfig(time_budget_s=0.3, passes=1),
    )


@contextlib.contextmanager
def cluster(nodes: int) -> Iterator[str]:
    """A Ray cluster of `nodes` one-CPU nodes on 127.0.0.1; its address."""
    from ray.cluster_utils import Cluster

    ray_cluster = Cluster(initialize_head=True, head_node_args={**NODE, "include_dashboard": False})
    try:
        for index in range(1, nodes):
            ray_cluster.add_node(**NODE, node_name=f"node-{index}")
        ray_cluster.wait_for_nodes()
        yield ray_cluster.address
    finally:
        ray_cluster.shutdown()


def local(suite: Suite, out: Path) -> dict[str, float]:
    ends: list[float] = []
    start = time.time()
    run_suite(suite, out, "local", lambda c, r, f: ends.append(time.time()) if r else None)
    return {"per_case": (ends[-1] - ends[0]) / (len(ends) - 1), "total": ends[-1] - start}


def fleet(suite: Suite, out: Path, nodes: int) -> dict[str, float]:
    with cluster(nodes) as address:
        ends: list[float] = []
        start = time.time()
        run = run_fleet(suite, expand(suite), out, address, lambda p, r: ends.append(time.time()))
    spans = [r.details["fleet"] for r in run.records.values()]
    first = min(s["started"] for s in spans)
    return {
        "setup": first - start,  # joining, probing, the first task's start
        "per_case": (ends[-1] - ends[0]) / (len(ends) - 1),
        "span": max(s["ended"] for s in spans) - first,
        "total": ends[-1] - start,
        "ok": sum(r.status == "ok" for r in run.records.values()),
    }


def measure(name: str, cases: int, out: Path) -> dict[str, float]:
    """One arm once. The local runner runs in a process of its own: in this one, a fleet
    run's ray.init has changed the environment, and a case whose environment differs from the
    fork server's starts as a `python -m` subprocess (hwbench/execution/process.py)."""
    if name != "local":
        return fleet(make_suite(cases), out, 1 if name == "1 node" else 2)
    command = [sys.executable, __file__, "--cases", str(cases), "--local-into", str(out)]
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


def median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def spread(runs: list[dict[str, float]], key: str, digits: int = 1) -> str:
    """'median s (min-max)' of `key` over the runs."""
    values = [r[key] for r in runs]
    low, mid, high = (
        f"{v:.{digits}f}" for v in (min(values), statistics.median(values), max(values))
    )
    return f"{mid} s ({low}-{high})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--local-into", type=Path, help=argparse.SUPPRESS)  # the local arm
    args = parser.parse_args()
    suite = make_suite(args.cases)
    if args.local_into:
        print(json.dumps(local(suite, args.local_into)))
        return
    n = len(expand(suite))
    runs: dict[str, list[dict[str, float]]] = {"local": [], "1 node": [], "2 nodes": []}
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeats):  # the order turns each repeat: drift spreads evenly
            out = Path(tmp, str(repeat))
            names = list(runs)
            for name in names[repeat % 3 :] + names[: repeat % 3]:
                runs[name].append(measure(name, args.cases, out))
    print(f"# {n} cases (mlp tiny torch@cpu, 0.3 s budget, 1 pass); median (min-max) of "
          f"{args.repeats} runs, the arms' order turned each run")  # fmt: skip
    print(f"# load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for name, results in runs.items():
        parts = [f"per case {spread(results, 'per_case', 2)}", f"total {spread(results, 'total')}"]
        if name != "local":
            parts += [f"setup {spread(results, 'setup')}", f"cases' span {spread(results, 'span')}",
                      f"ok {min(r['ok'] for r in results)}/{n}"]  # fmt: skip
        print(f"{name:8s} " + ", ".join(parts))
    overhead = median(runs["1 node"], "per_case") - median(runs["local"], "per_case")
    speedup = median(runs["1 node"], "span") / median(runs["2 nodes"], "span")
    whole = median(runs["1 node"], "total") / median(runs["2 nodes"], "total")
    steady = median(runs["1 node"], "per_case") / median(runs["2 nodes"], "per_case")
    print(f"overhead of a Ray task over a local worker: {overhead:+.2f} s a case (target <= 0.5)")
    print(
        f"2 nodes over 1: x{steady:.2f} on the steady per-case rate, x{speedup:.2f} on the "
        f"cases' span (each node's first case included), x{whole:.2f} on the whole run"
    )
    print(VM_NOTE)


if __name__ == "__main__":
    main()
