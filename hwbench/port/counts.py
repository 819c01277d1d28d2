"""What one operator call costs: FLOPs by torch's own formulas (torch.utils.flop_counter, the
counter hwbench's workload tests check their counts against) and the bytes of the tensors it
reads and writes, as if it ran alone (a view moves nothing)."""

from __future__ import annotations

from typing import Any

import torch
from torch.utils._pytree import tree_leaves
from torch.utils.flop_counter import flop_registry


def tensors(tree: Any) -> list[torch.Tensor]:
    return [leaf for leaf in tree_leaves(tree) if isinstance(leaf, torch.Tensor)]


def has_formula(func: torch._ops.OpOverload) -> bool:
    return func._overloadpacket in flop_registry


def flops(func: torch._ops.OpOverload, args: tuple, kwargs: dict, out: Any) -> int:
    """FLOPs of the call where torch has a formula for the operator (matmuls, convolutions,
    attention), else 0: its cost is then that of the calls it decomposes into."""
    formula = flop_registry.get(func._overloadpacket)
    return int(formula(*args, **kwargs, out_val=out)) if formula else 0


def bytes_moved(func: torch._ops.OpOverload, args: tuple, kwargs: dict, out: Any) -> int:
    """Bytes of the tensor arguments read and the results written; 0 for a view."""
    if func.is_view:
        return 0
    return sum(t.numel() * t.element_size() for t in tensors((args, kwargs, out)))
