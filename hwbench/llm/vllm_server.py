"""vLLM's OpenAI-compatible server as a subprocess that is healthy inside a `with` block and
gone, with every process it started, after it.

The server stays in our process group, so a runner that kills a worker's group kills the
server with it; `stop()` signals the server and its descendants one pid at a time and never
a group. Descendants are recorded while we wait for health too, so those orphaned by a server
that died early are still ended.
"""

from __future__ import annotations

import contextlib
import errno
import http.client
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO

import psutil

HOST = "127.0.0.1"
SERVED_NAME = "hwbench"  # the model name clients send
POLL_S = 0.5
GRACE_S = 10.0  # SIGTERM to SIGKILL
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ServerError(RuntimeError):
    """The server could not be started, did not become healthy or died while serving (one
    line)."""


class VllmServer:
    """`python -m vllm.entrypoints.openai.api_server` on 127.0.0.1, logging to `log_path`.

    `env` adds variables to this process's environment; `command` replaces the whole argv
    (tests start fake servers with it); `max_model_len` defaults to the checkpoint's
    `max_position_embeddings` unless `extra_args` sets `--max-model-len`.
    """

    def __init__(
        self,
        model_dir: Path,
        *,
        log_path: Path,
        dtype: str = "float32",
        port: int | None = None,
        max_model_len: int | None = None,
        enforce_eager: bool = True,
        extra_args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        health_timeout_s: float = 300.0,
        command: list[str] | None = None,
    ) -> None:
        self.model_dir = Path(model_dir)
        self.log_path = Path(log_path)
        self.dtype = dtype
        self.port = port
        self.max_model_len = max_model_len
        self.enforce_eager = enforce_eager
        self.extra_args = list(extra_args)
        self.env = dict(env or {})
        self.health_timeout_s = health_timeout_s
        self.command = command
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._descendants: dict[int, psutil.Process] = {}

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise ServerError("the vLLM server has no port before it is started")
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def argv(self) -> list[str]:
        if self.command is not None:
            return list(self.command)
        argv = [sys.executable, "-m", "vllm.entrypoints.openai.api_server"]
        argv += ["--model", str(self.model_dir), "--host", HOST, "--port", str(self.port)]
        argv += ["--dtype", self.dtype, "--served-model-name", SERVED_NAME]
        if self.enforce_eager:
            argv.append("--enforce-eager")
        max_len = self.max_model_len or checkpoint_max_len(self.model_dir)
        if max_len and "--max-model-len" not in self.extra_args:
            argv += ["--max-model-len", str(max_len)]
        return argv + self.extra_args

    def __enter__(self) -> VllmServer:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc_info: object) -> None:
        """Stop the server; ServerError if it had exited on its own while serving (what the
        block raised, a client's error, is then only its consequence)."""
        code = self._process.poll() if self._process else None
        self.stop()
        if code is not None and (kind is None or issubclass(kind, Exception)):
            raise ServerError(
                f"vLLM server {ended(code)} while serving "
                f"(last log line: {last_line(self.log_path)}; log: {self.log_path})"
            )

    def start(self) -> None:
        """Start the server and return once GET /health answers 200; stop it on any failure."""
        self.port = free_port() if self.port is None else check_port_free(self.port)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("wb")
        try:
            self._process = subprocess.Popen(
                self.argv(),
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.env},
            )  # same session and process group as ours, on purpose
        except OSError as error:
            self._log.close()
            raise ServerError(f"could not start the vLLM server: {error}") from None
        try:
            self._wait_healthy()
        except BaseException:  # KeyboardInterrupt included: nothing may outlive us
            self.stop()
            raise

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.health_timeout_s
        while True:
            record_descendants(self._process.pid, self._descendants)
            code = self._process.poll()
            if code is not None:
                raise ServerError(
                    f"vLLM server {ended(code)} before it became healthy "
                    f"(last log line: {last_line(self.log_path)}; log: {self.log_path})"
                )
            if health_ok(self.base_url):
                return
            if time.monotonic() > deadline:
                raise ServerError(
                    f"vLLM server was not healthy after {self.health_timeout_s:g} s "
                    f"(log: {self.log_path})"
                )
            time.sleep(POLL_S)

    def stop(self) -> None:
        """SIGTERM the server and every descendant seen, SIGKILL what is left after ~10 s."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            record_descendants(process.pid, self._descendants)
        others, self._descendants = list(self._descendants.values()), {}
        process.terminate()
        signal_all(others, psutil.Process.terminate)
        deadline = time.monotonic() + GRACE_S
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=GRACE_S)
        alive = wait_gone(others, deadline - time.monotonic())
        signal_all(alive, psutil.Process.kill)
        if process.poll() is None:
            process.kill()
        process.wait()
        wait_gone(alive, GRACE_S)
        if self._log is not None:
            self._log.close()


def record_descendants(pid: int, seen: dict[int, psutil.Process]) -> None:
    """Add every descendant of `pid` alive now to `seen` (collected before any signal)."""
    with contextlib.suppress(psutil.NoSuchProcess):
        for child in psutil.Process(pid).children(recursive=True):
            seen.setdefault(child.pid, child)


def signal_all(processes: Sequence[psutil.Process], send: Callable[[psutil.Process], None]) -> None:
    """`send(p)` (terminate or kill) to each process still alive; psutil checks pid reuse."""
    for proc in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            send(proc)


def wait_gone(processes: Sequence[psutil.Process], timeout_s: float) -> list[psutil.Process]:
    """Those of `processes` still running after up to `timeout_s` s. A zombie counts as gone:
    init may take seconds to reap an orphan, and it can do nothing more."""
    deadline = time.monotonic() + timeout_s
    while True:
        alive = [p for p in processes if running(p)]
        if not alive or time.monotonic() >= deadline:
            return alive
        time.sleep(0.05)


def running(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def health_ok(base_url: str) -> bool:
    """Whether GET /health answers 200 within 2 s (proxies from the environment ignored)."""
    try:
        with NO_PROXY.open(f"{base_url}/health", timeout=2) as response:
            return response.status == 200
    except (OSError, http.client.HTTPException):
        return False


def free_port() -> int:
    """A port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def check_port_free(port: int) -> int:
    """`port`, or ServerError when something on 127.0.0.1 holds it."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is not "in use"
        try:
            sock.bind((HOST, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise ServerError(f"port {port} on {HOST} is already in use") from None
            raise ServerError(f"cannot bind port {port} on {HOST}: {error.strerror}") from None
    return port


def checkpoint_max_len(model_dir: Path) -> int | None:
    """`max_position_embeddings` from the checkpoint's config.json, if it says."""
    try:
        return json.loads((model_dir / "config.json").read_text()).get("max_position_embeddings")
    except (OSError, ValueError):
        return None


def ended(code: int) -> str:
    """How a process with exit status `code` (Popen's: negative for a signal) ended."""
    return f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"


def last_line(path: Path, limit: int = 300) -> str:
    """The last non-empty line of the log, shortened to `limit` characters."""
    try:
        lines = path.read_bytes()[-65536:].decode(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    line = next((s.strip() for s in reversed(lines) if s.strip()), "(empty)")
    return line if len(line) <= limit else line[: limit - 3] + "..."
