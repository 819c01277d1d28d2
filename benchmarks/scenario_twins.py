"""Why do `latency b1` and `throughput b1`, the same step (StepScenario) timed twice in one
run, get different medians? Their ratio L/T is an A/A canary: 1 but for the harness's noise.

Part 1, the hand-over: a case's short burst of 12 samples (as a later pass's slice may take,
after one untimed sample, as each later slice starts) timed right after a sibling worker's
slice, which ended with `settle` (harness.settle_s, the fix) or without it (settle_s = 0, as
before). Siblings: onnxruntime, whose intra-op pool spins 20-75 ms after a run by default
(session.intra_op.allow_spinning), and torch, whose OpenMP threads spin ~8 ms. The settled
and unsettled siblings take turns, so both see the same moments of the machine.

Part 2, whole runs: `hwbench run` on mlp, bert, llama and resnet50 tiny, torch@cpu and
onnxruntime@cpu, latency and throughput at batch 1 (8 twin pairs a run), time budget 1 s a
case, in the order B A P X T B A A B T X P A B so that the machine's drift weighs on each
layout alike (4 runs each of B and A, 2 of the others):
  B  before: settle_s = 0, the default interleaving (all 16 cases live, 3 passes);
  A  after: the same with settle_s at its default;
  P  before, --live-cases 2: each pair's two cases interleaved only with each other, so
     they are timed in the same few seconds;
  X  before, throughput listed first: the twins swap their places in the run;
  T  before, one thread a step (OMP_NUM_THREADS=1, onnxruntime intra_op_threads=1): a step
     that leaves a core free.
Per layout: the geometric mean of L/T (a lean), how often T is the faster, and the median
|log L/T| (the A/A spread), over all pairs and per engine. The CPU that processes outside
this benchmark used during each run, and the VM's steal time, are given beside it, since the
2-core VM is shared.

Run: python benchmarks/scenario_twins.py   (about 12 minutes on 2 cores, more when shared)
"""

from __future__ import annotations

import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
from _report import publish
from rich.table import Table

from hwbench.case import Case
from hwbench.execution.process import WorkerProcess
from hwbench.measure.harness import HarnessConfig
from hwbench.registry import lookup
from hwbench.results import store

WORKLOADS = ("mlp", "bert", "llama", "resnet50")
TARGETS = ("torch@cpu", "onnxruntime@cpu")
BUDGET_S = 1.0  # sampling per case, at most


@dataclass(frozen=True)
class Layout:
    what: str
    settle_s: float = 0.0
    scenarios: tuple[str, ...] = ("latency", "throughput")
    flags: tuple[str, ...] = ()
    one_thread: bool = False  # OMP_NUM_THREADS=1, onnxruntime intra_op_threads=1


LAYOUTS = {
    "B": Layout("before: settle_s 0"),
    "A": Layout("after: settle_s default", settle_s=HarnessConfig().settle_s),
    "P": Layout("before, --live-cases 2", flags=("--live-cases", "2")),
    "X": Layout("before, throughput first", scenarios=("throughput", "latency")),
    "T": Layout("before, 1 thread a step", one_thread=True),
}
ORDER = "BAPXTBAABTXPAB"
# Part 1: (timed case, sibling) pairs; rounds per pair; samples of the timed case a round
HANDOVERS = (
    (("resnet50", "torch@cpu"), ("llama", "onnxruntime@cpu")),
    (("resnet50", "torch@cpu"), ("resnet50", "torch@cpu")),
    (("llama", "onnxruntime@cpu"), ("resnet50", "torch@cpu")),
    (("llama", "onnxruntime@cpu"), ("llama", "onnxruntime@cpu")),
)
ROUNDS, BURST = 16, 12
PRELOAD = tuple(m for t in TARGETS for m in lookup("engines", t.split("@")[0]).worker_preload)


def steal_s() -> float:
    """CPU seconds the hypervisor gave to others while this VM's CPUs wanted to run."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    return int(fields[8]) / os.sysconf("SC_CLK_TCK")  # cpu user nice system ... steal


class ForeignLoad:
    """CPU seconds used by processes outside this one's tree (sampled every 0.25 s), and
    the VM's steal time."""

    def __init__(self) -> None:
        self.me, self.start, self.steal = psutil.Process(), time.time(), steal_s()
        self.seen: dict[int, float] = {}
        self.cpu_s, self._done = 0.0, threading.Event()
        self._sweep(count=False)
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _sweep(self, count: bool = True) -> None:
        mine = {self.me.pid, *(p.pid for p in self.me.children(recursive=True))}
        for proc in psutil.process_iter():
            if proc.pid in mine:
                continue
            try:
                used = sum(proc.cpu_times()[:2])
                new = proc.create_time() >= self.start
            except psutil.Error:
                continue
            before = self.seen.get(proc.pid, 0.0 if new else used)
            if count:
                self.cpu_s += max(0.0, used - before)
            self.seen[proc.pid] = used

    def _watch(self) -> None:
        while not self._done.wait(0.25):
            self._sweep()

    def stop(self) -> tuple[float, float]:
        """(foreign CPU s, steal s) since the start."""
        self._done.set()
        self._thread.join()
        return self.cpu_s, steal_s() - self.steal


