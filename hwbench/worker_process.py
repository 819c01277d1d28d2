"""Starts one case's worker process and waits for it, killing it and all it started on a timeout.

Each case runs in a process of its own. Where the OS can fork, that process is forked from
multiprocessing's fork server, which imported torch (and what the suite's engines name in
`Engine.worker_preload`) once: a fresh interpreter spends ~1.5-3 s importing them before each
case (measured on a 2-core VM, `python -X importtime -c "import hwbench.worker"`), and
torch.compile's inductor ~3 s more. The forked process has imported modules but has run no
case: dynamo's counters, caches and device state are new. Where the environment a case needs
differs from the fork server's in anything but hwbench's own run-time variables (a ladder rung
that sets a vendor variable read at import), a fresh interpreter is spawned instead.

Only CPU cases are forked. A process forked from one that has touched CUDA cannot use CUDA
(torch raises "Cannot re-initialize CUDA in forked subprocess"), and the fork server's imports
do touch it: on an H200 every forked CUDA case failed so. Cases on an accelerator start in a
fresh interpreter through multiprocessing's spawn context, which keeps the rest (a live worker
for interleaved passes, the same session and stderr handling).
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

# Read when a case runs, not when a module is imported: a forked worker may take a new value.
RUNTIME_PREFIX = "HWBENCH_"
BASE_PRELOAD = ("hwbench.worker",)
STDERR_TAIL = 600  # characters of a dead worker's stderr kept as its reason
FORKABLE_DEVICES = ("cpu",)  # the rest get a fresh interpreter (see the module's note)


class Timeout(Exception):
    """The worker outlived its time limit and was killed."""


class _ForkServer:
    """multiprocessing's fork server (one per process) and the environment it started with."""

    def __init__(self) -> None:
        self.env: dict[str, str] | None = None
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


_server = _ForkServer()


def _same_but_runtime(a: Mapping[str, str], b: Mapping[str, str]) -> bool:
    keys = {k for k in a.keys() | b.keys() if not k.startswith(RUNTIME_PREFIX)}
    return all(a.get(k) == b.get(k) for k in keys)


def _context(
    env: Mapping[str, str], device: str, preload: Iterable[str]
) -> multiprocessing.context.BaseContext | None:
    """Where a worker for a case on `device` with environment `env` starts: the fork server
    (CPU), multiprocessing's spawn (accelerators), or None: a `python -m hwbench.worker`
    subprocess, whose environment is the case's from the start (spawn's child takes this
    process's and only then the case's, too late for variables read at import)."""
    if not _server.usable_for(env):
        return None
    if device in FORKABLE_DEVICES:
        return _server.start(preload)
    return multiprocessing.get_context("spawn")


def run_worker(
    case_file: Path,
    record_file: Path,
    stderr_file: Path,
    env: Mapping[str, str],
    timeout_s: float,
    preload: Iterable[str] = (),
    device: str = "cpu",
) -> int:
    """Run `python -m hwbench.worker CASE RECORD` (or its forked equivalent) in a session of
    its own; its exit code (negative: killed by that signal). Raises Timeout after killing it.
    Whatever happens (a timeout, Ctrl-C, a normal exit), processes the worker started and left
    behind are killed with it."""
    context = _context(env, device, preload)
    if context is not None:
        pid, wait = _start(context, case_file, record_file, stderr_file, env)
    else:
        pid, wait = _spawn(case_file, record_file, stderr_file, env)
    try:
        code = wait(timeout_s)
        if code is None:
            raise Timeout
        return code
    finally:
        _kill_session(pid)
        wait(None)


Wait = Callable[[float | None], int | None]  # the exit code, None while still running


def _start(
    context: multiprocessing.context.BaseContext,
    case_file: Path,
    record_file: Path,
    stderr_file: Path,
    env: Mapping[str, str],
) -> tuple[int, Wait]:
    args = (str(case_file), str(record_file), str(stderr_file), dict(env))
    process = context.Process(target=_forked_main, args=args, name="hwbench-worker")
    process.start()
    assert process.pid is not None

    def wait(timeout: float | None) -> int | None:
        process.join(timeout)
        return process.exitcode

    return process.pid, wait


