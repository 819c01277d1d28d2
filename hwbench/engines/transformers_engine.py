"""Hugging Face transformers as users run it: `AutoModelForCausalLM` (decoders) or `AutoModel`
(encoders) from the workload's Hugging Face directory (hwbench.llm.checkpoint: the very
weights the other engines run, or the user's own `--model` directory), moved to the device in
the target's dtype. The first rung of every ladder: what hwbench's own model and each
optimization buy is read against it.

Step scenarios time the model's forward on `input_ids` (its logits, or an encoder's last
hidden states). The generate scenario times `model.generate()` greedy (do_sample=False,
num_beams=1), as hwbench's own generator decodes, for exactly the output length
(min_new_tokens = max_new_tokens, as optimum-benchmark asks); the model's generation_config is
replaced by one with only the special token ids, so a directory's sampling or penalty settings
never change the work. Token
times come from a streamer: generate() hands it each new token, already copied to the host
(transformers/generation/utils.py `StopCheck`), and it stamps the token as it arrives.

transformers is imported inside the functions that need it: importing it takes seconds, and the
CLI imports the engines to list them.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

import torch

from hwbench.backends.base import DTYPES, Device
from hwbench.engines.base import Engine, Inputs, Session, Spec
from hwbench.errors import unknown_choice
from hwbench.llm.checkpoint import checkpoint_dir, exportable
from hwbench.llm.generation import Generation, Generator, logprobs_of_prompt
from hwbench.packages import package_version
from hwbench.torch_features import present
from hwbench.workloads.base import Workload

# transformers' attention back-ends (its AttentionInterface); unset: its default (SDPA where
# the model has it)
ATTENTION = ("eager", "sdpa", "flash_attention_2", "flash_attention_3", "flex_attention")
INSTALL = "transformers is not installed: pip install 'hwbench[hf]'"


def load_model(workload: Workload, device: Device, dtype: str, attention: str | None) -> Any:
    """The workload's Hugging Face model on `device` in `dtype`, in eval mode. Loaded in the
    checkpoint's dtype, then cast: `from_pretrained` names its dtype argument differently
    across transformers 4 and 5."""
    from transformers import AutoModel, AutoModelForCausalLM
    from transformers.utils import logging

    logging.disable_progress_bar()  # its "Loading weights" bar, in every worker's log
    auto = AutoModelForCausalLM if workload.family == "decoder" else AutoModel
    kwargs = {"attn_implementation": attention} if attention else {}
    directory = checkpoint_dir(workload).directory
    model = auto.from_pretrained(directory, local_files_only=True, **kwargs)
    return model.to(device=device.torch_device(), dtype=DTYPES[dtype]).eval()


def model_details(model: Any, precision: str) -> dict[str, Any]:
    return {
        "transformers": package_version("transformers"),
        "model_class": type(model).__name__,
        "attn_implementation": getattr(model.config, "_attn_implementation", None),
        "checkpoint": str(model.name_or_path),
        "precision": precision,
    }


class TransformersSession(Session):
    """The model's forward on input_ids; returns its logits or last hidden states."""

    def __init__(self, model: Any, device: Device, dtype: str, field: str) -> None:
        super().__init__(device, dtype)
        self.model, self.precision, self.field = model, dtype, field

    def run(self, placed: tuple[torch.Tensor, ...]) -> Any:
        with torch.inference_mode():
            return getattr(self.model(input_ids=placed[0]), self.field)

    def details(self) -> dict[str, Any]:
        return model_details(self.model, self.dtype)


class TokenClock:
    """A transformers streamer that stamps each generated token: `times` are seconds since
    `start()`, one per token; the first `put` (the prompt) is not a token."""

    def __init__(self, device: Device) -> None:
        self.device = device
        self.started, self.prompt_seen = 0.0, False
        self.times: list[float] = []

    def start(self) -> None:
        self.device.synchronize()
        self.times, self.prompt_seen = [], False
        self.started = time.perf_counter()

    def put(self, value: torch.Tensor) -> None:
        if not self.prompt_seen:
            self.prompt_seen = True
            return
        self.device.synchronize()
        self.times.append(time.perf_counter() - self.started)

    def end(self) -> None:
        """Nothing to flush."""


