"""The service's pipeline in a process of its own, and claims streamed into one session.

What these pin down: a rules server runs its pipeline in a child process (the run row
names the child's pid) and answers the same JSON; the child exits when the server is
killed (kill -9) and the restart stores every accepted document exactly once; SIGTERM
loses nothing; a child that does not stop in its grace is killed and its documents
queued again; `RunSession.process` takes a generator (new documents join while earlier
ones are in flight), and the worker claims more while documents are in flight.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import rows
from live_server import live
from prometheus_client import CollectorRegistry
from test_service import serve_process
from test_service_worker import post, queued, text, wait_final

from summarizer.backends import get_backend
from summarizer.backends.rules import RulesBackend
from summarizer.pipeline import RunSession
from summarizer.service.app import create_app
from summarizer.service.jobs import JobStore, Worker
from summarizer.service.settings import Settings
from summarizer.service.worker_process import WorkerProcess
from summarizer.store import db as store


def children(pid: int) -> list[int]:
    return [int(k) for t in Path(f"/proc/{pid}/task").iterdir() for k in (t / "children").read_text().split()]


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:  # a zombie (exited, not reaped yet) is gone too
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def wait_until(check, cap_s: float = 30.0, what: str = "") -> None:  # type: ignore[no-untyped-def]
    """Liveness, not speed: the condition must hold at some point within a generous cap."""
    deadline = time.monotonic() + cap_s
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_rules_run_in_a_child_process_model_backends_in_a_thread(tmp_path: Path) -> None:
    registry = CollectorRegistry()
    app = create_app(Settings(db=tmp_path / "r.db", backend="rules"), registry=registry)
    with live(app) as c:
        worker = app.state.service.worker
        assert isinstance(worker, WorkerProcess) and worker.process.pid != os.getpid()
        r = c.post("/v1/documents?wait=20", json={"doc_id": "p", "text": text(0)})
        assert r.status_code == 200 and r.json()["status"] == "ok"
        # the child's report crossed the pipe before its answer did
        assert registry.get_sample_value("summarizer_documents_total", {"outcome": "ok"}) == 1
        assert registry.get_sample_value("summarizer_job_seconds_count", {"stage": "processing"}) == 1
        assert r.json()["result"] == c.get("/v1/documents/p").json()["result"]  # the same JSON read back
        assert rows(tmp_path / "r.db", "select pid from runs") == [(worker.process.pid,)]
        child = worker.process
    assert not child.is_alive()  # stopped with the server
    assert rows(tmp_path / "r.db", "select status, succeeded from runs") == [("ok", 1)]
    thread = create_app(Settings(db=tmp_path / "t.db", backend="rules", worker="thread"))
    with live(thread) as c:
        assert type(thread.state.service.worker) is Worker
        assert c.post("/v1/documents?wait=20", json={"doc_id": "p", "text": text(0)}).json()["status"] == "ok"
    assert rows(tmp_path / "t.db", "select pid from runs") == [(os.getpid(),)]


def post_30(c, prefix: str) -> None:  # type: ignore[no-untyped-def]
    for i in range(30):
        assert c.post("/v1/documents", json={"doc_id": f"{prefix}{i}", "text": text(i)}).status_code in (200, 202)


def restart_stores_all_30_once(db: Path) -> None:
    with live(create_app(Settings(db=db, backend="rules"))) as c:
        wait_until(lambda: c.get("/healthz").json()["queue"]["ok"] == 30, what="not every document was stored")
        q = c.get("/healthz").json()["queue"]
        assert q["queued"] == q["running"] == q["failed"] == 0
    assert rows(db, "select count(*), count(distinct doc_id) from results") == [(30, 30)]
    assert rows(db, "select count(*) from jobs where status = 'ok' and body is null") == [(30,)]


def test_kill_9_takes_the_child_with_it_and_the_restart_stores_each_once(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    with serve_process(db, "--backend", "rules", "--jobs", "2") as (proc, c):
        (child,) = children(proc.pid)
        post_30(c, "k")
        wait_until(lambda: len(children(child)) == 2, what="no pool")  # its --jobs 2 pool, from its first run
        pool = children(child)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        wait_until(lambda: gone(child), what="the worker process outlived its server")
        wait_until(lambda: all(gone(p) for p in pool), what="the pool outlived the worker process")
    restart_stores_all_30_once(db)


def test_sigterm_loses_nothing_and_the_child_exits(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    with serve_process(db, "--backend", "rules", "--jobs", "2") as (proc, c):
        (child,) = children(proc.pid)
        post_30(c, "s")
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
        assert proc.returncode in (0, -signal.SIGTERM)
        wait_until(lambda: gone(child), what="the worker process outlived its server")
    # Every accepted document is either stored (its job ok, one result) or queued for the next start.
    (ok,) = rows(db, "select count(*) from jobs where status = 'ok'")[0]
    assert rows(db, "select count(*) from jobs where status = 'queued'") == [(30 - ok,)]
    assert rows(db, "select count(*) from results") == [(ok,)]
    restart_stores_all_30_once(db)


class _Stuck(RulesBackend):
    """Rules that never finish a document holding the word 卡住 (cancel does not reach them)."""

    def extract(self, doc):  # type: ignore[no-untyped-def]
        if "卡住" in doc.text:
            time.sleep(600)
        return super().extract(doc)


def test_a_child_that_does_not_stop_is_killed_and_its_documents_queued_again(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    store.open_db(db).close()
    jobs = JobStore(db)
    worker = WorkerProcess(jobs, _Stuck(), db, idle_refresh=3600)
    worker.start()
    try:
        first = wait_final(jobs, post(jobs, tmp_path, "a", text(0), worker))
        # The row commits in the child before its answer comes up the pipe: wait for the answer too.
        wait_until(lambda: worker.results.job(first["id"], first["created"]) is not None)
        assert first["status"] == "ok" and worker.results.job(first["id"], first["created"])["status"] == "ok"
        post(jobs, tmp_path, "b", "一、卡住。\n", worker)
        wait_until(lambda: rows(db, "select status from jobs where doc_id = 'b'") == [("running",)])
    finally:
        requeued = worker.stop(grace=0.2)
    assert requeued == 1 and not worker.alive
    assert rows(db, "select doc_id, status, attempts from jobs order by seq") == [("a", "ok", 1), ("b", "queued", 1)]
    assert rows(db, "select doc_id from results") == [("a",)]


# ---- streaming --------------------------------------------------------------------------------


def _docs(tmp_path: Path, n: int) -> list[Path]:
    d = tmp_path / "docs"
    d.mkdir()
    for i in range(n):
        (d / f"d{i}.txt").write_text(text(i), encoding="utf-8")
    return sorted(d.iterdir())


def test_a_generator_feeds_a_session_and_none_writes_the_oldest(tmp_path: Path) -> None:
    files = _docs(tmp_path, 3)
    events: list[str] = []
    session = RunSession(tmp_path / "r.db", get_backend("rules"), on_doc=lambda o: events.append(f"done {o.doc_id}"),
                         commit_each=True)

    def feed() -> Iterator[Path | None]:
        yield files[0]
        events.append(f"in flight {session.in_flight}")
        yield files[1]
        events.append(f"in flight {session.in_flight}")
        yield None  # nothing new: d0 is written before we are asked again
        events.append(f"in flight {session.in_flight}")
        yield None
        yield files[2]

    with session.closing():
        session.process(feed())
        session.completed = True
    assert events == ["in flight 1", "in flight 2", "done d0", "in flight 1", "done d1", "done d2"]
    assert rows(tmp_path / "r.db", "select documents, succeeded from runs") == [(3, 3)]


@pytest.mark.parametrize("jobs", [1, 2])
def test_the_worker_claims_more_while_documents_are_in_flight(tmp_path: Path, jobs: int) -> None:
    db, store_, keys = queued(tmp_path, 6)
    worker = Worker(store_, get_backend("rules"), db, jobs=jobs, batch=2, idle_refresh=3600)
    seen: list[tuple[int, int]] = []  # (documents in flight, claimed) at each claim that found work
    real_claim = store_.claim

    def spy(limit: int) -> list:  # type: ignore[type-arg]
        got = real_claim(limit)
        if got:
            seen.append((worker.session.in_flight if worker.session else 0, len(got)))
        return got

    store_.claim = spy  # type: ignore[method-assign]
    worker.start()
    try:
        done = [wait_final(store_, k) for k in keys]
    finally:
        worker.stop(grace=10)
    assert {d["status"] for d in done} == {"ok"} and len({d["run_id"] for d in done}) == 1
    assert sum(n for _, n in seen) == 6 and seen[0] == (0, 2)
    assert any(in_flight > 0 for in_flight, _ in seen[1:])  # the next claim did not wait for the first
    assert rows(db, "select count(*), count(distinct doc_id) from results") == [(6, 6)]


# ---- collecting without polling ------------------------------------------------------------------


def test_get_with_wait_answers_once_done_and_always_the_latest_result(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from summarizer.interfaces.cli import app as cli

    db = tmp_path / "r.db"
    with live(create_app(Settings(db=db, backend="rules"))) as c:
        for i in range(5):  # posted without waiting; collected afterwards with a long poll
            assert c.post("/v1/documents", json={"doc_id": f"g{i}", "text": text(i)}).status_code in (200, 202)
        got = [c.get(f"/v1/documents/g{i}", params={"wait": 20}) for i in range(5)]
        assert [(r.status_code, r.json()["status"]) for r in got] == [(200, "ok")] * 5
        shown = CliRunner().invoke(cli, ["show", "g4", "--db", str(db), "--json"])
        assert shown.exit_code == 0 and json.loads(shown.output) == got[4].json()["result"]
        assert c.get("/v1/documents/nope", params={"wait": 1}).status_code == 404
        # `summarizer run` stores a newer version of g0 (its file, edited): GET answers that one,
        # not the service's own result it still holds in memory.
        upload = Path(rows(db, "select path from documents where id = 'g0'")[0][0])
        upload.write_text(text(0) + "二、强化资金保障。\n", encoding="utf-8")
        assert CliRunner().invoke(cli, ["run", str(upload), "--db", str(db), "--backend", "rules"]).exit_code == 0
        newer = c.get("/v1/documents/g0", params={"wait": 5}).json()["result"]
        assert len(newer["measures"]) == len(got[0].json()["result"]["measures"]) + 1
        shown = CliRunner().invoke(cli, ["show", "g0", "--db", str(db), "--json"])
        assert json.loads(shown.output) == newer


def test_the_readability_check_leaves_no_file_behind(tmp_path: Path) -> None:
    with live(create_app(Settings(db=tmp_path / "r.db", backend="rules"))) as c:
        bad = c.post("/v1/documents", files={"file": ("b.txt", b"\x00\x01" * 20, "text/plain")})
        assert bad.status_code == 422 and bad.json()["detail"].startswith("b.txt: binary file")
        assert c.post("/v1/documents?wait=20", files={"file": ("ok.txt", text(1).encode(), "text/plain")}
                      ).json()["status"] == "ok"
    scratch = tmp_path / "r.db.uploads" / ".check"
    assert scratch.is_dir() and list(scratch.iterdir()) == []
    assert sorted(p.name for p in (tmp_path / "r.db.uploads").iterdir()) == [".check", "ok.txt"]


class _Marker:
    """Garbage in a reference cycle that says which process collected it."""

    def __init__(self, out: Path) -> None:
        self.out, self.me = out, self

    def __del__(self) -> None:
        with self.out.open("a") as f:
            f.write(f"{os.getpid()}\n")


def test_pool_workers_never_collect_what_they_inherited(tmp_path: Path) -> None:
    """A worker process that finalized an inherited SQLite connection could block forever on a
    mutex held, at the fork, by another thread of a server: the pool forks with the collector's
    objects frozen, so what a worker inherited is never collected there."""
    import gc

    out = tmp_path / "collected"
    gc.disable()  # the cycle stays uncollected until the fork
    try:
        _Marker(out)
        session = RunSession(tmp_path / "r.db", get_backend("rules"), jobs=2)
        try:
            assert session.ppool is not None
            for _ in range(4):  # each worker collects (any of them may take a task)
                session.ppool.submit(gc.collect).result()
        finally:
            session.completed = True
            session.close()
    finally:
        gc.enable()
    gc.collect()  # here, in this process, the cycle is garbage as any other
    assert out.read_text().split() == [str(os.getpid())]


def test_the_worker_process_never_collects_what_it_inherited(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    from summarizer.service import worker_process

    db = tmp_path / "r.db"
    store.open_db(db).close()
    out = tmp_path / "collected"
    monkeypatch.setattr(worker_process, "_child_main", lambda *args: gc.collect())  # the child only collects
    gc.disable()
    try:
        _Marker(out)
        worker = WorkerProcess(JobStore(db), get_backend("rules"), db)
        worker.start()
        worker.process.join(30)
    finally:
        gc.enable()
    assert worker.process.exitcode == 0
    worker.stop(grace=1)
    gc.collect()
    assert out.read_text().split() == [str(os.getpid())]
