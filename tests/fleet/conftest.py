"""A three-node Ray cluster on 127.0.0.1 for the fleet tests, custom resources standing in
for device kinds: `head` has fakegpu, `box-a` fakenpu, `box-b` nothing but its CPU.

Ray replaces a loopback address with the machine's network address unless told not to
(hwbench/fleet/connect.py says why); these variables are set before Ray is imported so that
every node, the tests and the hwbench processes they start use 127.0.0.1 only."""

from __future__ import annotations

import os

os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
os.environ["RAY_USAGE_STATS_ENABLED"] = "0"

import pytest

NODE = {"node_ip_address": "127.0.0.1", "num_cpus": 1, "object_store_memory": 80 * 1024**2}


@pytest.fixture(scope="module")
def cluster():
    """The cluster and its nodes by name; shut down after the module's tests."""
    from ray.cluster_utils import Cluster

    head = {**NODE, "node_name": "head", "include_dashboard": False, "resources": {"fakegpu": 1}}
    ray_cluster = Cluster(initialize_head=True, head_node_args=head)
    try:
        nodes = {
            "head": ray_cluster.head_node,
            "box-a": ray_cluster.add_node(**NODE, node_name="box-a", resources={"fakenpu": 1}),
            "box-b": ray_cluster.add_node(**NODE, node_name="box-b"),
        }
        ray_cluster.wait_for_nodes()
        yield ray_cluster, nodes
    finally:
        ray_cluster.shutdown()
