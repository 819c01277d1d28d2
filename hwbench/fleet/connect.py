"""Ray, imported only for a fleet run, and joining its cluster.

`ray.init(address=...)` and `ray.init(_node_ip_address=...)` pass a loopback host through
`ray._private.services.resolve_ip_for_localhost`, which swaps it for the machine's network
address (Ray 2.60; ray-project/ray#59110 reports it for `ray start --address 127.0.0.1:...`).
Ray keeps the loopback address where its `ENABLE_RAY_CLUSTER` is off
(`services.get_node_ip_address`: `RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`, read when ray is
imported), so a loopback address or `local` turns it off before Ray is imported: such a run
never binds to or dials the machine's network address.
"""

from __future__ import annotations

import os
import sys
from types import ModuleType

from hwbench.errors import UsageError

INSTALL = "pip install 'hwbench[ray]' (in a checkout: pip install -e '.[ray]')"
LOOPBACK = ("127.", "localhost", "[::1]", "::1")
LOCAL = "local"
# Tasks carry a case's JSON and its record, no tensors: a small store, not Ray's default of
# 30% of memory (its minimum is 75 MiB: ray_constants.OBJECT_STORE_MINIMUM_MEMORY_BYTES).
LOCAL_OBJECT_STORE = 100 * 1024 * 1024


def is_loopback(address: str) -> bool:
    return address == LOCAL or address.startswith(LOOPBACK)


def resolve_address(given: str) -> str:
    """The cluster address a --ray flag means: its value, else $RAY_ADDRESS."""
    address = given or os.environ.get("RAY_ADDRESS", "")
    if not address:
        raise UsageError("--ray needs an ADDRESS (HOST:PORT or 'local'), or RAY_ADDRESS set")
    return address


def import_ray(address: str = LOCAL) -> ModuleType:
    """The ray module; UsageError (how to install it) when it is not installed."""
    if is_loopback(address) and "ray" not in sys.modules:
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # see the module's note
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        import ray  # an optional extra: only a fleet run needs it
    except ImportError:
        raise UsageError(f"--ray needs Ray, which is not installed: {INSTALL}") from None
    return ray


def connect(address: str) -> ModuleType:
    """Ray, joined to the cluster at `address`, or to a Ray started here on 127.0.0.1 for
    'local' (no dashboard). UsageError naming the address when it cannot be reached."""
    ray = import_ray(address)
    try:
        if address == LOCAL:
            ray.init(
                address=LOCAL,  # a new Ray, never one found in /tmp/ray (ray.init's docs)
                _node_ip_address="127.0.0.1",
                include_dashboard=False,
                object_store_memory=LOCAL_OBJECT_STORE,
                log_to_driver=False,
                configure_logging=False,
            )
        else:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
    except (ConnectionError, ValueError, RuntimeError) as error:
        raise UsageError(f"cannot join the Ray cluster at {address}: {error}") from None
    return ray
