"""The CPU ladder: stock transformers -> fp32 eager -> bf16 -> fused kernels -> torch.compile ->
int8 -> ONNX Runtime."""

from hwbench.ladders.base import FP32_EAGER, Ladder, Rung, stock_transformers

LADDER = Ladder(
    "cpu",
    (
        stock_transformers("cpu"),
        Rung("fp32-eager", "torch@cpu", FP32_EAGER),
        Rung(
            "bf16",
            "torch@cpu:dtype=bf16",
            "bfloat16 weights and activations (oneDNN bf16 GEMMs: AMX / AVX-512 BF16)",
        ),
        Rung(
            "fused-kernels",
            "torch@cpu:dtype=bf16,kernels=fused",
            "kernel set fused: F.rms_norm, rotary without torch.cat, SDPA with enable_gqa "
            "(no repeated kv heads), MoE rows sorted by expert (hwbench.kernels variants)",
        ),
        Rung(
            "torch-compile",
            "torch-compile@cpu:dtype=bf16,kernels=fused",
            "torch.compile, inductor, static shapes: elementwise chains fused into C++ loops",
        ),
        Rung(
            "int8-dynamic",
            "torch@cpu:kernels=fused,quant=int8",
            "int8 weights per channel, activations quantized per step "
            "(torch.ao.quantization.quantize_dynamic on nn.Linear, MoE routers kept); it takes "
            "float32 activations, so this rung runs fp32 eager with the fused kernels",
            source="pytorch.org/docs/stable/quantization.html: dynamic quantization "
            "(torch.ao.quantization.quantize_dynamic)",
        ),
        Rung(
            "onnxruntime",
            "onnxruntime@cpu",
            "ONNX Runtime's CPU execution provider on the exported graph, with its graph "
            "fusions; float32 (its CPU provider has no bf16 GEMM kernels)",
        ),
    ),
)
