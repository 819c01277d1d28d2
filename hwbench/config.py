"""Run configuration as frozen dataclasses, each option declared once and validated here."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from hwbench.backends.base import DTYPES
from hwbench.errors import UsageError, unknown_choice
from hwbench.llm.metrics import parse_slos
from hwbench.measure.harness import HarnessConfig
from hwbench.registry import lookup, plugins
from hwbench.workloads import builtin_workloads
from hwbench.workloads.base import SIZES

COMMON_OPTIONS = ("dtype",)


@dataclass(frozen=True)
class Target:
    """ENGINE@DEVICE plus options, written `torch@cpu` or `torch@cpu:dtype=bf16,mode=x`."""

    engine: str
    device: str
    options: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        engine = lookup("engines", self.engine)
        lookup("devices", self.device)
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


def default_targets() -> tuple[Target, ...]:
    """Every engine on every device hwbench knows, fp32 (unavailable ones become skipped);
    eager torch first on each device, as the baseline the others are read against."""
    engines = sorted(plugins("engines"), key=lambda name: (name != "torch", name))
    return tuple(Target(e, d) for d in plugins("devices") for e in engines)


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

    def __post_init__(self) -> None:
        if not self.workloads:
            hf = ("hf",) if self.model_path else ()
            object.__setattr__(self, "workloads", hf or tuple(builtin_workloads()))
        if not self.targets:
            object.__setattr__(self, "targets", default_targets())
        for workload in self.workloads:
            lookup("workloads", workload)
        for size in self.sizes:
            if size not in SIZES:
                raise unknown_choice("size", size, SIZES)
        for scenario in self.scenarios:
            lookup("scenarios", scenario)
        if any(b < 1 for b in self.batches):
            raise UsageError(f"batch sizes must be >= 1, got {list(self.batches)}")
        if self.case_timeout_s <= 0:
            raise UsageError(f"case timeout must be > 0 seconds, got {self.case_timeout_s}")
        if self.live_cases is not None and self.live_cases < 1:
            raise UsageError(f"live cases must be >= 1, got {self.live_cases}")
        if "hf" in self.workloads and not self.model_path:
            raise UsageError("workload 'hf' needs --model PATH (a Hugging Face model directory)")
        if self.model_name and not self.model_path:
            raise UsageError("--name names a --model workload; give --model PATH as well")
        for name in ("prompt_len", "output_len"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise UsageError(f"{name} must be >= 1, got {value}")
        if any(not rate > 0 for rate in self.request_rates):
            raise UsageError(
                f"request rates must be > 0 (inf: all at once), got {self.request_rates}"
            )
        if not self.burstiness > 0:
            raise UsageError(f"burstiness must be > 0, got {self.burstiness}")
        if self.slo is not None:
            parse_slos(self.slo)
        if not self.name.replace("-", "").replace("_", "").isalnum():
            raise UsageError(f"suite name {self.name!r}: use letters, digits, '-' and '_'")


SUITE_KEYS = {f.name for f in fields(Suite)}
HARNESS_KEYS = {f.name for f in fields(HarnessConfig)}
# The TOML type each suite key takes (lists become tuples).
SUITE_TYPES: dict[str, tuple[type, type | None]] = {
    "name": (str, None),
    "check_only": (bool, None),
    "model_path": (str, None),
    "model_name": (str, None),
    "seed": (int, None),
    "case_timeout_s": ((int, float), None),  # type: ignore[dict-item]
    "live_cases": (int, None),
    "workloads": (list, str),
    "sizes": (list, str),
    "targets": (list, str),
    "scenarios": (list, str),
    "batches": (list, int),
    "harness": (dict, None),
    "prompt_len": (int, None),
    "output_len": (int, None),
    "request_rates": (list, (int, float)),
    "burstiness": ((int, float), None),
    "slo": (str, None),
}


def load_suite(path: Path, **overrides: Any) -> Suite:
    """A Suite from a TOML file; `overrides` (from the command line) win over the file."""
    try:
        data = tomllib.loads(path.read_text())
    except OSError as error:
        raise UsageError(f"suite file {path}: {error.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise UsageError(f"suite file {path} is not valid TOML: {error}") from None
    return suite_from_dict(data, str(path), **overrides)


def suite_from_dict(data: dict[str, Any], origin: str, **overrides: Any) -> Suite:
    """A Suite from parsed TOML, with unknown keys and wrong types reported by name."""
    unknown = set(data) - SUITE_KEYS
    if unknown:
        raise UsageError(f"{origin}: unknown key(s) {sorted(unknown)}; valid: {sorted(SUITE_KEYS)}")
    for key, value in data.items():
        _check_type(key, value, origin)
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    harness = values.pop("harness", {})
    if set(harness) - HARNESS_KEYS:
        raise UsageError(f"{origin}: [harness] keys must be among {sorted(HARNESS_KEYS)}")
    if "targets" in values:
        values["targets"] = tuple(Target.parse(t) for t in values["targets"])
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Suite(harness=HarnessConfig(**harness), **values)
    except TypeError as error:
        raise UsageError(f"{origin}: {error}") from None


def _check_type(key: str, value: Any, origin: str) -> None:
    outer, inner = SUITE_TYPES[key]
    ok = isinstance(value, outer) and not (outer is int and isinstance(value, bool))
    if ok and inner is not None:
        ok = all(isinstance(item, inner) for item in value)
    if not ok:
        kind = (
            f"a list of {getattr(inner, '__name__', 'number')}s"
            if inner
            else getattr(outer, "__name__", "a number")
        )
        raise UsageError(f"{origin}: {key} must be {kind}, got {value!r}")
