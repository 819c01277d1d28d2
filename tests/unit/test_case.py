from hwbench.case import Case
from hwbench.config import Suite, Target
from hwbench.execution.plan import expand


def test_latency_runs_batch_one_and_throughput_sweeps_the_default_batches():
    suite = Suite(workloads=("mlp",), targets=(Target.parse("torch@cpu"),))
    cases = expand(suite)
    assert [(c.scenario, c.batch) for c in cases] == [
        ("latency", 1),
        ("throughput", 1),
        ("throughput", 8),
        ("throughput", 32),
    ]


def test_requested_batches_replace_the_sweep_but_not_latency():
    suite = Suite(workloads=("mlp",), targets=(Target.parse("torch@cpu"),), batches=(2, 4))
    assert [c.batch for c in expand(suite)] == [1, 2, 4]


def test_every_workload_target_and_scenario_is_crossed():
    targets = (Target.parse("torch@cpu"), Target.parse("torch@cpu:dtype=bf16"))
    suite = Suite(workloads=("mlp", "bert"), targets=targets, scenarios=("latency",))
    labels = [c.label() for c in expand(suite)]
    assert labels == [
        "mlp/tiny latency b1 torch@cpu",
        "mlp/tiny latency b1 torch@cpu:dtype=bf16",
        "bert/tiny latency b1 torch@cpu",
        "bert/tiny latency b1 torch@cpu:dtype=bf16",
    ]


def test_case_survives_the_trip_to_a_worker():
    [case] = expand(
        Suite(workloads=("mlp",), targets=(Target.parse("torch@cpu"),), scenarios=("latency",))
    )
    assert Case.from_json(case.to_json()) == case
    assert case.key()["dtype"] == "fp32" and case.key()["engine"] == "torch"


def test_commas_separate_targets_but_not_the_options_of_one():
    from hwbench.commands.run import split_targets

    given = ["torch@cpu,torch@cpu:dtype=bf16,kernels=fused", "onnxruntime@cpu"]
    assert split_targets(given) == (
        "torch@cpu",
        "torch@cpu:dtype=bf16,kernels=fused",
        "onnxruntime@cpu",
    )
