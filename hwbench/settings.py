"""Type and range rules for every setting of a suite and its harness: one check, whether the
value came from a flag, a suite file or a saved case, naming the key (and its flag) and what
it takes."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

from hwbench.errors import UsageError

SEED_LIMIT = 2**64  # torch.manual_seed takes seeds below this; numpy's default_rng, >= 0


@dataclass(frozen=True)
class Rule:
    """What a setting takes: `kind` ("int", "number", "text", "flag"), as a list when `listed`;
    numbers finite (or also inf, `infinite_ok`), >= `at_least` or > `above`, < `below`."""

    kind: str
    listed: bool = False
    at_least: float | None = None
    above: float | None = None
    below: float | None = None
    infinite_ok: bool = False
    optional: bool = False  # None allowed (the setting's "not given")

    def describe(self) -> str:
        noun = {"int": "an integer", "number": "a finite number", "text": "text",
                "flag": "true or false"}[self.kind]  # fmt: skip
        if self.infinite_ok:
            noun = "a number (inf allowed)"
        bounds = [
            f">= {_number(self.at_least)}" if self.at_least is not None else "",
            f"> {_number(self.above)}" if self.above is not None else "",
            f"< {_number(self.below)}" if self.below is not None else "",
        ]
        said = " and ".join(b for b in bounds if b)
        text = f"{noun} {said}".strip()
        return f"a list of {_plural(text)}" if self.listed else text

    def allows(self, value: Any) -> bool:
        if value is None:
            return self.optional
        if self.listed:
            return isinstance(value, list | tuple) and all(self._item_ok(v) for v in value)
        return self._item_ok(value)

    def _item_ok(self, value: Any) -> bool:
        if isinstance(value, bool):
            return self.kind == "flag"
        if self.kind == "text":
            return isinstance(value, str)
        if self.kind == "flag" or not isinstance(value, int | float):
            return False
        if self.kind == "int" and not isinstance(value, int):
            return False
        if math.isnan(value) or (math.isinf(value) and not self.infinite_ok):
            return False
        return (
            (self.at_least is None or value >= self.at_least)
            and (self.above is None or value > self.above)
            and (self.below is None or value < self.below)
        )


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _plural(text: str) -> str:
    head, _, rest = text.removeprefix("an ").removeprefix("a ").partition(" ")
    return f"{head}s {rest}".strip()


# Each Suite field (hwbench/config.py) and its flag on `hwbench run`, where it has one.
SUITE_RULES: dict[str, Rule] = {
    "name": Rule("text"),
    "workloads": Rule("text", listed=True),
    "sizes": Rule("text", listed=True),
    "targets": Rule("text", listed=True),
    "scenarios": Rule("text", listed=True),
    "batches": Rule("int", listed=True, at_least=1),
    "model_path": Rule("text", optional=True),
    "model_name": Rule("text", optional=True),
    "seed": Rule("int", at_least=0, below=SEED_LIMIT),
    "case_timeout_s": Rule("number", above=0),
    "live_cases": Rule("int", at_least=1, optional=True),
    "check_only": Rule("flag"),
    "prompt_len": Rule("int", at_least=1, optional=True),
    "output_len": Rule("int", at_least=1, optional=True),
    "request_rates": Rule("number", listed=True, above=0, infinite_ok=True),
    "burstiness": Rule("number", above=0),
    "slo": Rule("text", optional=True),
    "min_duration_ms": Rule("int", at_least=0, optional=True),
    "min_query_count": Rule("int", at_least=1, optional=True),
    "server_target_qps": Rule("number", above=0, optional=True),
    "multi_stream_samples_per_query": Rule("int", at_least=1, optional=True),
    "endpoint": Rule("text", optional=True),
    "served_model": Rule("text", optional=True),
    "tokenizer": Rule("text", optional=True),
    "api": Rule("text"),
    "api_key_env": Rule("text", optional=True),
    "request_timeout_s": Rule("number", above=0),
    "tls_verify": Rule("flag"),
}
HARNESS_RULES: dict[str, Rule] = {
    "warmup_s": Rule("number", at_least=0),
    "warmup_runs": Rule("int", at_least=0),
    "min_sample_s": Rule("number", at_least=0),
    "min_samples": Rule("int", at_least=1),
    "min_time_s": Rule("number", at_least=0),
    "target_rel_ci": Rule("number", at_least=0),
    "time_budget_s": Rule("number", above=0),
    "max_samples": Rule("int", at_least=1),
    "passes": Rule("int", at_least=1),
    "settle_s": Rule("number", at_least=0),
}
# `hwbench ab`'s sampling (hwbench.execution.ab_suite.Design).
AB_RULES: dict[str, Rule] = {
    "blocks": Rule("int", at_least=2, optional=True),
    "samples": Rule("int", at_least=1),
    "budget_s": Rule("number", above=0, optional=True),
}
FLAGS = {
    "workloads": "--workload",
    "sizes": "--size",
    "targets": "--target",
    "scenarios": "--scenario",
    "batches": "--batch",
    "model_path": "--model",
    "model_name": "--name",
    "seed": "--seed",
    "case_timeout_s": "--timeout",
    "live_cases": "--live-cases",
    "prompt_len": "--prompt-len",
    "output_len": "--output-len",
    "request_rates": "--request-rate",
    "burstiness": "--burstiness",
    "slo": "--slo",
    "min_duration_ms": "--min-duration-ms",
    "min_query_count": "--min-query-count",
    "server_target_qps": "--target-qps",
    "multi_stream_samples_per_query": "--samples-per-query",
    "endpoint": "--endpoint",
    "served_model": "--served-model",
    "tokenizer": "--tokenizer",
    "api": "--api",
    "api_key_env": "--api-key-env",
    "request_timeout_s": "--request-timeout",
    "tls_verify": "--no-tls-verify",
    "time_budget_s": "--time-budget",
    "passes": "--passes",
    "blocks": "--blocks",
    "samples": "--samples",
    "budget_s": "--budget",
}


def check(name: str, value: Any, rule: Rule, section: str = "") -> None:
    """UsageError unless `rule` allows `value`, naming the key, its flag and the rule."""
    if rule.allows(value):
        return
    flag = f" ({FLAGS[name]})" if name in FLAGS else ""
    raise UsageError(f"{section}{name}{flag} must be {rule.describe()}, got {value!r}")


def check_fields(settings: Any, rules: dict[str, Rule], section: str = "") -> None:
    """Check each dataclass field of `settings` that `rules` names."""
    for item in fields(settings):
        if item.name in rules:
            check(item.name, getattr(settings, item.name), rules[item.name], section)
