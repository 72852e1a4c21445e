"""The service's queue: a plain `jobs` table in the results database, and the worker that drains it.

Why a table and not a queue library: what was accepted must survive SIGTERM, a
crash and kill -9, and be visible beside the results (Datasette, `summarizer
runs`). A row is committed before the client hears 202; a worker claims rows with
one atomic UPDATE ... RETURNING; rows a dead process left `running` go back to
`queued` when the next server starts (a third interrupted attempt gives up). The
work itself is the CLI's own pipeline (`RunSession`, what `run_batch` runs), kept
open while there is work: a result is stored once, since the pipeline skips a
document whose result for this content and backend is already there (a requeued
job that had in fact finished costs a lookup, not a second result).

Nothing here imports FastAPI: the HTTP layer calls `JobStore` and `Worker`.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlite_utils

from summarizer.backends import Backend, CallStats
from summarizer.interfaces.render import result_json
from summarizer.store import db as store

if TYPE_CHECKING:
    from summarizer.pipeline import DocOutcome, RunSession

log = logging.getLogger("summarizer.service")

HOLD_BACKLOG = 2  # documents ready after this one for its commit to wait for theirs (see `Worker`)
MAX_ATTEMPTS = 3  # a job whose processing was cut off this many times is failed, not retried forever
FINAL = ("ok", "degraded", "failed")

SCHEMA = """
create table if not exists jobs (
    seq integer primary key autoincrement,  -- accept order; the list cursor
    id text not null unique,                -- sha256 of (format, bytes): the same content is one job
    doc_id text not null,
    name text not null,                     -- the file name as submitted, for messages
    path text not null,                     -- where the document is kept (its path in `documents`)
    sha256 text not null,                   -- of the bytes, as the pipeline hashes them
    body blob,                              -- the bytes, until the document is stored
    status text not null,                   -- queued | running | ok | degraded | failed
    attempts integer not null default 0,
    error text,
    run_id text,
    created real not null,
    started real,
    finished real
);
create index if not exists jobs_status on jobs(status, seq);
create index if not exists jobs_doc on jobs(doc_id, seq);
"""

# One statement: two workers (or a worker and a restart) can never claim the same row.
# At most one queued job per document id, and none whose id is already being worked on.
CLAIM = """
update jobs set status = 'running', attempts = attempts + 1, started = :now, error = null
where seq in (
    select min(seq) from jobs
    where status = 'queued' and doc_id not in (select doc_id from jobs where status = 'running')
    group by doc_id order by min(seq) limit :limit
)
returning seq, id, doc_id, name, path, body, created, attempts
"""

# A job's outcome (status, error, doc_id, run_id, finished; seq). The bytes are dropped once finished.
FINISH = "update jobs set status = ?, error = ?, doc_id = ?, run_id = ?, finished = ?, body = null where seq = ?"

# At start-up a job still `running` belongs to a process that is gone: run it again.
ON_START = f"""
update jobs set
    status = case when attempts >= {MAX_ATTEMPTS} then 'failed' else 'queued' end,
    error = case when attempts >= {MAX_ATTEMPTS}
        then 'given up: the server stopped while processing it {MAX_ATTEMPTS} times' else error end,
    finished = case when attempts >= {MAX_ATTEMPTS} then :now else finished end
