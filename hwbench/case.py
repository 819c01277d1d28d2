"""One case: a workload at a size on a target in a scenario at a batch size."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from hwbench.config import Suite, Target
from hwbench.errors import UsageError
from hwbench.harness import HarnessConfig
from hwbench.registry import lookup
from hwbench.scenarios.generate import lengths
from hwbench.scenarios.serve import rate_text
from hwbench.workloads import make_workload


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
            **self._llm_key(),
        }

    def _llm_key(self) -> dict[str, Any]:
        if self.prompt_len is None:
            return {}
        key: dict[str, Any] = {"prompt_len": self.prompt_len, "output_len": self.output_len}
        if self.request_rate is not None:
            key |= {"request_rate": rate_text(self.request_rate), "burstiness": self.burstiness}
        return key

    def label(self) -> str:
        text = f"{self.workload}/{self.size} {self.target} {self.scenario} b{self.batch}"
        if self.prompt_len is not None:
            text += f" {self.prompt_len}->{self.output_len}"
        if self.request_rate is not None:
            text += f" @{rate_text(self.request_rate)} req/s"
        return text

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def outcome(self, status: str, reason: str) -> dict[str, Any]:
        """The record of a case that was not measured: failed or skipped, and why."""
        return {"key": self.key(), "status": status, "reason": reason}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Case:
        return cls(**{**data, "harness": HarnessConfig(**data["harness"])})


def expand(suite: Suite) -> list[Case]:
    """Every case of `suite`, in the order they run. An engine meets only the scenarios of
    the kinds it runs (vllm: generate and serve), and generate / serve only decoders."""
    cases = []
    for workload_name in suite.workloads:
        for size in suite.sizes:
            workload = make_workload(workload_name, size, suite.seed, suite.model_path)
            for target in suite.targets:
                kinds = lookup("engines", target.engine).scenario_kinds
                for scenario_name in suite.scenarios:
                    scenario = lookup("scenarios", scenario_name)()
                    if scenario.kind not in kinds or not scenario.applies(workload):
                        continue
                    common = Case(
                        workload_name,
                        size,
                        str(target),
                        scenario_name,
                        1,
                        suite.model_path,
                        suite.seed,
                        suite.check_only,
                        suite.harness,
                        slo=suite.slo,
                    )
                    if scenario.kind != "step":
                        prompt, output = lengths(workload, suite.prompt_len, suite.output_len)
                        common = replace(common, prompt_len=prompt, output_len=output)
                    rates = (None,)
                    if scenario.kind == "serve":
                        rates = suite.request_rates or scenario.default_rates
                    for batch in scenario.batches(workload, suite.batches):
                        for rate in rates:
                            cases.append(
                                replace(
                                    common,
                                    batch=batch,
                                    request_rate=rate,
                                    burstiness=suite.burstiness,
                                )
                            )
    if not cases:
        raise UsageError(no_cases_reason(suite))
    return cases


def no_cases_reason(suite: Suite) -> str:
    """Why the suite's engines, scenarios and workloads make no case together."""
    engines = {t.engine: lookup("engines", t.engine).scenario_kinds for t in suite.targets}
    kinds = {s: lookup("scenarios", s).kind for s in suite.scenarios}
    runs = ", ".join(f"{e} runs {'/'.join(k)}" for e, k in engines.items())
    asked = ", ".join(f"{s} ({k})" for s, k in kinds.items())
    return (
        f"no case to run: scenarios {asked} for targets where {runs}; "
        "generate and serve run only decoder workloads (llama, moe, a causal --model)"
    )
