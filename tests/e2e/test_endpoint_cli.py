"""`hwbench run --scenario serve --endpoint URL` as a user runs it, against the local fault
server (tests/endpoint_fault_server.py): the table, the record and the report name the server
as the device under test and parity as `not checked`; the key stays out of everything written;
an unreachable server is a failed case, bad flags a one-line exit 2, and Ctrl-C keeps the
finished cases."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

pytest.importorskip("aiohttp")

from hwbench.results import store
from tests.conftest import default_sigint, hwbench_cmd
from tests.endpoint_fault_server import fault_server

pytestmark = pytest.mark.slow  # each run starts the CLI and a worker (~8 s here)
KEY = "sk-endpoint-test-4242"


def endpoint_cmd(tmp_path, url, *args):
    return hwbench_cmd(
        "run", "--out", str(tmp_path), "--machine", "box", "--scenario", "serve",
        "--endpoint", url, "--prompt-len", "8", "--output-len", "4", "--batch", "4", *args,
    )  # fmt: skip


def run(tmp_path, url, *args, env=None):
    proc = subprocess.run(
        endpoint_cmd(tmp_path, url, *args),
        capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})},
    )  # fmt: skip
    return proc, sorted((tmp_path / "box").glob("*.json"))


def test_a_served_model_is_measured_and_every_output_says_what_was_measured(tmp_path):
    with fault_server(["ok"], key=KEY) as (url, _):
        proc, [path] = run(
            tmp_path, url, "--request-rate", "inf", "--api-key-env", "ENDPOINT_KEY",
            "--wide", env={"ENDPOINT_KEY": KEY},
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    [case] = store.load(path)["cases"]
    assert case.status == "ok" and case.parity["checked"] is False
    assert case.key["engine"] == "endpoint" and case.key["device"] == "remote"
    assert "endpoint@remote" in proc.stdout and "not checked" in proc.stdout
    assert "device under test is the server at 127.0.0.1" in " ".join(proc.stdout.split())
    report = tmp_path / "report.html"
    markdown = tmp_path / "report.md"
    made = subprocess.run(
        hwbench_cmd("report", str(path), "-o", str(report), "--markdown", str(markdown)),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    for text in (markdown.read_text(), report.read_text()):
        assert "not checked" in text and "device under test is the server at" in text
    written = [path.read_text(), proc.stdout, proc.stderr, markdown.read_text(), report.read_text()]
    written += [p.read_text() for p in tmp_path.glob("box/*-logs/*") if p.is_file()]
    assert not [text for text in written if KEY in text]


def test_an_unreachable_server_is_a_failed_case_not_a_traceback(tmp_path):
    proc, [path] = run(tmp_path, "http://127.0.0.1:9/v1", "--request-rate", "inf")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    [case] = store.load(path)["cases"]
    assert case.status == "failed" and case.reason.startswith("cannot reach 127.0.0.1:9")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--endpoint", "localhost:8000"), "is not an http:// or https:// URL"),
        (("--api-key-env", "HWBENCH_NO_SUCH_VARIABLE"), "that variable is not set or empty"),
        (("--api", "grpc"), "unknown --api 'grpc'"),
    ],
)
def test_bad_endpoint_flags_are_one_line_and_exit_2(tmp_path, args, message):
    proc, files = run(tmp_path, "http://127.0.0.1:9/v1", *args)
    assert proc.returncode == 2 and files == []
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_ctrl_c_keeps_the_cases_that_finished(tmp_path):
    with fault_server(["ok"]) as (url, _):
        proc = subprocess.Popen(
            endpoint_cmd(tmp_path, url, "--request-rate", "inf,0.3"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # until the first case is in the file
            files = list((tmp_path / "box").glob("*.json"))
            if files and len(store.load(files[0])["cases"]) == 1:
                break
            assert proc.poll() is None, proc.communicate()[1]
            time.sleep(0.3)
        time.sleep(1)  # the second case's 4 requests take ~13 s at 0.3/s
        os.kill(proc.pid, signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in stderr
    [case] = store.load(files[0])["cases"]
    assert case.status == "ok" and case.key["request_rate"] == "inf"
