"""`hwbench port`: which aten operators of a workload's forward torch_npu runs natively,
decomposes, or leaves to the CPU; the fused operators for its patterns; dtype notes per Ascend
generation. Runs on any machine (the forward runs once on the CPU); saved as
OUT/<machine>/<timestamp>-port.json."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hwbench.commands.output import stderr_console, stdout_console
from hwbench.errors import UsageError, unknown_choice
from hwbench.machine import machine_name
from hwbench.port import sources
from hwbench.results import store
from hwbench.results.files import check_writable

# The recorder and the workloads import torch: imported where used, as every command module
# is imported to build `hwbench --help`.
if TYPE_CHECKING:
    from hwbench.port.oplist import OpList
    from hwbench.workloads.base import Workload


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "port", help="which aten ops of a workload torch_npu runs natively or leaves to the CPU"
    )
    p.add_argument("--workload", help="workload name, e.g. llama (or --model PATH)")
    p.add_argument(
        "--size", default="tiny", help="tiny, small or full (built on the CPU; default: tiny)"
    )
    p.add_argument("--model", metavar="PATH", help="a local Hugging Face model directory")
    p.add_argument("--dtype", default="fp32", help="fp32, bf16 or fp16 (default: fp32)")
    p.add_argument("--batch", type=int, default=1, help="batch of the forward (default: 1)")
    lists = p.add_mutually_exclusive_group()
    cached = f"from a wheel in hwbench's cache ({sources.fetch_command('VERSION')})"
    lists.add_argument("--torch-npu", metavar="VERSION", help=f"that release's list, {cached}")
    lists.add_argument(
        "--op-list", type=Path, metavar="PATH", help="a torch_npu wheel or its operator YAML"
    )
    lists.add_argument(
        "--compare-versions", nargs=2, metavar=("A", "B"), help="what changed from A to B"
    )
    p.add_argument("--json", action="store_true", help="print the saved document as JSON")
    p.add_argument("--out", type=Path, default=Path("results"), help="results directory")
    p.add_argument("--machine", help="folder name for this machine (default: host name)")


def chosen_list(args: argparse.Namespace) -> tuple[OpList | None, str | None]:
    """The operator list the flags name (installed torch_npu by default), or None with how
    to get one."""
    if args.op_list is not None:
        return sources.from_path(args.op_list), None
    if args.torch_npu is not None:
        return sources.cached(args.torch_npu), None
    if args.compare_versions:
        return sources.cached(args.compare_versions[1]), None
    found = sources.installed()
    return found, None if found else missing_hint()


def missing_hint() -> str:
    from hwbench.doctor.versions import base
    from hwbench.packages import package_version

    version = base(package_version("torch") or "2.13.0")  # torch_npu X.Y.Z is made for torch X.Y.Z
    return (
        "torch_npu is not installed here, so no operator list was read: fetch the wheel made "
        f"for this torch with `{sources.fetch_command(version)}`, then add --torch-npu {version}"
    )


def workload_of(args: argparse.Namespace) -> Workload:
    """The workload the flags name; bad names, sizes, dtypes and batches are UsageErrors."""
    from hwbench.backends.base import DTYPES
    from hwbench.workloads import make_workload

    if args.model is None and args.workload is None:
        raise UsageError("port needs --workload NAME or --model PATH")
    if args.model is not None and args.workload not in (None, "hf"):
        raise UsageError(f"--model PATH is the workload; drop --workload {args.workload}")
    if args.dtype not in DTYPES:
        raise unknown_choice("dtype", args.dtype, list(DTYPES))
    if args.batch < 1:
        raise UsageError(f"--batch must be >= 1, got {args.batch}")
    return make_workload(args.workload or "hf", args.size, model_path=args.model)


def described(workload: Workload, args: argparse.Namespace) -> dict[str, Any]:
    return {
        "workload": workload.name,
        "size": workload.size,
        "model_path": args.model,
        "model_name": workload.model_name,
        "dtype": args.dtype,
        "batch": args.batch,
        "flops": workload.flops(args.batch),
    }


def main(args: argparse.Namespace) -> int:
    from hwbench.port.document import build, compare
    from hwbench.port.record import record
    from hwbench.port.tables import print_document

    oplist, missing = chosen_list(args)
    earlier = sources.cached(args.compare_versions[0]) if args.compare_versions else None
    machine = machine_name(args.machine)
    check_writable(args.out / machine)  # before anything runs
    workload = workload_of(args)
    calls = record(workload, args.dtype, args.batch)
    document = build(described(workload, args), calls, oplist, machine, missing)
    if earlier is not None and oplist is not None:
        document["compare"] = compare(calls, earlier, oplist)
    path = store.save_new(document, store.result_path(args.out, machine, "port"))
    if args.json:
        print(store.dumps(document))
    else:
        print_document(stdout_console(), document)
    stderr_console().print(f"results: {path}")
    return 0
