"""The feature checks that let hwbench run on every torch from 2.6 on, with stand-ins for a
torch that lacks the feature, and the APIs used unchecked, asserted on the torch running."""

import inspect
import sys

import pytest
import torch
import torch.nn.functional as F

from hwbench.backends.cpu import CPU
from hwbench.engines.torch_compile import TorchCompile
from hwbench.engines.transforms import ModelOptions
from hwbench.kernels.registry import lookup
from hwbench.torch_features import (
    MissingFeature,
    ao_dynamic_quantization,
    compiles_transformers_models,
    has_module,
    present,
)
from hwbench.workloads import make_workload

NO_AO = ("torch.ao.quantization", "torch.ao.nn.quantized.dynamic")


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A package `fakepkg` with a subpackage and a module, on sys.path, never imported."""
    (tmp_path / "fakepkg" / "sub").mkdir(parents=True)
    (tmp_path / "fakepkg" / "__init__.py").write_text("raise AssertionError('imported')\n")
    (tmp_path / "fakepkg" / "sub" / "__init__.py").write_text("")
    (tmp_path / "fakepkg" / "sub" / "mod.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    return "fakepkg"


def test_has_module_finds_modules_on_disk_without_importing_their_packages(package):
    assert has_module("fakepkg")
    assert has_module("fakepkg.sub")
    assert has_module("fakepkg.sub.mod")
    assert not has_module("fakepkg.sub.missing")
    assert not has_module("fakepkg.missing.mod")
    assert not has_module("no_such_top_level_package.mod")
    assert "fakepkg" not in sys.modules


def test_present_keeps_the_order_and_drops_what_is_missing(package):
    names = ("fakepkg.sub.mod", "fakepkg.gone", "fakepkg.sub", "torch.nn.functional")
    assert present(names) == ("fakepkg.sub.mod", "fakepkg.sub", "torch.nn.functional")


def test_torch_compile_preloads_only_modules_this_torch_has():
    # torch 2.6 and 2.7 have no torch._inductor.codegen.wrapper_fxir: the worker imports
    # each preloaded module, so listing one that is missing failed every torch-compile case
    assert TorchCompile.worker_preload
    assert all(has_module(name) for name in TorchCompile.worker_preload)


def test_torch_ao_dynamic_quantization_is_here():
    assert ao_dynamic_quantization() == (True, "")


@pytest.fixture
def without_torch_ao(monkeypatch):
    """A stand-in for a torch whose torch.ao dynamic quantization was removed."""
    for name in NO_AO:
        monkeypatch.setitem(sys.modules, name, None)  # `import` raises ImportError


def test_without_torch_ao_the_check_names_what_is_missing(without_torch_ao):
    ok, why = ao_dynamic_quantization()
    assert not ok
    assert f"torch {torch.__version__} has no torch.ao dynamic int8 quantization" in why
    assert "quant=w8a8" in why


def test_without_torch_ao_quant_int8_fails_with_the_reason(without_torch_ao):
    with pytest.raises(MissingFeature, match=r"no torch\.ao dynamic int8 quantization"):
        ModelOptions(quant="int8").build(make_workload("mlp", "tiny"), CPU(), "fp32")


def test_without_torch_ao_its_kernel_variant_is_skipped_with_the_reason(without_torch_ao):
    variant = next(v for v in lookup("quant_matmul").variants if v.name == "ao_dynamic")
    ok, why = variant.available(CPU())
    assert not ok
    assert "no torch.ao dynamic int8 quantization" in why


def test_without_torch_compiler_is_exporting_hugging_face_models_skip_torch_compile(
    tmp_path, monkeypatch
):
    transformers = pytest.importorskip("transformers")
    config = transformers.BertConfig(
        vocab_size=64, hidden_size=16, num_hidden_layers=1, num_attention_heads=4
    )
    config.save_pretrained(tmp_path)  # a config is all the engine's check needs
    workload = make_workload("hf", "tiny", model_path=str(tmp_path))
    if hasattr(torch.compiler, "is_exporting"):  # torch 2.7 on; 2.6 is the stand-in itself
        monkeypatch.delattr(torch.compiler, "is_exporting")
    ok, why = compiles_transformers_models()
    assert not ok
    assert f"torch {torch.__version__} lacks" in why
    engine = TorchCompile()
    assert engine.supports(workload, CPU(), "fp32") == (False, why)
    mlp = make_workload("mlp", "tiny")  # not a transformers model: not affected
    assert engine.supports(mlp, CPU(), "fp32") == engine.supports(None, CPU(), "fp32")


def test_the_apis_used_without_a_check_are_in_this_torch():
    # present from torch 2.6 on (run there in CI): a torch without one needs a check here
    assert callable(F.rms_norm)  # torch 2.4
    q, kv = torch.randn(1, 4, 3, 8), torch.randn(1, 2, 3, 8)  # 4 query heads, 2 kv heads
    assert F.scaled_dot_product_attention(q, kv, kv, enable_gqa=True).shape == q.shape  # 2.5
    assert "dynamo" in inspect.signature(torch.onnx.export).parameters  # torch 2.5
    assert callable(torch.compiler.cudagraph_mark_step_begin)
    a = torch.ones(32, 64, dtype=torch.int8)
    b = torch.ones(64, 32, dtype=torch.int8)
    assert torch._int_mm(a, b).dtype == torch.int32  # on the CPU
