"""The onnxruntime engine on the CPU: parity, dtypes and providers it refuses, its options."""

from __future__ import annotations

import pytest
import torch

from hwbench.backends.cpu import CPU
from hwbench.backends.cuda import Cuda
from hwbench.backends.npu import Npu
from hwbench.engines.base import Spec
from hwbench.engines.onnxruntime_engine import OnnxRuntime
from hwbench.engines.ort_settings import PROVIDERS, OrtSettings
from hwbench.errors import UsageError
from hwbench.measure import parity
from hwbench.workloads import make_workload

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("HWBENCH_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def check_parity(workload, dtype="fp32", device=None, options=None, **prepare):
    inputs = workload.inputs(1, seed=1)
    session = OnnxRuntime().prepare(
        Spec(workload, device or CPU(), dtype, options or {}), **prepare
    )
    output = session.run(session.place(inputs))
    with torch.inference_mode():
        expected = workload.build()(*inputs)
    verdict = parity.compare(expected, session.to_cpu(output), dtype)
    assert verdict["passed"], verdict
    return session.details()


@pytest.mark.parametrize("name", ["mlp", "resnet50", "bert", "llama"])
def test_exported_workload_matches_eager_fp32(name):
    workload = make_workload(name, "tiny")
    details = check_parity(workload, example_inputs=workload.inputs(1))
    assert details["providers"] == ["CPUExecutionProvider"]
    assert (details["cache"], details["opened_in"]) == ("miss", "prepare")
    assert details["export_s"] > 0
    assert details["onnx_path"].endswith("model.onnx")


def test_without_example_inputs_the_first_run_exports():
    details = check_parity(make_workload("mlp", "tiny"))
    assert details["opened_in"] == "first_run"


def test_a_hugging_face_directory_exports_with_parity(tmp_path):
    transformers = pytest.importorskip("transformers")
    config = transformers.LlamaConfig(
        vocab_size=128, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
    )  # fmt: skip
    torch.manual_seed(0)
    transformers.LlamaForCausalLM(config).save_pretrained(tmp_path / "llama")
    workload = make_workload("hf", "tiny", model_path=str(tmp_path / "llama"))
    check_parity(workload, example_inputs=workload.inputs(1))


class Fp16CPU(CPU):
    """A CPU that claims native fp16 (this one has none), to run the fp16 export path."""

    def supports_dtype(self, dtype: str) -> tuple[bool, str]:
        return (True, "")


def test_fp16_export_runs_on_the_cpu_provider_within_fp16_tolerance():
    workload = make_workload("mlp", "tiny")
    assert OnnxRuntime().supports(workload, Fp16CPU(), "fp16") == (True, "")
    check_parity(workload, "fp16", Fp16CPU(), example_inputs=workload.inputs(1))


def test_bf16_is_unsupported_with_the_reason():
    supported, reason = OnnxRuntime().supports(make_workload("mlp", "tiny"), CPU(), "bf16")
    assert not supported
    assert "bfloat16" in reason


@pytest.mark.parametrize(
    ("device", "provider", "package"),
    [(Cuda(), "CUDAExecutionProvider", "onnxruntime-gpu"),
     (Npu(), "CANNExecutionProvider", "onnxruntime-cann")],
)  # fmt: skip
def test_a_device_without_its_execution_provider_is_unsupported(device, provider, package):
    if provider in ort.get_available_providers():
        pytest.skip(f"{provider} is installed here")
    supported, reason = OnnxRuntime().supports(make_workload("mlp", "tiny"), device, "fp32")
    assert not supported
    assert provider in reason and package in reason


def test_a_device_without_a_provider_mapping_is_unsupported():
    class Tpu(CPU):
        name = "tpu"

    assert not OnnxRuntime().supports(make_workload("mlp", "tiny"), Tpu(), "fp32")[0]


def test_session_options_reach_onnxruntime():
    options = {"opt_level": "basic", "intra_op_threads": "1", "io_binding": "true"}
    details = check_parity(make_workload("mlp", "tiny"), options=options)
    assert (details["opt_level"], details["intra_op_threads"]) == ("basic", 1)
    assert details["io_binding"] is True


def test_npu_provider_options_keep_the_dtype_unless_overridden():
    npu = PROVIDERS["npu"]
    assert npu.options(1, {}) == {"device_id": "1", "precision_mode": "must_keep_origin_dtype"}
    settings = OrtSettings.parse(
        {"provider_options": "precision_mode=force_fp16;enable_cann_graph=1"}
    )
    overridden = npu.options(0, dict(settings.provider_options))
    assert overridden["precision_mode"] == "force_fp16"
    assert overridden["enable_cann_graph"] == "1"
    assert settings.uses_io_binding(npu) and not settings.uses_io_binding(PROVIDERS["cpu"])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"opt_level": "max"}, "valid: all, basic, disable, extended"),
        ({"io_binding": "yes"}, "valid: auto, false, true"),
        ({"intra_op_threads": "-1"}, "not an int >= 0"),
        ({"provider_options": "precision_mode"}, "not key=value"),
    ],
)
def test_bad_option_values_are_usage_errors(options, message):
    with pytest.raises(UsageError, match=message):
        OnnxRuntime.check_options(options, "cpu")
