"""Where a case worker's start-up time goes, by how it starts (hwbench/execution/process.py):
forked from the preloaded fork server (CPU cases today), multiprocessing's spawn (accelerator
cases today), or a `python -m` subprocess (another interpreter, a rung's environment).

Each worker times, from the moment its parent asked for it (wall clock, both sides):
  start     the parent's request -> the worker's first line of code (interpreter start,
            unpickling the target; a fork: the fork only)
  torch     `import torch` (already imported in a fork server's child: ~0)
  hwbench   importing the worker's modules (hwbench.execution.worker and what it imports)
  runtime   the device runtime: nothing on the CPU; on CUDA the context and a cuBLAS handle
            (torch.cuda.init, a matmul); on an NPU torch_npu's init and a matmul
  model     building the tiny mlp workload from its seed and its first forward on the device
The median over --repeats workers of each start is printed per phase, with the total.

Then hwbench's own worker (hwbench.execution.process.WorkerProcess) for a --check-only case
(the tiny mlp on the CPU: build, reference, parity), started as an accelerator case is: forked
from the guarded fork server (saying first that it can use its device), and spawned as before
(HWBENCH_WORKER_START=spawn): seconds from asking for the worker to the case's record. The
same case either way, so the difference is what the start costs a case.

Run: python benchmarks/worker_start_cost.py [--device cpu|cuda|npu] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).parents[1]
PHASES = ("start", "torch", "hwbench", "runtime", "model")
PRELOAD = ("torch", "hwbench.execution.worker")  # what the runner's fork server imports


def phases(asked_at: float, device: str) -> dict[str, float]:
    """Seconds of each phase in this (new) process; `asked_at`: when the parent asked."""
    marks = {"asked": asked_at, "start": time.time()}
    import torch

    marks["torch"] = time.time()
    import hwbench.execution.worker  # noqa: F401  (all a worker imports before its case)
    from hwbench.registry import lookup
    from hwbench.workloads import make_workload

    marks["hwbench"] = time.time()
    start_runtime(device)
    marks["runtime"] = time.time()
    workload = make_workload("mlp", "tiny", 0)
    model = workload.build().to(runtime_device(device)).eval()
    with torch.inference_mode():
        model(*(x.to(runtime_device(device)) for x in workload.inputs(1)))
    synchronize(device)
    marks["model"] = time.time()
    lookup("devices", device)  # the registry is usable
    times = list(marks.values())
    return {name: times[i + 1] - times[i] for i, name in enumerate(PHASES)}


def runtime_device(device: str) -> str:
    return {"cpu": "cpu", "cuda": "cuda:0", "npu": "npu:0"}[device]


def start_runtime(device: str) -> None:
    """Create the device's context and a BLAS handle, as a case's first run would."""
    import torch

    if device == "cpu":
        return
    if device == "npu":
        import torch_npu  # noqa: F401  (registers torch.npu)
    x = torch.ones(64, 64, device=runtime_device(device))
    (x @ x).sum().item()


def synchronize(device: str) -> None:
    import torch

    if device != "cpu":
        getattr(torch, device).synchronize()


def _child(conn: Connection, asked_at: float, device: str) -> None:
    conn.send(phases(asked_at, device))
    conn.close()


def in_context(method: str, device: str) -> dict[str, float]:
    """One worker started by multiprocessing's `method` ("forkserver" or "spawn")."""
    context = multiprocessing.get_context(method)
    parent, child = context.Pipe()
    process = context.Process(target=_child, args=(child, time.time(), device))
    process.start()
    child.close()
    found = parent.recv()
    process.join()
    return found


def as_subprocess(device: str) -> dict[str, float]:
    """One worker started as `python -m`-style subprocess of this interpreter."""
    code = (
        "import json, sys; from benchmarks.worker_start_cost import phases; "
        f"print(json.dumps(phases({time.time()!r}, {device!r})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def starts(device: str) -> dict[str, Callable[[], dict[str, float]]]:
    forkserver = multiprocessing.get_context("forkserver")
    forkserver.set_forkserver_preload(list(PRELOAD))
    return {
        "fork server": lambda: in_context("forkserver", device),
        "spawn": lambda: in_context("spawn", device),
        "subprocess": lambda: as_subprocess(device),
    }


def case_seconds(start: str, device: str) -> float:
    """Seconds from asking for a worker (as for a case on `device`) to a parity-only tiny mlp
    case's record, with HWBENCH_WORKER_START=`start`."""
    import tempfile

    from hwbench.config import Suite, Target
    from hwbench.execution.plan import expand
    from hwbench.execution.process import WorkerProcess

    suite = Suite(workloads=("mlp",), targets=(Target.parse("torch@cpu"),),
                  scenarios=("latency",), check_only=True)  # fmt: skip
    [case] = expand(suite)
    os.environ["HWBENCH_WORKER_START"] = start
    with tempfile.TemporaryDirectory() as tmp:
        began = time.monotonic()
        worker = WorkerProcess(Path(tmp, "stderr"), dict(os.environ), PRELOAD[1:], device)
        try:
            reply = worker.request({"op": "load", "case": case.to_json()}, 300)
        finally:
            worker.close()
        took = time.monotonic() - began
    assert reply["record"]["status"] == "ok", reply
    return took


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda", "npu"))
    parser.add_argument(
        "--case-device",
        default="cuda",
        help="the device hwbench's worker is started for (the case itself runs on the CPU)",
    )
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    ways = starts(args.device)
    ways["fork server"]()  # the server's own start and preload are paid once a run: not counted
    results = {name: [start() for _ in range(args.repeats)] for name, start in ways.items()}
    print(f"worker start-up on {args.device}, median of {args.repeats} workers each (ms)")
    print(f"{'how':<12}" + "".join(f"{p:>10}" for p in PHASES) + f"{'total':>10}")
    for name, runs in results.items():
        medians = [statistics.median(run[p] for run in runs) * 1e3 for p in PHASES]
        total = statistics.median(sum(run.values()) for run in runs) * 1e3
        print(f"{name:<12}" + "".join(f"{m:>10.0f}" for m in medians) + f"{total:>10.0f}")
    print()
    print(f"hwbench's worker started for a {args.case_device} case, a parity-only tiny")
    print(f"mlp case on the CPU, median of {args.repeats} (s from asking to the record)")
    case_seconds("fork", args.case_device)  # the fork server's own start, paid once a run
    for start in ("fork", "spawn"):
        took = statistics.median(case_seconds(start, args.case_device) for _ in range(args.repeats))
        print(f"{start:<12}{took:>10.2f}")


if __name__ == "__main__":
    main()
