"""The JSON Schemas (draft 2020-12) of the files hwbench writes, published as package data:
result documents (`results`, this schema version) and peaks files (`peaks`). Imports only json
and importlib.resources, so `hwbench schema` runs without torch."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

KINDS = {"results": "results.schema.json", "peaks": "peaks.schema.json"}


def schema_text(kind: str = "results") -> str:
    """The JSON Schema of one kind of file, as published."""
    return resources.files(__package__).joinpath(KINDS[kind]).read_text()


def schema(kind: str = "results") -> dict[str, Any]:
    """The JSON Schema of one kind of file, parsed."""
    return json.loads(schema_text(kind))
