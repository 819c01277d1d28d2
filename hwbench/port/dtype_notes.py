"""What each Ascend generation does to the model's dtype, from Huawei's documentation.

Generations by product line: Atlas training series = Ascend 910 (910A), Atlas A2 = 910B,
Atlas A3 = 910C, Atlas inference series = 310P (torch_npu's SoC versions, backends/npu.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

BF16_SOURCE = (
    "CANN 8.5 Ascend C API, ToBfloat16, product support table: Atlas A2/A3 yes; Atlas "
    "training series, Atlas inference series, Atlas 200I/500 A2 no (hiascend.com/document/"
    "detail/en/canncommercial/850/API/ascendcopapi/atlasascendc_api_07_0021.html)"
)
PRECISION_SOURCE = (
    "Ascend PyTorch 7.0.0 training migration guide, set_option ACL_PRECISION_MODE "
    "(hiascend.com/doc_center/source/zh/Pytorch/700/ptmoddevg/trainingmigrguide/"
    "PT_LMTMOG_0076.html)"
)
HF32_SOURCE = (
    "torch_npu API reference 7.2.0, torch_npu.npu.matmul.allow_hf32 (default False) and "
    "torch_npu.npu.conv.allow_hf32 (default True) (hiascend.com/document/detail/zh/Pytorch/720/"
    "apiref/torchnpuCustomsapi/context/torch_npu-npu-conv-allow_hf32.md)"
)
CONVOLUTIONS = {"convolution", "_convolution", "conv2d", "conv1d", "conv3d"}


@dataclass(frozen=True)
class Note:
    chips: str
    text: str
    source: str


NO_BF16 = Note(
    "910 (Atlas training), 310P (Atlas inference)",
    "no bfloat16: bf16 needs an A2 (910B) or A3 (910C); float16 runs on these",
    f"{BF16_SOURCE}; github.com/vllm-project/vllm-ascend/issues/9294 (a maintainer: the 910A "
    "takes float16, not bf16)",
)
FP32_ON_910 = Note(
    "910 (Atlas training)",
    "float32 is not float32 by default: ACL_PRECISION_MODE defaults to allow_fp32_to_fp16, "
    "which runs matrix operators (matmul, convolution) in float16 and keeps vector operators "
    "in float32 where they support it; torch_npu.npu.set_option({'ACL_PRECISION_MODE': "
    "'must_keep_origin_dtype'}) keeps float32",
    PRECISION_SOURCE,
)
FP32_ON_A2 = Note(
    "910B (A2), 910C (A3)",
    "ACL_PRECISION_MODE defaults to must_keep_origin_dtype: float32 stays float32; matmuls "
    "take HF32 only when torch_npu.npu.matmul.allow_hf32 = True",
    f"{PRECISION_SOURCE}; {HF32_SOURCE}",
)
FP32_CONV = Note(
    "all",
    "convolutions compute in HF32 by default (torch_npu.npu.conv.allow_hf32 = True): set it "
    "False for IEEE float32 convolutions",
    HF32_SOURCE,
)


def notes(dtype: str, ops: Iterable[str]) -> list[Note]:
    """The notes for a model in `dtype` that calls `ops`."""
    if dtype in ("bf16", "fp16"):
        return [NO_BF16]
    return [FP32_ON_910, FP32_ON_A2] + ([FP32_CONV] if CONVOLUTIONS & set(ops) else [])
