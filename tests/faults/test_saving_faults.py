"""Faults while saving: outputs that are not regular files, a full disk (a file size limit),
a folder that cannot be written, a bad machine name, two runs racing on one folder, a signal
inside a write."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import time
from pathlib import Path

import pytest

from hwbench.cli import main
from hwbench.errors import EXIT_SAVE_FAILED, SaveError
from hwbench.results import files, store
from tests.conftest import hwbench_cmd

ROOT = Path(__file__).parents[2]
RESULT = ROOT / "results" / "amd-epyc-2core" / "20261203T140954Z-fp32-vs-bf16.json"
QUICK = ("--workload", "mlp", "--scenario", "latency", "--time-budget", "0.2", "--passes", "1")


def hwbench(*args: str, limit_bytes: int | None = None, **popen: object) -> subprocess.Popen:
    """`hwbench ARGS` started as a user starts it; `limit_bytes`: the file size limit
    (`ulimit -f`) it runs under, as a full disk stops a write."""

    def limit() -> None:
        if limit_bytes is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return subprocess.Popen(
        hwbench_cmd(*args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=limit,
        **popen,
    )


def finish(proc: subprocess.Popen, timeout: float = 300) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    assert "Traceback" not in err, err
    return proc.returncode, out, err


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("hwbench: error:")]
    assert len(lines) == 1, err
    return lines[0]


def test_two_runs_racing_on_one_folder_keep_both_results(tmp_path, fault_row):
    """Started in the same second with the same --out and machine: two files, never one
    written over the other."""
    args = ("run", *QUICK, "--target", "torch@cpu", "--out", str(tmp_path), "--machine", "box")
    runs = [hwbench(*args), hwbench(*args)]
    codes = [finish(proc)[0] for proc in runs]
    saved = sorted((tmp_path / "box").glob("*.json"))
    assert codes == [0, 0]
    assert len(saved) == 2, saved
    for path in saved:
        assert [case.status for case in store.load(path)["cases"]] == ["ok"]
    fault_row("two runs racing on one --out folder and machine", "both results, two files", 0)


def make_output(kind: str, path: Path) -> None:
    if kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        target = path.with_name("elsewhere.txt")
        target.write_text("a file the user keeps\n")
        path.symlink_to(target)


REPORT = ("report", str(RESULT))
GATE = ("gate", "--baseline", str(RESULT), "--candidate", str(RESULT))
OUTPUTS = {
    "export -o": lambda out: ["export", str(RESULT), "-o", str(out)],
    "report -o": lambda out: [*REPORT, "-o", str(out)],
    "report --markdown": lambda out: [*REPORT, "-o", f"{out}.html", "--markdown", str(out)],
    "gate --markdown": lambda out: [*GATE, "--markdown", str(out)],
    "gate --junit": lambda out: [*GATE, "--junit", str(out)],
    "compare --markdown": lambda out: ["compare", str(RESULT), "--markdown", str(out)],
}


@pytest.mark.parametrize("kind", ["directory", "fifo", "symlink"])
def test_outputs_are_written_only_onto_regular_files(tmp_path, capsys, kind, fault_row):
    """Every file output refuses a directory, a FIFO (as it would a device) and a symbolic link,
    with exit 2 and one line, and leaves it as it was."""
    for name, command in OUTPUTS.items():
        out = tmp_path / name.replace(" ", "_").replace("-", "")
        make_output(kind, out)
        before = os.lstat(out)
        assert main(command(out)) == 2, name
        err = capsys.readouterr().err
        assert out.name in one_error_line(err), (name, err)
        after = os.lstat(out)
        assert (after.st_mode, after.st_ino) == (before.st_mode, before.st_ino), name
    if kind == "symlink":
        assert (tmp_path / "elsewhere.txt").read_text() == "a file the user keeps\n"
    fault_row(f"every -o/--markdown/--junit output is a {kind}", "it, untouched", 2)


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_outputs_take_the_umask_mode_and_replace_a_regular_file_whole(tmp_path, capsys, umask):
    previous = os.umask(umask)
    try:
        new = tmp_path / "new.json"
        assert main(OUTPUTS["export -o"](new)) == 0
        assert new.stat().st_mode & 0o777 == 0o666 & ~umask
        kept = tmp_path / "kept.md"
        kept.write_text("old\n")
        kept.chmod(0o640)
        assert main(OUTPUTS["compare --markdown"](kept)) == 0
        assert kept.stat().st_mode & 0o777 == 0o640  # a replaced file keeps its mode
        assert kept.read_text().startswith("| case | torch@cpu |")
    finally:
        os.umask(previous)
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_write_that_fails_keeps_the_previous_file_and_leaves_no_temporary(
    tmp_path, monkeypatch, fault_row
):
    path = tmp_path / "result.json"
    files.write_text(path, "first\n")

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(SaveError, match=f"cannot write {path}: No space left on device"):
        files.write_text(path, "second\n")
    assert path.read_text() == "first\n"
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]
    fault_row("disk full inside a save (ENOSPC)", "the file as last saved; no temporary", None)


def test_a_signal_inside_a_save_keeps_the_previous_file(tmp_path, monkeypatch, fault_row):
    """Ctrl-C or SIGTERM (raised as KeyboardInterrupt by hwbench.cli) while a save is under
    way: the file is the one saved before, whole, and no temporary is left."""
    path = tmp_path / "result.json"
    files.write_text(path, "first\n")

    def interrupted(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        files.write_text(path, "second\n")
    assert path.read_text() == "first\n"
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]
    fault_row("SIGINT/SIGTERM to hwbench while saving", "the file as last saved, whole", None)


def test_a_full_disk_before_anything_is_measured_stops_at_once(tmp_path, fault_row):
    proc = hwbench(
        "run", *QUICK, "--target", "torch@cpu", "--out", str(tmp_path), "--machine", "box",
        limit_bytes=64,
    )  # fmt: skip
    code, _, err = finish(proc)
    assert code == EXIT_SAVE_FAILED
    assert "File too large" in one_error_line(err)
    assert not [p for p in (tmp_path / "box").iterdir() if p.suffix == ".tmp"]
    fault_row("disk full (ulimit -f) at the run's first save", "nothing measured yet", 74)


def test_a_full_disk_mid_run_keeps_the_saved_cases_and_shows_the_rest(tmp_path, fault_row):
    """Parity-only cases make files of a steady size: a limit that holds the file with one case
    but not two stops the run at the second case's save; the file keeps the first, the table
    (stdout) shows both, and the exit code says the save failed."""
    targets = ("--target", "torch@cpu", "--target", "torch@cpu:dtype=bf16",
               "--target", "torch@cpu:dtype=fp16")  # fmt: skip
    args = ("run", "--check-only", "--workload", "mlp", "--scenario", "latency", *targets)
    free = tmp_path / "free"
    code, _, _ = finish(hwbench(*args, "--out", str(free), "--machine", "box", "--json"))
    [whole] = (free / "box").glob("*.json")
    document = json.loads(whole.read_text())
    header = len(store.dumps({**document, "cases": []}))
    per_case = (whole.stat().st_size - header) / 3
    limit = int(header + 1.5 * per_case)

    full = tmp_path / "full"
    proc = hwbench(*args, "--out", str(full), "--machine", "box", limit_bytes=limit)
    code, out, err = finish(proc)
    assert code == EXIT_SAVE_FAILED, err
    assert "File too large" in one_error_line(err)
    [saved] = (full / "box").glob("*.json")
    assert [str(c.key["dtype"]) for c in store.load(saved)["cases"]] == ["fp32"]
    assert "bf16" in out  # the case that could not be saved is shown
    fault_row("disk full (ulimit -f) at the second case's save", "case 1 in the file; 2 shown", 74)


def test_an_out_machine_folder_that_cannot_be_made_is_refused_before_measuring(tmp_path, fault_row):
    (tmp_path / "box").write_text("a file where the machine's folder goes\n")
    started = time.monotonic()
    proc = hwbench("run", *QUICK, "--target", "torch@cpu", "--out", str(tmp_path),
                   "--machine", "box")  # fmt: skip
    code, _, err = finish(proc)
    assert code == 2
    assert f"cannot write results to {tmp_path / 'box'}" in one_error_line(err)
    assert time.monotonic() - started < 60
    fault_row("--out writable, --out/<machine> not a folder", "nothing measured yet", 2)


@pytest.mark.parametrize("name", ["..", ".", "a/b"])
def test_a_machine_name_is_one_folder(tmp_path, capsys, name):
    assert main(["run", *QUICK, "--out", str(tmp_path / "out"), "--machine", name]) == 2
    assert "is not a folder name" in one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "out").exists()


def test_ab_checks_its_outputs_before_measuring(tmp_path, capsys, fault_row):
    blocker = tmp_path / "file"
    blocker.write_text("")
    arms = ["ab", "--a", "torch@cpu", "--b", "torch@cpu", "--machine", "box"]
    assert main([*arms, "--out", str(blocker)]) == 2
    assert "cannot write results to" in one_error_line(capsys.readouterr().err)
    (tmp_path / "summary.md").mkdir()
    assert main([*arms, "--out", str(tmp_path), "--markdown", str(tmp_path / "summary.md")]) == 2
    assert "is a directory" in one_error_line(capsys.readouterr().err)
    fault_row("hwbench ab --out unwritable", "nothing measured yet (checked first)", 2)
