"""A persistent worker for `hwbench ab`, and its client: one case loaded once, timed on request.

Protocol, one JSON object a line. The client sends {"op": "load", "case": CASE} and gets
{"ok": true, "record": {...}, "loops": L} once the case is prepared, parity-checked, warmed up
and calibrated; {"op": "time", "count": N, "loops": L} gets {"ok": true, "samples_ns": [...]}
(ns per step, each sample the mean over L steps); {"op": "roofline", "step_s": S} gets
{"ok": true, "roofline": {...}} for a median step of S seconds; {"op": "quit"} or the end of
input ends it. A failure answers {"ok": false, "error": "..."}. Whatever else the process
prints goes to stderr. Usage: PYTHON -m hwbench.ab_worker (PYTHON: the arm's interpreter).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
from typing import IO, Any

from hwbench.errors import UsageError
from hwbench.worker_process import STDERR_TAIL


class LoadedCase:
    """A case prepared, parity-checked, warmed up and calibrated (hwbench.worker.load_case):
    its step, device and timer."""

    def __init__(self, case_json: dict[str, Any]) -> None:
        from hwbench.case import Case
        from hwbench.worker import TimedCase, load_case

        self.case = case = Case.from_json(case_json)
        loaded = load_case(case)
        if not isinstance(loaded, TimedCase):
            if loaded["status"] == "skipped":
                raise UsageError(f"{case.target} cannot run {case.workload}: {loaded['reason']}")
            if loaded["status"] == "failed":
                raise UsageError(f"{case.target} fails {loaded['reason']}")
            raise UsageError(f"A/B times latency or throughput, not {case.scenario}")
        self.workload, self.device, self.record = loaded.workload, loaded.device, loaded.record
        self.step, self.timer = loaded.step, loaded.device.timer()
        self.loops = loaded.start(passes=1).result.loops

    def samples(self, count: int, loops: int) -> list[float]:
        from hwbench.harness import timed_loop

        return [timed_loop(self.step, self.timer, loops) / loops for _ in range(count)]

    def roofline(self, step_s: float) -> dict[str, Any]:
        """The result file's roofline block at a median step of `step_s` seconds."""
        from hwbench import roofline

        target = self.case.parsed_target
        return roofline.for_case(self.workload, self.case.batch, target.dtype, step_s, self.device)


def serve(requests: IO[str], replies: IO[str]) -> None:
    loaded: LoadedCase | None = None
    for line in requests:
        message = json.loads(line)
        try:
            if message["op"] == "quit":
                return
            if message["op"] == "load":
                loaded = LoadedCase(message["case"])
                reply = {"ok": True, "record": loaded.record, "loops": loaded.loops}
            elif loaded is None:
                raise UsageError(f"{message['op']!r} before 'load'")
            elif message["op"] == "roofline":
                reply = {"ok": True, "roofline": loaded.roofline(message["step_s"])}
            else:
                samples = loaded.samples(message["count"], message["loops"])
                reply = {"ok": True, "samples_ns": samples}
        except Exception as error:  # reported to the client, which stops the A/B run
            reply = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


def main() -> int:
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints must not break the protocol
    serve(sys.stdin, replies)
    return 0


class WorkerArm:
    """One arm of an A/B run: a case loaded in a persistent worker under `python`."""

    def __init__(self, name: str, python: str, timeout_s: float) -> None:
        self.name, self.timeout_s = name, timeout_s
        self._stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed by close())
        try:
            self._proc = subprocess.Popen(
                [python, "-m", "hwbench.ab_worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                text=True,
                start_new_session=True,
            )
        except OSError as error:
            raise UsageError(f"arm {name}: cannot start {python}: {error.strerror}") from None
        self.loops = 1
        self.record: dict[str, Any] = {}

    def start_load(self, case_json: dict[str, Any]) -> None:
        """Ask the worker to load the case; `finish_load` waits for it."""
        self.send({"op": "load", "case": case_json})

    def finish_load(self) -> None:
        reply = self.receive()
        self.record, self.loops = reply["record"], reply["loops"]

    def samples(self, count: int) -> list[float]:
        self.send({"op": "time", "count": count, "loops": self.loops})
        return self.receive()["samples_ns"]

    def roofline(self, step_s: float) -> dict[str, Any]:
        self.send({"op": "roofline", "step_s": step_s})
        return self.receive()["roofline"]

    def send(self, message: dict[str, Any]) -> None:
        # A dead worker is reported by the next receive(), with its stderr.
        with contextlib.suppress(BrokenPipeError):
            self._proc.stdin.write(json.dumps(message) + "\n")
            self._proc.stdin.flush()

    def receive(self) -> dict[str, Any]:
        ready, _, _ = select.select([self._proc.stdout], [], [], self.timeout_s)
        line = self._proc.stdout.readline() if ready else ""
        if not line:
            raise UsageError(f"arm {self.name}: worker {self._died(bool(ready))}")
        reply = json.loads(line)
        if not reply["ok"]:
            raise UsageError(f"arm {self.name}: {reply['error']}")
        return reply

    def _died(self, exited: bool) -> str:
        if not exited:
            self.close()
            return f"timed out after {self.timeout_s:g} s"
        self._stderr.seek(0)
        tail = self._stderr.read()[-STDERR_TAIL:].strip()
        return f"exited with code {self._proc.wait()}" + (f": {tail}" if tail else "")

    def close(self) -> None:
        with contextlib.suppress(BrokenPipeError, OSError):
            self._proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait()
        self._stderr.close()


if __name__ == "__main__":
    sys.exit(main())