class TransformersGenerator(Generator):
    def __init__(self, model: Any, device: Device, dtype: str) -> None:
        from transformers import GenerationConfig

        self.model, self.device, self.dtype, self.precision = model, device, dtype, dtype
        config = model.config
        eos = config.eos_token_id
        pad = config.pad_token_id if config.pad_token_id is not None else eos
        pad = pad[0] if isinstance(pad, list) else pad
        model.generation_config = GenerationConfig(
            do_sample=False,
            num_beams=1,
            use_cache=True,
            bos_token_id=config.bos_token_id,
            eos_token_id=eos,
            pad_token_id=pad,
        )
        self.clock = TokenClock(device)

    def generate(self, prompts: torch.Tensor, output_len: int) -> Generation:
        ids = prompts.to(self.device.torch_device())
        mask = torch.ones_like(ids)
        self.clock.start()
        with torch.inference_mode():
            out = self.model.generate(
                input_ids=ids,
                attention_mask=mask,
                max_new_tokens=output_len,
                min_new_tokens=output_len,
                streamer=self.clock,
            )
        times = self.clock.times
        if len(times) != output_len:
            raise RuntimeError(f"generate() streamed {len(times)} tokens, not {output_len}")
        tokens = out[:, prompts.shape[1] :].cpu()
        return Generation(tokens, [list(times) for _ in range(len(prompts))], times[-1])

    def prompt_logprobs(self, prompts: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            logits = self.model(input_ids=prompts.to(self.device.torch_device())).logits
        return logprobs_of_prompt(logits, prompts)

    def details(self) -> dict[str, Any]:
        return {**model_details(self.model, self.dtype), "kv_cache": "dynamic"}

    def close(self) -> None:
        del self.model


class Transformers(Engine):
    name = "transformers"
    options: ClassVar[tuple[str, ...]] = ("attn_implementation",)
    provides: ClassVar[tuple[str, ...]] = ("session", "generator")
    # What loading and running the built-in workloads imports (seconds), once in the fork
    # server; none of it touches a device runtime (tests/unit/test_fork_guard.py)
    worker_preload: ClassVar[tuple[str, ...]] = present(
        (
            "transformers.generation.utils",
            "transformers.models.auto.modeling_auto",
            "transformers.models.llama.modeling_llama",
            "transformers.models.bert.modeling_bert",
        )
    )

    @classmethod
    def check_options(cls, options: dict[str, str], device: str) -> None:
        attention = options.get("attn_implementation")
        if attention is not None and attention not in ATTENTION:
            raise unknown_choice("attn_implementation", attention, list(ATTENTION))

    def supports(self, workload: Workload, device: Device, dtype: str) -> tuple[bool, str]:
        if package_version("transformers") is None:
            return False, INSTALL
        ok, why = exportable(workload)
        if not ok:
            return False, why
        return device.supports_dtype(dtype)

    def generation_support(self, workload: Workload) -> tuple[bool, str]:
        if workload.family != "decoder":
            return False, f"workload {workload.name} is not a causal language model"
        return exportable(workload)

    def prepare(self, spec: Spec, example_inputs: Inputs | None = None) -> Session:
        attention = spec.options.get("attn_implementation")
        model = load_model(spec.workload, spec.device, spec.dtype, attention)
        field = "logits" if spec.workload.family == "decoder" else "last_hidden_state"
        return TransformersSession(model, spec.device, spec.dtype, field)

    def prepare_generator(self, spec: Spec, batch: int, max_len: int) -> Generator:
        attention = spec.options.get("attn_implementation")
        model = load_model(spec.workload, spec.device, spec.dtype, attention)
        return TransformersGenerator(model, spec.device, spec.dtype)
