"""A worker hands the machine back idle after each slice: a thread pool that spins after the
slice's last step (onnxruntime's, OpenMP's) must not share a core with the next case's slice."""

import threading
import time

from hwbench.execution.worker import CaseWorker
from hwbench.results.record import CaseRecord
from hwbench.scenarios.base import Timing

SPIN_S = 0.15


class SpinningTiming(Timing):
    """A case whose every slice leaves a thread spinning for SPIN_S after it returns."""

    loops = 1

    def __init__(self, slices: int) -> None:
        self.left = slices
        self.spinners: list[threading.Thread] = []

    def sample_slice(self) -> bool:
        end = time.perf_counter() + SPIN_S

        def busy() -> None:
            while time.perf_counter() < end:
                pass

        self.spinners.append(threading.Thread(target=busy))
        self.spinners[-1].start()
        self.left -= 1
        return self.left == 0

    def samples(self, count: int, loops: int) -> list[float]:
        return [1.0] * count

    def finish(self, samples_ns: list[float] | None = None) -> CaseRecord:
        raise NotImplementedError


def worker_with(timing: Timing, settle_s: float) -> CaseWorker:
    worker = CaseWorker()
    worker.timing, worker.settle_s = timing, settle_s
    return worker


def test_a_slice_is_answered_once_the_worker_has_stopped_spinning():
    timing = SpinningTiming(slices=2)
    reply = worker_with(timing, settle_s=2.0).answer({"op": "slice"})
    assert reply == {"done": False}
    assert not timing.spinners[-1].is_alive()


def test_the_last_slice_and_settle_s_0_answer_at_once():
    for timing, settle_s in ((SpinningTiming(slices=1), 2.0), (SpinningTiming(slices=2), 0.0)):
        start = time.perf_counter()
        worker_with(timing, settle_s).answer({"op": "slice"})
        assert time.perf_counter() - start < SPIN_S / 2
        timing.spinners[-1].join()
