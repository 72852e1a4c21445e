"""The service's worker without HTTP: `JobStore` + `Worker` over the CLI's pipeline session.

What these pin down: one run (one `RunSession`) serves many claims while work keeps
coming and is closed when the queue goes idle; a claim takes every queued document
at once and stores each exactly once; a failed document or a failed run does not
stop the worker; the worker sleeps on its event, not on a timer; a job's outcome
commits with its document's result or not at all.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import doc_path, rows

from summarizer.backends import get_backend
from summarizer.pipeline import RunSession
from summarizer.service import intake
from summarizer.service.jobs import BatchReport, JobStore, Worker
from summarizer.store import db as store
from summarizer.store.runstatus import as_listed

NOISE = "扫一扫在手机打开当前页"  # only page noise: fails in the pipeline, not at intake


def post(jobs: JobStore, tmp_path: Path, doc_id: str, text: str, worker: Worker | None = None) -> str:
    sub = intake.Submission(text.encode("utf-8"), f"{doc_id}.txt", doc_id, from_text=True)
    accepted = intake.accept(jobs, tmp_path / "uploads", sub, ".txt", 100)
    if worker is not None:
        worker.wake()
    return accepted.job["id"]


def text(i: int) -> str:
    """A small plan item, distinct for each i."""
    return f"{i + 1}、加强组织领导。到2025年，建成{i + 10}个智能工厂。（责任单位：市财政局）\n"


def queued(tmp_path: Path, n: int, prefix: str = "d") -> tuple[Path, JobStore, list[str]]:
    """A fresh database with n documents accepted and queued: (db, job store, job ids)."""
    db = tmp_path / "r.db"
    store.open_db(db).close()
    jobs = JobStore(db)
    return db, jobs, [post(jobs, tmp_path, f"{prefix}{i}", text(i)) for i in range(n)]


def wait_final(jobs: JobStore, key: str, cap_s: float = 30.0) -> dict:
    """Liveness, not speed: the job must finish at some point within a generous cap."""
    deadline = time.monotonic() + cap_s
    while True:
        job = jobs.get(key)
        assert job is not None
        if job["status"] in ("ok", "degraded", "failed"):
            return job
        assert time.monotonic() < deadline, f"job {job['doc_id']} still {job['status']}"
        time.sleep(0.02)


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[JobStore, Path]]:
    db = tmp_path / "r.db"
    store.open_db(db).close()
    yield JobStore(db), db


def make_worker(jobs: JobStore, db: Path, **kw: object) -> Worker:
    return Worker(jobs, get_backend("rules"), db, **kw)  # type: ignore[arg-type]


@contextlib.contextmanager
def running(jobs: JobStore, db: Path, **kw: object) -> Iterator[Worker]:
    """A started worker, stopped (with a grace of 10 s) however the block ends."""
    worker = make_worker(jobs, db, **kw)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop(grace=10)


def test_one_run_across_claims_closed_with_its_counts_when_stopped(setup: tuple[JobStore, Path],
                                                                      tmp_path: Path) -> None:
    jobs, db = setup
    with running(jobs, db, idle_refresh=3600) as worker:  # never idle long enough to close on its own
        a = wait_final(jobs, post(jobs, tmp_path, "a", doc_path("001").read_text("utf-8-sig"), worker))
        b = wait_final(jobs, post(jobs, tmp_path, "b", "一、加强组织领导。（责任单位：市政府办公室）\n", worker))
        assert a["status"] == b["status"] == "ok"
        assert a["run_id"] == b["run_id"]  # two claims, one run
        conn = store.open_db(db)
        (run,) = [as_listed(conn, r) for r in store.iter_runs(conn)]
        assert run["status"] == "running" and run["succeeded"] == 2 and run["documents"] == 2  # counts so far
        conn.close()
    assert rows(db, "select status, documents, succeeded, failed, options from runs") == [("ok", 2, 2, 0, "serve")]
    assert rows(db, "select count(*) from results") == [(2,)]
    # The closing run refreshed the derived tables for what it wrote: b's responsible unit is there.
    assert rows(db, "select count(*) from unit_mentions where doc_id = 'b'")[0][0] >= 1
    assert rows(db, "select count(*) from sqlite_master where type = 'view'")[0][0] > 0


def test_an_idle_queue_closes_the_run_and_the_next_document_opens_another(setup: tuple[JobStore, Path],
                                                                          tmp_path: Path) -> None:
    jobs, db = setup
    with running(jobs, db, idle_refresh=0.2) as worker:
        a = wait_final(jobs, post(jobs, tmp_path, "a", "一、加强组织领导。\n", worker))
        deadline = time.monotonic() + 30
        while rows(db, "select status from runs where id = ?", a["run_id"]) == [("running",)]:
            assert time.monotonic() < deadline, "the idle run was never closed"
            time.sleep(0.05)
        assert rows(db, "select status, succeeded from runs where id = ?", a["run_id"]) == [("ok", 1)]
        b = wait_final(jobs, post(jobs, tmp_path, "b", "二、强化资金保障。\n", worker))
        assert b["status"] == "ok" and b["run_id"] != a["run_id"]


def test_a_failed_document_does_not_end_the_run_and_the_next_one_is_served(setup: tuple[JobStore, Path],
                                                                           tmp_path: Path) -> None:
    jobs, db = setup
    with running(jobs, db, idle_refresh=3600) as worker:
        bad = wait_final(jobs, post(jobs, tmp_path, "noise", NOISE, worker))
        good = wait_final(jobs, post(jobs, tmp_path, "good", "一、加强组织领导。\n", worker))
    assert bad["status"] == "failed"
    assert bad["error"] == "noise.txt: no document text left after cleaning (only page noise)"
    assert good["status"] == "ok" and good["run_id"] == bad["run_id"]
    assert rows(db, "select status, succeeded, failed from runs") == [("failed", 1, 1)]  # a document failed
    assert worker.results.job(good["id"], good["created"])["status"] == "ok"


def test_queued_documents_are_claimed_together_and_each_stored_once(setup: tuple[JobStore, Path],
                                                                    tmp_path: Path) -> None:
    jobs, db = setup
    keys = [post(jobs, tmp_path, f"d{i}", f"{i + 1}、加强组织领导。（责任单位：市财政局）\n") for i in range(6)]
    worker = make_worker(jobs, db, batch=32, idle_refresh=3600)
    reports: list[BatchReport] = []
    worker.on_batch.append(reports.append)
    claims: list[int] = []
    real_claim = jobs.claim
    jobs.claim = lambda limit: (got := real_claim(limit), claims.append(len(got)))[0]  # type: ignore[method-assign]
    worker.start()  # all six are queued before the worker looks: one claim takes them all
    try:
        done = [wait_final(jobs, k) for k in keys]
    finally:
        worker.stop(grace=10)
    assert [n for n in claims if n] == [6]
    assert sum(len(r.outcomes) for r in reports) == 6  # reported document by document
    assert {d["status"] for d in done} == {"ok"} and len({d["run_id"] for d in done}) == 1
    assert rows(db, "select count(*), count(distinct doc_id) from results") == [(6, 6)]
    assert rows(db, "select count(*) from doc_runs") == [(6,)]
    assert rows(db, "select count(*) from jobs where status = 'ok' and body is null") == [(6,)]


def test_the_worker_sleeps_on_its_event_and_is_woken_by_each_submission(setup: tuple[JobStore, Path],
                                                                        tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """No polling: with the idle close an hour away, every wait has no timeout or an hour's,
    so only the submissions' `wake()` can have moved the worker."""
    jobs, db = setup
    worker = make_worker(jobs, db, idle_refresh=7200)
    timeouts: list[float | None] = []
    real_wait = threading.Event.wait

    def spy(self: threading.Event, timeout: float | None = None) -> bool:
        if self is worker._wake:
            timeouts.append(timeout)
        return real_wait(self, timeout)

    monkeypatch.setattr(threading.Event, "wait", spy)
    worker.start()
    try:
        done = [wait_final(jobs, post(jobs, tmp_path, f"w{i}", f"{i + 1}、完善考核机制。\n", worker)) for i in range(4)]
    finally:
        worker.stop(grace=10)
    assert [d["status"] for d in done] == ["ok"] * 4
    assert timeouts and all(t is None or t >= 3600 for t in timeouts)


