"""Does taking a case's passes in turns with other live cases change its median?

Three layouts of the same suite, run in the order I S O O S I so that a slow drift of the
machine weighs on each alike:
  I  the default: 3 passes per case, all cases live at once, passes taken in turns;
  S  3 passes, one case live at a time (--live-cases 1): the same slices back to back;
  O  one pass (--passes 1): each case sampled in one go, its worker gone before the next.
Per case, the geometric mean of each layout's two medians; the table gives I/O and S/O.
A bias of I alone points at the other live workers (memory, caches, idle threads); of S too,
at the slicing (re-warm, per-slice stopping rule). The available memory is sampled every
0.5 s during each run.

Run: python benchmarks/interleave_bias.py   (about 10 minutes on 2 cores)
"""

from __future__ import annotations

import math
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
from _report import publish
from default_run_stability import medians
from rich.table import Table

from hwbench.results import store

SUITE = (
    "--workload", "mlp", "--workload", "bert", "--workload", "llama", "--workload", "resnet50",
    "--target", "torch@cpu", "--target", "onnxruntime@cpu",
)  # fmt: skip
LAYOUTS = {"I": (), "S": ("--live-cases", "1"), "O": ("--passes", "1")}
ORDER = "ISOOSI"


def run(args: tuple, out: Path) -> tuple[dict[str, float], float, float]:
    """Medians by case, wall seconds and the least memory available (GiB) during the run."""
    least, done = [math.inf], threading.Event()

    def watch() -> None:
        while not done.wait(0.5):
            least[0] = min(least[0], psutil.virtual_memory().available / 2**30)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    start = time.perf_counter()
    command = [sys.executable, "-m", "hwbench", "run", "--out", str(out), "--machine", "m"]
    subprocess.run([*command, *SUITE, *args], check=False, capture_output=True)
    elapsed = time.perf_counter() - start
    done.set()
    path = max((out / "m").glob("*.json"), key=lambda p: p.stat().st_mtime)
    return medians(store.load(path)), elapsed, least[0]


def geomean(values: list[float]) -> float:
    return math.exp(statistics.mean(math.log(v) for v in values))


def main() -> None:
    found: dict[str, list[dict[str, float]]] = {name: [] for name in LAYOUTS}
    walls: dict[str, list[float]] = {name: [] for name in LAYOUTS}
    memory: dict[str, list[float]] = {name: [] for name in LAYOUTS}
    with tempfile.TemporaryDirectory() as tmp:
        for index, name in enumerate(ORDER):
            got, wall, least = run(LAYOUTS[name], Path(tmp, str(index)))
            found[name].append(got)
            walls[name].append(wall)
            memory[name].append(least)
    labels = sorted(set.intersection(*(set(m) for runs in found.values() for m in runs)))
    per_case = {name: {k: geomean([m[k] for m in runs]) for k in labels}
                for name, runs in found.items()}  # fmt: skip
    title = "interleaving bias: median per layout (geometric mean of 2 runs)"
    table = Table("case", "I (ms)", "S (ms)", "O (ms)", "I / O", "S / O", title=title)
    for k in labels:
        i, s, o = (per_case[n][k] for n in "ISO")
        table.add_row(k, f"{i:.4f}", f"{s:.4f}", f"{o:.4f}", f"{i / o:.3f}", f"{s / o:.3f}")
    notes = []
    for name in "IS":
        ratios = [per_case[name][k] / per_case["O"][k] for k in labels]
        first, second = found[name]
        rerun = statistics.median(abs(math.log(first[k] / second[k])) for k in labels)
        notes.append(
            f"{name} / O over {len(labels)} cases: geometric mean {geomean(ratios):.3f}, median "
            f"{statistics.median(ratios):.3f}, above 1 in {sum(r > 1 for r in ratios)}; run to "
            f"run (same layout) |log ratio| median {rerun:.3f}"
        )
    for name in LAYOUTS:
        wall = ", ".join(f"{w:.0f}" for w in walls[name])
        args = " ".join(LAYOUTS[name]) or "default"
        notes.append(f"{name} ({args}): wall {wall} s; least memory available "
                     f"{min(memory[name]):.1f} GiB")  # fmt: skip
    notes.append(f"order {ORDER}; suite: hwbench run {' '.join(SUITE)}")
    publish("interleave_bias", table, notes)


if __name__ == "__main__":
    main()
