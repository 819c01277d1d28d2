"""Run configuration as frozen dataclasses, each option declared once and validated here."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from hwbench.backends.base import DTYPES
from hwbench.errors import UsageError, unknown_choice
from hwbench.llm.endpoint_config import DEVICE as ENDPOINT_DEVICE
from hwbench.llm.endpoint_config import ENGINE as ENDPOINT_ENGINE
from hwbench.llm.endpoint_config import WORKLOAD as SERVED_WORKLOAD
from hwbench.llm.endpoint_config import check_suite as check_endpoint
from hwbench.llm.metrics import parse_slos
from hwbench.measure.harness import HarnessConfig
from hwbench.registry import lookup, plugins
from hwbench.settings import HARNESS_RULES, SUITE_RULES, check, check_fields
from hwbench.workloads import builtin_workloads
from hwbench.workloads.base import SIZES

# node= and resource= place a case on a Ray node (hwbench/fleet/placement.py): where a case
# runs, not what it is, so they stay out of the case key as dtype's separate field does.
PLACEMENT_OPTIONS = ("node", "resource")
COMMON_OPTIONS = ("dtype", *PLACEMENT_OPTIONS)
# Suite fields checked on construction; targets are checked as text where they are parsed.
FIELD_RULES = {k: rule for k, rule in SUITE_RULES.items() if k != "targets"}


@dataclass(frozen=True)
class Target:
    """ENGINE@DEVICE plus options, written `torch@cpu` or `torch@cpu:dtype=bf16,mode=x`."""

    engine: str
    device: str
    options: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        engine = lookup("engines", self.engine)
        unpaired = pairing_error(engine, lookup("devices", self.device))
        if unpaired:
            raise UsageError(f"target {self.engine}@{self.device}: {unpaired}")
        valid = COMMON_OPTIONS + engine.options
        for key, value in self.options:
            if key not in valid:
                raise unknown_choice(f"option for engine {self.engine}", key, list(valid))
            if key == "dtype" and value not in DTYPES:
                raise unknown_choice("dtype", value, list(DTYPES))
        engine.check_options(self.engine_options, self.device)

    @classmethod
    def parse(cls, text: str, dtype: str | None = None) -> Target:
        """A target from its written form; `dtype` fills in a dtype the text does not give."""
        head, _, tail = text.partition(":")
        engine, at, device = head.partition("@")
        if not at or not engine or not device:
            raise UsageError(f"target {text!r} is not ENGINE@DEVICE[:key=value,...]")
        options = dict(_parse_option(item, text) for item in tail.split(",") if item)
        if dtype is not None:
            options.setdefault("dtype", dtype)
        return cls(engine, device, tuple(sorted(options.items())))

    @property
    def dtype(self) -> str:
        return dict(self.options).get("dtype", "fp32")

    @property
    def engine_options(self) -> dict[str, str]:
        return {k: v for k, v in self.options if k not in COMMON_OPTIONS}

    def __str__(self) -> str:
        opts = ",".join(f"{k}={v}" for k, v in self.options)
        return f"{self.engine}@{self.device}" + (f":{opts}" if opts else "")


def _parse_option(item: str, text: str) -> tuple[str, str]:
    key, eq, value = item.partition("=")
    if not eq or not key or not value:
        raise UsageError(f"target {text!r}: option {item!r} is not key=value")
    return key.strip(), value.strip()


def pairing_error(engine: type, device: type) -> str | None:
    """Why an engine and a device make no target: one that `pairs_with` one other (the
    endpoint engine and the remote device, a server's) takes no other."""
    for one, other in ((engine, device), (device, engine)):
        only = getattr(one, "pairs_with", None)
        if only is not None and only != other.name:
            return f"{one.name} goes with {only} only"
    return None


def default_targets() -> tuple[Target, ...]:
    """Every engine on every device hwbench knows, fp32 (unavailable ones become skipped);
    eager torch first on each device, as the baseline the others are read against. Not the
    endpoint engine: a run with --endpoint names its own target."""
    engines = sorted(plugins("engines"), key=lambda name: (name != "torch", name))
    devices, found = plugins("devices"), plugins("engines")
    return tuple(
        Target(e, d)
        for d in devices
        for e in engines
        if not hasattr(found[e], "pairs_with") and not hasattr(devices[d], "pairs_with")
    )


@dataclass(frozen=True)
class Suite:
    """What to run: the cross product of workloads, sizes, targets and scenarios."""

    name: str = "default"
    workloads: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ("tiny",)
    targets: tuple[Target, ...] = ()
    scenarios: tuple[str, ...] = ("latency", "throughput")
    batches: tuple[int, ...] = ()  # empty: each scenario's default
    model_path: str | None = None
    model_name: str | None = None  # what tables call the --model workload (default: its folder)
    seed: int = 0
    case_timeout_s: float = 600.0
    live_cases: int | None = None  # cases loaded at once when interleaving; None: by size
    check_only: bool = False  # parity only, no timing
    harness: HarnessConfig = field(default_factory=HarnessConfig)
    # generate and serve: token counts (None: the size's default) and the serve load
    prompt_len: int | None = None
    output_len: int | None = None
    request_rates: tuple[float, ...] = ()  # requests/s, inf: all at once; empty: default sweep
    burstiness: float = 1.0  # gamma shape of the arrival gaps; 1: Poisson
    slo: str | None = None  # "ttft=500ms,tpot=50ms": goodput counts requests meeting all
    # serve against a server hwbench did not start (hwbench.llm.endpoint_config)
    endpoint: str | None = None  # its URL, e.g. http://127.0.0.1:8000/v1
    served_model: str | None = None  # None: the only model GET /v1/models lists
    tokenizer: str | None = None  # a tokenizer.json (or its folder): prompts of exact lengths
    api: str = "completions"  # or "chat"
    api_key_env: str | None = None  # the environment variable holding the API key
    request_timeout_s: float = 600.0  # per request, serve
    tls_verify: bool = True
    # LoadGen scenarios, in LoadGen's names (hwbench/loadgen/config.py); None: by size
    min_duration_ms: int | None = None
    min_query_count: int | None = None
    server_target_qps: float | None = None
    multi_stream_samples_per_query: int | None = None

    def __post_init__(self) -> None:
        if self.endpoint is not None and not self.targets:
            object.__setattr__(self, "targets", (Target(ENDPOINT_ENGINE, ENDPOINT_DEVICE),))
        if self.endpoint is not None and not self.workloads and not self.model_path:
            object.__setattr__(self, "workloads", (SERVED_WORKLOAD,))
        if not self.workloads:
            hf = ("hf",) if self.model_path else ()
            object.__setattr__(self, "workloads", hf or tuple(builtin_workloads()))
        if not self.targets:
            object.__setattr__(self, "targets", default_targets())
        check_fields(self, FIELD_RULES)
        for workload in self.workloads:
            lookup("workloads", workload)
        for size in self.sizes:
            if size not in SIZES:
                raise unknown_choice("size", size, SIZES)
        for scenario in self.scenarios:
            lookup("scenarios", scenario)
        if "hf" in self.workloads and not self.model_path:
            raise UsageError("workload 'hf' needs --model PATH (a Hugging Face model directory)")
        if self.model_name and not self.model_path:
            raise UsageError("--name names a --model workload; give --model PATH as well")
        if self.slo is not None:
            parse_slos(self.slo)
        check_endpoint(self)
        if not self.name.replace("-", "").replace("_", "").isalnum():
            raise UsageError(f"suite name {self.name!r}: use letters, digits, '-' and '_'")


SUITE_KEYS = {f.name for f in fields(Suite)}
HARNESS_KEYS = {f.name for f in fields(HarnessConfig)}


def load_suite(path: Path, harness: dict[str, Any] | None = None, **overrides: Any) -> Suite:
    """A Suite from a TOML file; `overrides` and `harness` (flags) win over the file."""
    try:
        data = tomllib.loads(path.read_text())
    except OSError as error:
        raise UsageError(f"suite file {path}: {error.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise UsageError(f"suite file {path} is not valid TOML: {error}") from None
    return suite_from_dict(data, str(path), harness, **overrides)


def suite_from_dict(
    data: dict[str, Any], origin: str, harness: dict[str, Any] | None = None, **overrides: Any
) -> Suite:
    """A Suite from parsed TOML, with unknown keys and wrong types reported by name;
    `overrides` (flags) win over the file's keys, `harness` over its [harness] table."""
    unknown = set(data) - SUITE_KEYS
    if unknown:
        raise UsageError(f"{origin}: unknown key(s) {sorted(unknown)}; valid: {sorted(SUITE_KEYS)}")
    table = data.get("harness", {})
    if not isinstance(table, dict):
        raise UsageError(f"{origin}: harness must be a table ([harness]), got {table!r}")
    if set(table) - HARNESS_KEYS:
        raise UsageError(f"{origin}: [harness] keys must be among {sorted(HARNESS_KEYS)}")
    try:
        for key, value in data.items():
            if key != "harness":
                check(key, value, SUITE_RULES[key])
        for key, value in table.items():
            check(key, value, HARNESS_RULES[key], "[harness] ")
    except UsageError as error:
        raise UsageError(f"{origin}: {error}") from None
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k != "harness"}
    if "targets" in values:
        values["targets"] = tuple(Target.parse(t) for t in values["targets"])
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Suite(harness=HarnessConfig(**{**table, **(harness or {})}), **values)
