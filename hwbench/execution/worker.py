"""A case's worker: loads one case and answers its client's requests, one protocol for the
runner, interleaved passes, `hwbench ab` and the ladder (hwbench.execution.process starts it
and is the client; the pytest plugin calls `CaseWorker` in its own process).

Messages are JSON objects. Requests and their replies:
  {"op": "load", "case": CASE}  ->  {"ok": true, "timed": false, "record": RECORD} when the case
      ended while loading (skipped, failed parity, --check-only, or a scenario that measures
      itself to the end: generate, serve), else {"ok": true, "timed": true, "loops": L} once
      prepared, parity-checked, warmed up and calibrated (L: steps per sample)
  {"op": "slice"}  ->  {"ok": true, "done": BOOL} after timing the next slice of samples and,
      unless done, waiting (at most the case's harness.settle_s) for the worker's threads to go
      idle, so that a thread pool still spinning takes no core from the next case's slice
  {"op": "finish"}  ->  {"ok": true, "record": RECORD} from the slices taken
  {"op": "time", "count": N, "loops": L}  ->  {"ok": true, "samples_ns": [...]} (A/B blocks)
  {"op": "finish", "samples_ns": [...]}  ->  the record from those samples (A/B)
  {"op": "quit"}, or the end of input: the worker exits.
A request that raises is answered {"ok": false, "error": "Type: message", "traceback": "..."}.
Usage as a subprocess: PYTHON -m hwbench.execution.worker (messages one per line on
stdin/stdout; whatever else the process prints goes to stderr).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import sys
import traceback
from collections.abc import Callable
from typing import IO, Any

import hwbench  # noqa: F401  (sets TORCH_DEVICE_BACKEND_AUTOLOAD before torch loads)
from hwbench.case import Case
from hwbench.measure.harness import settle
from hwbench.registry import lookup
from hwbench.results.record import CaseRecord
from hwbench.scenarios.base import Timing
from hwbench.workloads import make_workload


def start_case(case: Case, settings: contextlib.ExitStack) -> CaseRecord | Timing:
    """The case started as its scenario runs it: its final record, or a Timing to slice.
    An engine that cannot run it (device, dtype, or what the scenario needs) skips it. The
    device's case settings are entered into `settings`, which the caller closes when the
    case is done with (a worker: when it exits)."""
    target = case.parsed_target
    workload = make_workload(case.workload, case.size, case.seed, case.model_path)
    device = lookup("devices", target.device)()
    engine = lookup("engines", target.engine)()
    scenario = lookup("scenarios", case.scenario)()
    ok, why = engine.supports(workload, device, target.dtype)
    if ok:
        ok, why = engine.provides_for(scenario.needs, workload)
    if not ok:
        return case.outcome("skipped", why)
    # Imported here if the fork server has not, so that prepare_s never counts importing them.
    for module in engine.worker_preload:
        importlib.import_module(module)
    settings.enter_context(device.case_settings())
    return scenario.start(case, workload, device, engine)


class CaseWorker:
    """The worker's side of the protocol: one case, loaded once."""

    def __init__(self) -> None:
        self.timing: Timing | None = None
        self.settle_s = 0.0  # the loaded case's harness.settle_s
        self.settings = contextlib.ExitStack()  # held for the worker's life

    def load(self, case: Case) -> dict[str, Any]:
        started = start_case(case, self.settings)
        if isinstance(started, CaseRecord):
            return {"timed": False, "record": started.to_json()}
        self.timing, self.settle_s = started, case.harness.settle_s
        return {"timed": True, "loops": started.loops}

    def answer(self, message: dict[str, Any]) -> dict[str, Any]:
        """The reply to one request (not "quit")."""
        op = message["op"]
        if op == "load":
            return self.load(Case.from_json(message["case"]))
        if self.timing is None:
            raise RuntimeError(f"{op!r} before a case was loaded to time")
        if op == "slice":
            done = self.timing.sample_slice()
            if not done:  # a done case's worker exits next
                settle(self.settle_s)
            return {"done": done}
        if op == "time":
            return {"samples_ns": self.timing.samples(message["count"], message["loops"])}
        if op == "finish":
            return {"record": self.timing.finish(message.get("samples_ns")).to_json()}
        raise ValueError(f"unknown request {op!r}")

    def serve(self, receive: Callable[[], dict[str, Any] | None], send: Callable) -> None:
        """Answer requests until "quit" or the end of input."""
        while (message := receive()) is not None and message["op"] != "quit":
            try:
                reply = {"ok": True, **self.answer(message)}
            except Exception as error:  # the client makes the case's failed record from it
                reply = {
                    "ok": False,
                    "error": f"{type(error).__name__}: {error}",
                    "traceback": traceback.format_exc(),
                }
            send(reply)


def serve_lines(requests: IO[str], replies: IO[str]) -> None:
    """The protocol over text streams, one JSON object a line."""

    def receive() -> dict[str, Any] | None:
        line = requests.readline()
        return json.loads(line) if line else None

    def send(reply: dict[str, Any]) -> None:
        replies.write(json.dumps(reply) + "\n")
        replies.flush()

    CaseWorker().serve(receive, send)


def main() -> int:
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints must not break the protocol
    serve_lines(sys.stdin, replies)
    return 0


if __name__ == "__main__":
    sys.exit(main())
