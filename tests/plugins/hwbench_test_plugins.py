"""Test doubles loaded through HWBENCH_PLUGINS: engines that misbehave on purpose. Run as
`python -m hwbench_test_plugins PORT FAULT DIR WORKLOAD SIZE SEED`, the fake vLLM server that
test-serve starts."""

from __future__ import annotations

import contextlib
import ctypes
import json
import multiprocessing
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import torch

from hwbench.engines.base import Endpoint, Engine, Session, Spec
from hwbench.engines.torch_eager import EagerSession, TorchEager
from hwbench.errors import unknown_choice


class MisbehavingEngine(TorchEager):
    """Eager torch, except that `misbehave()` runs as prepare() starts and `wrap()` may
    replace the session it returns; each test engine overrides one of them."""

    name = None  # not an engine itself (the registry takes classes whose name is a string)

    def prepare(self, spec: Spec, example_inputs: Any = None) -> Session:
        self.misbehave()
        return self.wrap(super().prepare(spec))

    def misbehave(self) -> None:
        pass

    def wrap(self, session: EagerSession) -> Session:
        return session


class RaisingEngine(MisbehavingEngine):
    """prepare() raises, as a broken backend would."""

    name = "test-raise"

    def misbehave(self) -> None:
        raise RuntimeError("backend exploded on purpose")


class CrashingEngine(MisbehavingEngine):
    """The worker process dies from a signal, as on a segfault in a native library."""

    name = "test-crash"

    def misbehave(self) -> None:
        os.kill(os.getpid(), signal.SIGKILL)


class HangingEngine(MisbehavingEngine):
    """prepare() never returns, as a deadlocked driver would."""

    name = "test-hang"

    def misbehave(self) -> None:
        if mark := os.environ.get("HWBENCH_TEST_HANG_MARK"):
            Path(mark).touch()  # tells a test the hang has begun
        time.sleep(3600)


class PerturbedSession(EagerSession):
    def run(self, placed: Any) -> Any:
        out = super().run(placed)
        return out + 0.05 * out.abs().mean() * torch.ones_like(out)


class PerturbingEngine(MisbehavingEngine):
    """Computes a slightly different function: parity must catch it."""

    name = "test-perturb"

    def wrap(self, session: EagerSession) -> Session:
        return PerturbedSession(session.model, session.device, session.dtype)


class OrphaningEngine(MisbehavingEngine):
    """Starts a process it never stops (as a leaky runtime's helper would) and writes its pid
    to $HWBENCH_TEST_ORPHAN_PID; otherwise eager torch."""

    name = "test-orphan"

    def misbehave(self) -> None:
        helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        Path(os.environ["HWBENCH_TEST_ORPHAN_PID"]).write_text(str(helper.pid))


class EnvironmentEngine(MisbehavingEngine):
    """Fails unless the worker sees $HWBENCH_TEST_EXPECT and writes a line to stderr; writes
    its multiprocessing name ("hwbench-worker" when forked by the runner) to
    $HWBENCH_TEST_WORKER_NAME."""

    name = "test-env"

    def misbehave(self) -> None:
        name = multiprocessing.current_process().name
        Path(os.environ["HWBENCH_TEST_WORKER_NAME"]).write_text(name)
        print("stderr of the worker", file=sys.stderr, flush=True)
        if os.environ.get("HWBENCH_TEST_EXPECT") != "this case":
            os._exit(3)


class CrashLaterSession(EagerSession):
    """Kills its process on the first run after a pause of 50 ms or more, as an interleaved
    case's second pass makes."""

    last_run: float | None = None

    def run(self, placed: Any) -> Any:
        now = time.monotonic()
        if self.last_run is not None and now - self.last_run > 0.05:
            os.kill(os.getpid(), signal.SIGKILL)
        self.last_run = now
        return super().run(placed)


class CrashingLaterEngine(MisbehavingEngine):
    """Eager torch that dies between interleaved passes."""

    name = "test-crash-later"

    def wrap(self, session: EagerSession) -> Session:
        return CrashLaterSession(session.model, session.device, session.dtype)


FAULT_POINTS = ("prepare", "first-run", "timed", "parity")
FAULTS = ("raise", "sigkill", "sigsegv", "sigterm", "hang", "oom")
OOM_HEADROOM = 256 << 20  # bytes of address space left to the worker over what it maps now


def inject(fault: str, point: str) -> None:
    """Misbehave as `fault` says, in the worker's own process."""
    if fault == "raise":
        raise RuntimeError(f"fault injected in {point}")
    if fault in ("sigkill", "sigterm"):
        os.kill(os.getpid(), signal.SIGKILL if fault == "sigkill" else signal.SIGTERM)
    if fault == "sigsegv":
        ctypes.string_at(0)  # a null dereference, as in a native library
    if fault == "hang":
        time.sleep(3600)
    if fault == "oom":  # an address-space limit, then an allocation past it
        mapped = int(Path("/proc/self/statm").read_text().split()[0]) * os.sysconf("SC_PAGESIZE")
        resource.setrlimit(resource.RLIMIT_AS, (mapped + OOM_HEADROOM, resource.RLIM_INFINITY))
        torch.empty(8 << 30, dtype=torch.uint8)


def timing() -> bool:
    """Whether the caller runs inside a timed slice (the harness's sample_slice)."""
    frame = sys._getframe()
    while frame is not None and frame.f_code.co_name != "sample_slice":
        frame = frame.f_back
    return frame is not None


