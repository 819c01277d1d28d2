"""Placement, machine folders and the version check, on made-up nodes: no Ray needed."""

from __future__ import annotations

import pytest

from hwbench.case import Case
from hwbench.config import Target
from hwbench.errors import UsageError
from hwbench.fleet.nodes import Node, check_versions, machine_names
from hwbench.fleet.placement import needs, place, task_resources

GPU_BOX = Node("a1" * 28, "gpu-box", {"CPU": 8.0, "GPU": 2.0}, "gpu-box")
NPU_BOX = Node("b2" * 28, "npu-box", {"CPU": 16.0, "NPU": 8.0}, "npu-box")
RUNNER = Node("c3" * 28, "10.0.0.7", {"CPU": 2.0, "avx512": 1.0}, "runner")
HEAD = Node("d4" * 28, "head", {"GPU": 1.0}, "head")  # `ray start --head --num-cpus 0`
NODES = [GPU_BOX, NPU_BOX, RUNNER, HEAD]


def cases(target: str, count: int = 1) -> list[Case]:
    return [Case("mlp", "tiny", target, "throughput", batch) for batch in range(1, count + 1)]


def where(target: str, count: int = 1, nodes: list[Node] = NODES) -> list[str]:
    return [p.node.machine if p.node else p.reason for p in place(cases(target, count), nodes)]


def test_each_device_goes_to_the_nodes_with_its_resource() -> None:
    assert where("torch@cuda", 2) == ["gpu-box", "gpu-box"]  # the head has no CPU to run one
    assert where("torch@npu") == ["npu-box"]
    assert where("torch@cpu:resource=avx512") == ["runner"]


def test_cpu_cases_spread_over_the_nodes_least_loaded_first() -> None:
    assert where("torch@cpu", 4) == ["gpu-box", "npu-box", "runner", "gpu-box"]


def test_a_pin_names_a_node_by_name_machine_or_id() -> None:
    assert where("torch@cpu:node=npu-box", 2) == ["npu-box", "npu-box"]
    assert where("torch@cpu:node=runner") == ["runner"]  # its folder (its Ray name is an IP)
    assert where(f"torch@cpu:node={RUNNER.id[:8]}") == ["runner"]


def test_no_node_that_can_run_it_is_a_skip_reason() -> None:
    assert where("torch@npu", nodes=[GPU_BOX, RUNNER]) == ["no node has resource NPU"]
    assert where("torch@cuda:node=npu-box") == ["no node named npu-box has resource GPU"]
    assert where("torch@cpu:node=nowhere") == ["no node named nowhere"]
    assert where("torch@cuda", nodes=[HEAD]) == [
        "no node with resource GPU has a CPU to run a case on"
    ]
    assert where("torch@npu:resource=avx512") == ["no node has resources NPU and avx512 together"]


def test_a_task_takes_every_cpu_of_its_node_and_one_accelerator() -> None:
    assert task_resources(Target.parse("torch@cuda"), GPU_BOX) == {
        "num_cpus": 8.0, "num_gpus": 1.0, "resources": {}
    }  # fmt: skip
    assert task_resources(Target.parse("torch@npu"), NPU_BOX) == {
        "num_cpus": 16.0, "num_gpus": 0, "resources": {"NPU": 1.0}
    }  # fmt: skip
    assert needs(Target.parse("torch@cpu:resource=avx512")) == ("CPU", "avx512")


def test_placement_options_stay_out_of_the_case_key() -> None:
    pinned = Case("mlp", "tiny", "torch@cpu:node=gpu-box,resource=avx512", "latency", 1)
    assert pinned.key() == Case("mlp", "tiny", "torch@cpu", "latency", 1).key()


def test_machine_folders_come_from_node_names_else_hosts_made_unique() -> None:
    nodes = [
        Node("e5" * 28, "gpu-box", {}, environment={"host": "lab1"}),
        Node("f6" * 28, "10.0.0.8", {}, environment={"host": "lab2"}),
        Node("a7" * 28, "127.0.0.1", {}, environment={"host": "lab2"}),
    ]
    assert machine_names(nodes) == ["gpu-box", f"lab2-{'f6' * 4}", f"lab2-{'a7' * 4}"]


def test_another_hwbench_on_a_node_is_an_error_naming_it() -> None:
    with pytest.raises(UsageError, match=r"node npu-box \(b2b2b2b2\) has hwbench 0\.0\.9"):
        check_versions([GPU_BOX, NPU_BOX], ["0.1.0", "0.0.9"])
    check_versions([GPU_BOX], ["0.1.0"])
