"""The model a server serves when hwbench cannot load it (`--endpoint` without `--workload` or
`--model`): only its name is known, from the server. Prompts are text (of exact token lengths
with `--tokenizer`); parity is not checked, since there is no reference to check it against."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from hwbench.errors import UsageError
from hwbench.workloads.base import Workload

NOT_HERE = "the served model is the server's: hwbench has no copy of it"


class Served(Workload):
    name = "served"
    family = "decoder"
    needs_endpoint = True  # not in the default suite: only a run with --endpoint has one
    configs: ClassVar[dict[str, Any]] = {"tiny": None, "small": None, "full": None}
    model_name = "served"  # what tables call it: it has no size of its own

    def build(self) -> nn.Module:
        raise UsageError(NOT_HERE)

    def inputs(self, batch: int, seed: int = 0) -> tuple[torch.Tensor, ...]:
        raise UsageError(NOT_HERE)

    def flops(self, batch: int) -> int:
        raise UsageError(NOT_HERE)

    def bytes_moved(self, batch: int, dtype_bytes: int) -> int:
        raise UsageError(NOT_HERE)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "family": self.family, "note": NOT_HERE}
