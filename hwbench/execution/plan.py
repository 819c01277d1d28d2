"""A suite's cases, in the order they run: each scenario makes its own (Scenario.cases) for
each workload and target whose engine gives it what it needs."""

from __future__ import annotations

from hwbench.case import Case
from hwbench.config import Suite
from hwbench.errors import UsageError
from hwbench.registry import lookup
from hwbench.workloads import make_workload


def expand(suite: Suite) -> list[Case]:
    """Every case of `suite`. An engine meets only the scenarios whose needs it provides
    (vllm: a generator and a server), and generate / serve only decoders."""
    cases: list[Case] = []
    for workload_name in suite.workloads:
        for size in suite.sizes:
            workload = make_workload(
                workload_name, size, suite.seed, suite.model_path, suite.model_name
            )
            for target in suite.targets:
                provides = lookup("engines", target.engine).provides
                for scenario_name in suite.scenarios:
                    scenario = lookup("scenarios", scenario_name)()
                    if scenario.needs in provides and scenario.applies(workload):
                        cases += scenario.cases(workload, suite, target)
    if not cases:
        raise UsageError(no_cases_reason(suite))
    return cases


def no_cases_reason(suite: Suite) -> str:
    """Why the suite's engines, scenarios and workloads make no case together."""
    engines = {t.engine: lookup("engines", t.engine).provides for t in suite.targets}
    needs = {s: lookup("scenarios", s).needs for s in suite.scenarios}
    gives = ", ".join(f"{e} gives {' and '.join(p)}" for e, p in engines.items())
    asked = ", ".join(f"{s} (needs a {n})" for s, n in needs.items())
    return (
        f"no case to run: scenarios {asked} for targets where {gives}; "
        "generate and serve run only decoder workloads (llama, moe, a causal --model)"
    )