class FaultSession(EagerSession):
    """Eager torch that injects `fault` at the first run, in the timed loop or in parity."""

    def __init__(self, session: EagerSession, fault: str, point: str) -> None:
        super().__init__(session.model, session.device, session.dtype)
        self.fault, self.point, self.runs = fault, point, 0

    def run(self, placed: Any) -> Any:
        self.runs += 1
        if (self.point, self.runs) == ("first-run", 1) or (self.point == "timed" and timing()):
            inject(self.fault, self.point)
        return super().run(placed)

    def to_cpu(self, outputs: Any) -> torch.Tensor:
        if self.point == "parity":
            inject(self.fault, self.point)
        return super().to_cpu(outputs)


class FaultEngine(MisbehavingEngine):
    """Eager torch with a fault injected: `test-fault@cpu:at=POINT,how=FAULT`."""

    name = "test-fault"
    options: ClassVar[tuple[str, ...]] = ("at", "how")

    @classmethod
    def check_options(cls, options: dict[str, str], device: str) -> None:
        if options.get("at", "prepare") not in FAULT_POINTS:
            raise unknown_choice("fault point", options["at"], FAULT_POINTS)
        if options.get("how", "raise") not in FAULTS:
            raise unknown_choice("fault", options["how"], FAULTS)

    def prepare(self, spec: Spec, example_inputs: Any = None) -> Session:
        point, fault = spec.options.get("at", "prepare"), spec.options.get("how", "raise")
        if point == "prepare":
            inject(fault, point)
        session = super().prepare(spec)
        assert isinstance(session, EagerSession)
        return FaultSession(session, fault, point)


SERVER_FAULTS = ("none", "die", "cut", "never-ready")


class FakeServeEngine(Engine):
    """Serves the workload from a fake vLLM server (`fake_server` below, started through
    VllmServer): `test-serve@cpu:fault=FAULT,port=N,ready_s=S`."""

    name = "test-serve"
    provides: ClassVar[tuple[str, ...]] = ("server",)
    options: ClassVar[tuple[str, ...]] = ("fault", "port", "ready_s")

    @classmethod
    def check_options(cls, options: dict[str, str], device: str) -> None:
        if options.get("fault", "none") not in SERVER_FAULTS:
            raise unknown_choice("server fault", options["fault"], SERVER_FAULTS)

    @contextlib.contextmanager
    def serve(self, spec: Spec, max_len: int, log_path: Path) -> Iterator[Endpoint]:
        from hwbench.llm.checkpoint import checkpoint_dir
        from hwbench.llm.vllm_server import SERVED_NAME, VllmServer, free_port

        directory = checkpoint_dir(spec.workload).directory
        port = int(spec.options.get("port") or free_port())
        workload = spec.workload
        fault = spec.options.get("fault", "none")
        argv = [str(port), fault, str(directory), workload.name, workload.size, str(workload.seed)]
        server = VllmServer(
            directory,
            log_path=log_path,
            port=port,
            health_timeout_s=float(spec.options.get("ready_s", 120)),
            command=[sys.executable, "-m", "hwbench_test_plugins", *argv],
        )
        with server:
            yield Endpoint(server.base_url, SERVED_NAME, {"fake_server": fault})


def fake_server(port: int, fault: str, directory: str, workload: str, size: str, seed: int) -> None:
    """An OpenAI completions server on 127.0.0.1:`port` that streams like vLLM, answers
    prompt_logprobs with the workload's float32 model, and misbehaves as `fault` says: "die"
    exits on the first timed request (after the warm-up's), "cut" closes each timed stream
    after its first chunk, "never-ready" never listens."""
    from aiohttp import web
    from tokenizers import Tokenizer

    from hwbench.llm.generation import logprobs_of_prompt
    from hwbench.llm.text_prompts import WARMUP_REQUESTS
    from hwbench.workloads import make_workload

    print("fake vLLM server loading", flush=True)
    if fault == "never-ready":
        time.sleep(3600)
    model = make_workload(workload, size, seed).build()
    tokenizer = Tokenizer.from_file(f"{directory}/tokenizer.json")
    streams = 0

    def event(body: dict[str, Any]) -> bytes:
        return f"data: {json.dumps(body)}\n\n".encode()

    async def health(request: web.Request) -> web.Response:
        return web.Response()

    async def completions(request: web.Request) -> web.StreamResponse:
        nonlocal streams
        payload = await request.json()
        prompt = payload["prompt"]
        if "prompt_logprobs" in payload:
            ids = torch.tensor([prompt])
            with torch.inference_mode():
                found = logprobs_of_prompt(model(ids), ids)[0].tolist()
            pairs = zip(prompt[1:], found, strict=True)
            positions = [None] + [{str(t): {"logprob": v}} for t, v in pairs]
            return web.json_response({"choices": [{"index": 0, "prompt_logprobs": positions}]})
        streams += 1
        timed = streams > WARMUP_REQUESTS
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for i in range(payload["max_tokens"]):
            await response.write(event({"choices": [{"index": 0, "text": f" t{i}"}]}))
            if timed and fault == "die":
                print("fake vLLM server dying on purpose", flush=True)
                os._exit(1)
            if timed and fault == "cut":
                request.transport.abort()
                return response
        prompt_tokens = len(tokenizer.encode(prompt, add_special_tokens=False).ids)
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": payload["max_tokens"]}
        await response.write(event({"choices": [], "usage": usage}))
        await response.write(b"data: [DONE]\n\n")
        return response

    app = web.Application()
    app.router.add_get("/health", health)
    app.router.add_post("/v1/completions", completions)
    web.run_app(app, host="127.0.0.1", port=port, print=None)


if __name__ == "__main__":
    port, fault, directory, workload, size, seed = sys.argv[1:]
    fake_server(int(port), fault, directory, workload, size, int(seed))
