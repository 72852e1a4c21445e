"""`summarizer serve` against a real uvicorn on a free loopback port, driven over HTTP.

Most tests run uvicorn in a thread of this process (an app from `create_app`, its
own metrics registry); the crash and signal tests run `summarizer serve` as a
subprocess and kill it. The rules backend keeps everything fast; the openai
backend runs against the scripted stub where model calls matter.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from conftest import GOLD, doc_path, rows
from live_server import live
from openai_stub import StubServer, ok, slow
from prometheus_client import CollectorRegistry
from typer.testing import CliRunner

from summarizer.interfaces.cli import app as cli
from summarizer.service.app import create_app
from summarizer.service.settings import Settings

runner = CliRunner()
MODEL_TEXT = "到2025年，全县工业总产值突破1000亿元。\n实现一般企业投资项目全过程审批“最多80天”。\n"
MODEL_GOAL = {"q": "最多80天", "i": "审批时间", "v": 80, "m": None, "u": "天", "c": "at_most", "y": None}


def settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(db=tmp_path / "r.db", backend="rules", **kw)  # type: ignore[arg-type]


# ---- the endpoints ----------------------------------------------------------------------------


def test_post_json_then_status_then_same_json_as_show(tmp_path: Path) -> None:
    text = doc_path("001").read_text("utf-8-sig")
    with live(create_app(settings(tmp_path))) as c:
        r = c.post("/v1/documents", json={"doc_id": "plan-1", "text": text})
        assert r.status_code in (200, 202)
        assert r.headers["location"] == r.json()["status_url"] == "/v1/documents/plan-1"
        body = c.get("/v1/documents/plan-1").json()
        for _ in range(200):
            if body["status"] == "ok":
                break
            assert body["status"] in ("queued", "running")
            time.sleep(0.05)
            body = c.get("/v1/documents/plan-1").json()
        assert body["status"] == "ok" and body["error"] is None and body["run_id"]
        assert len(body["result"]["measures"]) > 5
    shown = runner.invoke(cli, ["show", "plan-1", "--db", str(tmp_path / "r.db"), "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output) == body["result"]


def test_uploads_of_each_format_and_wait(tmp_path: Path) -> None:
    docx = pytest.importorskip("docx")
    d = docx.Document()
    d.add_paragraph("关于推进数字经济发展的实施方案")
    d.add_paragraph("一、推进企业上云。到2025年，新增上云企业1000家。（市经信局牵头）")
    d.save(str(tmp_path / "w.docx"))
    files = {
        "a.txt": ("text/plain", "一、加强组织领导。（责任单位：市政府办公室）\n".encode("gb18030")),
        "b.html": ("text/html", "<html><body><p>二、强化资金保障。</p><p>到2025年，建成10个智能工厂。</p></body></html>".encode()),
        "c.docx": ("application/octet-stream", (tmp_path / "w.docx").read_bytes()),
        "d.pdf": ("application/pdf", (Path(__file__).parent / "data" / "policy_zh.pdf").read_bytes()),
    }
    with live(create_app(settings(tmp_path))) as c:
        for name, (ctype, data) in files.items():
            r = c.post("/v1/documents", params={"wait": 20}, files={"file": (name, data, ctype)})
            assert r.status_code == 200, (name, r.text)
            assert r.json()["doc_id"] == Path(name).stem and r.json()["status"] == "ok"
            # answered from the worker's hand; read back from the database it is the same
            assert r.json()["result"] == c.get(r.json()["status_url"]).json()["result"]
        assert c.get("/v1/documents/c").json()["result"]["goals"][0]["value"] == 1000
        assert [m["number"] for m in c.get("/v1/documents/d").json()["result"]["measures"]] == ["一", "二"]
        # an upload can name its id; a file name without extension takes its format from the part's type
        r = c.post("/v1/documents?wait=20", files={"file": ("noext", b"<p>hello</p>", "text/html")},
                   data={"doc_id": "named"})
        assert r.status_code == 200 and r.json()["doc_id"] == "named"
    assert rows(tmp_path / "r.db", "select path from documents where id = 'named'")[0][0].endswith("named.html")


def test_same_content_twice_is_one_job_and_one_result(tmp_path: Path) -> None:
    text = "一、加强组织领导。（责任单位：市政府办公室）\n"
    with live(create_app(settings(tmp_path))) as c:
        first = c.post("/v1/documents?wait=20", json={"text": text})
        again = c.post("/v1/documents", json={"text": text, "doc_id": "other-name"})
        assert first.status_code == again.status_code == 200  # done already: no new work, the stored result
        assert again.json()["doc_id"] == first.json()["doc_id"]
        assert first.json()["doc_id"].startswith("doc-")
        assert again.json()["result"] == first.json()["result"]
    assert rows(tmp_path / "r.db", "select count(*) from jobs")[0][0] == 1
    assert rows(tmp_path / "r.db", "select count(*) from results")[0][0] == 1


def test_new_text_under_the_same_id_is_a_new_version(tmp_path: Path) -> None:
    v1 = {"doc_id": "v", "text": "一、加强组织领导。\n"}
    with live(create_app(settings(tmp_path))) as c:
        c.post("/v1/documents?wait=20", json=v1)
        r = c.post("/v1/documents?wait=20", json={"doc_id": "v", "text": "一、加强组织领导。\n二、强化资金保障。\n"})
        assert r.json()["doc_id"] == "v" and len(r.json()["result"]["measures"]) == 2
        assert len(c.get("/v1/documents/v").json()["result"]["measures"]) == 2  # the latest, as `show`
        again = c.post("/v1/documents", json=v1)  # the first version again: its own stored result
        assert again.status_code == 200 and len(again.json()["result"]["measures"]) == 1
    assert rows(tmp_path / "r.db", "select count(*) from results") == [(2,)]


def test_errors_are_one_line_json_with_the_cli_words(tmp_path: Path) -> None:
    with live(create_app(settings(tmp_path, max_bytes=1000))) as c:
        def err(r: httpx2.Response, code: int) -> str:
            assert r.status_code == code, r.text
            detail = r.json()["detail"]
            assert isinstance(detail, str) and "\n" not in detail
            return detail

        assert err(c.post("/v1/documents", files={"file": ("x.exe", b"MZ", "application/x-msdownload")}), 415) \
            == "x.exe: unsupported file type .exe"
        assert "content type text/plain" in err(c.post("/v1/documents", content=b"abc",
                                                        headers={"content-type": "text/plain"}), 415)
        assert err(c.post("/v1/documents", files={"file": ("e.txt", b"  \n", "text/plain")}), 422) == "e.txt: empty file"
        assert err(c.post("/v1/documents", json={"text": ""}), 422) == "text: empty file"
        assert err(c.post("/v1/documents", files={"file": ("b.txt", b"\x00\x01" * 20, "text/plain")}), 422) \
            == "b.txt: binary file (NUL bytes, no text byte-order mark)"
        assert err(c.post("/v1/documents", files={"file": ("bad.docx", b"not a zip", "text/plain")}), 422) \
            .startswith("bad.docx: ")
        assert "doc_id" in err(c.post("/v1/documents", json={"doc_id": "../etc", "text": "x"}), 422)
        assert err(c.post("/v1/documents", content=b"{", headers={"content-type": "application/json"}), 422) \
            .startswith("JSON body")
        assert "wait" in err(c.post("/v1/documents?wait=-1", json={"text": "x"}), 422)
        assert "status" in err(c.get("/v1/documents?status=done"), 422)
        assert err(c.get("/v1/documents/nope"), 404) == "no result for document 'nope'"
        # 413: declared too large, and streamed (chunked, no length) past the cap
        assert "the limit is 1000 bytes" in err(c.post("/v1/documents", json={"text": "长" * 400}), 413)

        def chunks() -> Iterator[bytes]:
            for _ in range(50):
                yield b"x" * 100

        r = c.post("/v1/documents", content=chunks(), headers={"content-type": "application/json"})
        assert "content-length" not in r.request.headers  # streamed: only counting finds it too large
        err(r, 413)
    assert rows(tmp_path / "r.db", "select count(*) from jobs")[0][0] == 0  # nothing refused was queued


def test_a_document_that_fails_in_the_pipeline_says_why_and_is_retried_when_posted_again(tmp_path: Path) -> None:
    with live(create_app(settings(tmp_path))) as c:
        first = c.post("/v1/documents?wait=20", json={"doc_id": "noise", "text": "扫一扫在手机打开当前页"})
        assert first.status_code == 200 and first.json()["status"] == "failed"
        assert first.json()["error"] == "noise.txt: no document text left after cleaning (only page noise)"
        assert "result" not in first.json() or first.json()["result"] is None
        again = c.post("/v1/documents?wait=20", json={"doc_id": "noise", "text": "扫一扫在手机打开当前页"})
        assert again.json()["status"] == "failed" and again.json()["run_id"] != first.json()["run_id"]
    assert rows(tmp_path / "r.db", "select count(*), sum(status = 'failed') from doc_runs") == [(2, 2)]


def test_list_runs_health_and_docs(tmp_path: Path) -> None:
    with live(create_app(settings(tmp_path))) as c:
        for i in range(5):
            c.post("/v1/documents?wait=20", json={"doc_id": f"d{i}", "text": f"{i + 1}、加强组织领导。\n"})
        page1 = c.get("/v1/documents", params={"limit": 2}).json()
        assert [d["doc_id"] for d in page1["documents"]] == ["d0", "d1"] and page1["next_cursor"]
        page2 = c.get("/v1/documents", params={"limit": 2, "cursor": page1["next_cursor"]}).json()
        page3 = c.get("/v1/documents", params={"limit": 2, "cursor": page2["next_cursor"]}).json()
        assert [d["doc_id"] for d in page2["documents"] + page3["documents"]] == ["d2", "d3", "d4"]
        assert page3["next_cursor"] is None
        assert c.get("/v1/documents", params={"status": "failed"}).json()["documents"] == []
        runs = c.get("/v1/runs").json()["runs"]
        assert runs and all(r["options"] == "serve" and r["backend"] == "rules" for r in runs)
        assert sum(r["succeeded"] for r in runs) == 5
        h = c.get("/healthz").json()
        assert h["status"] == "ok" and h["worker_alive"] and h["model_loaded"] is None
        assert h["queue"]["ok"] == 5 and h["queue"]["queued"] == 0
        spec = c.get("/openapi.json").json()
        post = spec["paths"]["/v1/documents"]["post"]
        assert {"multipart/form-data", "application/json"} <= set(post["requestBody"]["content"])
        assert {"413", "415", "422", "429"} <= set(post["responses"])
        assert c.get("/docs").status_code == 200


def test_token_required_and_compared(tmp_path: Path) -> None:
    with live(create_app(settings(tmp_path, api_token="s3cret-tøken"))) as c:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic czNjcmV0"}):
            r = c.get("/v1/runs", headers=headers)
            assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
            assert "bearer token" in r.json()["detail"]
        assert c.post("/v1/documents", json={"text": "x"}).status_code == 401
        good = {"Authorization": "Bearer s3cret-tøken".encode()}  # a non-ASCII token, sent as UTF-8
        assert c.get("/v1/runs", headers=good).status_code == 200
        assert c.get("/healthz").status_code == 200 and c.get("/metrics").status_code == 200  # no token needed
    assert rows(tmp_path / "r.db", "select count(*) from jobs")[0][0] == 0


def test_no_token_no_public_address(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SUMMARIZER_API_TOKEN", raising=False)
    res = runner.invoke(cli, ["serve", "--db", str(tmp_path / "r.db"), "--host", "0.0.0.0", "--backend", "rules"])
    assert res.exit_code == 2
    assert "refusing to listen on 0.0.0.0 without SUMMARIZER_API_TOKEN" in res.output
    with pytest.raises(ValueError, match="refusing"):
        Settings(db=tmp_path / "r.db", host="192.168.1.5")
    assert Settings(db=tmp_path / "r.db", host="0.0.0.0", api_token="t").token == "t"
    assert Settings(db=tmp_path / "r.db", host="::1").host == "::1"
    assert not (tmp_path / "r.db").exists()


def test_queue_full_is_429_with_retry_after(tmp_path: Path) -> None:
    """A worker held up by a slow model: the queue fills and the next POST is told when to retry."""
    with StubServer() as stub:
        stub.script(*[slow(3.0, {"g": [MODEL_GOAL]})] * 4)
        s = Settings(db=tmp_path / "r.db", backend="openai", base_url=stub.base_url, model="stub-model",
                     scope="goals", queue=1, timeout=10, stop_grace=0.5)
        with live(create_app(s)) as c:
            assert c.post("/v1/documents", json={"doc_id": "a", "text": MODEL_TEXT}).status_code == 202
            for _ in range(100):  # until the worker holds "a" at the model
                if stub.calls:
                    break
                time.sleep(0.05)
            assert c.post("/v1/documents", json={"doc_id": "b", "text": MODEL_TEXT + "b"}).status_code == 202
            r = c.post("/v1/documents", json={"doc_id": "c", "text": MODEL_TEXT + "c"})
            assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
            assert "queue is full" in r.json()["detail"]
    assert [x[0] for x in rows(tmp_path / "r.db", "select doc_id from jobs order by seq")] == ["a", "b"]


def test_metrics_count_documents_and_model_calls(tmp_path: Path) -> None:
    registry = CollectorRegistry()
    with StubServer() as stub:
        stub.script(ok({"g": [MODEL_GOAL]}))
        s = Settings(db=tmp_path / "r.db", backend="openai", base_url=stub.base_url, model="stub-model", scope="goals")
        with live(create_app(s, registry=registry)) as c:
            r = c.post("/v1/documents?wait=20", json={"doc_id": "m", "text": MODEL_TEXT})
            assert r.status_code == 200 and r.json()["status"] == "ok"
            assert [g["value"] for g in r.json()["result"]["goals"]] == [1000, 80]
            c.post("/v1/documents", files={"file": ("x.exe", b"MZ", "application/x-msdownload")})
            c.get("/v1/documents/m")
            text = c.get("/metrics").text
            assert c.get("/healthz").json()["model_loaded"] is True
    get = registry.get_sample_value
    assert get("summarizer_documents_total", {"outcome": "ok"}) == 1
    assert get("summarizer_model_calls_total") == stub.calls == 1
    assert get("summarizer_model_tokens_total", {"kind": "prompt"}) == 100  # the stub's usage
    assert get("summarizer_model_tokens_total", {"kind": "completion"}) == 20
    assert get("summarizer_job_seconds_count", {"stage": "processing"}) == 1
    assert get("summarizer_rejected_total", {"code": "415"}) == 1
    assert get("summarizer_http_requests_total",
               {"method": "GET", "route": "/v1/documents/{doc_id}", "code": "200"}) == 1  # the template, not the path
    assert 'summarizer_jobs{status="ok"} 1.0' in text and 'summarizer_jobs{status="queued"} 0.0' in text
    assert rows(tmp_path / "r.db", "select llm_calls from runs")[0][0] == 1  # the run's own count


def test_cli_and_service_share_the_database(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    res = runner.invoke(cli, ["run", str(doc_path("000")), "--db", str(db), "--backend", "rules"])
    assert res.exit_code == 0, res.output
    with live(create_app(settings(tmp_path))) as c:
        by_cli = c.get("/v1/documents/000_7de01a1ad9347ba0").json()  # stored by the CLI, found over HTTP
        assert by_cli["status"] == "ok" and by_cli["result"]["doc_id"] == "000_7de01a1ad9347ba0"
        path = doc_path("001")
        r = c.post("/v1/documents?wait=20", files={"file": (path.name, path.read_bytes(), "text/plain")})
        assert r.json()["doc_id"] == path.stem
    shown = runner.invoke(cli, ["show", path.stem, "--db", str(db), "--json"])
    assert json.loads(shown.output) == r.json()["result"] and r.json()["result"]["goals"]
    ev = runner.invoke(cli, ["eval", "--db", str(db), "--gold", str(GOLD), "--json", str(tmp_path / "e.json")])
    report = json.loads((tmp_path / "e.json").read_text("utf-8"))
    assert {"000_7de01a1ad9347ba0", path.stem} <= set(report["documents"]), ev.output
    assert report["documents"][path.stem]["goals"]["f1"] > 0.5  # the posted document scored like a CLI one
    runs = runner.invoke(cli, ["runs", "--db", str(db)])
    assert "rules" in runs.output and runs.output.count("docs 1: 1 ok") == 2


def test_two_hundred_submissions_from_ten_threads(tmp_path: Path) -> None:
    """Each thread posts its 20 documents and 5 of its neighbour's: 200 stored once each, none lost."""
    texts = [f"{i + 1}、加强第{i}项组织领导。（责任单位：第{i}局）\n" for i in range(200)]
    errors: list[str] = []
    with live(create_app(settings(tmp_path, jobs=4))) as c:
        def client(k: int) -> None:
            mine = list(range(k * 20, k * 20 + 20)) + list(range(((k + 1) % 10) * 20, ((k + 1) % 10) * 20 + 5))
            with httpx2.Client(base_url=c.base_url, timeout=30) as own:
                for i in mine:
                    r = own.post("/v1/documents", json={"doc_id": f"t{i:03d}", "text": texts[i]})
                    if r.status_code not in (200, 202):
                        errors.append(f"{i}: {r.status_code} {r.text}")

        threads = [threading.Thread(target=client, args=(k,)) for k in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        for _ in range(300):
            h = c.get("/healthz").json()["queue"]
            if h["queued"] == h["running"] == 0:
                break
            time.sleep(0.1)
        assert h["ok"] == 200 and h["failed"] == 0
        listed = c.get("/v1/documents", params={"limit": 1000}).json()["documents"]
    assert sorted(d["doc_id"] for d in listed) == [f"t{i:03d}" for i in range(200)]
    db = tmp_path / "r.db"
    assert rows(db, "select count(*), count(distinct doc_id) from results") == [(200, 200)]
    assert rows(db, "select count(*) from documents") == [(200,)]
    assert rows(db, "select count(*) from jobs where attempts != 1") == [(0,)]


# ---- crash and stop: `summarizer serve` as a subprocess ----------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve_process(db: Path, *args: str) -> Iterator[tuple[subprocess.Popen, httpx2.Client]]:
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "SUMMARIZER_STOP_GRACE": "1"}
    env.pop("SUMMARIZER_API_TOKEN", None)
    proc = subprocess.Popen([sys.executable, "-m", "summarizer.interfaces.console", "serve", "--db", str(db),
                             "--port", str(port), *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        with httpx2.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx2.TransportError:
                    pass
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
            yield proc, client
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def test_kill_9_with_queued_work_then_restart_processes_all_once(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    with StubServer() as stub:
        stub.script(*[slow(30.0, {"g": []})] * 3)  # the model holds the first document
        with serve_process(db, "--backend", "openai", "--base-url", stub.base_url, "--model", "m",
                           "--scope", "goals") as (proc, c):
            for i in range(5):
                assert c.post("/v1/documents", json={"doc_id": f"k{i}", "text": MODEL_TEXT + f"第{i}\n"}).status_code == 202
            for _ in range(200):
                if stub.calls:
                    break
                time.sleep(0.05)
            assert stub.calls >= 1
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
    assert rows(db, "select count(*) from jobs where status in ('queued', 'running')") == [(5,)]
    with live(create_app(Settings(db=db, backend="rules"))) as c:  # the restart (in this process: faster)
        for _ in range(100):
            q = c.get("/healthz").json()["queue"]
            if q["ok"] == 5:
                break
            time.sleep(0.1)
        assert q["ok"] == 5 and q["queued"] == q["running"] == 0
        assert c.get("/v1/documents/k0").json()["attempts"] == 2  # cut off once, run again
    assert rows(db, "select count(*), count(distinct doc_id) from results") == [(5, 5)]


def test_sigterm_stops_taking_work_and_requeues_what_runs(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    with StubServer() as stub:
        stub.script(*[slow(30.0, {"g": []})] * 3)
        with serve_process(db, "--backend", "openai", "--base-url", stub.base_url, "--model", "m",
                           "--scope", "goals") as (proc, c):
            assert c.post("/v1/documents", json={"doc_id": "s0", "text": MODEL_TEXT}).status_code == 202
            for _ in range(200):  # s0 is at the model...
                if stub.calls:
                    break
                time.sleep(0.05)
            # ... so s1 waits in the queue, and its client waits for it
            answers: list[httpx2.Response] = []
            waiter = threading.Thread(target=lambda: answers.append(
                c.post("/v1/documents?wait=60", json={"doc_id": "s1", "text": MODEL_TEXT + "1"})))
            waiter.start()
            for _ in range(200):
                if rows(db, "select count(*) from jobs") == [(2,)]:
                    break
                time.sleep(0.05)
            t0 = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            waiter.join(30)
            assert answers[0].status_code == 202 and answers[0].json()["status"] == "queued"  # released at once
            assert time.monotonic() - t0 < 5
            out, _ = proc.communicate(timeout=30)
            # uvicorn re-raises the signal once shut down: the exit status says SIGTERM
            assert time.monotonic() - t0 < 20 and proc.returncode in (0, -signal.SIGTERM), out
            assert "queued again 1 documents still running at shutdown" in out
    assert sorted(rows(db, "select doc_id, status, attempts from jobs")) == [("s0", "queued", 1), ("s1", "queued", 0)]
    assert rows(db, "select count(*) from results") == [(0,)]
