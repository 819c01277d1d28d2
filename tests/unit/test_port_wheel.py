"""The real operator list: torch-npu 2.13.0's wheel (about 44 MB), fetched once with
`pip download --no-deps` into hwbench's cache, as the port command tells users to; skipped,
with pip's reason, where the package index cannot be reached."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from hwbench.port import sources
from hwbench.port.classify import FALLBACK, NATIVE, classify
from hwbench.port.fused import suggest
from hwbench.port.oplist import OpList
from hwbench.port.record import Recorder, record
from hwbench.workloads import make_workload

VERSION = "2.13.0"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def real() -> OpList:
    directory = sources.cache_dir()
    if not list(directory.glob(f"torch_npu-{VERSION}-*.whl")):
        fetch = [sys.executable, "-m", "pip", "download", f"torch-npu=={VERSION}", "--no-deps",
                 "--quiet", "-d", str(directory)]  # fmt: skip
        try:
            done = subprocess.run(fetch, capture_output=True, text=True, timeout=600)
        except subprocess.TimeoutExpired:
            pytest.skip(f"pip download torch-npu=={VERSION} took over 600 s")
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
            pytest.skip(f"pip download torch-npu=={VERSION} failed (index unreachable?): {reason}")
    return sources.cached(VERSION)


def test_the_wheel_names_its_version_and_lists_the_fused_operators(real):
    assert real.version == VERSION and len(real.entries) > 1000
    assert real.entry("scaled_dot_product_attention").path == "op_api"
    for op in ("npu_rms_norm", "npu_rotary_mul", "npu_swiglu", "npu_fusion_attention",
               "npu_fused_infer_attention_score", "npu_quant_matmul"):  # fmt: skip
        assert real.has_name(op), op


@pytest.mark.parametrize("name", ["llama", "bert", "resnet50", "moe"])
def test_the_built_in_workloads_run_natively_on_2_13(real, name):
    classified = classify(record(make_workload(name, "tiny"), "fp32", 1), real)
    assert classified.counts()[FALLBACK] == 0
    assert classified.counts()[NATIVE] >= 9


def test_llamas_fused_operators_are_all_in_2_13(real):
    found = suggest(record(make_workload("llama", "tiny"), "fp32", 1), real)
    assert all(all(s.operators.values()) for s in found)
    assert {s.pattern for s in found} >= {"RMSNorm", "rotary embedding", "SwiGLU", "attention"}


def test_an_op_2_13_lacks_is_a_cpu_fallback(real):
    x = torch.rand(4, 4) + 1
    recorder = Recorder()
    with torch.inference_mode(), recorder:
        torch.lgamma(x)  # structured: its out= overload is missing too
    (row,) = classify(recorder.top, real).rows
    assert (row.op, row.verdict, row.path) == ("lgamma", FALLBACK, "none, nor for lgamma.out")
