"""`hwbench report` renders in a real headless browser (Debian's chromium), with no network:
two machines, fp32 and bf16, a check-only and an unstable case, a ladder, and more targets in
one case than a chart holds."""

from __future__ import annotations

import re
import shutil
import subprocess
from html import escape as html_escape
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image

from hwbench.results import store
from hwbench.results.record import NOT_TIMED
from tests.conftest import hwbench_cmd
from tests.records import KEY

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
    "--virtual-time-budget=10000",
)
# Appended to a copy of the report: counts the images the browser decoded.
PROBE = """<script>window.addEventListener("load", () => {
  const all = [...document.images], ok = all.filter(i => i.complete && i.naturalWidth > 0);
  document.body.setAttribute("data-decoded", ok.length + "/" + all.length);
});</script></body>"""
HEADINGS = (
    "Headline",
    "Target against target",
    "Precision against precision",
    "Environment",
    "Results",
    "Latency distributions",
    "Throughput against batch size",
    "Roofline",
    "Optimization ladder",
    "Metric definitions",
)
PEAKS = {"fp32": 1e12, "bf16": 4e12}  # FLOP/s; both at 1e11 bytes/s
THREADS = range(1, 6)  # torch@cpu:threads=N, to put 8 targets in one case
UNSTABLE = "median's 95% CI +-14% (wider than +-10%)"
NOISE = {"meaningful_pct": 7.5, "note": "differences below 8% are not meaningful in this run"}


def case(batch: int, median_ms: float, **key: object) -> dict:
    samples = list(median_ms * 1e6 * np.random.default_rng(batch).lognormal(0, 0.05, 80))
    flops, moved = 2e6 * batch, 4e6 + 1e3 * batch
    p50 = float(np.median(samples)) / 1e6
    full = {**KEY, "scenario": "throughput", "batch": batch, "input_shapes": [[batch, 256]], **key}
    latency = {
        "p50": p50,
        "p90": p50 * 1.1,
        "p99": p50 * 1.3,
        "median_ci_low": p50 * 0.99,
        "median_ci_high": p50 * 1.01,
    }
    peak = {"peak_flops_per_s": PEAKS.get(full["dtype"], 1e12), "peak_bytes_per_s": 1e11}
    return {
        "key": full,
        "status": "ok",
        "samples_ns": samples,
        "sampling": {"stop_reason": "converged"},
        "metrics": {"latency_ms": latency, "throughput": batch * 1e3 / p50},
        "parity": {"rel_l2": 1e-7, "passed": True},
        "roofline": {
            "flops_per_step": flops,
            "bytes_per_step": moved,
            "flops_per_s": flops / p50 * 1e3,
            "bytes_per_s": moved / p50 * 1e3,
            "measured": peak,
        },
    }


def document(machine: str, commit: str, cases: list[dict]) -> dict:
    env = {"host": machine, "cpu": f"CPU of {machine}", "packages": {"torch": "2.13", "vllm": None},
           "git": {"commit": commit, "dirty": False}}  # fmt: skip
    doc = store.new_results("report", machine, env, {})
    doc["devices"] = {"cpu": {"available": True}, "cuda": {"available": False, "reason": "none"}}
    doc["cases"] = cases
    return doc


def box_a_cases() -> list[dict]:
    cases = [case(b, 0.1 * b**0.8) for b in (1, 8, 32)]
    cases += [case(b, 0.06 * b**0.8, dtype="bf16") for b in (1, 8, 32)]
    cases += [case(b, 0.08 * b**0.8, engine="onnxruntime") for b in (1, 8, 32)]
    cases += [case(8, 0.9 + n / 10, options={"threads": n}) for n in THREADS]
    checked = {"key": {**KEY, "scenario": "latency"}, "status": "ok", "reason": NOT_TIMED}
    cases.append({**checked, "parity": {"rel_l2": 2.5e-7, "passed": True}})
    failed = {"key": {**cases[0]["key"], "batch": 64}, "status": "failed"}
    cases.append({**failed, "reason": "worker killed by signal 9"})
    cases.append({**cases[0], "key": {**cases[0]["key"], "device": "cuda"}, "status": "skipped"})
    return cases


def ladder_cases() -> list[dict]:
    rungs = (("eager", "torch", "fp32", 0.3), ("bf16", "torch", "bf16", 0.2),
             ("compiled", "torch-compile", "bf16", 0.12))  # fmt: skip
    return [
        {**case(1, ms, size="small", scenario="latency", engine=engine, dtype=dtype), "rung": rung}
        for rung, engine, dtype, ms in rungs
    ]


def write_results(folder: Path) -> list[Path]:
    a = document("box-a", "a" * 40, box_a_cases())
    a["noise"] = NOISE
    b = document("box-b", "b" * 40, [case(b, ms * b**0.8, dtype=d) for b in (1, 8, 32)
                                     for d, ms in (("fp32", 0.05), ("bf16", 0.03))])  # fmt: skip
    b["cases"][1]["unstable"] = UNSTABLE  # bf16 b1, the fastest
    ladder = document("box-b", "c" * 40, ladder_cases())
    ladder["ladder"] = ["eager", "bf16", "compiled"]  # as `hwbench ladder` writes it
    paths = [folder / "a.json", folder / "b.json", folder / "ladder.json"]
    for doc, path in zip((a, b, ladder), paths, strict=True):
        store.save(doc, path)
    return paths


