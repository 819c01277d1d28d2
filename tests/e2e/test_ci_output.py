"""Output a CI log can read: a line per finished step without a terminal (a bar with one), a
results table that fits 80 columns, intervals as [low, high], unstable cases marked, one hint
where no peak is known, and the kernels' result saved with its environment."""

from __future__ import annotations

import io
import json
import math
import os
import pty
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

from rich.console import Console

from hwbench.commands.output import Steps
from hwbench.ladders.base import ladder_for
from hwbench.reporting.table import headline, results_table
from hwbench.reporting.vocabulary import STYLES
from hwbench.results import store
from hwbench.results.record import CaseRecord
from tests.conftest import default_sigint, hwbench_cmd
from tests.records import record

QUICK = ["--time-budget", "0.3", "--machine", "box"]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
CPU_LINE = r"mlp/tiny latency b1 torch@cpu: ok, median \S+ \[\S+, \S+\] ms"


def hwbench(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(hwbench_cmd(*args), capture_output=True, text=True, timeout=timeout)


def timed(p50: float, low: float, high: float, **fields: object) -> CaseRecord:
    """An ok case with a median, its CI (ms) and a roofline without a peak."""
    latency = {"p50": p50, "p90": p50 * 1.1, "median_ci_low": low, "median_ci_high": high}
    metrics = {"latency_ms": latency, "throughput": 1e3 / p50}
    roofline = {"flops_per_s": 2e9, "bound": None, "bound_from": None}
    return record(
        fields.pop("key", None), metrics=metrics, roofline=roofline, parity={"rel_l2": 1e-7},
        sampling={"stop_reason": "converged"}, **fields,
    )  # fmt: skip


def document(*cases: CaseRecord) -> dict:
    doc = store.new_results("default", "box", {}, {})
    doc["devices"] = {"cpu": {"available": True, "reason": ""}}
    doc["cases"] = list(cases)
    return doc


def rendered(table: object, width: int) -> str:
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(table)
    return console.export_text()


UNSTABLE = "CI half-width 12% > 5% after the time budget"
CASES = (
    timed(0.1235, 0.1201, 0.1302),
    timed(0.5, 0.49, 0.52, key={"scenario": "throughput", "batch": 8}, unstable=UNSTABLE),
    record({"engine": "onnxruntime"}, status="failed", reason="parity: relative L2 error 0.3"),
)


def test_the_table_fits_80_columns_without_breaking_a_label_or_a_figure() -> None:
    text = rendered(results_table(document(*CASES), 80), 80)
    lines = text.splitlines()
    assert max(map(len, lines)) <= 80
    for whole in ("0.1235", "[0.1201, 0.1302]", "onnxruntime@cpu", "throughput", "unstable"):
        assert any(whole in line for line in lines), whole
    header = next(line for line in lines if "┃ case" in line)
    assert "p90 ms" not in header and "p90 ms" in text and "--wide shows them" in text


def test_wide_shows_every_column() -> None:
    text = rendered(results_table(document(*CASES), 300, wide=True), 300)
    for header in ("p90 ms", "samples/s", "GFLOP/s", "% of roof (bound)", "parity rel-L2"):
        assert header in text
    assert "--wide" not in text


def test_intervals_are_low_high_and_unstable_cases_say_why() -> None:
    text = rendered(results_table(document(*CASES)), 300)
    assert "0.1235 [0.1201, 0.1302]" in text and "±" not in text
    row = next(line for line in text.splitlines() if "throughput b8" in line)
    assert "ok unstable" in row and UNSTABLE in row
    assert STYLES["unstable"] == "yellow"


def test_without_a_peak_the_caption_says_once_how_to_measure_one() -> None:
    bf16 = timed(0.2, 0.19, 0.21, key={"dtype": "bf16"})
    text = rendered(results_table(document(*CASES, bf16)), 300)
    hint = "no peak measured for cpu fp32, bf16: run `hwbench peak --device cpu` to fill the"
    assert text.count(hint) == 1 and "no peak known" not in text


def test_non_finite_and_missing_numbers_print_readably() -> None:
    case = timed(0.2, -math.inf, math.inf)  # a CI from too few samples
    case.metrics["throughput"] = None
    case.metrics["latency_ms"]["p90"] = math.nan
    text = rendered(results_table(document(case), 80), 80)
    assert "0.2 [-inf, inf]" in text
    assert "0.2 [-inf, inf]" in headline(case)


def test_steps_print_a_line_each_without_a_terminal_and_a_bar_with_one() -> None:
    for terminal in (False, True):
        out = io.StringIO()
        console = Console(file=out, force_terminal=terminal, width=80)
        with Steps(console, total=2) as steps:
            steps.doing("first")
            steps.done("first [a]: ok")
            steps.done("second: ok")
        text = ANSI.sub("", out.getvalue())
        if terminal:
            assert "first [a]: ok" not in text
        else:
            assert text == "first [a]: ok\nsecond: ok\n"


def test_run_prints_each_case_as_it_finishes(tmp_path: Path, plugin_env: dict) -> None:
    """The torch case's line is in the log while the hanging case still runs."""
    mark, log = tmp_path / "hanging", tmp_path / "stderr.txt"
    args = ["run", "--workload", "mlp", "--scenario", "latency", "--target", "torch@cpu",
            "--target", "test-hang@cpu", "--passes", "1", "--timeout", "600",
            "--out", str(tmp_path), *QUICK]  # fmt: skip
    env = {**plugin_env, "HWBENCH_TEST_HANG_MARK": str(mark)}
    with log.open("w") as stderr:
        proc = subprocess.Popen(
            hwbench_cmd(*args), stdout=subprocess.DEVNULL, stderr=stderr, text=True, env=env,
            preexec_fn=default_sigint,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 180
            while proc.poll() is None and time.monotonic() < deadline:
                if "torch@cpu: ok, median " in log.read_text() and mark.exists():
                    break
                time.sleep(0.2)
            assert proc.poll() is None, "the run ended before its first case was reported"
            assert re.search(rf"^{CPU_LINE}", log.read_text(), re.M), log.read_text()
        finally:
            os.kill(proc.pid, signal.SIGINT)
            proc.wait(timeout=60)


def test_run_on_an_80_column_terminal(tmp_path: Path) -> None:
    """stdout on a terminal 80 columns wide, stderr in a log: the table fits, the log has lines."""
    primary, secondary = pty.openpty()
    args = ["run", "--workload", "mlp", "--scenario", "latency", "--target", "torch@cpu",
            "--target", "torch@cuda", "--out", str(tmp_path), *QUICK]  # fmt: skip
    env = {**os.environ, "COLUMNS": "80", "TERM": "xterm"}
    proc = subprocess.Popen(
        hwbench_cmd(*args), stdout=secondary, stderr=subprocess.PIPE, text=True, env=env
    )
    os.close(secondary)
    chunks: list[bytes] = []
    reader = threading.Thread(target=drain, args=(primary, chunks))
    reader.start()
    _, stderr = proc.communicate(timeout=300)
    reader.join(timeout=10)
    os.close(primary)
    assert proc.returncode == 0, stderr
    table = ANSI.sub("", b"".join(chunks).decode()).replace("\r", "")
    assert max(map(len, table.splitlines())) <= 80
    assert "mlp/tiny" in table and "torch@cpu" in table
    assert re.search(r"│ \S+ (│|\[\S+, \S+\])", table)  # a median, its interval whole
    assert "torch@cuda: skipped: device cuda unavailable" in stderr
    assert re.search(rf"^{CPU_LINE}", stderr, re.M)


def drain(fd: int, chunks: list[bytes]) -> None:
    """Read a terminal's output until it closes (EIO once the child is gone)."""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            return
        if not chunk:
            return
        chunks.append(chunk)


def test_kernels_saves_its_result_with_the_environment(tmp_path: Path) -> None:
    done = hwbench("kernels", "--kernel", "swiglu", "--time-budget", "0.05",
                   "--out", str(tmp_path), "--machine", "box", "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    [path] = (tmp_path / "box").glob("*-kernels.json")
    saved = json.loads(path.read_text())
    assert saved == json.loads(done.stdout)
    assert saved["schema"] == "hwbench-kernels" and saved["schema_version"] == 1
    assert saved["environment"]["packages"]["torch"] and saved["devices"]["cpu"]["available"]
    assert [row["variant"] for row in saved["rows"]][:2] == ["eager", "silu_mul"]
    assert f"results: {path}" in done.stderr
    assert re.search(r"^swiglu: eager ok \S+ [mu]s, silu_mul ok", done.stderr, re.M)


def test_peak_prints_each_measurement(tmp_path: Path) -> None:
    done = hwbench("peak", "--quick", "--out", str(tmp_path), "--machine", "box")
    assert done.returncode == 0, done.stderr
    assert re.search(r"^GEMM fp32: \S+ [GT]FLOP/s at n=256$", done.stderr, re.M)
    assert re.search(r"^copy: \S+ GB/s$", done.stderr, re.M)


def test_ladder_prints_each_rung(tmp_path: Path) -> None:
    done = hwbench("ladder", "--workload", "moe", "--device", "cuda", "--out", str(tmp_path),
                   "--machine", "box", timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    skipped = r"^rung (\S+): moe/tiny .*: skipped: device cuda unavailable"
    assert re.findall(skipped, done.stderr, re.M) == [r.name for r in ladder_for("cuda").rungs]


def test_ab_prints_each_block(tmp_path: Path) -> None:
    done = hwbench("ab", "--a", "torch@cpu", "--b", "torch@cpu", "--blocks", "2",
                   "--samples", "1", "--out", str(tmp_path), "--machine", "box")  # fmt: skip
    assert done.returncode == 0, done.stderr
    found = re.findall(r"^block (\d)/2: fastest a \S+ ms, b \S+ ms, b/a \S+$", done.stderr, re.M)
    assert found == ["1", "2"]
