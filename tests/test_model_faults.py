"""A broken model server never looks like success, and a fixed one is called again.

Each fault is scripted on the real HTTP stub and goes through the real openai client
and instructor: the document is stored degraded (the rules' reading, with the
reason naming file and endpoint), the run is not ok, and once the server answers
properly a plain re-run makes the call and stores the model's answer.
"""

from __future__ import annotations

import json
import os
import socket

import pytest
import sqlite_utils
from openai_stub import StubServer, error, length, ok
from typer.testing import CliRunner

from summarizer.backends import get_backend
from summarizer.devtools.chatstub import Reply
from summarizer.errors import ConfigError
from summarizer.interfaces.cli import app
from summarizer.pipeline import failed_paths, prepare, run_batch

TEXT = "到2025年，全县工业总产值突破1000亿元，规上工业企业超过500家。\n加强组织领导。\n"
G1 = {"q": "工业总产值突破1000亿元", "i": "工业总产值", "v": 1000, "m": None, "u": "亿元",
      "c": "at_least", "y": 2025}

FAULTS = {
    "401": (error(401), "HTTP 401 from"),
    "html page": (Reply(body=b"<html><body><h1>502 Bad Gateway</h1></body></html>", content_type="text/html"),
                  "unusable model output from"),
    "random bytes": (Reply(body=bytes(range(256)) * 2, content_type="application/octet-stream"),
                     "unusable model output from"),
    "empty body": (Reply(body=b""), "unusable model output from"),
    "empty content": (ok(""), "unusable model output from"),
    "non-JSON text": (ok("Sure! Here are the goals you asked for."), "unusable model output from"),
    "JSON without choices": (Reply(body=json.dumps({"id": "x", "object": "chat.completion"}).encode()),
                             "unusable model output from"),
    "JSON of the wrong shape": (ok({"goals": [G1]}), "unusable model output from"),
    "truncated answer": (length(), "cut off at max_tokens by"),
    "HTTP 500": (error(500), "HTTP 500 from"),
    "Retry-After 100000": (error(429, {"retry-after": "100000"}), "asking to retry after 100000 s"),
    "huge answer": (ok("x" * 300_000), "byte cap from"),
    "drip-feed": (Reply(content='{"g": []}', drip_s=0.3), "no complete answer from"),
}


def make(stub: StubServer, db: str, **kw: object):
    settings = dict(db_path=db, base_url=stub.base_url, model="stub-model", timeout=1, scope="targets",
                    max_attempts=2, backoff_initial=0.01, backoff_max=0.02, backoff_jitter=0, reasks=1,
                    max_response_bytes=100_000)
    settings.update(kw)
    return get_backend("openai", **settings)


@pytest.fixture
def stub():
    with StubServer() as s:
        yield s


@pytest.fixture
def plan(tmp_path):
    p = tmp_path / "docs" / "plan.txt"
    p.parent.mkdir()
    p.write_text(TEXT, "utf-8")
    return p


@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_degrades_the_document_and_a_fixed_server_is_called_again(fault, stub, plan, tmp_path):
    reply, reason = FAULTS[fault]
    db = str(tmp_path / "r.db")
    stub.script(*[reply] * 4)
    summary = run_batch([plan], db, make(stub, db))
    out = summary.outcomes[0]
    assert out.status == "degraded" and not summary.ok
    assert str(plan) in out.message and reason in out.message and stub.base_url in out.message
    assert {g.value for g in out.result.goals} == {1000, 500}  # the rules' reading is kept
    conn = sqlite_utils.Database(db)
    row = next(conn["doc_runs"].rows)
    assert row["status"] == "degraded" and reason in row["error"]
    assert json.loads(next(conn["results"].rows)["faults"])
    assert next(conn["runs"].rows)["status"] == "degraded"
    assert failed_paths(db) == [plan]  # --retry-failed takes it

    stub.queue.clear()
    stub.script(ok({"g": [G1]}))
    before = stub.calls
    again = run_batch([plan], db, make(stub, db))  # no --force: a degraded result is not "unchanged"
    assert stub.calls == before + 1
    assert again.outcomes[0].status == "ok" and again.ok
    assert [g.value for g in again.outcomes[0].result.goals] == [1000]  # the model's answer
    assert failed_paths(db) == []


def test_cli_exit_code_runs_listing_and_retry_failed(stub, plan, tmp_path):
    db = str(tmp_path / "r.db")
    runner = CliRunner()
    args = ["--db", db, "--backend", "openai", "--base-url", stub.base_url, "--model", "m",
            "--scope", "targets", "--timeout", "1", "--max-attempts", "1", "--abstract", "template"]
    stub.script(error(401))
    res = runner.invoke(app, ["run", str(plan.parent), *args])
    assert res.exit_code == 1, res.output
    assert f"DEGR {plan}: degraded: 1 of 1 model call gave no usable answer: HTTP 401 from {stub.base_url}" \
        in res.output
    assert "0 ok, 1 degraded" in res.output
    listed = runner.invoke(app, ["runs", "--db", db]).output
    assert "degraded" in listed and f"DEGR {plan}" in listed
    assert "DEGRADED: 1 of 1 model call gave no usable answer: HTTP 401" in runner.invoke(
        app, ["show", "plan", "--db", db]).output
    stub.script(ok({"g": [G1]}))
    retry = runner.invoke(app, ["run", "--retry-failed", *args])
    assert retry.exit_code == 0, retry.output
    assert "ok   plan: 1 goals" in retry.output and stub.calls == 2