def _spawn(
    case_file: Path, record_file: Path, stderr_file: Path, env: Mapping[str, str]
) -> tuple[int, Wait]:
    with stderr_file.open("w") as stderr:
        popen = subprocess.Popen(
            [sys.executable, "-m", "hwbench.worker", str(case_file), str(record_file)],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
            env=dict(env),
        )

    def wait(timeout: float | None) -> int | None:
        try:
            return popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    return popen.pid, wait


def _kill_session(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _become_worker(stderr: str, env: dict[str, str]) -> None:
    """In a forked worker: its own session (so a timeout kills all it starts), stdout to
    /dev/null and stderr to a file as a spawned worker has, the case's environment."""
    os.setsid()
    devnull = os.open(os.devnull, os.O_WRONLY)
    err = os.open(stderr, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(devnull, 1)
    os.dup2(err, 2)
    os.environ.clear()
    os.environ.update(env)


def _exit_worker(code: int) -> None:
    atexit._run_exitfuncs()  # as a spawned interpreter would at exit (engines' shutdown hooks)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _forked_main(case: str, record: str, stderr: str, env: dict[str, str]) -> None:
    _become_worker(stderr, env)
    from hwbench.worker import main

    _exit_worker(main([case, record]))


def death_reason(code: int, stderr_file: Path) -> str:
    """Why a worker that wrote no record failed: how it ended and the tail of its stderr."""
    tail = stderr_file.read_text()[-STDERR_TAIL:].strip() if stderr_file.exists() else ""
    how = f"killed by signal {-code}" if code < 0 else f"exited with code {code}"
    return f"worker {how}" + (f": {tail}" if tail else "")


class WorkerDied(Exception):
    """A live worker ended without answering; `code` is its exit code (negative: signal)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def can_stay_live(env: Mapping[str, str]) -> bool:
    """Whether a worker with environment `env` can be a LiveWorker (else it needs a
    `python -m hwbench.worker` subprocess, and only the one-shot `run_worker` starts those)."""
    return _server.usable_for(env)


class LiveWorker:
    """A worker that stays up between requests (interleaved cases): it loads `case_json`,
    then answers each `request` (hwbench.worker.serve_case)."""

    def __init__(
        self,
        case_json: dict[str, Any],
        stderr_file: Path,
        env: Mapping[str, str],
        preload: Iterable[str] = (),
        device: str = "cpu",
    ) -> None:
        context = _context(env, device, preload)
        assert context is not None, "can_stay_live(env) said no"
        self._conn, child_conn = context.Pipe()
        args = (case_json, child_conn, str(stderr_file), dict(env))
        self._process = context.Process(target=_live_main, args=args, name="hwbench-worker")
        self._process.start()
        child_conn.close()

    def receive(self, timeout_s: float) -> dict[str, Any]:
        """The worker's next reply; Timeout (after killing it) or WorkerDied."""
        if not self._conn.poll(timeout_s):
            self.close()
            raise Timeout
        try:
            return self._conn.recv()
        except (EOFError, OSError):
            self._process.join()
            raise WorkerDied(self._process.exitcode or 0) from None

    def request(self, message: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        with contextlib.suppress(BrokenPipeError, OSError):  # it died; receive() says how
            self._conn.send(message)
        return self.receive(timeout_s)

    def close(self, grace_s: float = 0.0) -> None:
        """Wait up to `grace_s` for the worker to exit, then kill it and whatever it started."""
        self._process.join(grace_s)
        if self._process.pid is not None:
            _kill_session(self._process.pid)
            if self._process.exitcode is None:
                self._process.kill()  # it may not have made its own session yet
        self._process.join()
        self._conn.close()


def _live_main(
    case_json: dict[str, Any], conn: Connection, stderr: str, env: dict[str, str]
) -> None:
    _become_worker(stderr, env)
    from hwbench.worker import serve_case

    serve_case(case_json, conn)
    _exit_worker(0)
