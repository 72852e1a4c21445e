"""When the service's worker commits, and what it sends its server for the answers.

What these pin down: a document with nothing ready behind it is committed (and answered)
on its own, so a client that waits for each answer is never held back; with a deep queue
several documents share a commit; `hold_backlog=0` commits each; while documents wait
behind it, the worker process sends a result as the model's JSON (shipped from the pool
as is, at `--jobs 2`) for the server to render, otherwise rendered; either way the server
answers with the very JSON `summarizer show --json` prints.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import rows
from live_server import live
from test_service_worker import make_worker, post, queued, running, text, wait_final
from typer.testing import CliRunner

from summarizer import pipeline
from summarizer.backends import get_backend
from summarizer.interfaces.cli import app as cli
from summarizer.models import DocumentResult
from summarizer.pipeline import RunSession
from summarizer.service.app import create_app
from summarizer.service.jobs import JobStore
from summarizer.service.settings import Settings
from summarizer.store import db as store


@pytest.fixture
def commits(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Documents per commit of the writer (its non-empty flushes)."""
    sizes: list[int] = []
    real = pipeline._Writer.flush

    def spy(self: pipeline._Writer) -> None:
        if self.buffer:
            sizes.append(len(self.buffer))
        real(self)

    monkeypatch.setattr(pipeline._Writer, "flush", spy)
    yield sizes


def setup_store(tmp_path: Path) -> tuple[JobStore, Path]:
    db = tmp_path / "r.db"
    store.open_db(db).close()
    return JobStore(db), db


def test_one_document_at_a_time_is_committed_at_once(tmp_path: Path, commits: list[int]) -> None:
    jobs, db = setup_store(tmp_path)
    keys = []
    with running(jobs, db, idle_refresh=3600) as worker:
        worker.ship_text = True  # as in the worker process
        for i in range(4):  # a client that waits for each answer before posting the next
            keys.append(post(jobs, tmp_path, f"w{i}", text(i), worker))
            assert wait_final(jobs, keys[-1])["status"] == "ok"
    assert commits == [1, 1, 1, 1]
    # nothing behind any of them: each answer was rendered by the worker (the pipeline idles next)
    assert all(isinstance(worker.results.entry(k)[1], dict) for k in keys)  # type: ignore[index]


