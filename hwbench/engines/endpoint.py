"""A server hwbench did not start: vLLM, vllm-ascend, MindIE, SGLang, TGI or any other
OpenAI-compatible one, at the suite's `--endpoint URL`, on the `remote` device. It gives the
serve scenario its server; nothing here loads a model. hwbench.llm.endpoint probes the server
(its models and version) for each case."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from hwbench.backends.base import Device
from hwbench.engines.base import Endpoint, Engine, Spec
from hwbench.errors import UsageError
from hwbench.workloads.base import Workload


class EndpointEngine(Engine):
    name = "endpoint"
    provides: ClassVar[tuple[str, ...]] = ("server",)
    pairs_with: ClassVar[str] = "remote"  # the one device it runs on

    def supports(self, workload: Workload, device: Device, dtype: str) -> tuple[bool, str]:
        return device.supports_dtype(dtype)

    @contextlib.contextmanager
    def serve(self, spec: Spec, max_len: int, log_path: Path) -> Iterator[Endpoint]:
        """Never started here: the serve scenario connects to the case's endpoint."""
        raise UsageError("target endpoint@remote measures a server you run: give --endpoint URL")
        yield  # a generator, for contextmanager
