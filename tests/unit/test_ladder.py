"""The ladders' rungs, the gains read off a result document, and the rung model options."""

from __future__ import annotations

import os

import pytest
import torch

from hwbench.backends.cpu import CPU
from hwbench.engines.torch_compile import TorchCompile
from hwbench.engines.torch_eager import TorchEager
from hwbench.engines.transforms import ModelOptions, W8A8Linear
from hwbench.errors import UsageError
from hwbench.execution.ladder import environment, steps
from hwbench.ladders.base import ladder_for, ladders
from hwbench.measure.parity import compare
from hwbench.results.record import CaseRecord
from hwbench.workloads import make_workload
from tests.records import KEY

STOCK = "stock-transformers"  # every ladder's first rung
RUNGS = {
    "cpu": [STOCK, "fp32-eager", "bf16", "fused-kernels", "torch-compile", "int8-dynamic",
            "onnxruntime"],
    "cuda": [STOCK, "fp32-eager", "bf16", "sdpa-flash", "fused-kernels", "torch-compile",
             "cuda-graphs", "int8-weights"],
    "npu": [STOCK, "fp32-eager", "fp16", "task-queue", "fused-npu-ops", "fractal-nz",
            "graph-static", "w8a8"],
}  # fmt: skip


@pytest.mark.parametrize("device", RUNGS)
def test_each_device_has_its_rungs_in_order_with_valid_targets(device):
    ladder = ladder_for(device)
    assert [r.name for r in ladder.rungs] == RUNGS[device]
    assert all(r.parsed().device == device and r.adds for r in ladder.rungs)
    assert ladder.rungs[0].parsed().dtype == "fp32"
    assert ladder.rungs[0].parsed().engine == "transformers"
    assert ladder.rungs[1].parsed().engine == "torch" and ladder.rungs[1].parsed().dtype == "fp32"


def test_npu_rungs_after_the_port_and_dtype_set_the_task_queue():
    rungs = ladder_for("npu").rungs
    assert [dict(r.env).get("TASK_QUEUE_ENABLE") for r in rungs] == [None] * 3 + ["2"] * 5
    assert "layout=nz" in rungs[5].target and "npugraph_ex" in rungs[6].target


def test_an_unknown_device_lists_the_ladders():
    assert set(ladders()) == {"cpu", "cuda", "npu"}
    with pytest.raises(UsageError, match="valid: cpu, cuda, npu"):
        ladder_for("tpu")


def record(rung, status, p50=None, reason=""):
    metrics = None if p50 is None else {"latency_ms": {"p50": p50}, "throughput": 1e3 / p50}
    return CaseRecord({}, status, reason, metrics=metrics, details={"rung": rung})


def test_gains_skip_failed_and_skipped_rungs():
    cases = [
        record("a", "ok", 10.0),
        record("b", "ok", 5.0),
        record("c", "failed", reason="parity: relative L2 error 0.1 > tolerance 0.02"),
        record("d", "skipped", reason="no compiler"),
        record("e", "ok", 2.0),
    ]
    got = steps({"cases": cases})
    assert [s.rung for s in got] == ["a", "b", "c", "d", "e"]
    assert [s.counted for s in got] == [True, True, False, False, True]
    assert (got[0].vs_previous, got[0].vs_first) == (None, 1.0)
    assert (got[1].vs_previous, got[1].vs_first) == (2.0, 2.0)
    assert got[2].vs_previous is None and got[2].latency_ms is None
    assert (got[4].vs_previous, got[4].vs_first) == (2.5, 5.0)  # over b, the last counted


def test_gains_are_over_the_first_rung_that_ran():
    """Stock transformers skips a workload without a Hugging Face form (moe): its ladder's
    gains are then over the fp32 eager rung."""
    got = steps({"cases": [record("a", "skipped"), record("b", "ok", 4.0), record("c", "ok", 2.0)]})
    assert got[0].vs_first is None and got[1].vs_first == 1.0
    assert got[2].vs_first == 2.0 and got[2].vs_previous == 2.0