def test_a_job_outcome_that_cannot_be_written_takes_its_document_with_it(setup: tuple[JobStore, Path],
                                                                         tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The job row is written in the document's transaction: when that write fails, the result
    is rolled back too, the job says why, and the worker goes on with a fresh run."""
    jobs, db = setup
    worker = make_worker(jobs, db, idle_refresh=3600)
    real = Worker._record
    calls = []

    def fail_once(self: Worker, conn: object, o: object) -> None:
        calls.append(o)
        if len(calls) == 1:
            raise sqlite3.OperationalError("disk I/O error")
        real(self, conn, o)  # type: ignore[arg-type]

    monkeypatch.setattr(Worker, "_record", fail_once)
    worker.start()
    try:
        first = wait_final(jobs, post(jobs, tmp_path, "x", "一、加强组织领导。\n", worker))
        second = wait_final(jobs, post(jobs, tmp_path, "y", "二、强化资金保障。\n", worker))
    finally:
        worker.stop(grace=10)
    assert first["status"] == "failed" and "disk I/O error" in first["error"]
    assert second["status"] == "ok" and second["run_id"] != first["run_id"]
    assert rows(db, "select doc_id from results") == [("y",)]  # x's result went with its job row
    failed_run = rows(db, "select status, error from runs where id = ?", first["run_id"])[0]
    assert failed_run[0] == "failed" and "disk I/O error" in failed_run[1]


def test_a_session_fed_twice_is_one_run_with_both_counts(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "p.txt").write_text("一、加强组织领导。\n", encoding="utf-8")
    (docs / "q.txt").write_text(NOISE, encoding="utf-8")
    db = tmp_path / "r.db"
    seen: list[str] = []
    session = RunSession(db, get_backend("rules"), on_doc=lambda o: seen.append(o.status), options="serve")
    with session.closing():
        session.process([docs / "p.txt"])
        assert seen == ["ok"]  # reported once committed, before the call returns
        session.process([docs / "q.txt"])
        session.completed = True
    assert seen == ["ok", "failed"]
    assert rows(db, "select count(*), status, documents, succeeded, failed from runs") == [(1, "failed", 2, 1, 1)]
    assert rows(db, "select count(*) from doc_runs where run_id = ?", session.run_id) == [(2,)]


@pytest.mark.parametrize("each", [True, False])
def test_commit_each_reports_a_document_before_the_next_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 each: bool) -> None:
    """The service's session commits and answers each document as soon as it is stored (its
    client can post the next meanwhile); a batch run writes several per transaction."""
    from summarizer import pipeline

    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("a", "b", "c"):
        (docs / f"{name}.txt").write_text(f"一、加强{name}组织领导。\n", encoding="utf-8")
    events: list[str] = []
    real = pipeline._cpu_stage

    def spy(path: Path, *a: object, **k: object) -> object:
        events.append(f"read {path.stem}")
        return real(path, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "_cpu_stage", spy)
    session = RunSession(tmp_path / "r.db", get_backend("rules"), on_doc=lambda o: events.append(f"done {o.doc_id}"),
                         commit_each=each)
    with session.closing():
        session.process(sorted(docs.iterdir()))
        session.completed = True
    if each:
        assert events == ["read a", "done a", "read b", "done b", "read c", "done c"]
    else:
        assert events == ["read a", "read b", "read c", "done a", "done b", "done c"]
    assert rows(tmp_path / "r.db", "select count(*) from results") == [(3,)]


def test_summarizer_runs_shows_an_open_session_with_what_it_committed(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from summarizer.interfaces.cli import app as cli

    doc = tmp_path / "p.txt"
    doc.write_text("一、加强组织领导。\n", encoding="utf-8")
    db = tmp_path / "r.db"
    session = RunSession(db, get_backend("rules"), options="serve")
    try:
        session.process([doc])
        out = CliRunner().invoke(cli, ["runs", "--db", str(db)])
        assert out.exit_code == 0, out.output
        assert f"{session.run_id}  running" in out.output and "docs 1: 1 ok" in out.output
    finally:
        session.completed = True
        session.close()
    out = CliRunner().invoke(cli, ["runs", "--db", str(db)])
    assert f"{session.run_id}  ok" in out.output and "docs 1: 1 ok" in out.output
