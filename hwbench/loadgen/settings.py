"""A case's LoadGen TestSettings (fields as bound in loadgen/bindings/python_api.cc)."""

from __future__ import annotations

from typing import Any

from hwbench.loadgen.config import LoadGenConfig

# How far off the measured step LoadGen's expectations are set: it generates queries for
# min_duration from them, and a run that outpaces its expectation runs out of queries before
# min_duration and is INVALID ("Increase expected QPS ..."), so the expectation leans fast.
EXPECTATION_MARGIN = 2.0


def loadgen_settings(
    lg: Any, config: LoadGenConfig, mode: str, step_ns: float, batch: int, seed: int
) -> Any:
    """mlperf_loadgen.TestSettings for `config` in `mode` ("PerformanceOnly" or
    "AccuracyOnly"), its expected latency or rate from one measured step of `batch` samples."""
    settings = lg.TestSettings()
    settings.scenario = getattr(lg.TestScenario, config.scenario)
    settings.mode = getattr(lg.TestMode, mode)
    settings.min_duration_ms = config.min_duration_ms
    settings.min_query_count = config.min_query_count
    settings.server_target_qps = config.server_target_qps
    settings.multi_stream_samples_per_query = config.multi_stream_samples_per_query
    expected_ns = max(1, int(step_ns / EXPECTATION_MARGIN))
    settings.single_stream_expected_latency_ns = expected_ns
    settings.multi_stream_expected_latency_ns = expected_ns
    settings.offline_expected_qps = batch * 1e9 / expected_ns
    for name in ("qsl_rng_seed", "sample_index_rng_seed", "schedule_rng_seed"):
        setattr(settings, name, seed)
    return settings
