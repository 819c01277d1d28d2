"""The torch-compile engine on the CPU: parity, the recompile detector, options, NPU backends."""

from __future__ import annotations

import sys
import types

import pytest
import torch

from hwbench.backends.cpu import CPU
from hwbench.backends.cuda import Cuda
from hwbench.engines.base import Spec
from hwbench.engines.compile_settings import CompileSettings
from hwbench.engines.torch_compile import TorchCompile
from hwbench.errors import UsageError
from hwbench.measure import parity
from hwbench.workloads import make_workload

pytestmark = pytest.mark.skipif(
    not TorchCompile().supports(None, CPU(), "fp32")[0], reason="no g++"
)


@pytest.fixture(autouse=True)
def fresh_dynamo():
    """Each test compiles from scratch: dynamo caches compiled code per code object."""
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


def reference(workload, inputs):
    with torch.inference_mode():
        return workload.build()(*inputs)


def run_once(workload, inputs, options=None, **prepare):
    session = TorchCompile().prepare(Spec(workload, CPU(), "fp32", options or {}), **prepare)
    return session, session.run(session.place(inputs))


@pytest.mark.parametrize("name", ["mlp", "resnet50", "bert", "llama"])
def test_compiled_workload_matches_eager_fp32(name):
    workload = make_workload(name, "tiny")
    inputs = workload.inputs(1, seed=1)
    session, output = run_once(workload, inputs, example_inputs=inputs)
    verdict = parity.compare(reference(workload, inputs), session.to_cpu(output), "fp32")
    assert verdict["passed"], verdict
    details = session.details()
    assert details["compiled_in"] == "prepare"
    assert details["graphs"] >= 1
    assert details["recompiles_after_first_run"] == 0
    assert (details["backend"], details["mode"], details["dynamic"]) == (
        "inductor",
        "default",
        False,
    )


def test_a_steady_loop_has_no_recompiles_and_compiles_on_the_first_run_without_examples():
    workload = make_workload("mlp", "tiny")
    session, _ = run_once(workload, workload.inputs(2, seed=1))
    placed = session.place(workload.inputs(2, seed=2))
    for _ in range(20):
        session.run(placed)
    details = session.details()
    assert details["compiled_in"] == "first_run"
    assert details["recompiles_after_first_run"] == 0


def test_a_shape_change_after_the_first_run_is_counted_as_a_recompile():
    workload = make_workload("mlp", "tiny")
    session, _ = run_once(workload, workload.inputs(1), {"dynamic": "false"})
    session.run(session.place(workload.inputs(3)))
    assert session.details()["recompiles_after_first_run"] >= 1


def test_a_hugging_face_directory_compiles_with_parity(tmp_path):
    transformers = pytest.importorskip("transformers")
    config = transformers.LlamaConfig(
        vocab_size=128, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
    )  # fmt: skip
    torch.manual_seed(0)
    transformers.LlamaForCausalLM(config).save_pretrained(tmp_path)
    workload = make_workload("hf", "tiny", model_path=str(tmp_path))
    supported, why = TorchCompile().supports(workload, CPU(), "fp32")
    if not supported:
        pytest.skip(why)  # torch 2.6 (hwbench.torch_features.compiles_transformers_models)
    inputs = workload.inputs(1, seed=1)
    session, output = run_once(workload, inputs, example_inputs=inputs)
    verdict = parity.compare(reference(workload, inputs), session.to_cpu(output), "fp32")
    assert verdict["passed"], verdict


@pytest.mark.parametrize(
    ("options", "device", "message"),
    [
        ({"mode": "fast"}, "cpu", "valid: default, max-autotune, max-autotune-no-cudagraphs"),
        ({"mode": "reduce-overhead"}, "cpu", "CUDA graphs"),
        ({"backend": "tvm"}, "cpu", "valid: aot_eager, eager, inductor, npugraph_ex, torchair"),
        ({"backend": "npugraph_ex"}, "cpu", "runs on npu, not on cpu"),
        ({"mode": "max-autotune"}, "npu", "mode for backend npugraph_ex"),
        ({"fullgraph": "yes"}, "cpu", "valid: false, true"),
        ({"dynamic": "maybe"}, "cpu", "valid: auto, false, true"),
        ({}, "tpu", "valid: cpu, cuda, npu"),
    ],
)
def test_bad_option_values_are_usage_errors_naming_the_valid_ones(options, device, message):
    with pytest.raises(UsageError, match=message):
        TorchCompile.check_options(options, device)


def test_options_map_to_torch_compile_arguments():
    settings = CompileSettings.parse({"mode": "max-autotune", "dynamic": "auto"}, "cuda")
    assert settings.compile_kwargs() == {
        "backend": "inductor", "mode": "max-autotune", "fullgraph": False, "dynamic": None,
    }  # fmt: skip


def test_cuda_without_triton_is_unsupported_with_the_reason(monkeypatch):
    monkeypatch.setattr("hwbench.kernels.base.find_spec", lambda name: None)
    assert TorchCompile().supports(None, Cuda(), "fp32") == (
        False,
        "inductor on cuda needs triton, which is not installed",
    )


def test_cpu_without_a_cxx_compiler_is_unsupported(monkeypatch):
    monkeypatch.setattr("hwbench.kernels.base.shutil.which", lambda name: None)
    supported, reason = TorchCompile().supports(None, CPU(), "fp32")
    assert not supported
    assert "C++ compiler" in reason


@pytest.fixture
def npu_stand_ins(monkeypatch):
    """Recording stand-ins for torch_npu and torchair (no NPU here): they run no compiler."""
    calls = []
    torch_npu = types.ModuleType("torch_npu")
    torchair = types.ModuleType("torchair")
    torchair.CompilerConfig = lambda: types.SimpleNamespace(mode="max-autotune")

    def get_npu_backend(*, compiler_config):
        calls.append(("get_npu_backend", compiler_config.mode))
        return "torchair-backend"

    torchair.get_npu_backend = get_npu_backend
    monkeypatch.setitem(sys.modules, "torch_npu", torch_npu)
    monkeypatch.setitem(sys.modules, "torchair", torchair)
    return calls


def test_npu_stand_in_defaults_to_npugraph_ex(npu_stand_ins):
    kwargs = CompileSettings.parse({}, "npu").compile_kwargs()
    assert kwargs == {"backend": "npugraph_ex", "fullgraph": False, "dynamic": False}
    assert npu_stand_ins == []


@pytest.mark.parametrize(("mode", "torchair_mode"), [
    ("default", "max-autotune"), ("reduce-overhead", "reduce-overhead"),
])  # fmt: skip
def test_npu_stand_in_torchair_backend_gets_the_mode(npu_stand_ins, mode, torchair_mode):
    options = {"backend": "torchair", "mode": mode}
    kwargs = CompileSettings.parse(options, "npu").compile_kwargs()
    assert kwargs["backend"] == "torchair-backend"
    assert npu_stand_ins == [("get_npu_backend", torchair_mode)]