def test_environment_is_restored():
    os.environ.pop("HWBENCH_TEST_VAR", None)
    with environment({"HWBENCH_TEST_VAR": "2"}):
        assert os.environ["HWBENCH_TEST_VAR"] == "2"
    assert "HWBENCH_TEST_VAR" not in os.environ


@pytest.mark.parametrize(
    ("options", "device", "message"),
    [
        ({"kernels": "flash"}, "cpu", "valid: fused, reference, sdpa"),
        ({"quant": "int4"}, "cpu", "valid: int8, none, w8a8"),
        ({"quant": "int8"}, "cuda", "quant=int8 runs on cpu, not on cuda"),
        ({"layout": "nz"}, "cpu", "layout=nz runs on npu, not on cpu"),
    ],
)
def test_bad_model_options_name_the_valid_ones(options, device, message):
    with pytest.raises(UsageError, match=message):
        ModelOptions.parse(options, device)


def test_the_torch_engines_declare_the_model_options():
    for engine in (TorchEager, TorchCompile):
        assert {"kernels", "quant", "layout"} <= set(engine.options)
    TorchCompile.check_options({"kernels": "fused", "mode": "default"}, "cpu")
    with pytest.raises(UsageError):
        TorchEager.check_options({"layout": "nz"}, "cuda")


@pytest.mark.parametrize("quant", ["int8", "w8a8"])
def test_quantized_models_pass_the_int8_tolerance(quant):
    llama = make_workload("llama", "tiny")
    options = ModelOptions.parse({"kernels": "fused", "quant": quant}, "cpu")
    assert options.precision == "int8"
    model = options.build(llama, CPU(), "fp32")
    (ids,) = llama.inputs(1, seed=1)
    with torch.inference_mode():
        verdict = compare(llama.build()(ids), model(ids).float(), options.precision)
    assert verdict["passed"] and verdict["rel_l2"] > 1e-3, verdict  # int8, not fp32 in disguise
    if quant == "w8a8":
        assert isinstance(model.lm_head, W8A8Linear)


def test_routers_stay_in_float_when_quantized():
    moe = make_workload("moe", "tiny")
    model = ModelOptions(quant="w8a8").build(moe, CPU(), "fp32")
    mlp = model.model.layers[0].mlp
    assert type(mlp.gate) is torch.nn.Linear
    assert isinstance(model.model.layers[0].self_attn.q_proj, W8A8Linear)


def test_int8_dynamic_takes_fp32_activations():
    with pytest.raises(UsageError, match="dtype=fp32"):
        ModelOptions(quant="int8").build(make_workload("llama", "tiny"), CPU(), "bf16")


def test_run_ladder_gives_each_rung_its_environment_and_saves_one_file(tmp_path, monkeypatch):
    import hwbench.execution.ladder as ladder_module
    from hwbench.execution.ladder import LadderRun, run_ladder
    from hwbench.results import store

    seen = []

    def fake_run_suite(suite, out_dir, machine):
        [target] = suite.targets
        seen.append((str(target), os.environ.get("TASK_QUEUE_ENABLE"), suite.name))
        key = {**KEY, "engine": target.engine, "device": target.device}
        return {"cases": [CaseRecord(key, "skipped", "-")]}, None

    monkeypatch.setattr(ladder_module, "run_suite", fake_run_suite)
    monkeypatch.delenv("TASK_QUEUE_ENABLE", raising=False)
    document, path = run_ladder(LadderRun(ladder_for("npu"), "llama"), tmp_path, "box")
    assert [queue for _, queue, _ in seen] == [None] * 3 + ["2"] * 5
    assert {name for _, _, name in seen} == {"ladder-npu-llama"}
    assert store.load(path)["cases"] == document["cases"]
    assert [c.details["rung"] for c in document["cases"]] == RUNGS["npu"] == document["ladder"]
    assert "TASK_QUEUE_ENABLE" not in os.environ
