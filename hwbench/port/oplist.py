"""torch_npu's operator list: `torch_npu/csrc/aten/npu_native_functions_by_codegen.yaml`.

Its layout (read from the torch-npu 2.13.0 wheel): top-level lists `supported` (aten
operators with an NPU kernel: a bare "name.overload", or a mapping whose `func` is the name or
the whole schema), `custom` (torch_npu's own `npu_*` operators), `symint`, `autograd` and
`quant`; an entry's `impl_ns` ("acl_op, op_api", "op_api", ...) names its kernel paths, and
an entry without one is implemented in torch_npu itself. op_api is the aclnn two-phase API,
acl_op the older ACL single-operator path (Ascend/op-plugin, op_plugin/config).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from hwbench.errors import UsageError

OPLIST_PATH = "torch_npu/csrc/aten/npu_native_functions_by_codegen.yaml"
OWN = "torch_npu"  # the kernel path of an entry that names none


class NotAnOpList(ValueError):
    """Text that is not torch_npu's operator YAML; the message says why."""


@dataclass(frozen=True)
class Entry:
    """One listed operator: the section it is in and its kernel paths."""

    section: str
    paths: tuple[str, ...]

    @property
    def path(self) -> str:
        return "/".join(self.paths) or OWN


@dataclass(frozen=True)
class OpList:
    """The operators one torch_npu release has kernels for, keyed "name.overload"."""

    version: str
    source: str
    entries: Mapping[str, Entry]

    def entry(self, key: str) -> Entry | None:
        return self.entries.get(key)

    def has_name(self, name: str) -> bool:
        """Whether any overload of operator `name` is listed (npu_rms_norm, ...)."""
        return name in self.entries or any(k.split(".")[0] == name for k in self.entries)


def _key(func: str) -> str:
    """ "add.Tensor(Tensor self, ...) -> Tensor" -> "add.Tensor"."""
    return func.split("(", 1)[0].strip()


def _paths(item: dict[str, Any]) -> tuple[str, ...]:
    named = item.get("impl_ns")
    if isinstance(named, str):
        return tuple(p.strip() for p in named.split(",") if p.strip())
    return ("op_api",) if item.get("op_api") is True else ()


def _entries(data: dict[str, Any]) -> dict[str, Entry]:
    found: dict[str, Entry] = {}
    for section, items in data.items():
        if not isinstance(items, list):
            continue  # backend: NPU, cpp_namespace: at_npu::native
        for item in items:
            if isinstance(item, str):
                found.setdefault(_key(item), Entry(section, ()))
            elif isinstance(item, dict) and isinstance(item.get("func"), str):
                found.setdefault(_key(item["func"]), Entry(section, _paths(item)))
    return found


def load_yaml(text: str) -> Any:
    """Parsed YAML (libyaml's loader where PyYAML has it); NotAnOpList when it is not YAML."""
    try:
        import yaml  # PyYAML: read only here, so `hwbench --help` stays light
    except ImportError:
        needs = "reading torch_npu's operator list needs PyYAML: pip install pyyaml"
        raise UsageError(needs) from None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as error:
        raise NotAnOpList(f"not YAML ({str(error).splitlines()[0]})") from None


def parse(text: str, version: str, source: str) -> OpList:
    """The list in `text`; NotAnOpList when it is not torch_npu's operator YAML."""
    data = load_yaml(text)
    if not isinstance(data, dict) or not isinstance(data.get("supported"), list):
        raise NotAnOpList("no `supported:` list of operators")
    return OpList(version, source, MappingProxyType(_entries(data)))
