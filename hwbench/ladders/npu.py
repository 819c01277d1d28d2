"""The Ascend NPU ladder, written from torch_npu's (gitee.com/ascend/pytorch), torchair's and
vllm-ascend's documentation, each rung citing its page; it runs where torch_npu and an NPU
exist and is listed as skipped, with the reason, elsewhere.

fp16 rather than bf16: bf16 needs an A2 (910B) or newer, fp16 runs on every Ascend part.
"""

import re

from hwbench.ladders.base import FP32_EAGER, Ladder, Rung, stock_transformers

QUEUE = (("TASK_QUEUE_ENABLE", "2"),)
FP16 = "dtype=fp16"
FUSED = f"{FP16},kernels=fused"
NZ = f"{FUSED},layout=nz"
OP_DOCS = "Ascend/op-plugin docs/zh/custom_APIs/torch_npu/"

LADDER = Ladder(
    "npu",
    (
        stock_transformers("npu"),  # the port: import torch_npu, model and inputs on npu
        Rung("fp32-eager", "torch@npu", FP32_EAGER),
        Rung("fp16", f"torch@npu:{FP16}", "float16 weights and activations (the Cube units)"),
        Rung(
            "task-queue",
            f"torch@npu:{FP16}",
            "TASK_QUEUE_ENABLE=2 in the worker's environment: the two-level operator launch "
            "queue that torch_npu recommends for inference",
            env=QUEUE,
            source="Ascend/pytorch docs: environment variable TASK_QUEUE_ENABLE",
        ),
        Rung(
            "fused-npu-ops",
            f"torch@npu:{FUSED}",
            "kernel set fused on npu: npu_rms_norm, npu_rotary_mul, npu_swiglu, "
            "npu_fused_infer_attention_score (prefill), npu_moe_gating_top_k_softmax -> "
            "npu_moe_init_routing -> npu_grouped_matmul -> npu_moe_finalize_routing",
            env=QUEUE,
            source=OP_DOCS,
        ),
        Rung(
            "fractal-nz",
            f"torch@npu:{NZ}",
            "Linear weights in the FRACTAL_NZ layout: torch_npu.npu_format_cast(w, 29) with "
            "torch.npu.config.allow_internal_format = True",
            env=QUEUE,
            source="Ascend/pytorch docs: torch_npu.npu_format_cast",
        ),
        Rung(
            "graph-static",
            f"torch-compile@npu:{NZ},backend=npugraph_ex,dynamic=false",
            "graph mode with static shapes: torch.compile(backend='npugraph_ex', "
            "dynamic=False), one captured graph per (batch, length) bucket; torchair's "
            "set_dim_gears buckets and torchair reduce-overhead are the alternatives",
            env=QUEUE,
            source="Ascend/torchair docs/zh/npugraph_ex/quick_start.md",
        ),
        Rung(
            "w8a8",
            f"torch-compile@npu:{NZ},backend=npugraph_ex,dynamic=false,quant=w8a8",
            "W8A8: torch_npu.npu_dynamic_quant (int8 activations per token) and "
            "npu_quant_matmul on int8 per-channel weights",
            env=QUEUE,
            source=f"{OP_DOCS}torch_npu-npu_quant_matmul.md, torch_npu-npu_dynamic_quant.md",
        ),
    ),
)


def operators(rung: Rung) -> tuple[str, ...]:
    """The torch_npu operators a rung's description names (npu_rms_norm, ...)."""
    return tuple(dict.fromkeys(re.findall(r"\bnpu_\w+", rung.adds)))


def installed_operators() -> list[str]:
    """For each rung that calls torch_npu operators, whether the installed torch_npu lists
    them, read from its files by `hwbench port`'s reader (never imported); else why not."""
    from hwbench.errors import UsageError
    from hwbench.port.sources import installed

    try:
        found = installed()
    except UsageError as error:
        return [str(error)]
    if found is None:
        return ["torch_npu is not installed (hwbench port --torch-npu VERSION checks a release)"]
    lines = []
    for rung in LADDER.rungs:
        if names := operators(rung):
            missing = [name for name in names if not found.has_name(name)]
            have = f"missing {', '.join(missing)}" if missing else f"all {len(names)} listed"
            lines.append(f"{rung.name}: {have} in torch_npu {found.version}")
    return lines
