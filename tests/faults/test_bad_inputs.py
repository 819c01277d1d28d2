"""Every subcommand walked through bad input: each ends with exit 2 and one line naming the
problem, before it measures anything; no exception (a traceback) reaches the user."""

from __future__ import annotations

import traceback
from pathlib import Path

import pytest

from hwbench.cli import main
from hwbench.commands import COMMANDS

ROOT = Path(__file__).parents[2]
RESULT = str(ROOT / "results" / "amd-epyc-2core" / "20261203T140954Z-fp32-vs-bf16.json")
MISSING = "/nonexistent/hwbench/result.json"

# {command: [(arguments, a fragment of the error line), ...]}; TMP is the test's own folder,
# NOTJSON a file there that holds text, FILE an empty file (in the way of a folder).
BAD_INPUTS: dict[str, list[tuple[list[str], str]]] = {
    "run": [
        (["--workload", "nope"], "unknown workload"),
        (["--target", "torch"], "not ENGINE@DEVICE"),
        (["--suite", MISSING], "No such file"),
        (["--suite", "NOTJSON"], "not valid TOML"),
        (["--out", "FILE/results"], "cannot write results"),
        (["--machine", ".."], "not a folder name"),
        (["--time-budget", "nan"], "time_budget_s (--time-budget)"),
        (["--timeout", "-1"], "case_timeout_s (--timeout)"),
        (["--seed", "-5"], "seed (--seed)"),
        (["--batch", "0"], "batches (--batch)"),
        (["--passes", "0"], "passes (--passes)"),
        (["--request-rate", "nan"], "request_rates (--request-rate)"),
        (["--burstiness", "inf"], "burstiness (--burstiness)"),
        (["--slo", "speed=fast"], "bad SLO"),
        (["--prompt-len", "0"], "prompt_len (--prompt-len)"),
        (["--model", MISSING], MISSING),
        (["--name", "x"], "--name names a --model"),
        (["--dtype", "fp64"], "unknown dtype"),
        (["--scenario", "offline"], "unknown scenario"),
        (["--bogus"], "unrecognized arguments"),
    ],
    "list": [(["--bogus"], "unrecognized arguments")],
    "env": [(["--bogus"], "unrecognized arguments")],
    "schema": [(["--bogus"], "unrecognized arguments")],
    "doctor": [(["--device", "tpu"], "unknown device"), (["--bogus"], "unrecognized arguments")],
    "peak": [
        (["--device", "tpu"], "unknown device"),
        (["--runs", "0"], "runs"),
        (["--dtype", "fp64"], "fp64"),
        (["--machine", "."], "not a folder name"),
        (["--quick", "--out", "FILE/results"], "cannot write"),
    ],
    "floor": [
        (["--workload", "nope", "--chip", "h200"], "unknown workload"),
        (["--workload", "mlp", "--chip", "nope"], "nope"),
        (["--workload", "mlp", "--chip", "h200", "--batch", "0"], "batch"),
        (["--workload", "mlp", "--chip", "h200", "--dtype", "fp64"], "fp64"),
        (["--workload", "mlp", "--chip", "h200", "--size", "huge"], "unknown size"),
    ],
    "compare": [
        ([MISSING], "No such file"),
        (["NOTJSON"], "not"),
        (["TMP/empty-folder"], "no result file in"),
        ([RESULT, "--by", "colour"], "colour"),
        ([RESULT, "--confidence", "nan"], "--confidence"),
        ([RESULT, "--confidence", "1.5"], "--confidence"),
        ([RESULT, "--baseline", "nope@cpu"], "nope@cpu"),
        ([RESULT, "--markdown", "TMP"], "is a directory"),
    ],
    "gate": [
        (["--baseline", MISSING, "--candidate", RESULT], "No such file"),
        (["--baseline", RESULT, "--candidate", "NOTJSON"], "not"),
        (["--baseline", RESULT, "--candidate", RESULT, "--threshold", "2"], "threshold"),
        (["--baseline", RESULT, "--candidate", RESULT, "--alpha", "nan"], "alpha"),
        (["--baseline", RESULT, "--candidate", RESULT, "--junit", "TMP"], "is a directory"),
        (["--baseline", RESULT, "--candidate", "TMP/two"], "must name one result file"),
    ],
    "export": [
        ([MISSING, "-o", "TMP/out.json"], "No such file"),
        (["NOTJSON", "-o", "TMP/out.json"], "not"),
        ([RESULT, "-o", "TMP"], "is a directory"),
        ([RESULT, "--format", "csv", "-o", "TMP/out.json"], "invalid choice"),
    ],
    "ab": [
        (["--a", "torch", "--b", "torch@cpu"], "not ENGINE@DEVICE"),
        (["--a", "torch@cpu", "--b", "python=:torch@cpu"], "python=PATH"),
        (["--a", "torch@cpu", "--b", "torch@cpu", "--blocks", "1"], "--blocks"),
        (["--a", "torch@cpu", "--b", "torch@cpu", "--samples", "0"], "samples (--samples)"),
        (["--a", "torch@cpu", "--b", "torch@cpu", "--budget", "soon"], "--budget must be a"),
        (["--a", "torch@cpu", "--b", "torch@cpu", "--budget", "0s"], "budget_s (--budget)"),
        (["--a", "torch@cpu", "--b", "torch@cpu", "--budget", "nanm"], "budget_s (--budget)"),
        (["--a", "torch@cpu", "--b", "torch@cpu", "--design", "bayes"], "unknown design"),
        (
            ["--a", "torch@cpu", "--b", "torch@cpu", "--design", "fixed", "--budget", "9s"],
            "--budget",
        ),
        (["--a", "torch@cpu", "--b", "torch@cpu", "--batch", "1", "--batch", "0"], "--batch"),
        (["--a", "torch@cpu", "--b", "torch@cpu", "--timeout", "nan"], "--timeout"),
        (["--a", "torch@cpu", "--b", "torch@cpu", "--batch", "0"], "--batch"),
        (["--a", "torch@cpu", "--b", "torch@cpu", "--workload", "nope"], "unknown workload"),
        (["--a", "torch@cpu", "--b", "torch@cpu", "--out", "FILE/results"], "cannot write"),
        (["--a", "torch@cpu", "--b", "torch@cpu", "--machine", ".."], "not a folder name"),
    ],
    "report": [
        ([MISSING, "-o", "TMP/r.html"], "No such file"),
        (["NOTJSON", "-o", "TMP/r.html"], "not"),
        (["TMP/empty-folder", "-o", "TMP/r.html"], "no result file in"),
        ([RESULT, "-o", "TMP"], "is a directory"),
    ],
    "kernels": [
        (["--kernel", "nope"], "nope"),
        (["--device", "tpu"], "unknown device"),
        (["--shape", "huge"], "huge"),
        (["--dtype", "fp64"], "fp64"),
        (["--time-budget", "nan"], "time"),
        (["--out", "FILE/results"], "cannot write"),
    ],
    "ladder": [
        (["--workload", "nope", "--device", "cpu"], "unknown workload"),
        (["--workload", "mlp", "--device", "tpu"], "unknown device"),
        (["--workload", "mlp", "--device", "cpu", "--batch", "0"], "batch"),
        (["--workload", "mlp", "--device", "cpu", "--timeout", "nan"], "--timeout"),
        (["--workload", "mlp", "--device", "cpu", "--time-budget", "inf"], "--time-budget"),
        (["--workload", "mlp", "--device", "cpu", "--out", "FILE/results"], "cannot write"),
        (["--workload", "mlp", "--device", "cpu", "--machine", ".."], "not a folder name"),
    ],
    "port": [
        ([], "--workload NAME or --model PATH"),
        (["--workload", "nope"], "unknown workload"),
        (["--workload", "mlp", "--size", "huge"], "unknown size"),
        (["--workload", "mlp", "--dtype", "fp64"], "unknown dtype"),
        (["--workload", "mlp", "--op-list", "NOTJSON"], "neither a torch_npu wheel nor"),
        (["--workload", "mlp", "--op-list", MISSING], "No such file"),
        (["--workload", "mlp", "--torch-npu", "0.0.1"], "pip download torch-npu==0.0.1"),
        (["--workload", "mlp", "--compare-versions", "0.0.1", "0.0.2"], "torch-npu==0.0.2"),
        (["--workload", "mlp", "--torch-npu", "1.0", "--op-list", "FILE"], "not allowed with"),
        (["--workload", "mlp", "--out", "FILE/results"], "cannot write"),
    ],
}
WALK = [
    (command, args, fragment) for command, cases in BAD_INPUTS.items() for args, fragment in cases
]