def handover_case(workload: str, target: str, settle_s: float) -> Case:
    """A case whose every slice is a single short sample, for a sibling's turn."""
    harness = HarnessConfig(
        passes=100_000, time_budget_s=1e6, min_time_s=0.0, target_rel_ci=1.0, settle_s=settle_s
    )
    return Case(workload, "tiny", target, "latency", 1, harness=harness)


def load(case: Case, stderr: Path) -> tuple[WorkerProcess, int]:
    worker = WorkerProcess(stderr, dict(os.environ), PRELOAD, "cpu")
    reply = worker.request({"op": "load", "case": case.to_json()}, 600)
    if not reply.get("timed"):
        raise RuntimeError(f"{case.label()} did not load: {reply}")
    return worker, reply["loops"]


def handover(timed: tuple[str, str], sibling: tuple[str, str], tmp: Path) -> dict[str, Any]:
    """Per round, the timed case's burst right after an unsettled and a settled sibling's
    slice (in turns); the medians over rounds of the bursts and of their paired ratios."""
    worker, loops = load(Case(timed[0], "tiny", timed[1], "latency", 1), tmp / "timed")
    settled = HarnessConfig().settle_s
    siblings = {s: load(handover_case(*sibling, s), tmp / f"sib{s}")[0] for s in (0.0, settled)}
    rounds: list[dict[float, tuple[float, float, float]]] = []
    try:
        for index in range(ROUNDS):
            got = {}
            for settle_s in sorted(siblings, reverse=bool(index % 2)):
                start = time.perf_counter()
                siblings[settle_s].request({"op": "slice"}, 600)
                turn_ms = (time.perf_counter() - start) * 1e3
                ask = {"op": "time", "count": BURST + 1, "loops": loops}
                samples = worker.request(ask, 600)["samples_ns"][1:]  # untimed, as in a slice
                got[settle_s] = (statistics.median(samples) / 1e6, samples[0] / 1e6, turn_ms)
            rounds.append(got)
    finally:
        for process in (worker, *siblings.values()):
            process.close(5.0)
    med = lambda values: statistics.median(values)  # noqa: E731
    return {
        "burst": {s: med(r[s][0] for r in rounds) for s in siblings},
        "turn": {s: med(r[s][2] for r in rounds) for s in siblings},
        "ratio": med(r[0.0][0] / r[settled][0] for r in rounds),
        "first": med(r[0.0][1] / r[settled][1] for r in rounds),
        "slower": sum(r[0.0][0] > r[settled][0] for r in rounds),
    }


def suite_file(directory: Path, layout: Layout) -> Path:
    path = directory / "suite.toml"
    targets = [f"{t}:intra_op_threads=1" if layout.one_thread and "onnx" in t else t
               for t in TARGETS]  # fmt: skip
    quoted = lambda items: ", ".join(f'"{i}"' for i in items)  # noqa: E731
    path.write_text(
        f"workloads = [{quoted(WORKLOADS)}]\ntargets = [{quoted(targets)}]\n"
        f"scenarios = [{quoted(layout.scenarios)}]\nbatches = [1]\n"
        f"[harness]\ntime_budget_s = {BUDGET_S}\nsettle_s = {layout.settle_s}\n"
    )
    return path


def run(layout: Layout, directory: Path) -> dict[str, Any]:
    """One `hwbench run` in `layout`: its twin pairs, wall seconds and the foreign CPU."""
    directory.mkdir()
    suite = suite_file(directory, layout)
    command = [sys.executable, "-m", "hwbench", "run", "--suite", str(suite), *layout.flags]
    env = {**os.environ, "OMP_NUM_THREADS": "1"} if layout.one_thread else None
    foreign, start = ForeignLoad(), time.perf_counter()
    out = ["--out", str(directory), "--machine", "m"]
    subprocess.run([*command, *out], capture_output=True, env=env)
    wall, foreign_s = time.perf_counter() - start, foreign.stop()
    document = store.load(max((directory / "m").glob("*.json")))
    return {"pairs": twin_pairs(document), "wall": wall, "foreign": foreign_s}  # (cpu, steal)


