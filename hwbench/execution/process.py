"""Starts a case's worker process and talks to it (the protocol is hwbench.execution.worker's),
killing it and all it started on a timeout or when done.

Where a worker starts, by what the case needs:
- forked from multiprocessing's fork server (every device): the server imported torch (and
  what the suite's engines name in `Engine.worker_preload`) once, where a fresh interpreter
  spends ~1.5-3 s importing them before each case (benchmarks/worker_start_cost.txt) and
  torch.compile's inductor ~3 s more. The forked process has imported modules but run no case.
  A process forked from one that touched CUDA cannot use CUDA ("Cannot re-initialize CUDA in
  forked subprocess"; torch_npu has the same rule): the server guards the device runtimes
  (hwbench.execution.fork_guard) and an accelerator worker first says whether it can use its
  device; if not, that device's workers are spawned from then on, and a note says why.
- multiprocessing's spawn: under HWBENCH_WORKER_START=spawn, and for a device the fork server
  touched (above); on an H200 a spawned worker cost ~10 s a case (CUDA context included).
- a `PYTHON -m hwbench.execution.worker` subprocess: when the case's environment differs from
  the fork server's in more than hwbench's own run-time variables (a ladder rung that sets a
  vendor variable read at import: a spawned child would take it too late), under
  HWBENCH_WORKER_START=spawn, and for an A/B arm under another interpreter.
The first two carry the messages over a multiprocessing pipe, the last over stdin/stdout, one
JSON object a message either way. Each worker runs in a session of its own, so that a kill
takes whatever it started with it.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import multiprocessing
import os
import select
import signal
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from hwbench.execution import fork_guard
from hwbench.execution.worker import CaseWorker

# Read when a case runs, not when a module is imported: a forked worker may take a new value.
RUNTIME_PREFIX = "HWBENCH_"
# The guard first: nothing the server imports may initialize a device runtime unseen.
BASE_PRELOAD = ("hwbench.execution.fork_server_start", "hwbench.execution.worker")
WORKER_MODULE = "hwbench.execution.worker"
STDERR_TAIL = 600  # characters of a dead worker's stderr kept as its reason
HELLO_TIMEOUT_S = 60.0  # a forked accelerator worker's first word: can it use its device


class Timeout(Exception):
    """The worker outlived its time limit and was killed."""


class WorkerDied(Exception):
    """The worker ended without answering; `reason` says how, with the tail of its stderr."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _ForkServer:
    """multiprocessing's fork server (one per process) and the environment it started with."""

    def __init__(self) -> None:
        self.env: dict[str, str] | None = None
        self.unusable: dict[str, str] = {}  # device -> why its workers cannot fork from here
        self.context = (
            multiprocessing.get_context("forkserver")
            if "forkserver" in multiprocessing.get_all_start_methods()
            else None
        )

    def usable_for(self, env: Mapping[str, str]) -> bool:
        if self.context is None or os.environ.get("HWBENCH_WORKER_START") == "spawn":
            return False
        reference = self.env if self.env is not None else dict(os.environ)
        return _same_but_runtime(reference, env)

    def start(self, preload: Iterable[str]) -> multiprocessing.context.BaseContext:
        assert self.context is not None
        if self.env is None:  # the first start fixes its modules and environment
            self.context.set_forkserver_preload([*BASE_PRELOAD, *preload])
            self.env = dict(os.environ)
        return self.context

    def refuse(self, device: str, why: str) -> None:
        """From now on `device`'s workers are spawned; say so once."""
        if device not in self.unusable:
            print(
                f"hwbench: note: {device} workers are spawned, not forked: {why}", file=sys.stderr
            )
        self.unusable[device] = why


_server = _ForkServer()


def _same_but_runtime(a: Mapping[str, str], b: Mapping[str, str]) -> bool:
    keys = {k for k in a.keys() | b.keys() if not k.startswith(RUNTIME_PREFIX)}
    return all(a.get(k) == b.get(k) for k in keys)


def _context(
    env: Mapping[str, str], device: str, preload: Iterable[str]
) -> multiprocessing.context.BaseContext | None:
    """The multiprocessing start for a case on `device` with environment `env`: the fork
    server, spawn (a device the server touched), or None: a `python -m` subprocess."""
    if not _server.usable_for(env):
        return None
    if device in _server.unusable:
        return multiprocessing.get_context("spawn")
    return _server.start(preload)


def death_reason(code: int | None, stderr: str) -> str:
    """Why a worker ended without a reply: how it ended and the tail of its stderr."""
    tail = stderr[-STDERR_TAIL:].strip()
    if code is None:
        how = "closed its pipe"
    else:
        how = f"killed by signal {-code}" if code < 0 else f"exited with code {code}"
    return f"worker {how}" + (f": {tail}" if tail else "")


