"""One case: a workload at a size on a target in a scenario at a batch size."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from hwbench.config import Suite, Target
from hwbench.harness import HarnessConfig
from hwbench.registry import lookup
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
        }

    def label(self) -> str:
        return f"{self.workload}/{self.size} {self.target} {self.scenario} b{self.batch}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Case:
        return cls(**{**data, "harness": HarnessConfig(**data["harness"])})


def expand(suite: Suite) -> list[Case]:
    """Every case of `suite`, in the order they run."""
    cases = []
    for workload_name in suite.workloads:
        for size in suite.sizes:
            workload = make_workload(workload_name, size, suite.seed, suite.model_path)
            for target in suite.targets:
                for scenario_name in suite.scenarios:
                    scenario = lookup("scenarios", scenario_name)()
                    for batch in scenario.batches(workload, suite.batches):
                        cases.append(
                            Case(
                                workload_name,
                                size,
                                str(target),
                                scenario_name,
                                batch,
                                suite.model_path,
                                suite.seed,
                                suite.check_only,
                                suite.harness,
                            )
                        )
    return cases
