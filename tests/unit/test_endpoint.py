"""`--endpoint`: the suite's checks, and a serve case against a local fault server
(tests/endpoint_fault_server.py) for every failure a user's server can give, run in this
process (the CLI's own tests: tests/e2e/test_endpoint_cli.py)."""

from __future__ import annotations

import json
import math
import socket

import pytest

pytest.importorskip("aiohttp")

from hwbench.backends.remote import Remote
from hwbench.case import Case
from hwbench.config import Suite, Target, default_targets, suite_from_dict
from hwbench.engines.endpoint import EndpointEngine
from hwbench.errors import UsageError
from hwbench.scenarios.serve import Serve
from hwbench.workloads import make_workload
from tests.endpoint_fault_server import SEEN, fault_server, self_signed

URL = "http://127.0.0.1:8000/v1"


def serve_case(url: str, workload: str = "served", **fields) -> Case:
    fields = {"batch": 4, "request_timeout_s": 30.0, **fields}
    return Case(
        workload, "tiny", fields.pop("target", "endpoint@remote"), "serve",
        prompt_len=8, output_len=4, request_rate=math.inf, endpoint=url,
        model_name="served" if workload == "served" else None, **fields,
    )  # fmt: skip


def run(case: Case):
    workload = make_workload(case.workload, case.size, case.seed)
    return Serve().start(case, workload, Remote(), EndpointEngine())


# --- the suite -------------------------------------------------------------------------------


def test_an_endpoint_makes_its_own_target_and_workload():
    suite = Suite(scenarios=("serve",), endpoint=URL)
    assert suite.targets == (Target("endpoint", "remote"),) and suite.workloads == ("served",)
    dtyped = Suite(
        scenarios=("serve",), endpoint=URL, targets=(Target.parse("endpoint@remote:dtype=bf16"),)
    )
    assert dtyped.targets[0].dtype == "bf16"


def test_the_default_run_has_no_remote_target():
    assert all(t.engine != "endpoint" and t.device != "remote" for t in default_targets())


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"endpoint": "127.0.0.1:8000"}, "is not an http:// or https:// URL"),
        ({"endpoint": "http://127.0.0.1:port/v1"}, "is not an http:// or https:// URL"),
        ({"endpoint": URL, "scenarios": ("latency",)}, "add --scenario serve"),
        ({"endpoint": URL, "api": "grpc"}, "grpc"),
        ({"endpoint": URL, "tokenizer": "/nonexistent"}, "no tokenizer.json there"),
        ({"endpoint": URL, "api_key_env": "HWBENCH_TEST_UNSET_KEY"}, "is not set or empty"),
        ({"endpoint": URL, "targets": (Target("torch", "cpu"),)}, "endpoint@remote alone"),
        ({"served_model": "m"}, "--served-model measure a server you run"),
        ({"targets": (Target("endpoint", "remote"),)}, "give --endpoint URL"),
        ({"endpoint": URL, "request_timeout_s": 0}, "request_timeout_s (--request-timeout)"),
    ],
)
def test_bad_endpoint_settings_are_one_line_usage_errors(fields, message, monkeypatch):
    monkeypatch.delenv("HWBENCH_TEST_UNSET_KEY", raising=False)
    with pytest.raises(UsageError) as error:
        Suite(**{"scenarios": ("serve",), **fields})
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("target", ["torch@remote", "endpoint@cpu"])
def test_the_endpoint_engine_and_the_remote_device_go_only_together(target):
    with pytest.raises(UsageError, match=r"goes with .* only"):
        Target.parse(target)


def test_a_suite_file_takes_the_endpoint_keys():
    data = {"scenarios": ["serve"], "endpoint": URL, "api": "chat", "request_timeout_s": 5}
    suite = suite_from_dict(data, "suite.toml")
    assert (suite.endpoint, suite.api, suite.request_timeout_s) == (URL, "chat", 5)
    with pytest.raises(UsageError, match=r"tls_verify .* must be true or false"):
        suite_from_dict({**data, "tls_verify": "no"}, "suite.toml")


