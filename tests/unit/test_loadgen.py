"""The LoadGen pieces: settings by size, the System Under Test over a session, the official
LoadGen run on it and its logs read back, the accuracy run's parity, and the settings as
flags and suite keys."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import replace

import pytest
import torch

from hwbench.backends.cpu import CPU
from hwbench.case import Case
from hwbench.config import suite_from_dict
from hwbench.engines.base import Session
from hwbench.errors import UsageError
from hwbench.loadgen.config import LOADGEN_DEFAULTS, loadgen_config
from hwbench.loadgen.summary import DETAIL, SUMMARY
from hwbench.loadgen.sut import StepSUT
from hwbench.scenarios.loadgen import accuracy_parity

lg = pytest.importorskip("mlperf_loadgen")


class Doubling(Session):
    """Twice its input, after `delay_s`; fails on a sample whose value is `poison`."""

    def __init__(self, delay_s: float = 0.0, poison: float | None = None) -> None:
        super().__init__(CPU())
        self.delay_s, self.poison, self.batches = delay_s, poison, []

    def run(self, placed):
        (x,) = placed
        self.batches.append(x.shape[0])
        if self.poison is not None and bool((x == self.poison).any()):
            raise RuntimeError("poisoned sample")
        time.sleep(self.delay_s)
        return x * 2


def samples(n: int = 5) -> tuple[torch.Tensor]:
    return (torch.arange(n, dtype=torch.float32).reshape(n, 1) + 1,)


def test_tiny_scales_loadgens_defaults_down_and_says_so_while_given_values_win():
    tiny = loadgen_config("Server", "tiny", {})
    full = loadgen_config("Server", "full", {})
    assert full.min_duration_ms == LOADGEN_DEFAULTS["min_duration_ms"]
    assert tiny.min_duration_ms < full.min_duration_ms
    assert "scaled down for tiny" in tiny.defaults and "scaled down" not in full.defaults
    given = loadgen_config("Server", "tiny", {"server_target_qps": 7.5, "min_query_count": None})
    assert given.server_target_qps == 7.5 and "given: server_target_qps" in given.defaults
    assert "qps=7.5" in given.key_text()
    assert loadgen_config("MultiStream", "small", {}).min_query_count == 662  # mlperf.conf


def test_a_case_with_loadgen_settings_survives_the_worker_protocol():
    config = loadgen_config("MultiStream", "tiny", {"multi_stream_samples_per_query": 4})
    case = Case("mlp", "tiny", "torch@cpu", "loadgen-multistream", 4, loadgen=config)
    again = Case.from_json(case.to_json())
    assert again == case
    assert again.key()["loadgen"] == config.key_text() and "spq=4" in config.key_text()


def test_the_sut_pads_a_short_batch_and_answers_every_sample_with_its_own_output():
    done: list[int] = []
    session = Doubling()
    sut = StepSUT(session, CPU(), samples(), batch=2, complete=done.extend, keep_outputs=True)
    sut.issue([lg.QuerySample(10 + i, i) for i in (4, 0, 2)])
    assert done == [10 + 4, 10 + 0, 10 + 2]
    assert session.batches == [2, 2]  # the lone third sample padded to the prepared batch
    assert {i: float(v) for i, v in sut.outputs.items()} == {4: 10.0, 0: 2.0, 2: 6.0}
    assert len(sut.steps_ns) == 2


def test_a_failing_step_still_answers_loadgen_and_is_raised_afterwards():
    done: list[int] = []
    sut = StepSUT(Doubling(poison=2.0), CPU(), samples(), batch=1, complete=done.extend)
    sut.issue([lg.QuerySample(i, i) for i in range(3)])
    assert done == [0, 1, 2]
    with pytest.raises(RuntimeError, match="poisoned"):
        sut.raise_error()


def run_loadgen(tmp_path, scenario, mode="PerformanceOnly", delay_s=0.001, **given):
    from hwbench.loadgen.run import responder, run_test

    config = replace(loadgen_config(scenario, "tiny", given), sample_count=5)
    sut = StepSUT(
        Doubling(delay_s), CPU(), samples(), 1, responder(lg), scenario == "Server",
        keep_outputs=mode == "AccuracyOnly",
    )  # fmt: skip
    return sut, run_test(sut, config, mode, delay_s * 1e9, 0, tmp_path)


def test_loadgen_itself_runs_singlestream_and_its_summary_gives_the_recorded_p90(tmp_path):
    _, judged = run_loadgen(tmp_path, "SingleStream", min_duration_ms=200, min_query_count=64)
    summary = (tmp_path / SUMMARY).read_text()
    assert (tmp_path / DETAIL).is_file() and not (tmp_path / "mlperf_log_trace.json").exists()
    assert judged["result"] == "VALID", judged["reason"]
    line = next(x for x in summary.splitlines() if x.startswith("90.0th percentile latency"))
    assert judged["p90_ms"] == pytest.approx(int(line.split(":")[1]) / 1e6)
    assert judged["p50_ms"] <= judged["p90_ms"] <= judged["p99_ms"]
    assert judged["p50_ms"] >= 1.0  # the step sleeps 1 ms
    assert judged["query_count"] >= 64 and judged["samples_per_s"] > 0


def test_a_rate_the_sut_cannot_hold_is_invalid_with_loadgens_reason(tmp_path):
    _, judged = run_loadgen(
        tmp_path, "Server", delay_s=0.004, server_target_qps=2000.0, min_duration_ms=100,
        min_query_count=100,
    )  # fmt: skip
    assert judged["result"] == "INVALID"
    assert "Reduce target QPS" in judged["reason"]
    assert "INVALID" in (tmp_path / SUMMARY).read_text()


def test_the_accuracy_run_asks_for_every_sample_once_and_feeds_parity(tmp_path):
    sut, _ = run_loadgen(tmp_path / "acc", "Offline", mode="AccuracyOnly")
    assert sorted(sut.outputs) == [0, 1, 2, 3, 4]
    reference = samples()[0] * 2
    assert accuracy_parity(reference, sut.outputs, "fp32")["passed"]
    wrong = {**sut.outputs, 3: sut.outputs[3] + 1}
    verdict = accuracy_parity(reference, wrong, "fp32")
    assert not verdict["passed"] and "5 of 5 samples" in verdict["compared"]
    assert not accuracy_parity(reference, {}, "fp32")["passed"]


def test_loadgen_settings_are_suite_keys_checked_by_name():
    suite = suite_from_dict({"server_target_qps": 12.5, "min_duration_ms": 500}, "s.toml")
    assert suite.server_target_qps == 12.5 and suite.min_duration_ms == 500
    with pytest.raises(UsageError, match=r"server_target_qps \(--target-qps\)"):
        suite_from_dict({"server_target_qps": 0}, "s.toml")
    with pytest.raises(UsageError, match="multi_stream_samples_per_query"):
        suite_from_dict({"multi_stream_samples_per_query": 1.5}, "s.toml")


def test_the_loadgen_scenarios_load_without_mlperf_loadgen():
    script = (
        "import builtins\nreal = builtins.__import__\n"
        "def blocked(name, *a, **k):\n"
        "    if name.startswith('mlperf_loadgen'): raise ImportError('No module mlperf_loadgen')\n"
        "    return real(name, *a, **k)\n"
        "builtins.__import__ = blocked\n"
        "from hwbench.registry import plugins\n"
        "print(sorted(n for n in plugins('scenarios') if n.startswith('loadgen')))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "loadgen-multistream" in done.stdout and "loadgen-offline" in done.stdout
