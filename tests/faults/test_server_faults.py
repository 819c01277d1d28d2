"""Faults of the server a serve case measures, with the fake vLLM server of the test plug-ins
(it streams like vLLM and answers parity from the workload's own model): the server dying
mid-serve, a stream cut mid-response, a port already taken, a server that never becomes
ready. Each fails its own case with a one-line reason and leaves no process behind; the run
goes on and exits 1. One run shows them all, between an ok serve case and an ok latency case.
"""

from __future__ import annotations

import socket
import subprocess
import time

import psutil
import pytest

from hwbench.results import store
from tests.conftest import hwbench_cmd, plugin_environment

pytest.importorskip("aiohttp")
pytest.importorskip("tokenizers")
pytest.importorskip("safetensors")

SERVE = [
    "--workload", "llama", "--scenario", "serve,latency", "--batch", "2", "--prompt-len", "16",
    "--output-len", "4", "--request-rate", "inf", "--time-budget", "0.2", "--passes", "1",
    "--machine", "box",
]  # fmt: skip
# (options of test-serve@cpu, the fault as the matrix names it, what the case's reason says)
FAULTS = [
    (
        "fault=die",
        "vLLM server dies mid-serve (exits during the timed load)",
        "vLLM server exited with code 1 while serving "
        "(last log line: fake vLLM server dying on purpose;",
    ),
    ("fault=cut", "a stream cut mid-response", "2 of 2 requests failed: ClientPayloadError"),
    (
        "port={port}",
        "the server's port already taken",
        "port {port} on 127.0.0.1 is already in use",
    ),
    ("fault=never-ready,ready_s=2", "the server never becomes ready", "not healthy after 2 s"),
]


def leftovers(marker: str) -> list[str]:
    """Processes still running whose command line names `marker` (the run's cache folder)."""
    time.sleep(1)  # init reaps orphans with some delay
    found = []
    for process in psutil.process_iter(["pid", "cmdline", "status"]):
        if process.info["status"] != psutil.STATUS_ZOMBIE and marker in " ".join(
            process.info["cmdline"] or []
        ):
            found.append(f"{process.info['pid']} {' '.join(process.info['cmdline'])}")
    return found


@pytest.fixture(scope="module")
def serve_run(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    out = tmp_path_factory.mktemp("server-faults")
    cache = out / "cache"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        faults = [f"test-serve@cpu:{options.format(port=port)}" for options, _, _ in FAULTS]
        targets = ["test-serve@cpu", *faults, "torch@cpu"]
        proc = subprocess.run(
            hwbench_cmd(
                "run", *SERVE, *[a for t in targets for a in ("--target", t)], "--out", str(out)
            ),
            capture_output=True,
            text=True,
            timeout=300,
            env=plugin_environment(HWBENCH_CACHE_DIR=str(cache)),
        )
    [path] = (out / "box").glob("*.json")
    return proc, store.load(path)["cases"], port, leftovers(str(cache))


@pytest.mark.parametrize(
    ("index", "fault", "reason"),
    [(i, fault, reason) for i, (_, fault, reason) in enumerate(FAULTS, start=1)],
    ids=[options.split(",")[0] for options, _, _ in FAULTS],
)
def test_a_server_fault_fails_its_case_and_the_run_goes_on(
    serve_run, fault_row, index, fault, reason
):
    before = f"{index} finished case{'s' * (index > 1)} before it (an ok serve case first)"
    kept = f"{before}; the case failed, the next ran"
    fault_row(fault, kept, 1)
    proc, cases, port, left = serve_run
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert left == [], "server processes left behind"
    assert [c.key["scenario"] for c in cases] == ["serve"] * (len(FAULTS) + 1) + ["latency"]
    served, latency = cases[0], cases[-1]
    assert served.status == "ok", served.reason  # the fake server itself works
    assert served.metrics["llm"]["completed"] == 2 and served.parity["passed"]
    assert latency.status == "ok"
    case = cases[index]
    assert case.status == "failed"
    assert reason.format(port=port) in case.reason and "\n" not in case.reason