@pytest.mark.parametrize("hold", [2, 0])
def test_a_deep_queue_shares_commits_unless_told_not_to(tmp_path: Path, commits: list[int], hold: int) -> None:
    jobs, db = setup_store(tmp_path)
    keys = [post(jobs, tmp_path, f"q{i}", text(i)) for i in range(12)]  # queued before the worker starts
    worker = make_worker(jobs, db, idle_refresh=3600)
    worker.hold_backlog = hold
    worker.ship_text = True  # as in the worker process
    answered: list[str] = []
    worker.on_finished.append(answered.append)
    processing: list[float] = []  # seconds of processing each document is reported (the metrics' histogram)
    worker.on_batch.append(lambda report: processing.extend(p for _, _, p in report.outcomes))
    worker.start()
    try:
        done = [wait_final(jobs, k) for k in keys]
    finally:
        worker.stop(grace=10)
    assert [d["status"] for d in done] == ["ok"] * 12 and sum(commits) == 12
    if hold:
        assert max(commits) >= 2 and len(commits) < 12  # documents with others ready behind them waited
        assert commits[-1] == 1  # nothing ready behind the last one: committed at once, on its own
    else:
        assert commits == [1] * 12
    assert answered == keys  # answered in the order they were stored, each once
    # the documents of one commit share its time: none is reported as taking no time at all
    assert len(processing) == 12 and min(processing) > 0
    at = 0
    for size in commits:
        assert len(set(processing[at:at + size])) == 1
        at += size
    # with documents behind it an answer goes on as the model's JSON (rendered by the server);
    # the last one, with nothing behind, is rendered by the worker
    sent = [worker.results.entry(k)[1] for k in keys]  # type: ignore[index]
    assert isinstance(sent[0], str) and isinstance(sent[-1], dict)
    assert DocumentResult.model_validate_json(sent[0]).doc_id == "q0"
    assert rows(db, "select count(*), count(distinct doc_id) from results") == [(12, 12)]


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_outcome_gives_its_result_as_the_models_json(tmp_path: Path, jobs: int) -> None:
    """`result_text` is the model's JSON; a result a pool worker shipped as JSON (`--jobs 2`)
    is passed on as it came, not parsed in the writer."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(3):
        (docs / f"d{i}.txt").write_text(text(i), encoding="utf-8")
    seen: list[pipeline.DocOutcome] = []
    texts: list[str | None] = []

    def on_doc(o: pipeline.DocOutcome) -> None:
        texts.append(o.result_text())
        if jobs == 2:
            assert type(o) is pipeline._ShippedOutcome and o.__dict__.get("_result") is None  # not parsed
        seen.append(o)

    db = tmp_path / "r.db"
    session = RunSession(db, get_backend("rules"), on_doc=on_doc, jobs=jobs, keep_results=False, commit_each=True)
    with session.closing():
        session.process(sorted(docs.iterdir()))
        session.completed = True
    assert [o.status for o in seen] == ["ok"] * 3
    conn = store.open_db(db)
    for doc_id, got in zip(("d0", "d1", "d2"), texts):
        assert got is not None
        assert DocumentResult.model_validate_json(got) == store.load_result(conn, store.latest_result_id(conn, doc_id))


@pytest.mark.parametrize("jobs", [1, 2])
def test_the_worker_process_answers_with_show_json(tmp_path: Path, jobs: int) -> None:
    # queued before the server starts: its worker process finds a deep queue, so the answers come
    # up as the model's JSON and the server renders them
    db, _, keys = queued(tmp_path, 8, "q")
    app = create_app(Settings(db=db, backend="rules", jobs=jobs))
    with live(app) as c:
        worker = app.state.service.worker
        assert type(worker).__name__ == "WorkerProcess"
        # one at a time (nothing behind each: rendered by the worker process)
        got = [c.post("/v1/documents", params={"wait": 20}, json={"doc_id": f"s{i}", "text": text(i + 100)})
               for i in range(3)]
        assert [(r.status_code, r.json()["status"]) for r in got] == [(200, "ok")] * 3
        got += [c.get(f"/v1/documents/q{i}", params={"wait": 20}) for i in range(8)]
        for doc_id, r in zip([f"s{i}" for i in range(3)] + [f"q{i}" for i in range(8)], got):
            shown = CliRunner().invoke(cli, ["show", doc_id, "--db", str(db), "--json"])
            assert shown.exit_code == 0 and r.json()["status"] == "ok", (doc_id, shown.output, r.text[:300])
            assert json.loads(shown.output) == r.json()["result"]
            assert r.json()["result"]["goals"]  # a real result, not an empty shape
        assert all(worker.results.entry(k) is not None for k in keys)


def test_a_long_poll_for_a_finished_document_reads_its_job_once(tmp_path: Path) -> None:
    app = create_app(Settings(db=tmp_path / "r.db", backend="rules", worker="thread"))
    with live(app) as c:
        first = c.post("/v1/documents", params={"wait": 20}, json={"doc_id": "f0", "text": text(0)})
        assert first.json()["status"] == "ok"
        jobs = app.state.service.jobs
        calls: list[str] = []
        real = jobs.latest_for

        def spy(doc_id: str) -> dict | None:  # type: ignore[type-arg]
            calls.append(doc_id)
            return real(doc_id)

        jobs.latest_for = spy
        got = c.get("/v1/documents/f0", params={"wait": 20})
        assert got.status_code == 200 and got.json() == {**first.json(), "status_url": "/v1/documents/f0"}
        assert calls == ["f0"]  # finished already: one lookup (one thread hop), no second read
        assert c.get("/v1/documents/none", params={"wait": 1}).status_code == 404
