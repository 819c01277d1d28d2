import pytest

from hwbench.config import Suite, Target, load_suite
from hwbench.errors import UsageError


def test_target_round_trips_with_options():
    target = Target.parse("torch@cpu:dtype=bf16")
    assert (target.engine, target.device, target.dtype) == ("torch", "cpu", "bf16")
    assert str(target) == "torch@cpu:dtype=bf16"
    assert Target.parse("torch@cpu", dtype="bf16").dtype == "bf16"
    assert Target.parse("torch@cpu:dtype=fp32", dtype="bf16").dtype == "fp32"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("torch", "ENGINE@DEVICE"),
        ("nosuch@cpu", "unknown engine 'nosuch'; valid: "),
        ("torch@tpu", "unknown device 'tpu'; valid: cpu, cuda, npu"),
        ("torch@cpu:dtype=fp64", "unknown dtype 'fp64'"),
        ("torch@cpu:colour=red", "unknown option for engine torch 'colour'"),
        ("torch@cpu:dtype", "not key=value"),
    ],
)
def test_bad_targets_name_the_valid_choices(text, message):
    with pytest.raises(UsageError, match=message):
        Target.parse(text)


def test_default_suite_is_every_workload_tiny_on_every_engine_and_device():
    suite = Suite()
    assert set(suite.workloads) == {"mlp", "resnet50", "bert", "llama", "moe"}
    assert suite.sizes == ("tiny",)
    assert {t.device for t in suite.targets} == {"cpu", "cuda", "npu"}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"workloads": ("gpt5",)}, "unknown workload 'gpt5'"),
        ({"sizes": ("huge",)}, "unknown size 'huge'; valid: full, small, tiny"),
        ({"scenarios": ("offline",)}, "unknown scenario 'offline'"),
        ({"batches": (0,)}, r"batches \(--batch\) must be a list of integers >= 1"),
        ({"batches": (True,)}, "batches .* must be a list of integers"),
        ({"case_timeout_s": float("nan")}, r"case_timeout_s \(--timeout\) must be a finite number"),
        ({"case_timeout_s": float("inf")}, "case_timeout_s .* finite number > 0, got inf"),
        ({"burstiness": float("nan")}, "burstiness .* finite number > 0"),
        ({"seed": 10**23}, r"seed \(--seed\) must be an integer >= 0 and < 18446744073709551616"),
        ({"seed": -1}, "seed .* >= 0"),
        ({"request_rates": (float("nan"),)}, "request_rates .* numbers .*inf allowed"),
        ({"workloads": ("hf",)}, "needs --model PATH"),
    ],
)
def test_bad_suites_are_usage_errors(fields, message):
    with pytest.raises(UsageError, match=message):
        Suite(**fields)


def test_suite_file_fills_the_suite(tmp_path):
    path = tmp_path / "nightly.toml"
    path.write_text(
        'name = "nightly"\nworkloads = ["mlp"]\ntargets = ["torch@cpu:dtype=bf16"]\n'
        "batches = [2, 4]\n[harness]\ntime_budget_s = 1.5\n"
    )
    suite = load_suite(path)
    assert suite.name == "nightly" and suite.workloads == ("mlp",)
    assert suite.targets == (Target("torch", "cpu", (("dtype", "bf16"),)),)
    assert suite.batches == (2, 4) and suite.harness.time_budget_s == 1.5
    assert load_suite(path, workloads=("bert",)).workloads == ("bert",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("workloads = [", "not valid TOML"),
        ("workload = ['mlp']", "unknown key"),
        ("workloads = 'mlp'", r"workloads \(--workload\) must be a list of texts"),
        ("batches = [1.5]", "batches .* must be a list of integers"),
        ("batches = [true]", "batches .* must be a list of integers .* got \\[True\\]"),
        ("case_timeout_s = nan", "case_timeout_s .* must be a finite number > 0, got nan"),
        ("seed = 1e23", r"seed \(--seed\) must be an integer"),
        ("harness = 3", "harness must be a table"),
        ("[harness]\nbudget = 3", r"\[harness\] keys must be among"),
        ("[harness]\npasses = 1.5", r"\[harness\] passes \(--passes\) must be an integer >= 1"),
        ("[harness]\ntime_budget_s = 'fast'", r"\[harness\] time_budget_s \(--time-budget\)"),
        ("[harness]\ntime_budget_s = nan", "time_budget_s .* finite number > 0, got nan"),
        ("[harness]\nwarmup_runs = -1", "warmup_runs must be an integer >= 0"),
    ],
)
def test_malformed_suite_files_are_usage_errors(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(UsageError, match=message):
        load_suite(path)


def test_missing_suite_file_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="No such file"):
        load_suite(tmp_path / "absent.toml")