def twin_pairs(document: dict) -> dict[str, float]:
    """L/T of the medians per (workload, engine)."""
    found: dict[str, dict[str, Any]] = {}
    for record in document["cases"]:
        if record.status == "ok" and record.key["batch"] == 1:
            pair = f"{record.key['workload']} {record.key['engine']}"
            found.setdefault(pair, {})[record.key["scenario"]] = record.metrics["latency_ms"]["p50"]
    return {k: v["latency"] / v["throughput"] for k, v in found.items() if len(v) == 2}


def geomean(values: list[float]) -> float:
    return math.exp(statistics.mean(math.log(v) for v in values))


def spread(values: list[float]) -> float:
    """Median |log ratio|: the typical gap between twins, either way."""
    return statistics.median(abs(math.log(v)) for v in values)


def handover_table(results: list[tuple[tuple, tuple, dict]]) -> Table:
    table = Table(
        "timed case", "sibling before it", "burst ms: unsettled, settled",
        "unsettled / settled (paired)", "1st timed sample: same", "unsettled slower",
        "sibling turn ms: unsettled, settled",
        title=f"part 1: a {BURST}-sample burst right after a sibling's slice, {ROUNDS} rounds",
    )  # fmt: skip
    settled = HarnessConfig().settle_s
    for timed, sibling, got in results:
        burst, turn = got["burst"], got["turn"]
        table.add_row(
            " ".join(timed), " ".join(sibling), f"{burst[0.0]:.4f}, {burst[settled]:.4f}",
            f"{got['ratio']:.3f}", f"{got['first']:.3f}", f"{got['slower']} / {ROUNDS}",
            f"{turn[0.0]:.0f}, {turn[settled]:.0f}",
        )  # fmt: skip
    return table


def runs_tables(found: dict[str, list[dict]]) -> tuple[Table, Table]:
    summary = Table(
        "layout", "L/T geomean", "T faster", "A/A spread |log L/T|", "torch pairs",
        "onnxruntime pairs", "per run: spread (foreign CPU s, steal s)", "wall s",
        title="part 2: latency b1 / throughput b1 (L/T) of the same step in whole runs",
    )  # fmt: skip
    labels = sorted(set.intersection(*(set(r["pairs"]) for rs in found.values() for r in rs)))
    for name, runs in found.items():
        ratios = [r["pairs"][k] for r in runs for k in labels]
        by_engine = [[r["pairs"][k] for r in runs for k in labels if k.endswith(f" {engine}")]
                     for engine in ("torch", "onnxruntime")]  # fmt: skip
        per_run = [f"{spread(list(r['pairs'].values())):.3f} ({r['foreign'][0]:.0f}, "
                   f"{r['foreign'][1]:.1f})" for r in runs]  # fmt: skip
        summary.add_row(
            f"{name}  {LAYOUTS[name].what}", f"{geomean(ratios):.3f}",
            f"{sum(r > 1 for r in ratios)} / {len(ratios)}", f"{spread(ratios):.3f}",
            *(f"{spread(v):.3f}" for v in by_engine), ", ".join(per_run),
            ", ".join(f"{r['wall']:.0f}" for r in runs),
        )  # fmt: skip
    per_pair = Table("pair", *(f"{n}: L/T per run" for n in found), title="part 2, per pair")
    for k in labels:
        per_pair.add_row(
            k, *(", ".join(f"{r['pairs'][k]:.3f}" for r in rs) for rs in found.values())
        )
    return summary, per_pair


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="twins-") as tmp:
        handovers = [(t, s, handover(t, s, Path(tmp))) for t, s in HANDOVERS]
        found: dict[str, list[dict]] = {name: [] for name in LAYOUTS}
        for index, name in enumerate(ORDER):
            found[name].append(run(LAYOUTS[name], Path(tmp, f"{index}-{name}")))
    both = Table.grid()
    both.add_row(handover_table(handovers))
    for table in runs_tables(found):
        both.add_row(table)
    settled = HarnessConfig().settle_s
    cost = statistics.median(got["turn"][settled] - got["turn"][0.0] for _, _, got in handovers)
    notes = [
        f"order {ORDER}; suite: workloads {', '.join(WORKLOADS)} tiny, targets "
        f"{', '.join(TARGETS)}, batch 1, time budget {BUDGET_S} s a case; foreign CPU: "
        "CPU seconds of processes outside this benchmark during the run (2 cores = 2 s/s)",
        f"settle's cost: a sibling's turn {cost:.0f} ms longer (median over part 1's rows)",
    ]
    publish("scenario_twins", both, notes)


if __name__ == "__main__":
    main()