def make_report(files: list[Path], folder: Path) -> tuple[Path, Path]:
    html, md = folder / "report.html", folder / "report.md"
    done = subprocess.run(
        hwbench_cmd("report", *map(str, files), "-o", str(html), "--markdown", str(md)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return html, md


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The report (HTML, Markdown) of two machines' results and a ladder, made once."""
    folder = tmp_path_factory.mktemp("report")
    return make_report(write_results(folder), folder)


def section(text: str, heading: str) -> str:
    """The HTML from an h2 to the next."""
    start = text.index(f"<h2>{heading}</h2>")
    end = text.find("<h2>", start + 1)
    return text[start : end if end > 0 else None]


def test_report_is_self_contained_with_every_section_in_order(report: tuple[Path, Path]) -> None:
    html, md = report
    text = html.read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)  # nothing to fetch
    places = [text.index(f"<h2>{heading}</h2>") for heading in HEADINGS]
    assert places == sorted(places)
    summary = md.read_text()
    places = [summary.index(f"## {h}\n") for h in HEADINGS[:5]]
    assert places == sorted(places)


def test_headline_names_the_fastest_target_with_its_interval(report: tuple[Path, Path]) -> None:
    html, md = report
    headline = section(html.read_text(), "Headline")
    assert "mlp/tiny, over the baseline box-a: torch@cpu" in headline
    row = re.search(r"<td>throughput b32</td><td>(.*?)</td><td[^>]*>(.*?)</td><td>(.*?)</td>",
                    headline)  # fmt: skip
    assert row is not None
    fastest, speedup, note = row.groups()
    assert fastest == "box-b: torch@cpu:dtype=bf16"  # 0.03 ms x b^0.8 against 0.1
    assert re.fullmatch(r"[\d.]+x \[[\d.]+, [\d.]+\]", speedup)
    assert "bf16 vs fp32" in note
    assert "differences below 8% are not meaningful in this run" in headline
    assert f"box-b: torch@cpu:dtype=bf16 unstable: {html_escape(UNSTABLE)}" in headline
    assert "| throughput b32 | box-b: torch@cpu:dtype=bf16 |" in md.read_text()


def test_one_environment_table_per_machine(report: tuple[Path, Path]) -> None:
    html, _ = report
    environment = section(html.read_text(), "Environment")
    assert environment.count("<h3>") == 2
    assert environment.count("<h3>box-b</h3>") == 1 and "CPU of box-b" in environment
    assert "b" * 40 in environment and "c" * 40 in environment  # full commits, each file's
    assert "b (created" in environment and "ladder (created" in environment
    assert environment.count("<details>") == 2 and "not installed" in environment


def test_results_show_check_only_unstable_and_failed_cases(report: tuple[Path, Path]) -> None:
    html, _ = report
    results = section(html.read_text(), "Results")
    checked = re.search(r"<tr><td>mlp/tiny latency b1</td><td>torch@cpu</td>.*?</tr>", results)
    assert checked is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", checked[0])
    assert cells[2] == "ok" and cells[3:10] == [""] * 7  # no speed
    assert cells[10:] == ["2.5e-07", NOT_TIMED]
    assert '<td class="ok unstable">ok unstable</td>' in results
    assert html_escape(UNSTABLE) in results and "worker killed by signal 9" in results
    assert "1 case(s) skipped on cuda: none" in results
    assert re.search(r"\d \[\d[\d.]*, \d[\d.]*\]", results)  # intervals as [low, high]


def test_charts_split_beyond_six_series(report: tuple[Path, Path]) -> None:
    html, _ = report
    text = html.read_text()
    assert 'alt="mlp/tiny throughput b8: latency CDF (1/2)"' in text
    assert 'alt="mlp/tiny throughput b8: latency CDF (2/2)"' in text
    assert "mlp/small latency b1 on cpu: ladder" in text
    assert "Roofline: cpu on box-b" in text and "dashed: roofs from measured peaks" in text


def test_one_target_says_nothing_to_compare(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    store.save(document("box-a", "a" * 40, [case(b, 0.1 * b) for b in (1, 8)]), path)
    html, md = make_report([path], tmp_path)
    assert "one target only: nothing to compare" in section(html.read_text(), "Headline")
    assert "one target only: nothing to compare" in md.read_text()


def run_browser(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = f"--user-data-dir={tmp_path / 'profile'}"
    done = subprocess.run(
        [BROWSER, *FLAGS, profile, *args], capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done


@pytest.mark.skipif(BROWSER is None, reason="chromium is not installed (apt-get install chromium)")
def test_report_renders_in_headless_chromium(report: tuple[Path, Path], tmp_path: Path) -> None:
    html, _ = report
    text = html.read_text()
    probe = tmp_path / "probe.html"
    probe.write_text(text.replace("</body>", PROBE))
    done = run_browser(tmp_path, "--dump-dom", probe.as_uri())
    images = text.count("<img ")
    assert images > 10 and f'data-decoded="{images}/{images}"' in done.stdout
    assert "<title>hwbench report</title>" in done.stdout
    for heading in HEADINGS:
        assert f"<h2>{heading}</h2>" in done.stdout
    errors = [line for line in done.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert errors == []
    shot = tmp_path / "report.png"
    run_browser(tmp_path, f"--screenshot={shot}", "--window-size=1280,4000", html.as_uri())
    pixels = image.imread(shot)[..., :3]
    assert pixels.shape[:2] == (4000, 1280)
    inked = (pixels.min(axis=2) < 0.6).mean()  # text, rules and plots, not background
    assert 0.01 < inked < 0.6
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50