where status = 'running'
"""


@dataclass(frozen=True)
class Claimed:
    seq: int
    id: str
    doc_id: str
    name: str
    path: str
    body: bytes | None
    created: float
    attempts: int = 1


class JobStore:
    """The jobs table; one SQLite connection per thread (sqlite3 connections stay in their thread)."""

    def __init__(self, db_path: str | Path) -> None:
        self.db_path = Path(db_path)
        self._local = threading.local()
        self.conn.conn.executescript(SCHEMA)  # idempotent; runs outside any transaction

    @property
    def conn(self) -> sqlite_utils.Database:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = store.open_db(self.db_path)
        return db

    def _write(self, sql: str, params: dict[str, Any] | list[Any]) -> list[dict[str, Any]]:
        conn = self.conn
        with store.write_lock(conn):
            cur = conn.conn.execute(sql, params)
            cols = [c[0] for c in cur.description or ()]
            return [dict(zip(cols, row)) for row in cur.fetchall()]

    def _rows(self, sql: str, params: list[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:  # type: ignore[assignment]
        return list(self.conn.query(sql, params))

    # -- writes ---------------------------------------------------------------------------------

    def requeue_orphans(self) -> int:
        """ON_START: what a stopped or killed server left running is queued again."""
        return len(self._write(ON_START + " returning seq", {"now": time.time()}))

    def submit(self, key: str, doc_id: str, name: str, path: str, sha256: str, body: bytes,
               max_queued: int) -> tuple[dict[str, Any], str]:
        """Queue a document unless this content is already a job.

        Returns (job row, what happened): `existing` (same content: no new work),
        `requeued` (it had failed or come out degraded: tried again), `queued`, or
        `full` (the queue holds max_queued documents; nothing was written).
        """
        conn = self.conn
        with store.write_lock(conn):
            row = self._one("select * from jobs where id = ?", [key])
            if row is not None and row["status"] not in ("failed", "degraded"):
                return row, "existing"
            queued = conn.conn.execute("select count(*) from jobs where status = 'queued'").fetchone()[0]
            if queued >= max_queued:
                return row or {}, "full"
            now = time.time()
            if row is not None:
                conn.conn.execute(
                    "update jobs set status = 'queued', attempts = 0, error = null, body = ?, created = ?, "
                    "started = null, finished = null where id = ?", [body, now, key])
                return self._one("select * from jobs where id = ?", [key]) or {}, "requeued"
            conn.conn.execute(
                "insert into jobs (id, doc_id, name, path, sha256, body, status, created) "
                "values (?, ?, ?, ?, ?, ?, 'queued', ?)", [key, doc_id, name, path, sha256, body, now])
            return self._one("select * from jobs where id = ?", [key]) or {}, "queued"

    def claim(self, limit: int) -> list[Claimed]:
        # A plain read first: the worker looks after every claim, and an empty queue (the usual
        # answer once it is drained) then costs no write transaction.
        if self.conn.conn.execute("select 1 from jobs where status = 'queued' limit 1").fetchone() is None:
            return []
        rows = self._write(CLAIM, {"now": time.time(), "limit": limit})
        return sorted((Claimed(**r) for r in rows), key=lambda c: c.seq)

    def finish(self, seq: int, status: str, error: str, doc_id: str, run_id: str | None) -> dict[str, Any]:
        """A job's outcome; returns the columns it set. The bytes are dropped: the document's
        file keeps them, and posting a failed document again brings them anew."""
        done = {"status": status, "error": error or None, "doc_id": doc_id, "run_id": run_id, "finished": time.time()}
        self._write(FINISH, [*done.values(), seq])
        return done

    # -- reads ------------------------------------------------------------------------------------

    def _one(self, sql: str, params: list[Any]) -> dict[str, Any] | None:
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    def get(self, key: str) -> dict[str, Any] | None:
        return self._one("select * from jobs where id = ?", [key])

    def latest_for(self, doc_id: str) -> dict[str, Any] | None:
        """The newest job for a document id (a document posted again is a new job)."""
        return self._one("select * from jobs where doc_id = ? order by seq desc limit 1", [doc_id])

    def pending_holders(self, stem: str) -> Iterator[tuple[str, str, str]]:
        """(doc_id, path, sha256) of queued or running jobs holding `stem` or `stem-<hash>`."""
        for r in self._rows("select doc_id, path, sha256 from jobs where status in ('queued', 'running') "
                            "and (doc_id = ? or substr(doc_id, 1, ?) = ?) order by seq",
                            [stem, len(stem) + 1, stem + "-"]):
            yield r["doc_id"], r["path"], r["sha256"]

    def page(self, status: str | None, limit: int, after: int) -> list[dict[str, Any]]:
        where, params = "seq > ?", [after]
        if status:
            where += " and status = ?"
            params.append(status)
        return self._rows(f"select seq, id, doc_id, name, status, error, attempts, run_id, created, finished "
                          f"from jobs where {where} order by seq limit ?", [*params, limit])

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(("queued", "running", "ok", "degraded", "failed"), 0)
        for r in self._rows("select status, count(*) as n from jobs group by status"):
            out[r["status"]] = r["n"]
        return out


class RecentResults:
    """The jobs the worker finished last: each one's row as the database now holds it and its
    result as `result_json`. A request waiting on `?wait=` is answered from here, without
    reading back from the database what was just written.

    An entry belongs to one attempt, told by the job's `created` (a failed job posted again
    is queued anew with a new one): `job(id, created)` never answers with an older outcome.
    """

    def __init__(self, size: int = 256) -> None:
        # the result as `result_json`; in the worker process it may be the model's JSON text (see
        # `Worker.ship_text`), which it only sends on to the server
        self._items: OrderedDict[str, tuple[dict[str, Any], dict[str, Any] | str | None]] = OrderedDict()
        self._lock = threading.Lock()
        self.size = size

    def put(self, job_id: str, row: dict[str, Any], result: dict[str, Any] | str | None) -> None:
        with self._lock:
            self._items[job_id] = (row, result)
            self._items.move_to_end(job_id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def job(self, job_id: str, created: float | None) -> dict[str, Any] | None:
        """The finished row of this attempt of the job, if it is here."""
        with self._lock:
            got = self._items.get(job_id)
        return got[0] if got is not None and got[0].get("created") == created else None

    def entry(self, job_id: str) -> tuple[dict[str, Any], dict[str, Any] | str | None] | None:
        """(finished row, result) as put, for handing on to another process."""
        with self._lock:
            return self._items.get(job_id)

    def get(self, job_id: str, created: float | None = None) -> dict[str, Any] | None:
        """This attempt's result (None: not here, or the job has no result)."""
        with self._lock:
            got = self._items.get(job_id)
        if got is None or (created is not None and got[0].get("created") != created) or isinstance(got[1], str):
            return None
        return got[1]