def test_every_subcommand_is_walked():
    assert set(BAD_INPUTS) == set(COMMANDS)


def _placed(args: list[str], tmp_path: Path) -> list[str]:
    (tmp_path / "FILE").write_text("")
    (tmp_path / "NOTJSON").write_text("this is not JSON = [\n")
    (tmp_path / "empty-folder").mkdir(exist_ok=True)
    (tmp_path / "two").mkdir(exist_ok=True)
    for name in ("a.json", "b.json"):
        (tmp_path / "two" / name).write_text(Path(RESULT).read_text())
    names = {"TMP": str(tmp_path), "FILE": str(tmp_path / "FILE"),
             "NOTJSON": str(tmp_path / "NOTJSON")}  # fmt: skip
    placed = []
    for arg in args:
        head, _, tail = arg.partition("/")
        placed.append(names[head] + (f"/{tail}" if tail else "") if head in names else arg)
    return placed


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("command", "args", "fragment"), WALK)
def test_bad_input_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys, command, args, fragment):
    monkeypatch.chdir(tmp_path)  # a default --out (results/) lands here
    argv = [command, *_placed(args, tmp_path)]
    try:
        code = main(argv)
    except SystemExit as stop:  # argparse's usage errors
        code = stop.code
    except BaseException:
        pytest.fail(f"hwbench {' '.join(argv)} raised:\n{traceback.format_exc()}")
    out, err = capsys.readouterr()
    assert code == 2, (argv, out, err)
    assert "Traceback" not in out + err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1, err
    assert fragment in errors[0], (argv, errors[0])