class WorkerProcess:
    """A case's worker, started on creation; `request` sends a message and waits for the reply.
    `python`: another interpreter (an A/B arm's install), which always gets a subprocess."""

    def __init__(
        self,
        stderr_file: Path,
        env: Mapping[str, str],
        preload: Iterable[str] = (),
        device: str = "cpu",
        python: str | None = None,
    ) -> None:
        self.stderr_file = stderr_file
        self.closed = False
        context = None if python else _context(env, device, preload)
        if context is not None:
            self._start_child(context, env, device)
        else:
            self._start_subprocess(python or sys.executable, env)

    def _start_child(
        self, context: multiprocessing.context.BaseContext, env: Mapping, device: str
    ) -> None:
        hello = context is _server.context and device != "cpu"
        self._conn, child_conn = context.Pipe()
        args = (child_conn, str(self.stderr_file), dict(env), device if hello else None)
        process = context.Process(target=_child_main, args=args, name="hwbench-worker")
        process.start()
        child_conn.close()
        assert process.pid is not None
        self.pid = process.pid
        self._send = lambda message: self._conn.send_bytes(json.dumps(message).encode())
        self._poll = self._conn.poll
        self._read = lambda: json.loads(self._conn.recv_bytes())
        self._exitcode = lambda: process.exitcode
        self._join = process.join
        if hello and (why := self._hello()) is not None:
            self._join(5.0)
            _server.refuse(device, why)
            self._start_child(multiprocessing.get_context("spawn"), env, device)

    def _hello(self) -> str | None:
        """A forked accelerator worker's first message: None when it can use its device, else
        why not."""
        try:
            reply = self.receive(HELLO_TIMEOUT_S)
        except Timeout:
            raise WorkerDied(f"worker did not start in {HELLO_TIMEOUT_S:.0f} s") from None
        return None if reply.get("forked") else reply.get("why", "unknown")

    def _start_subprocess(self, python: str, env: Mapping[str, str]) -> None:
        with self.stderr_file.open("w") as stderr:
            try:
                popen = subprocess.Popen(
                    [python, "-m", WORKER_MODULE],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=stderr,
                    text=True,
                    start_new_session=True,
                    env=dict(env),
                )
            except OSError as error:
                raise WorkerDied(f"cannot start {python}: {error.strerror}") from None
        assert popen.stdin is not None and popen.stdout is not None
        self.pid = popen.pid
        stdin, stdout = popen.stdin, popen.stdout

        def send(message: dict[str, Any]) -> None:
            stdin.write(json.dumps(message) + "\n")
            stdin.flush()

        def read() -> Any:
            line = stdout.readline()
            if not line:
                raise EOFError
            return json.loads(line)

        self._send, self._read = send, read
        self._poll = lambda timeout: bool(select.select([stdout], [], [], timeout)[0])
        self._exitcode = popen.poll
        self._join = _waiter(popen)

    def request(self, message: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        """The reply to `message`; Timeout (after killing the worker) or WorkerDied."""
        self.send(message)
        return self.receive(timeout_s)

    def send(self, message: dict[str, Any]) -> None:
        """Send a request without waiting for its reply (`receive` waits)."""
        if self.closed:
            return  # killed; receive() says it died
        with contextlib.suppress(BrokenPipeError, OSError):  # it died; receive() says how
            self._send(message)

    def receive(self, timeout_s: float) -> dict[str, Any]:
        """The next reply; Timeout (after killing the worker) or WorkerDied."""
        if not self._poll(timeout_s):
            self.close()
            raise Timeout
        try:
            return self._read()
        except (EOFError, OSError, ValueError):
            self._join(5.0)
            stderr = self.stderr_file.read_text() if self.stderr_file.exists() else ""
            raise WorkerDied(death_reason(self._exitcode(), stderr)) from None

    def close(self, grace_s: float = 0.0) -> None:
        """Ask the worker to quit, wait up to `grace_s` for it, then kill it and whatever it
        started. Closing again (after a timeout closed it) does nothing."""
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(BrokenPipeError, OSError, ValueError):
            self._send({"op": "quit"})
        self._join(grace_s)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        if self._exitcode() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)  # it may not have made its own session yet
        self._join(None)


def _waiter(popen: subprocess.Popen) -> Callable[[float | None], None]:
    def join(timeout: float | None) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            popen.wait(timeout)

    return join


def _child_main(conn: Connection, stderr: str, env: dict[str, str], device: str | None) -> None:
    """A forked or spawned worker: its own session, stdout to /dev/null and stderr to a file
    (as a subprocess worker has), the case's environment, torch's device runtimes unguarded;
    a forked accelerator worker (`device`) says whether it can use the device; then the
    protocol over `conn`."""
    os.setsid()
    devnull = os.open(os.devnull, os.O_WRONLY)
    err = os.open(stderr, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(devnull, 1)
    os.dup2(err, 2)
    os.environ.clear()
    os.environ.update(env)
    fork_guard.release()
    if device is not None:
        why = fork_guard.unusable(device)
        conn.send_bytes(json.dumps({"forked": why is None, "why": why}).encode())
        if why is not None:
            os._exit(0)

    def receive() -> dict[str, Any] | None:
        try:
            return json.loads(conn.recv_bytes())
        except EOFError:
            return None

    CaseWorker().serve(receive, lambda reply: conn.send_bytes(json.dumps(reply).encode()))
    atexit._run_exitfuncs()  # as an interpreter would at exit (engines' shutdown hooks)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
