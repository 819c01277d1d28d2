"""`hwbench report` renders in a real headless browser (Debian's chromium), with no network."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from hwbench.results import store
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
    "--enable-logging=stderr",
    "--v=0",
    "--virtual-time-budget=10000",
    "--dump-dom",
)
# Appended to a copy of the report: counts the images the browser decoded.
PROBE = """<script>window.addEventListener("load", () => {
  const all = [...document.images], ok = all.filter(i => i.complete && i.naturalWidth > 0);
  document.body.setAttribute("data-decoded", ok.length + "/" + all.length);
});</script></body>"""
HEADINGS = (
    "Environment",
    "Metric definitions",
    "Results",
    "Latency distributions",
    "Throughput against batch size",
    "Roofline",
    "Optimization ladder",
    "Backend against backend",
)


def case(batch: int, median_ms: float, **key: object) -> dict:
    samples = list(median_ms * 1e6 * np.random.default_rng(batch).lognormal(0, 0.05, 80))
    flops, moved = 2e6 * batch, 4e6 + 1e3 * batch
    p50 = float(np.median(samples)) / 1e6
    base = {**KEY, "scenario": "throughput", "batch": batch, "input_shapes": [[batch, 256]]}
    latency = {
        "p50": p50,
        "p90": p50 * 1.1,
        "p99": p50 * 1.3,
        "median_ci_low": p50 * 0.99,
        "median_ci_high": p50 * 1.01,
    }
    peak = {"peak_flops_per_s": 1e12, "peak_bytes_per_s": 1e11}
    return {
        "key": {**base, **key},
        "status": "ok",
        "samples_ns": samples,
        "sampling": {"stop_reason": "x"},
        "metrics": {"latency_ms": latency, "throughput": batch * 1e3 / p50},
        "parity": {"rel_l2": 1e-7},
        "roofline": {
            "flops_per_step": flops,
            "bytes_per_step": moved,
            "flops_per_s": flops / p50 * 1e3,
            "bytes_per_s": moved / p50 * 1e3,
            "datasheet": peak,
        },
    }


@pytest.fixture
def result_file(tmp_path: Path) -> Path:
    env = {"host": "h", "cpu": "test CPU", "packages": {"torch": "2.13"}, "git": {}}
    doc = store.new_results("report", "m", env, {})
    doc["devices"] = {"cpu": {"available": True}}
    doc["cases"] = [case(b, 0.1 * b**0.8) for b in (1, 8, 32)]
    doc["cases"] += [case(b, 0.08 * b**0.8, engine="onnxruntime") for b in (1, 8, 32)]
    rungs = (("eager", "torch", 0.3), ("compiled", "torch-compile", 0.2), ("bf16", "ort", 0.12))
    doc["cases"] += [{**case(1, ms, engine=engine), "rung": r} for r, engine, ms in rungs]
    doc["ladder"] = [r for r, _, _ in rungs]  # as `hwbench ladder` writes it
    doc["cases"].append(
        {
            "key": {**doc["cases"][0]["key"], "batch": 64},
            "status": "failed",
            "reason": "worker killed by signal 9",
        }
    )
    path = tmp_path / "run.json"
    store.save(doc, path)
    return path


def make_report(result_file: Path, tmp_path: Path) -> tuple[Path, Path]:
    html, md = tmp_path / "report.html", tmp_path / "report.md"
    done = subprocess.run(
        hwbench_cmd("report", str(result_file), "-o", str(html), "--markdown", str(md)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return html, md


def test_report_is_self_contained_with_every_section(result_file: Path, tmp_path: Path) -> None:
    html, md = make_report(result_file, tmp_path)
    text = html.read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)  # nothing to fetch
    for heading in HEADINGS:
        assert f"<h2>{heading}</h2>" in text
    assert text.count('src="data:image/png;base64,') == 4  # CDF, throughput, roofline, ladder
    assert "worker killed by signal 9" in text and "test CPU" in text
    assert "| mlp/tiny throughput b8 |" in md.read_text()


@pytest.mark.skipif(BROWSER is None, reason="chromium is not installed (apt-get install chromium)")
def test_report_renders_in_headless_chromium(result_file: Path, tmp_path: Path) -> None:
    html, _ = make_report(result_file, tmp_path)
    probe = tmp_path / "probe.html"
    probe.write_text(html.read_text().replace("</body>", PROBE))
    done = subprocess.run(
        [BROWSER, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", probe.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert 'data-decoded="4/4"' in done.stdout
    for heading in HEADINGS:
        assert f"<h2>{heading}</h2>" in done.stdout
    errors = [line for line in done.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert errors == []
