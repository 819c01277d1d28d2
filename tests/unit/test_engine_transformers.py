"""The transformers engine in-process: what it runs and skips, its forward against the float32
reference, generate() timed token by token, and the Hugging Face forms it loads."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import sys

import pytest
import torch

from hwbench.backends.cpu import CPU
from hwbench.engines import transformers_engine
from hwbench.engines.base import Spec
from hwbench.engines.transformers_engine import Transformers
from hwbench.errors import UsageError
from hwbench.llm.checkpoint import checkpoint_dir
from hwbench.llm.generation import prompt_ids
from hwbench.llm.reference import reference
from hwbench.measure import parity
from hwbench.scenarios.step import reference_output
from hwbench.workloads import make_workload

pytest.importorskip("transformers")


@pytest.fixture(scope="module", autouse=True)
def cache(tmp_path_factory):
    """Checkpoints exported once for the module, away from the user's cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HWBENCH_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        yield


def spec(name: str, dtype: str = "fp32", **options: str) -> Spec:
    return Spec(make_workload(name, "tiny"), CPU(), dtype, options)


@pytest.mark.parametrize("name", ["mlp", "resnet50", "moe"])
def test_workloads_without_a_hugging_face_form_are_skipped_with_the_reason(name):
    ok, why = Transformers().supports(make_workload(name, "tiny"), CPU(), "fp32")
    assert not ok and why == f"workload {name} has no Hugging Face architecture to save as"


def test_without_transformers_it_says_what_to_install(monkeypatch):
    monkeypatch.setattr(transformers_engine, "package_version", lambda name: None)
    ok, why = Transformers().supports(make_workload("llama", "tiny"), CPU(), "fp32")
    assert not ok and "pip install 'hwbench[hf]'" in why


def test_an_encoder_runs_steps_but_does_not_generate():
    engine, bert = Transformers(), make_workload("bert", "tiny")
    assert engine.supports(bert, CPU(), "bf16") == (True, "")
    assert engine.provides_for("session", bert) == (True, "")
    assert engine.provides_for("generator", bert)[0] is False


def test_a_bad_attention_names_the_valid_ones():
    with pytest.raises(UsageError, match=r"valid: eager, flash_attention_2, .*, sdpa"):
        Transformers.check_options({"attn_implementation": "paged"}, "cpu")
    Transformers.check_options({"attn_implementation": "eager"}, "cpu")


@pytest.mark.parametrize("name", ["llama", "bert"])
def test_the_checkpoint_loads_every_weight_under_transformers_names(name):
    import transformers

    workload = make_workload(name, "tiny")
    auto = transformers.AutoModelForCausalLM if name == "llama" else transformers.AutoModel
    directory = checkpoint_dir(workload).directory
    _, info = auto.from_pretrained(directory, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"], info


@pytest.mark.parametrize(
    ("name", "dtype", "options"),
    [
        ("llama", "fp32", {}),
        ("llama", "fp32", {"attn_implementation": "eager"}),
        ("bert", "fp32", {}),
        ("llama", "bf16", {}),
    ],
)
def test_the_forward_matches_the_float32_reference(name, dtype, options):
    case = spec(name, dtype, **options)
    inputs = case.workload.inputs(2, seed=1)
    session = Transformers().prepare(case)
    output = session.to_cpu(session.run(session.place(inputs)))
    verdict = parity.compare(reference_output(case.workload, inputs), output, session.precision)
    assert verdict["passed"], verdict
    details = session.details()
    assert details["attn_implementation"] == options.get("attn_implementation", "sdpa")
    assert details["model_class"] == ("LlamaForCausalLM" if name == "llama" else "BertModel")


def test_generate_times_every_token_and_matches_the_reference():
    case = spec("llama")
    prompts = prompt_ids(case.workload, 2, 24, seed=1)
    expected = reference(case.workload, prompts, 8)
    generator = Transformers().prepare_generator(case, 2, 32)
    got = generator.prompt_logprobs(prompts)
    verdict = parity.compare_logprobs(expected["logprobs"], got, "fp32")
    assert verdict["passed"], verdict
    for _ in range(2):  # the clock starts afresh each time
        run = generator.generate(prompts, 8)
        assert torch.equal(run.tokens, expected["tokens"])
        [times, again] = run.times_s
        assert times == again and len(times) == 8 and run.wall_s == times[-1]
        assert all(0 < a < b for a, b in itertools.pairwise(times))
    assert generator.details()["kv_cache"] == "dynamic"
    generator.close()


def test_a_directorys_sampling_settings_do_not_reach_generate(tmp_path):
    source = checkpoint_dir(make_workload("llama", "tiny")).directory
    shutil.copytree(source, tmp_path / "mine")
    sampling = {"do_sample": True, "temperature": 0.7, "repetition_penalty": 1.3, "eos_token_id": 1}
    (tmp_path / "mine" / "generation_config.json").write_text(json.dumps(sampling))
    mine = make_workload("hf", "tiny", model_path=str(tmp_path / "mine"))
    generator = Transformers().prepare_generator(Spec(mine, CPU()), 1, 16)
    config = generator.model.generation_config
    assert config.do_sample is False and config.repetition_penalty in (None, 1.0)
    prompts = prompt_ids(mine, 1, 8, seed=1)
    expected = reference(mine, prompts, 6)["tokens"]
    assert torch.equal(generator.generate(prompts, 6).tokens, expected)


def test_importing_the_engine_leaves_transformers_unimported():
    code = (
        "import sys, hwbench.engines.transformers_engine\n"
        "assert 'transformers' not in sys.modules, 'transformers imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