def test_cache_key_has_the_endpoint_and_failures_are_not_served(tmp_path, plan):
    db = str(tmp_path / "r.db")
    with StubServer() as a, StubServer() as b:
        a.script(ok({"g": [G1]}))
        run_batch([plan], db, make(a, db))
        b.script(ok({"g": [G1]}))
        run_batch([plan], db, make(b, db), force=True)
        assert (a.calls, b.calls) == (1, 1)  # same request, another endpoint: another call
        b.script(ok({"g": [G1]}))
        run_batch([plan], db, make(b, db), force=True)
        assert b.calls == 1  # same endpoint: served from the cache
    rows = list(sqlite_utils.Database(db)["llm_calls"].rows)
    assert len(rows) == 2 and {r["status"] for r in rows} == {"ok"}


def test_breaker_stops_calling_a_dead_server_and_says_why(stub, tmp_path, caplog):
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(6):
        (docs / f"d{i}.txt").write_text(TEXT.replace("1000", str(1000 + i)), "utf-8")
    db = str(tmp_path / "r.db")
    stub.script(*[error(503)] * 50)
    summary = run_batch([docs], db, make(stub, db, breaker_failures=3))
    assert stub.calls == 3  # 2 attempts for d0, 1 for d1, then no more calls
    assert [o.status for o in summary.outcomes] == ["degraded"] * 6
    assert all("HTTP 503" in o.message for o in summary.outcomes[:2])
    assert all("model not called: model server" in o.message and "given up after 3 consecutive failures"
               in o.message for o in summary.outcomes[2:])
    warnings = [r for r in caplog.records if "given up" in r.getMessage()]
    assert len(warnings) == 1


def test_closed_port_trips_the_breaker_quickly(tmp_path, plan):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens once the socket is closed
    other = plan.with_name("other.txt")
    other.write_text(TEXT.replace("1000", "2000"), "utf-8")
    db = str(tmp_path / "r.db")
    b = get_backend("openai", db_path=db, base_url=f"http://127.0.0.1:{port}/v1", model="m", scope="targets",
                    max_attempts=4, backoff_initial=0.01, backoff_max=0.02, backoff_jitter=0, breaker_failures=2)
    out = run_batch([other, plan], db, b).outcomes
    assert f"cannot connect to http://127.0.0.1:{port}/v1 after 2 attempts" in out[0].message
    assert "model not called" in out[1].message and b.breaker.open


def test_drip_feeding_server_is_cut_off_at_the_deadline(stub, tmp_path):
    """Headers, then one byte every 0.3 s (a 300-byte body: 90 s): no single read
    waits a second, so only the whole-request deadline of 1 s can end it."""
    b = make(stub, str(tmp_path / "r.db"), timeout=1, max_attempts=1)
    stub.script(Reply(content='{"g": []}', drip_s=0.3))
    res = b.extract(prepare("d1", TEXT)[1])
    assert res.faults and f"no complete answer from {stub.base_url} within the deadline after 1 attempt" \
        in res.faults[0]
    assert stub.calls == 1


def test_huge_answer_is_not_read_whole_nor_sent_back(stub, tmp_path, plan):
    db = str(tmp_path / "r.db")
    stub.script(ok("x" * 500_000), ok("x" * 500_000))
    summary = run_batch([plan], db, make(stub, db, max_response_bytes=50_000))
    assert "byte cap" in summary.outcomes[0].message
    assert stub.calls == 1  # not retried, so never re-asked with the huge text
    assert all(len(json.dumps(r["json"])) < 10_000 for r in stub.requests)


@pytest.mark.parametrize("option,value", [("timeout", 0), ("timeout", -1), ("jobs", 0), ("max_attempts", 0)])
def test_option_values_are_checked_for_every_backend(option, value):
    for name in ("rules", "openai"):
        with pytest.raises(ConfigError, match=option.replace("_", "-")):
            get_backend(name, base_url="http://127.0.0.1:9/v1", model="m", **{option: value})


def test_cli_rejects_timeout_zero_for_rules(plan, tmp_path):
    res = CliRunner().invoke(app, ["run", str(plan), "--db", str(tmp_path / "r.db"), "--backend", "rules",
                                   "--timeout", "0"])
    assert res.exit_code == 2 and "timeout must be more than 0" in res.output


def test_non_gguf_model_file_is_named_and_model_info_verify_catches_it(tmp_path, monkeypatch):
    bad = tmp_path / "model.gguf"
    bad.write_bytes(b"<html>not a model</html>" + os.urandom(64))
    with pytest.raises(ConfigError, match=f"model file {bad} is not a GGUF file"):
        get_backend("local", model_path=str(bad))
    res = CliRunner().invoke(app, ["model", "info", "--model-path", str(bad), "--verify"])
    assert res.exit_code == 1 and "not a GGUF file" in res.output and str(bad) in res.output
