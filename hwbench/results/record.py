"""CaseRecord: the one shape of a case's result, built in the worker (or by the parent when
the worker died), written to the result file and read back from it."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Literal

Status = Literal["ok", "failed", "skipped"]
STATUSES: tuple[str, ...] = ("ok", "failed", "skipped")
NOT_TIMED = "parity checked; not timed (--check-only)"


@dataclass(frozen=True)
class Timings:
    """Seconds spent around the timed loop: preparing the session (load, compile, export),
    its first run, and the sampling itself."""

    prepare_s: float | None = None
    first_run_s: float | None = None
    sampling_s: float | None = None


@dataclass(frozen=True)
class Sampling:
    """How the samples were taken: steps per sample, warm-up runs, why sampling stopped, the
    median's relative 95% CI half-width, and where (index) and when (Unix s) each pass began."""

    loops: int = 1
    warmup_runs: int = 0
    stop_reason: str = ""
    rel_ci_halfwidth: float = math.inf
    pass_starts: tuple[int, ...] = ()
    pass_times: tuple[float, ...] = ()


@dataclass(frozen=True)
class CaseRecord:
    """A case's result. `samples_ns` are ns per step (each the mean over `sampling.loops`
    steps; for generate and serve, one generation's or request's end-to-end time).
    `details` holds what only one scenario or tool records (token_times_s, requests,
    server_log, partial_metrics, rung, arm, traceback), written at the record's top level."""

    key: dict[str, Any]
    status: Status
    reason: str = ""
    unstable: str = ""  # why an ok case's speed is not to be trusted (hwbench/measure/noise.py)
    workload: dict[str, Any] | None = None
    parity: dict[str, Any] | None = None
    metrics: dict[str, Any] | None = None
    samples_ns: tuple[float, ...] = ()
    sampling: Sampling = field(default_factory=Sampling)
    session: dict[str, Any] = field(default_factory=dict)
    memory: dict[str, Any] | None = None
    roofline: dict[str, Any] | None = None
    energy: dict[str, Any] | None = None
    timings: Timings = field(default_factory=Timings)
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}; valid: {', '.join(STATUSES)}")

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def timed(self) -> bool:
        """Whether the record holds a speed (ok, with metrics)."""
        return self.ok and self.metrics is not None

    def with_details(self, **details: Any) -> CaseRecord:
        return replace(self, details={**self.details, **details})

    def to_json(self) -> dict[str, Any]:
        """The result file's form: every field at the top level but `details`, whose entries
        stand beside them; empty optional blocks left out."""
        data: dict[str, Any] = {
            "key": self.key,
            "status": self.status,
            "reason": self.reason,
        }
        if self.unstable:
            data["unstable"] = self.unstable
        for name in ("workload", "parity", "metrics", "memory", "roofline", "energy"):
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        if self.session:
            data["session"] = self.session
        if self.samples_ns:
            data["samples_ns"] = list(self.samples_ns)
            data["sampling"] = _without_empty(asdict(self.sampling))
        timings = {k: v for k, v in asdict(self.timings).items() if v is not None}
        if timings:
            data["timings"] = timings
        return {**data, **self.details}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CaseRecord:
        """A record from the result file's form (schema version 4; see results.migrate)."""
        known = {f.name for f in fields(cls)} - {"details"}
        sampling = data.get("sampling") or {}
        return cls(
            key=data["key"],
            status=data["status"],
            reason=data.get("reason") or "",
            unstable=data.get("unstable") or "",
            workload=data.get("workload"),
            parity=data.get("parity"),
            metrics=data.get("metrics"),
            samples_ns=tuple(data.get("samples_ns") or ()),
            sampling=Sampling(
                **{
                    **sampling,
                    "pass_starts": tuple(sampling.get("pass_starts", ())),
                    "pass_times": tuple(sampling.get("pass_times", ())),
                }
            ),
            session=data.get("session") or {},
            memory=data.get("memory"),
            roofline=data.get("roofline"),
            energy=data.get("energy"),
            timings=Timings(**(data.get("timings") or {})),
            details={k: v for k, v in data.items() if k not in known},
        )


def _without_empty(data: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items() if v != ()}
