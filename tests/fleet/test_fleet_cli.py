"""`run --ray` at the command line: bad input in one line, no Ray installed, and a whole run
on `--ray local` (a Ray started on 127.0.0.1 and stopped)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hwbench import cli
from hwbench.results import store
from tests.conftest import hwbench_cmd


def test_without_ray_installed_says_how_to_install_it(monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    code = cli.main(["run", "--ray", "local", "--workload", "mlp", "--target", "torch@cpu",
                     "--out", str(tmp_path)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().splitlines() == [
        "hwbench: error: --ray needs Ray, which is not installed: pip install 'hwbench[ray]' "
        "(in a checkout: pip install -e '.[ray]')"
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "torch@cpu:node=box-a"], "option node= places a case on a Ray node; add"),
        (["--target", "torch@cpu", "--report", "r.html"], "--report goes with --ray"),
        (["--ray", "--target", "torch@cpu"], "--ray needs an ADDRESS"),
        (["--ray", "local", "--machine", "m", "--target", "torch@cpu"], "--machine names"),
    ],
)
def test_bad_fleet_input_is_one_line_and_exit_2(args, message, monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    code = cli.main(["run", "--workload", "mlp", "--out", str(tmp_path), *args])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(lines) == 1 and message in lines[0]


@pytest.mark.ray
def test_ray_local_runs_the_suite_on_a_ray_it_starts(tmp_path: Path) -> None:
    out = tmp_path / "results"
    result = subprocess.run(
        hwbench_cmd("run", "--ray", "local", "--workload", "mlp", "--target", "torch@cpu",
                    "--scenario", "latency", "--time-budget", "0.2", "--passes", "1",
                    "--out", str(out), "--json"),
        capture_output=True, text=True, cwd=tmp_path, timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    manifest = json.loads(result.stdout)
    assert manifest["schema"] == "hwbench-fleet-run" and manifest["ray_address"] == "local"
    (node,) = manifest["nodes"]
    assert node["resources"]["node:127.0.0.1"] == 1  # bound to the loopback address
    (path,) = manifest["files"].values()
    document = store.load(out / path)
    assert [c.status for c in document["cases"]] == ["ok"]
    assert document["cases"][0].details["fleet"]["node_id"] == node["id"]


def test_ray_alone_takes_the_address_from_ray_address(monkeypatch) -> None:
    from hwbench.fleet.connect import is_loopback, resolve_address

    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.5:6379")
    assert resolve_address("") == "10.0.0.5:6379"
    assert resolve_address("local") == "local"
    assert is_loopback("127.0.0.1:6379") and is_loopback("local")
    assert not is_loopback("10.0.0.5:6379")