# --- a serve case against the fault server ---------------------------------------------------


def test_a_server_that_answers_is_measured_and_named_in_the_record():
    with fault_server(["ok"]) as (url, app):
        record = run(serve_case(url + "/"))  # a trailing slash too
    assert record.status == "ok", record.reason
    llm = record.metrics["llm"]
    assert llm["completed"] == 4 and llm["failed"] == 0 and llm["error_rate"] == 0
    assert llm["total_output_tokens"] == 16 and llm["median_ttft_ms"] > 0
    assert record.parity == {
        "checked": False,
        "reason": "hwbench has no copy of the served model (name it with --workload or --model)",
    }
    endpoint = record.session["endpoint"]
    assert endpoint["model"] == "ok" and endpoint["server_version"] == "fault-server-1"
    assert endpoint["host"] == url.split("/")[2] and endpoint["api_key"] == "none sent"
    assert "not this client machine" in record.session["device_under_test"]
    assert record.session["prompts"].startswith("prompt lengths not controlled")
    assert "prompts not controlled: 8-8 tokens" in record.sampling.stop_reason
    paths = [path for path, _, _ in app[SEEN]]
    assert paths[0] == "/v1/models" and paths.count("/v1/completions") == 4 + 4  # warm-up


def test_the_api_key_comes_from_the_variable_named_and_is_never_recorded(monkeypatch):
    monkeypatch.setenv("HWBENCH_TEST_KEY", "sk-test-0123456789")
    with fault_server(["ok"], key="sk-test-0123456789") as (url, app):
        refused = run(serve_case(url))
        record = run(serve_case(url, api_key_env="HWBENCH_TEST_KEY"))
    assert refused.status == "failed"
    assert refused.reason.startswith(f"{url.removesuffix('/v1')} refused the request: HTTP 401")
    assert "--api-key-env" in refused.reason
    assert record.status == "ok", record.reason
    sent = [headers.get("Authorization") for _, headers, _ in app[SEEN]]
    assert sent[0] is None and set(sent[1:]) == {"Bearer sk-test-0123456789"}
    assert "sk-test" not in json.dumps(record.to_json())
    assert record.session["endpoint"]["api_key"] == "from $HWBENCH_TEST_KEY"


def test_a_wrong_key_is_refused_with_the_variable_named(monkeypatch):
    monkeypatch.setenv("HWBENCH_TEST_KEY", "wrong")
    with fault_server(["ok"], key="right") as (url, _):
        record = run(serve_case(url, api_key_env="HWBENCH_TEST_KEY"))
    assert record.status == "failed" and "HTTP 401" in record.reason
    assert "$HWBENCH_TEST_KEY" in record.reason and "wrong" not in record.reason


def test_an_unreachable_server_is_a_failed_case_that_says_so():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
        record = run(serve_case(url))
    assert record.status == "failed"
    assert record.reason.startswith(f"cannot reach {url.split('/')[2]}: ClientConnectorError")


def test_a_model_not_served_is_a_failed_case_listing_those_served():
    with fault_server(["a", "b"]) as (url, _):
        unknown = run(serve_case(url, served_model="c"))
        several = run(serve_case(url))
    assert unknown.status == several.status == "failed"
    assert unknown.reason == f"model 'c' is not served at {url.split('/')[2]}; it serves: a, b"
    assert "serves 2 models (a, b): name one with --served-model" in several.reason


