"""The LoadGen settings hwbench sets, in LoadGen's own names and units (TestSettings in
mlcommons/inference loadgen/test_settings.h), with their defaults by workload size.

`small` and `full` take LoadGen's defaults (test_settings.h), but MultiStream's query count,
which is mlperf.conf's: without 662 queries LoadGen's early stopping cannot judge a 99th
percentile, and the run is INVALID whatever its speed. `tiny` (CI on 2 cores) is those scaled
down: one second instead of ten, and a Server rate a tiny model holds, with the query counts
LoadGen's early stopping needs at 0 over-latency queries (measured here with LoadGen 6.0.17:
64 for SingleStream's p90, 662 for MultiStream's p99, 459 for Server's p99).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

SCENARIOS = ("SingleStream", "MultiStream", "Server", "Offline")  # lg.TestScenario's names


@dataclass(frozen=True)
class LoadGenConfig:
    """One case's LoadGen settings: what `min_duration_ms` and `min_query_count` ask of a
    performance run, Server's target rate and MultiStream's samples per query, and the
    number of distinct samples in the Query Sample Library (all of them loaded)."""

    scenario: str
    min_duration_ms: int
    min_query_count: int
    server_target_qps: float
    multi_stream_samples_per_query: int
    sample_count: int
    defaults: str  # where the values not given came from, for the record

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def key_text(self) -> str:
        """What identifies the settings in a case key (the ones the scenario reads)."""
        text = f"{self.min_duration_ms}ms/{self.min_query_count}q"
        if self.scenario == "Server":
            text += f",qps={self.server_target_qps:g}"
        if self.scenario == "MultiStream":
            text += f",spq={self.multi_stream_samples_per_query}"
        return text


LOADGEN_DEFAULTS = {  # test_settings.h
    "min_duration_ms": 10_000,
    "min_query_count": 100,
    "server_target_qps": 1.0,
    "multi_stream_samples_per_query": 8,
}
TINY = {"min_duration_ms": 1_000, "server_target_qps": 50.0}
QUERY_COUNTS = {  # scenario -> min_query_count where it differs from LoadGen's default
    "tiny": {"MultiStream": 662, "Server": 500},
    "other": {"MultiStream": 662},  # mlperf.conf: *.MultiStream.min_query_count = 662
}
SAMPLE_COUNTS = {"tiny": 64, "small": 256, "full": 1024}  # mlperf.conf: resnet50's is 1024
GIVEN_NAMES = (
    "min_duration_ms",
    "min_query_count",
    "server_target_qps",
    "multi_stream_samples_per_query",
)


def loadgen_config(scenario: str, size: str, given: dict[str, Any]) -> LoadGenConfig:
    """The settings of `scenario` at `size`: those `given` (flags, suite keys; None: not
    given) over the size's defaults."""
    tier = "tiny" if size == "tiny" else "other"
    values: dict[str, Any] = {**LOADGEN_DEFAULTS, **(TINY if tier == "tiny" else {})}
    values["min_query_count"] = QUERY_COUNTS[tier].get(scenario, values["min_query_count"])
    named = "LoadGen's defaults scaled down for tiny" if tier == "tiny" else "LoadGen's defaults"
    chosen = {k: v for k, v in given.items() if k in GIVEN_NAMES and v is not None}
    return LoadGenConfig(
        scenario=scenario,
        sample_count=SAMPLE_COUNTS.get(size, SAMPLE_COUNTS["full"]),
        defaults=named + (f"; given: {', '.join(sorted(chosen))}" if chosen else ""),
        **{**values, **chosen},
    )


def from_json(data: dict[str, Any]) -> LoadGenConfig:
    return LoadGenConfig(**data)
