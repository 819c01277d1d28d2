"""A LoadGen System Under Test and Query Sample Library over one step session.

The library holds the workload's seeded samples (rows of its inputs), each placed on the device
by itself when LoadGen loads it (untimed, as MLPerf's LoadSamplesToRam allows). A query's
samples run as steps of the case's batch: one sample uses its placed copy; several are
gathered, padded with the first of them to a full batch (so each step has the shape the
session was prepared for) and placed as part of the step. Each step ends with the device's
synchronize before its samples are reported complete. SingleStream, MultiStream and Offline
queries run inside LoadGen's IssueQuery call, as the next is issued only after; Server queries
queue for the thread that calls `serve` (LoadGen then runs in another), so arrivals wait
behind a busy device. Steps run in the thread that prepared the session: a PyTorch CPU step
in a new thread took 13.7 ms instead of 2.6 ms here (resnet50 tiny, 2 cores), its OpenMP team
competing with the first thread's spinning one.
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from typing import Any

import torch

from hwbench.backends.base import Device
from hwbench.engines.base import Session

Complete = Callable[[list[Any]], None]  # mlperf_loadgen.QuerySamplesComplete on (id) pairs


class StepSUT:
    """Runs LoadGen's queries on `session`; keeps each step's time (ns) and, when
    `keep_outputs`, every sample's output (float32, CPU) by sample index."""

    def __init__(
        self,
        session: Session,
        device: Device,
        samples: tuple[torch.Tensor, ...],  # each (N, ...) on the CPU: N samples
        batch: int,
        complete: Complete,
        queued: bool = False,
        keep_outputs: bool = False,
    ) -> None:
        self.session, self.device, self.samples, self.batch = session, device, samples, batch
        self.complete, self.keep_outputs = complete, keep_outputs
        self.timer = device.timer()
        self.placed: dict[int, Any] = {}
        self.outputs: dict[int, torch.Tensor] = {}
        self.steps_ns: list[float] = []
        self.error: BaseException | None = None
        self.queue: queue.Queue | None = queue.Queue() if queued else None

    # The QSL's callbacks: lists of sample indices.
    def load(self, indices: list[int]) -> None:
        for index in indices:
            self.placed[index] = self.session.place(self._rows([index]))

    def unload(self, indices: list[int]) -> None:
        for index in indices:
            self.placed.pop(index, None)

    # The SUT's callbacks: lists of mlperf_loadgen.QuerySample (id, index).
    def issue(self, query: list[Any]) -> None:
        pairs = [(sample.id, sample.index) for sample in query]
        if self.queue is not None:
            self.queue.put(pairs)
        else:
            self._answer(pairs)

    def flush(self) -> None:
        """Nothing is held back: every query is run as it comes."""

    def stop(self) -> None:
        """End `serve` once LoadGen has returned."""
        if self.queue is not None:
            self.queue.put(None)

    def serve(self) -> None:
        """Answer queued queries until `stop`."""
        assert self.queue is not None, "a queued SUT"
        while (pairs := self.queue.get()) is not None:
            self._answer(pairs)

    def _answer(self, pairs: list[tuple[int, int]]) -> None:
        """Run the query's samples batch by batch, each batch reported as it ends. A failed
        step still reports its samples (LoadGen would wait for them forever); the error is
        kept and raised once LoadGen returns."""
        for start in range(0, len(pairs), self.batch):
            chunk = pairs[start : start + self.batch]
            if self.error is None:
                try:
                    self._step([index for _, index in chunk])
                except Exception as error:  # raised again by raise_error after the run
                    self.error = error
            self.complete([sample_id for sample_id, _ in chunk])

    def _step(self, indices: list[int]) -> None:
        self.timer.start()
        if len(indices) == 1 and self.batch == 1:
            placed = self.placed.get(indices[0])
            if placed is None:  # not loaded by LoadGen (it loads every sample it issues)
                placed = self.session.place(self._rows(indices))
        else:
            padded = indices + [indices[0]] * (self.batch - len(indices))
            placed = self.session.place(self._rows(padded))
        output = self.session.run(placed)
        self.steps_ns.append(self.timer.stop())
        if self.keep_outputs:
            rows = self.session.to_cpu(output)
            for row, index in enumerate(indices):
                self.outputs[index] = rows[row]

    def _rows(self, indices: list[int]) -> tuple[torch.Tensor, ...]:
        return tuple(t[indices] for t in self.samples)

    def raise_error(self) -> None:
        if self.error is not None:
            raise self.error