@pytest.mark.parametrize(
    ("model", "error"),
    [
        ("http-429", "HTTP 429 Too Many Requests: Too many requests: slow down"),
        ("http-500", "HTTP 500 Internal Server Error: engine died"),
        ("cut", "ClientPayloadError: Response payload is not completed"),
        ("overlong", "the server made 7 output tokens for max_tokens 4 (max_tokens ignored)"),
        ("slow", "no complete response within 0.5 s (request timeout)"),
    ],
)
def test_requests_that_all_fail_fail_the_case_with_the_server_s_reason(model, error):
    with fault_server([model]) as (url, _):
        record = run(serve_case(url, request_timeout_s=0.5))
    assert record.status == "failed"
    assert record.reason.startswith(f"4 of 4 requests failed: {error}")
    assert record.details["partial_metrics"]["error_rate"] == 1.0
    assert all(error in r["error"] for r in record.details["requests"])


def test_some_failed_requests_are_an_error_rate_and_goodput_counts_only_the_others():
    with fault_server(["half-429"]) as (url, _):
        record = run(serve_case(url, batch=8, slo="ttft=60s"))
    assert record.status == "ok", record.reason
    llm = record.metrics["llm"]
    assert (llm["completed"], llm["failed"], llm["error_rate"]) == (4, 4, 0.5)
    assert llm["request_goodput"] == pytest.approx(4 / llm["duration"])
    assert record.metrics["latency_ms"]["n"] == 4  # completed requests only
    assert "4 of 8 failed (error rate; first kind: HTTP 429" in record.sampling.stop_reason


def test_outputs_shorter_than_max_tokens_are_measured_and_said():
    with fault_server(["short"]) as (url, _):
        record = run(serve_case(url))
    assert record.status == "ok", record.reason
    assert record.metrics["llm"]["total_output_tokens"] == 4 * 2
    assert "4 ended before max_tokens" in record.sampling.stop_reason


def test_the_chat_api_sends_one_user_message_and_max_completion_tokens():
    with fault_server(["ok"]) as (url, app):
        record = run(serve_case(url, api="chat"))
    assert record.status == "ok", record.reason
    assert record.key["api"] == "chat"
    path, _, payload = app[SEEN][-1]
    assert path == "/v1/chat/completions" and payload["max_completion_tokens"] == 4
    assert payload["messages"][0]["role"] == "user" and "prompt" not in payload


def test_tls_is_verified_unless_turned_off(tmp_path):
    with fault_server(["ok"], tls=self_signed(tmp_path)) as (url, _):
        verified = run(serve_case(url))
        unverified = run(serve_case(url, tls_verify=False))
    assert verified.status == "failed" and "certificate verify failed" in verified.reason
    assert unverified.status == "ok", unverified.reason
    assert unverified.session["endpoint"]["tls_verify"] is False


@pytest.mark.slow
def test_a_model_hwbench_has_is_checked_only_where_the_server_gives_prompt_logprobs(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("HWBENCH_CACHE_DIR", str(tmp_path / "cache"))
    with fault_server(["ok"]) as (url, _):
        chat = run(serve_case(url, "llama", api="chat"))
        completions = run(serve_case(url, "llama"))
    assert chat.status == "ok", chat.reason
    assert chat.parity["checked"] is False and "passed" not in chat.parity
    assert chat.parity["reason"].startswith("the server returns no prompt log-probabilities")
    assert "HTTP 400" in chat.parity["reason"]
    assert chat.session["prompts"].startswith("text of exactly 8 tokens by ")
    # the fault server counts words, not the llama tokenizer's tokens
    assert completions.status == "failed" and "it tokenizes differently" in completions.reason


def test_parity_not_checked_is_shown_as_such_never_as_a_pass():
    from hwbench.reporting.endpoint_lines import parity_cell, parity_lines
    from hwbench.results.record import CaseRecord

    unchecked = {"checked": False, "reason": "the server returns no prompt log-probabilities"}
    assert parity_cell(unchecked) == "not checked"
    assert parity_cell({"passed": True, "rel_l2": 3.1e-7}) == "3.1e-07"
    assert parity_cell(None) == ""
    case = CaseRecord(key={}, status="ok", parity=unchecked)
    assert parity_lines([case]) == [f"parity not checked: {unchecked['reason']}"]
