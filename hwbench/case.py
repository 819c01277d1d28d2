"""One case: a workload at a size on a target in a scenario at a batch size."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from hwbench.config import Target
from hwbench.labels import label, rate_text
from hwbench.loadgen.config import LoadGenConfig
from hwbench.measure.harness import HarnessConfig
from hwbench.results.record import CaseRecord, Status


@dataclass(frozen=True)
class Case:
    workload: str
    size: str
    target: str  # written form, e.g. "torch@cpu:dtype=bf16"
    scenario: str
    batch: int
    model_path: str | None = None
    seed: int = 0
    check_only: bool = False
    harness: HarnessConfig = field(default_factory=HarnessConfig)
    # generate and serve only: token counts, and the serve scenario's load
    prompt_len: int | None = None
    output_len: int | None = None
    request_rate: float | None = None  # requests/s; inf: all at once
    burstiness: float = 1.0
    slo: str | None = None  # e.g. "ttft=500ms,tpot=50ms", for goodput
    model_name: str | None = None  # a --model workload's name in tables (Workload.model_name)
    # serve against a server hwbench did not start: hwbench.config.Suite's fields of these names
    endpoint: str | None = None
    served_model: str | None = None
    tokenizer: str | None = None
    api: str = "completions"
    api_key_env: str | None = None  # the variable's name; the key itself is never stored
    request_timeout_s: float = 600.0
    tls_verify: bool = True
    loadgen: LoadGenConfig | None = None  # the LoadGen scenarios' settings

    @property
    def parsed_target(self) -> Target:
        return Target.parse(self.target)

    def key(self) -> dict[str, Any]:
        """What identifies the case across result files."""
        target = self.parsed_target
        return {
            "workload": self.workload,
            "size": self.size,
            "engine": target.engine,
            "device": target.device,
            "dtype": target.dtype,
            "options": target.engine_options,
            "scenario": self.scenario,
            "batch": self.batch,
            "model_path": self.model_path,
            "seed": self.seed,
            **({"model_name": self.model_name} if self.model_name else {}),
            **self._llm_key(),
            **({"loadgen": self.loadgen.key_text()} if self.loadgen else {}),
        }

    def _llm_key(self) -> dict[str, Any]:
        if self.prompt_len is None:
            return {}
        key: dict[str, Any] = {"prompt_len": self.prompt_len, "output_len": self.output_len}
        if self.request_rate is not None:
            key |= {"request_rate": rate_text(self.request_rate), "burstiness": self.burstiness}
        if self.endpoint is not None:
            key["api"] = self.api
        return key

    def label(self) -> str:
        return label(self.key())

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def outcome(self, status: Status, reason: str, **details: Any) -> CaseRecord:
        """The record of a case that was not measured: failed or skipped, and why."""
        return CaseRecord(self.key(), status, reason, details=details)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Case:
        loadgen = LoadGenConfig(**data["loadgen"]) if data.get("loadgen") else None
        return cls(**{**data, "harness": HarnessConfig(**data["harness"]), "loadgen": loadgen})
