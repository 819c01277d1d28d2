"""One LoadGen test of a StepSUT: LoadGen constructed, run and destroyed, its logs left in a
folder and read back (the API of loadgen/bindings/python_api.cc, as loadgen/demos use it)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hwbench.loadgen.config import LoadGenConfig
from hwbench.loadgen.settings import loadgen_settings
from hwbench.loadgen.summary import SUMMARY, accuracy_facts, figures
from hwbench.loadgen.sut import StepSUT

# What LoadGen writes besides its summary and detail logs: the trace (off here) and the
# accuracy log, empty since responses carry no data (parity is checked on the outputs kept).
UNKEPT = ("mlperf_log_trace.json", "mlperf_log_accuracy.json")


def mlperf_loadgen() -> Any:
    """The official LoadGen module; imported here, late, because it is an optional extra."""
    import mlperf_loadgen

    return mlperf_loadgen


def responder(lg: Any) -> Callable[[list[int]], None]:
    """StepSUT's `complete`: LoadGen told that samples (by response id) are done, no data."""

    def complete(ids: list[int]) -> None:
        lg.QuerySamplesComplete([lg.QuerySampleResponse(i, 0, 0) for i in ids])

    return complete


def run_test(
    sut: StepSUT, config: LoadGenConfig, mode: str, step_ns: float, seed: int, log_dir: Path
) -> dict[str, Any]:
    """Run LoadGen on a StepSUT in `mode`; what it judged (hwbench.loadgen.summary)."""
    lg = mlperf_loadgen()
    settings = loadgen_settings(lg, config, mode, step_ns, sut.batch, seed)
    serve = sut.serve if sut.queue is not None else None  # StepSUT says why
    judged = run_loadgen(lg, sut, settings, config.sample_count, log_dir, serve)
    sut.raise_error()
    return judged


def run_loadgen(
    lg: Any, sut: Any, settings: Any, sample_count: int, log_dir: Path,
    serve: Callable[[], None] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """StartTest on `sut` (its load, unload, issue, flush and stop) with `settings`: in this
    thread, or, given `serve`, in another while this one runs `serve` until `sut.stop()`.
    The logs are left in `log_dir` and read back."""
    log_dir.mkdir(parents=True, exist_ok=True)
    logging = lg.LogSettings()
    logging.log_output.outdir = str(log_dir)
    logging.enable_trace = False
    handle = lg.ConstructSUT(sut.issue, sut.flush)
    library = lg.ConstructQSL(sample_count, sample_count, sut.load, sut.unload)
    # A path with no file: LoadGen would apply an audit.config found in the current folder.
    audit = str(log_dir / "none")

    def start() -> None:
        try:
            lg.StartTestWithLogSettings(handle, library, settings, logging, audit)
        finally:
            sut.stop()

    try:
        if serve is None:
            start()
        else:
            loadgen = threading.Thread(target=start, name="loadgen", daemon=True)
            loadgen.start()
            serve()
            loadgen.join()
    finally:
        lg.DestroyQSL(library)
        lg.DestroySUT(handle)
    for name in UNKEPT:
        (log_dir / name).unlink(missing_ok=True)
    performance = settings.mode == lg.TestMode.PerformanceOnly
    facts = figures(log_dir) if performance else accuracy_facts(log_dir)
    return {**facts, "summary_log": str(log_dir / SUMMARY)}