@dataclass
class BatchReport:
    """What one worker run did, for metrics."""

    outcomes: list[tuple[str, float, float]]  # (status, seconds queued, seconds processing)
    stats: CallStats


class Worker:
    """One thread that claims queued documents and runs them through the CLI's pipeline.

    The pipeline stays open across claims (`RunSession`): one `runs` row (options
    `serve`), one set of worker processes and one connection per busy period, not
    per document. A claim takes up to `batch` queued documents (several when
    clients post faster than one is processed), and the session is fed as a stream:
    while documents are in flight the worker claims more as the pipeline has room,
    so its processes never wait for the tail of one claim (`_stream`). Each document
    is committed and answered as soon as it is stored. When the
    queue has been empty for `idle_refresh` seconds the session is closed: its run
    row gets its final counts and the derived tables (canonical units, views) are
    refreshed for the results it wrote. The thread sleeps on an event that a
    submission sets: no polling while work is waiting.
    """

    def __init__(self, jobs_store: JobStore, backend: Backend, db_path: str | Path, jobs: int = 1,
                 batch: int = 32, idle_refresh: float = 1.0) -> None:
        self.store = jobs_store
        self.backend = backend
        self.db_path = Path(db_path)
        self.jobs = jobs
        self.batch = max(batch, jobs)
        self.idle_refresh = idle_refresh
        # A document is committed and answered as soon as it is stored, unless at least
        # `hold_backlog` others are ready to be processed right after it (claimed, or in the
        # pipeline): then its commit waits for the next ones (the writer's own caps still hold:
        # 64 documents, 0.25 s). With a deep queue (clients that post without waiting, or many)
        # that saves a commit per document; when the clients wait for each answer before posting
        # again the pipeline never has that many ready, so each is answered at once. (Commits
        # batched by claim made the clients move in lock-step: all answered at the end of a claim,
        # then the queue empty while they posted again.) hold_backlog=0: commit each document.
        self.commit_each = True
        self.hold_backlog = HOLD_BACKLOG
        # ship_text: while other documents are ready behind it, keep an answer as the model's JSON
        # text (`DocOutcome.result_text`), not as `result_json`: the worker process sends it on and
        # the server renders it on its own core (the pipeline's process is what limits a busy
        # service; rendering costs it 1 to 2 ms a document). With nothing behind it the pipeline
        # would idle next, and the answer is rendered here: that was measured faster for a client
        # waiting on each answer (one document in flight, every step on its path).
        self.ship_text = False
        self._behind = 0  # documents ready after the one being written (set with the commit decision)
        self.on_finished: list[Callable[[str], None]] = []  # called with a job id (from this thread)
        self.on_batch: list[Callable[[BatchReport], None]] = []
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._running: list[int] = []
        self._busy = threading.Lock()
        self.session: RunSession | None = None
        self._claim: _Claim | None = None  # what the open stream fed (read by `_record`, `_on_doc`)
        self._claimed_at: dict[int, float] = {}  # claimed, not fed yet: seq -> time of the claim
        self._fed: set[str] = set()  # files fed to the open session
        self._carry: set[str] = set()  # result ids a failed session wrote: the next one refreshes them
        self.seconds_per_doc = 0.05  # moving average, for Retry-After
        self.results = RecentResults()
        self.thread = threading.Thread(target=self._loop, name="summarizer-worker", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def wake(self) -> None:
        self._wake.set()

    @property
    def alive(self) -> bool:
        return self.thread.is_alive()

    def stop_taking_work(self) -> None:
        """Claim nothing more; the current claim goes on (`stop` waits for it)."""
        self._stop.set()
        self._wake.set()

    def stop(self, grace: float = 10.0) -> int:
        """Take no more work; let the current claim finish for `grace` seconds, then cancel it
        and queue its unfinished documents again. Returns how many were requeued."""
        self._stop.set()
        self._wake.set()
        self.thread.join(grace)
        if self.thread.is_alive():
            cancel = getattr(self.backend, "cancel", None)
            if cancel is not None:
                cancel()
            self.thread.join(2.0)
        # One server per database: whatever is still `running` is ours and unfinished.
        return self.store.requeue_orphans()

    def _loop(self) -> None:
        warm_up = getattr(self.backend, "warm_up", None)
        if warm_up is not None:
            try:
                warm_up()
            except Exception as exc:  # the first document reports it with its own words
                log.warning("model not ready: %s", exc)
        idle_since = time.monotonic()
        cut_short = False
        try:
            while not self._stop.is_set():
                self._wake.clear()  # before the claim: a job queued after it wakes the wait below
                try:
                    claimed = self.store.claim(self.batch)
                except Exception as exc:  # a locked or full database: try again shortly
                    log.warning("cannot read the queue: %s", exc)
                    self._stop.wait(1.0)
                    continue
                if not claimed:
                    if self.session is not None and time.monotonic() - idle_since >= self.idle_refresh:
                        self._close_session(completed=True)
                    # Woken by a submission; the timeout only serves the idle close above.
                    self._wake.wait(self.idle_refresh / 2 if self.session is not None else None)
                    continue
                try:
                    self._stream(claimed)
                finally:
                    with self._busy:
                        cut_short, self._running = bool(self._running), []
                idle_since = time.monotonic()
        finally:
            # Stopping: what this session committed is final; whatever did not finish is requeued by
            # `stop`, and the run says `interrupted` if a claim was cut short.
            self._close_session(completed=not cut_short)

    def _open_session(self) -> RunSession:
        from summarizer.pipeline import RunSession

        if self.session is None:
            self.backend.stats = CallStats()  # each run's row counts its own model calls
            self.session = RunSession(self.db_path, self.backend, on_doc=self._on_doc, options="serve",
                                      jobs=self.jobs, keep_results=False, in_transaction=self._record,
                                      commit_each=self.commit_each)
            self.session.writer.changed |= self._carry  # a failed run's results, not refreshed yet
            self._carry = set()
            self._fed = set()
        return self.session

    def _close_session(self, completed: bool, failure: str | None = None) -> None:
        """End the open run. A run that failed (the database, not a document) says why; its
        results' derived tables are refreshed by the next run, and the backend is not
        cancelled, since the next claim uses it again."""
        session, self.session = self.session, None
        if session is None:
            return
        session.completed = completed
        if failure:
            session.failure = session.failure or failure
        try:
            session.close(refresh=True, cancel=failure is None)
        except Exception as exc:
            log.warning("could not close run %s: %s", session.run_id, exc)
        if session.failure:
            self._carry |= session.writer.changed

    def _record(self, db: Any, o: DocOutcome) -> None:
        """The job's outcome, written in the transaction that stores the document: a job reads
        `ok` exactly when its result is committed (a kill between the two cannot split them)."""
        claim, session = self._claim, self.session
        assert claim is not None and session is not None
        c = claim.by_path[o.path]
        status = "ok" if o.status == "skipped" else o.status  # skipped: the result was already stored
        if status == "failed" and self._stop.is_set():
            return  # cut off by the shutdown, not the document's fault: `stop` requeues it
        error = o.message.replace(c.path, c.name) if status in ("failed", "degraded") else ""
        done = {"status": status, "error": error or None, "doc_id": o.doc_id, "run_id": session.run_id,
                "finished": time.time()}
        db.conn.execute(FINISH, [*done.values(), c.seq])
        claim.done[c.seq] = done

    def _on_doc(self, o: DocOutcome) -> None:
        """An outcome, reported by the pipeline after its transaction committed: answer the
        requests waiting on the job."""
        claim = self._claim
        assert claim is not None
        c = claim.by_path.pop(o.path)
        done = claim.done.pop(c.seq, None)
        if done is None:
            return  # not recorded (cut off by the shutdown): `stop` requeues it
        if claim.left == 0:  # the first outcome of a commit: its documents share the time since the last one
            now = time.perf_counter()
            claim.left = len(claim.done) + 1  # (what the commit recorded and is not reported yet, and this)
            claim.share, claim.last = (now - claim.last) / claim.left, now
        claim.left -= 1
        spent = claim.share
        self.seconds_per_doc = 0.8 * self.seconds_per_doc + 0.2 * spent
        # Counted before it is answered: a client that reads /metrics after its answer sees it.
        self._report(claim, [(done["status"], max(0.0, claim.claimed_at.pop(c.seq, c.created) - c.created), spent)])
        if self.ship_text and self._behind > 0:
            result: dict[str, Any] | str | None = o.result_text()  # rendered by the server
        else:
            result = result_json(o.result) if o.result else None
        self._finished(c, done, result)

    def _report(self, claim: _Claim, outcomes: list[tuple[str, float, float]]) -> None:
        """Metrics, document by document: a stream lasts as long as the queue is busy."""
        after = self.backend.stats
        delta = CallStats(**{f.name: getattr(after, f.name) - getattr(claim.stats, f.name)
                             for f in dataclasses.fields(CallStats) if f.name != "extra"})
        claim.stats = dataclasses.replace(after)
        report = BatchReport(outcomes, delta)
        for fn in self.on_batch:
            fn(report)

    def _finished(self, c: Claimed, done: dict[str, Any], result: dict[str, Any] | str | None) -> None:
        """Keep a finished job (as now committed) for the requests waiting on it, and wake them."""
        self.results.put(c.id, {"id": c.id, "seq": c.seq, "name": c.name, "created": c.created,
                                "attempts": c.attempts, **done}, result)
        with self._busy:
            if c.seq in self._running:
                self._running.remove(c.seq)
        for fn in self.on_finished:
            fn(c.id)

    def _stream(self, claimed: list[Claimed]) -> None:
        """Feed the open session from the queue until it is empty: new claims join while earlier
        documents are still in flight (`RunSession.process` given a generator), so the worker
        processes never idle at the tail of one claim while the next documents wait.

        A result's id is (document, run): a file the session was fed already (a new version of
        a document, a failed one posted again, two uploads of one name) waits until what is in
        flight is written, and goes to a fresh session."""
        pending: deque[Claimed] = deque()
        self._take(pending, claimed)
        try:
            while pending and not self._stop.is_set():
                if self.session is not None and pending[0].path in self._fed:
                    self._close_session(completed=True)
                self._stream_session(pending)
        finally:
            self._claimed_at.clear()  # (what was claimed and not fed is requeued by `stop`)

    def _take(self, pending: deque[Claimed], claimed: list[Claimed]) -> None:
        now = time.time()
        with self._busy:
            self._running += [c.seq for c in claimed]
        for c in claimed:
            self._claimed_at[c.seq] = now
        pending.extend(claimed)

    def _feed(self, session: RunSession, claim: _Claim, pending: deque[Claimed]) -> Iterator[Path | None]:
        """The session's input while the queue is busy (see `RunSession.process`)."""
        while not self._stop.is_set():  # stopping: what is not fed stays `running`; `stop` requeues it
            if not pending and session.room > 0:
                self._wake.clear()  # before the claim: a job queued after it wakes the idle wait
                try:
                    self._take(pending, self.store.claim(min(self.batch, session.room)))
                except Exception as exc:  # a locked database: write what is in flight, claim later
                    log.warning("cannot read the queue: %s", exc)
            if pending:
                c = pending[0]
                if c.path in self._fed:
                    return  # a second version of a file in this session: a fresh session takes it
                pending.popleft()
                p = Path(c.path)
                p.parent.mkdir(parents=True, exist_ok=True)
                if c.body is not None:  # (a job only loses its bytes once finished: the file has them)
                    p.write_bytes(c.body)
                claim.by_path[str(p)] = c
                claim.claimed_at[c.seq] = self._claimed_at.pop(c.seq, time.time())
                self._fed.add(str(p))
                # The next document the writer stores leaves these in the pipeline or claimed.
                self._hold(session, len(pending) + session.in_flight)
                yield p
            elif session.in_flight:
                self._hold(session, session.in_flight - 1)
                yield None  # nothing new: write the oldest in flight, then look again
            else:
                return

    def _hold(self, session: RunSession, ready: int) -> None:
        """Does the next document the writer stores wait for the next ones' commit: yes when
        `ready` documents are ready to be processed after it (see `hold_backlog`)."""
        self._behind = ready
        session.writer.each = self.commit_each and not (self.hold_backlog and ready >= self.hold_backlog)

    def _stream_session(self, pending: deque[Claimed]) -> None:
        claim = self._claim = _Claim(time.perf_counter())
        try:
            session = self._open_session()
            claim.stats = dataclasses.replace(self.backend.stats)
            session.process(self._feed(session, claim, pending))
        except Exception as exc:  # the database or the backend as a whole: every unfinished job says why
            msg = str(exc) or type(exc).__name__
            log.warning("run failed: %s", msg)
            run_id = self.session.run_id if self.session is not None else None
            self._close_session(completed=False, failure=msg)  # the next claim opens a fresh run
            if not self._stop.is_set():
                # Every job fed or claimed and not answered fails with the reason (posting it again
                # queues it again); the next claim opens a fresh run.
                with self._busy:
                    left = [c for c in claim.by_path.values() if c.seq in self._running] + list(pending)
                pending.clear()
                for c in left:
                    self._finished(c, self.store.finish(c.seq, "failed", msg, c.doc_id, run_id), None)
                    at = claim.claimed_at.pop(c.seq, None) or self._claimed_at.pop(c.seq, c.created)
                    self._report(claim, [("failed", max(0.0, at - c.created), 0.0)])
        except BaseException:  # Cancelled: the server is stopping; `stop` requeues what did not finish
            if not self._stop.is_set():
                raise
        finally:
            self._claim = None


@dataclass
class _Claim:
    """The documents fed to the open session and not yet answered, by path."""

    last: float  # perf_counter at the last commit's first outcome
    left: int = 0  # outcomes of the last commit not reported yet
    share: float = 0.0  # seconds of processing each document of the last commit is counted
    by_path: dict[str, Claimed] = field(default_factory=dict)
    claimed_at: dict[int, float] = field(default_factory=dict)  # seq -> time.time() of its claim
    done: dict[int, dict[str, Any]] = field(default_factory=dict)  # seq -> the row `_record` wrote
    stats: CallStats = field(default_factory=CallStats)  # the backend's counts at the last report
