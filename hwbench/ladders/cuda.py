"""The CUDA ladder: stock transformers -> fp32 eager -> bf16 -> SDPA / flash attention -> fused
kernels -> torch.compile -> CUDA graphs -> int8 weights, each rung citing the PyTorch page of its
API."""

from hwbench.ladders.base import FP32_EAGER, Ladder, Rung, stock_transformers

BF16 = "dtype=bf16"
FUSED = f"{BF16},kernels=fused"

LADDER = Ladder(
    "cuda",
    (
        stock_transformers("cuda"),
        Rung("fp32-eager", "torch@cuda", FP32_EAGER),
        Rung("bf16", f"torch@cuda:{BF16}", "bfloat16 weights and activations (tensor cores)"),
        Rung(
            "sdpa-flash",
            f"torch@cuda:{BF16},kernels=sdpa",
            "attention through F.scaled_dot_product_attention(enable_gqa=True): kv heads read "
            "in place, so SDPA can pick FlashAttention-2 / memory-efficient kernels",
            source="pytorch.org/docs: torch.nn.functional.scaled_dot_product_attention",
        ),
        Rung(
            "fused-kernels",
            f"torch@cuda:{FUSED}",
            "kernel set fused: F.rms_norm, rotary without torch.cat, sorted MoE dispatch",
        ),
        Rung(
            "torch-compile",
            f"torch-compile@cuda:{FUSED}",
            "torch.compile, inductor (Triton kernels), static shapes",
        ),
        Rung(
            "cuda-graphs",
            f"torch-compile@cuda:{FUSED},mode=reduce-overhead",
            "CUDA graphs: torch.compile(mode='reduce-overhead') captures each step and replays "
            "it in one launch (torch.cuda.CUDAGraph through cudagraph trees)",
            source="pytorch.org/docs: torch.compiler_cudagraph_trees",
        ),
        Rung(
            "int8-weights",
            f"torch-compile@cuda:{FUSED},mode=reduce-overhead,quant=w8a8",
            "W8A8: int8 weights per channel x int8 activations per token, torch._int_mm with "
            "int32 accumulation (kernels/quant_matmul.py w8a8_int_mm); fp8 (torch._scaled_mm, "
            "sm89+) is not built yet",
        ),
    ),
)
