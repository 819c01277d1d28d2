"""The kernel runner: validation before timing, failures and skips with reasons, rates."""

import dataclasses

import pytest

from hwbench.backends.cpu import CPU
from hwbench.backends.peaks import Peak
from hwbench.errors import UsageError
from hwbench.kernels.base import Variant
from hwbench.kernels.registry import lookup
from hwbench.measure.kernel_bench import KernelSettings, bench_kernel, bound_of
from hwbench.registry import lookup as device

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # inductor imports
QUICK = KernelSettings("small", "fp32", time_budget_s=0.05)


class Spy:
    """A test double for a kernel function: counts its calls, returns what `make` gives."""

    def __init__(self, make):
        self.make, self.calls = make, 0

    def __call__(self, *args):
        self.calls += 1
        return self.make(*args)


def with_variants(name: str, *variants: Variant):
    kernel = lookup(name)
    return dataclasses.replace(kernel, variants=variants)


def test_a_wrong_variant_is_caught_by_validation_and_never_timed():
    rmsnorm = lookup("rmsnorm")
    wrong = Spy(lambda x, w, eps: rmsnorm.reference(x, w, eps) * 1.01)  # 1% off
    [row] = bench_kernel(with_variants("rmsnorm", Variant("off_by_1pct", wrong)), CPU(), QUICK)
    assert row.status == "failed" and row.reason.startswith("validation: relative L2 error")
    assert row.rel_l2 == pytest.approx(0.01, rel=1e-3)
    assert wrong.calls == 1  # the validation run only
    assert row.median_s is None and row.rate is None


def test_a_variant_that_raises_is_failed_with_the_error_and_the_rest_still_run():
    def broken(*args):
        raise RuntimeError("no kernel image for this device\nsecond line")

    fused = lookup("rmsnorm").variants[1]
    rows = bench_kernel(with_variants("rmsnorm", Variant("broken", broken), fused), CPU(), QUICK)
    assert (rows[0].status, rows[0].reason) == ("failed", "error: no kernel image for this device")
    assert rows[1].status == "ok"


def test_a_passing_variant_is_timed_with_its_rate_and_no_peak_means_no_percentage():
    fused = Spy(lookup("rmsnorm").variants[1].fn)
    [row] = bench_kernel(with_variants("rmsnorm", Variant("fused", fused)), CPU(), QUICK)
    assert row.status == "ok" and row.bound == "memory" and row.median_s > 0
    assert row.rate == pytest.approx(row.bytes / row.median_s)
    assert row.pct_of_peak is None
    assert fused.calls > 3  # validation, warm-up and samples


def test_percent_of_a_given_peak_uses_the_bound_rate():
    peak = Peak(flops_per_s=1e12, bytes_per_s=1e10, source="test", confidence="measured")
    kernel = with_variants("rmsnorm", lookup("rmsnorm").variants[1])
    [row] = bench_kernel(kernel, CPU(), QUICK, peak=peak)
    assert row.pct_of_peak == pytest.approx(100 * row.rate / 1e10)


def test_bound_comes_from_the_peaks_ridge_point():
    peak = Peak(flops_per_s=1e12, bytes_per_s=1e11, source="test", confidence="measured")
    assert bound_of(100, 20, peak) == "memory"  # 5 FLOP/byte < ridge 10
    assert bound_of(100, 5, peak) == "compute"
    assert bound_of(100, 5, None) == "compute"  # fallback ridge 10 FLOP/byte


def test_every_variant_is_skipped_with_the_reason_on_an_unavailable_device():
    npu = device("devices", "npu")()
    rows = bench_kernel(lookup("swiglu"), npu, QUICK)
    assert {row.status for row in rows} == {"skipped"}
    assert all("device npu unavailable" in row.reason for row in rows)


def test_variants_for_other_devices_are_skipped_here_with_the_reason():
    rows = bench_kernel(lookup("rope"), CPU(), QUICK)
    skipped = {row.variant: row.reason for row in rows if row.status == "skipped"}
    assert skipped == {"npu_rotary_mul": "runs on npu, not cpu"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"shape": "huge"}, "unknown shape 'huge'"), ({"dtype": "fp64"}, "unknown dtype 'fp64'")],
)
def test_settings_refuse_unknown_shapes_and_dtypes(kwargs, message):
    with pytest.raises(UsageError, match=message):
        KernelSettings(**kwargs)


def test_a_variant_that_outputs_nan_is_failed_and_saves_as_strict_json():
    import json

    from hwbench.results import store

    rmsnorm = lookup("rmsnorm")
    nan = Spy(lambda x, w, eps: rmsnorm.reference(x, w, eps) * float("nan"))
    [row] = bench_kernel(with_variants("rmsnorm", Variant("nan", nan)), CPU(), QUICK)
    assert row.status == "failed" and row.as_dict()["rel_l2"] is None
    text = store.dumps({"schema": "hwbench-kernels", "rows": [row.as_dict()]})
    json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in the file"))
