"""The managed server with fake servers in its place: health, errors, and nothing left behind."""

from __future__ import annotations

import json
import os
import socket
import sys
import textwrap
import urllib.request

import psutil
import pytest

from hwbench.llm import vllm_server
from hwbench.llm.vllm_server import ServerError, VllmServer

HEALTH_SERVER = """
import http.server, signal, sys
if len(sys.argv) > 2:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""
# starts a grandchild, then sleeps (never listens) or exits with a code
WITH_GRANDCHILD = """
import subprocess, sys, time
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
print("loading the model", flush=True)
time.sleep(float(sys.argv[1]))
sys.exit(int(sys.argv[2]))
"""


def python(script: str, *args: object) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(script), *map(str, args)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Descendants(list):
    """Descendants of this test process seen during the test, leaving out those it had before
    (inductor's compile workers, which torch 2.6 keeps alive after an earlier test compiled)."""

    def __init__(self) -> None:
        super().__init__()
        self.before = {p.pid for p in psutil.Process().children(recursive=True)}

    def now(self) -> list[psutil.Process]:
        return [p for p in psutil.Process().children(recursive=True) if p.pid not in self.before]


@pytest.fixture
def spawned(monkeypatch: pytest.MonkeyPatch) -> Descendants:
    """Every new descendant of this test process seen at each health poll."""
    seen = Descendants()
    real = vllm_server.health_ok

    def spying(url: str) -> bool:
        seen.extend(seen.now())
        return real(url)

    monkeypatch.setattr(vllm_server, "health_ok", spying)
    return seen


def assert_all_gone(processes: Descendants) -> None:
    assert processes, "the fake server was never seen"
    assert not [p for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert processes.now() == []


def test_healthy_server_is_up_inside_the_block_and_gone_after(tmp_path, spawned):
    port = free_port()
    log = tmp_path / "server.log"
    with VllmServer(tmp_path, log_path=log, port=port, command=python(HEALTH_SERVER, port)) as s:
        assert s.base_url == f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(f"{s.base_url}/health", timeout=5) as response:
            assert response.status == 200
        assert os.getpgid(s.pid) == os.getpgrp()  # dies with a runner's kill of our group
    assert_all_gone(spawned)
    assert log.exists()


def test_server_ignoring_sigterm_is_killed(tmp_path, spawned, monkeypatch):
    monkeypatch.setattr(vllm_server, "GRACE_S", 1.0)
    port = free_port()
    command = python(HEALTH_SERVER, port, "ignore-sigterm")
    with VllmServer(tmp_path, log_path=tmp_path / "log", port=port, command=command):
        pass
    assert_all_gone(spawned)


def test_server_that_never_listens_times_out_and_is_stopped(tmp_path, spawned):
    log = tmp_path / "server.log"
    server = VllmServer(
        tmp_path, log_path=log, health_timeout_s=2, command=python(WITH_GRANDCHILD, 60, 0)
    )
    with pytest.raises(ServerError) as caught, server:
        pytest.fail("the server became healthy")
    assert str(caught.value) == f"vLLM server was not healthy after 2 s (log: {log})"
    assert len(spawned) >= 2  # the server and its grandchild
    assert_all_gone(spawned)


def test_server_that_exits_early_names_its_code_and_last_log_line(tmp_path, spawned):
    log = tmp_path / "server.log"
    server = VllmServer(tmp_path, log_path=log, command=python(WITH_GRANDCHILD, 1.5, 3))
    with pytest.raises(ServerError) as caught:
        server.start()
    assert str(caught.value) == (
        "vLLM server exited with code 3 before it became healthy "
        f"(last log line: loading the model; log: {log})"
    )
    assert_all_gone(spawned)  # the grandchild it orphaned too


def test_taken_port_is_refused_before_anything_starts(tmp_path, spawned):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        server = VllmServer(tmp_path, log_path=tmp_path / "log", port=port, command=["false"])
        with pytest.raises(ServerError, match=f"^port {port} on 127.0.0.1 is already in use$"):
            server.start()
    assert spawned == [] and not (tmp_path / "log").exists()


def test_ctrl_c_during_the_wait_stops_the_server(tmp_path, spawned, monkeypatch):
    def interrupted(url: str) -> bool:
        spawned.extend(spawned.now())
        raise KeyboardInterrupt

    monkeypatch.setattr(vllm_server, "health_ok", interrupted)
    server = VllmServer(tmp_path, log_path=tmp_path / "log", command=python(WITH_GRANDCHILD, 60, 0))
    with pytest.raises(KeyboardInterrupt):
        server.start()
    assert_all_gone(spawned)
    server.stop()  # a second stop is harmless


def test_missing_executable_is_a_server_error(tmp_path):
    server = VllmServer(tmp_path, log_path=tmp_path / "log", command=[str(tmp_path / "nope")])
    with pytest.raises(ServerError, match="could not start the vLLM server"):
        server.start()


def test_default_argv_binds_loopback_and_takes_max_len_from_the_checkpoint(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"max_position_embeddings": 256}))
    server = VllmServer(tmp_path, log_path=tmp_path / "log", port=8123, extra_args=["--seed", "1"])
    assert server.argv() == [
        sys.executable, "-m", "vllm.entrypoints.openai.api_server",
        "--model", str(tmp_path), "--host", "127.0.0.1", "--port", "8123",
        "--dtype", "float32", "--served-model-name", "hwbench", "--enforce-eager",
        "--max-model-len", "256", "--seed", "1",
    ]  # fmt: skip
    assert VllmServer(tmp_path, log_path=tmp_path / "log", max_model_len=64).argv()[-1] == "64"
    args = ["--max-model-len", "9"]
    given = VllmServer(tmp_path, log_path=tmp_path, enforce_eager=False, extra_args=args).argv()
    assert "--enforce-eager" not in given and given.count("--max-model-len") == 1
    assert given[-1] == "9"
