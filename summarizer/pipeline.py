"""A batch run: load -> clean -> outline -> backend -> store, documents in input order.

Each document is independent: a bad file or a failed extraction is recorded with
its reason and the batch goes on. A document the model could not fully answer is
stored `degraded` (rules' reading, with the reason) and counts as a problem: the
exit code says so and the next run retries it.

Three stages, so that every core works and the database is no bottleneck:

1. CPU (`_cpu_stage`): read, clean, outline, and for a backend that is pure CPU
   (`cpu_only`, the rules) the extraction itself. With `jobs` > 1 this runs in
   worker processes (the standard library's ProcessPoolExecutor, fork start), at
   most min(jobs, cores) of them; with jobs == 1 in this process.
2. model (`backend.extract`), for backends that call a model: in this process's
   thread pool (the calls are I/O), so the backend's request budget, cache,
   circuit breaker and cancel work as they always did.
3. store: one writer (this thread) takes the finished documents in input order and
   writes several per transaction (`BATCH_DOCS`, committed at least every
   `BATCH_SECONDS`: a document not ready by then does not hold the others back), each in its
   own savepoint, so a document is stored whole or not at all. Outcomes are
   reported (`on_doc`) after their transaction commits: a reported document is kept.

Submissions are bounded (`_in_flight`), so memory follows a few documents, not the
batch. A document unchanged since a stored complete result (same bytes, same backend
identity) is skipped before any work is done on it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import multiprocessing
import os
import signal
import sqlite3
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent import futures
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from summarizer.backends import Backend, PreparedDoc
from summarizer.backends.rules import RulesBackend
from summarizer.brief.abstract import add_summaries
from summarizer.errors import ConfigError, StoreError, SummarizerError
from summarizer.extract.structure import parse_outline
from summarizer.ingest import load
from summarizer.ingest.clean import clean_text
from summarizer.ingest.load import RawDocument, find_documents, read_document
from summarizer.models import DocumentResult
from summarizer.store import db as store
from summarizer.store import guard, identity, runstatus, search, units

# Model requests (documents in the model stage) at once. The database takes one writer:
# documents are stored by this process's single writer whatever the number of jobs.
MAX_DOC_JOBS = 16
BATCH_DOCS = 64  # documents per write transaction, at most
BATCH_SECONDS = 0.25  # a transaction with finished documents waits no longer than this


@dataclass
class DocOutcome:
    """What happened to one input file."""

    path: str
    doc_id: str
    status: str  # ok | degraded | skipped | failed
    message: str = ""
    result: DocumentResult | None = None
    counts: tuple[int, int, int] | None = None  # goals, measures, responsibilities stored

    def result_text(self) -> str | None:
        """The result as the model's JSON, for a caller that sends it on to another process
        (the service's worker): one call whether the result came as a model or as JSON."""
        return self.result.model_dump_json() if self.result is not None else None


class _ShippedOutcome(DocOutcome):
    """An outcome whose result came from a worker as JSON: parsed only if someone reads it
    (the CLI never does), so the single writer does not pay for it."""

    _json: str | None = None

    @property  # type: ignore[override]
    def result(self) -> DocumentResult | None:
        value = self.__dict__.get("_result")
        if value is None and self._json is not None:
            value = self.__dict__["_result"] = DocumentResult.model_validate_json(self._json)
            self._json = None
        return value

    @result.setter
    def result(self, value: DocumentResult | None) -> None:
        self.__dict__["_result"] = value
        if value is None:
            self._json = None

    def result_text(self) -> str | None:
        """The JSON as the worker shipped it, passed on without being parsed here."""
        return self._json if self._json is not None else super().result_text()


@dataclass
class RunSummary:
    """A run's outcome. `outcomes` holds every document's outcome unless the run was
    asked not to keep them (`keep_results=False`, the CLI): `counts` and `totals` always hold."""

    run_id: str
    outcomes: list[DocOutcome] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=lambda: {"goals": 0, "measures": 0, "responsibilities": 0})
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, status: str) -> int:
        if self.counts:
            return self.counts.get(status, 0)
        return sum(o.status == status for o in self.outcomes)

    @property
    def documents(self) -> int:
        return sum(self.counts.values()) if self.counts else len(self.outcomes)

    @property
    def ok(self) -> bool:
        return self.count("failed") == 0 and self.count("degraded") == 0


def prepare(doc_id: str, raw: str) -> tuple[str, PreparedDoc]:
    """Clean raw text and outline it: the input every backend gets."""
    cleaned = clean_text(raw).text
    return cleaned, PreparedDoc(doc_id=doc_id, text=cleaned, outline=parse_outline(cleaned))


def parse_shard(spec: str) -> tuple[int, int]:
    """`i/n` (1 <= i <= n) -> (i, n); ValueError with the reason otherwise."""
    try:
        i, n = (int(x) for x in spec.split("/"))
    except ValueError:
        raise ValueError(f"--shard {spec!r}: give i/n, e.g. 1/4") from None
    if not 1 <= i <= n:
        raise ValueError(f"--shard {spec!r}: i must be between 1 and n")
    return i, n


def in_shard(path: Path, shard: tuple[int, int] | None) -> bool:
    """Is this file in shard i of n? Decided by a hash of its base document id (the
    file stem), so the split is stable across machines and runs, and files that could
    compete for one id (a/index.html, b/index.html) land in the same shard and get the
    ids an unsharded run gives them."""
    if shard is None:
        return True
    import hashlib

    i, n = shard
    h = int.from_bytes(hashlib.sha256(path.stem.encode("utf-8")).digest()[:8], "big")
    return h % n == i - 1


# ---- stage 1: CPU work, in a worker process (or inline) ---------------------------------


@dataclass
class _Prepared:
    """What the CPU stage hands back (pickled from a worker process)."""

    raw: RawDocument | None = None
    cleaned: str = ""
    doc: PreparedDoc | None = None  # for the model stage (None once extracted)
    result: DocumentResult | None = None  # set when the CPU stage extracted (cpu_only backends)
    error: str | None = None  # the document failed: one line
    config_error: str | None = None  # a setup problem: stops the run
    seconds: float = 0.0
    # Built in a worker process (cpu_only backends), so the writer only executes them:
    # (doc id, result id, document row, table -> rows), and the result as JSON in place
    # of the model objects (cheaper to send; parsed only when the caller keeps results).
    rows: tuple[str, str, dict[str, Any], dict[str, list[dict[str, Any]]]] | None = None
    result_json: str | None = None
    counts: tuple[int, int, int] = (0, 0, 0)
    faults: list[str] = field(default_factory=list)
    dropped: int = 0

    def the_result(self) -> DocumentResult | None:
        if self.result is None and self.result_json is not None:
            self.result = DocumentResult.model_validate_json(self.result_json)
        return self.result


_WORKER_BACKEND: Any = None  # the cpu_only backend a worker process extracts with
_WORKER_RULES = False  # a worker reads the rules ahead of a `rules_first` model backend
_WORKER_RUN: str | None = None  # the run id: a worker builds the rows the writer executes
_WORKER_JSON = True  # a worker sends the result (as JSON) beside the rows: someone reads it


_WORKER_GC_THRESHOLD = 10_000  # young objects between collections (Python's default: 700)


def _init_worker(backend: Any, rules_first: bool = False, run_id: str | None = None, results: bool = True) -> None:
    """A worker leaves Ctrl-C and SIGTERM to the parent, which stops the pool.

    Its garbage collector skips what the fork brought (frozen by `RunSession` before it
    forks) and runs less often: reading a document allocates many short-lived objects and
    makes few cycles. Measured on 1,000 documents, collections took 0.34-0.42 ms per
    document, 0.14 ms with both."""
    global _WORKER_BACKEND, _WORKER_RULES, _WORKER_RUN, _WORKER_JSON
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    gc.set_threshold(_WORKER_GC_THRESHOLD, *gc.get_threshold()[1:])
    _WORKER_BACKEND, _WORKER_RULES, _WORKER_RUN, _WORKER_JSON = backend, rules_first, run_id, results


def _ship(out: _Prepared, doc_id: str, backend: Any, run_id: str) -> None:
    """In a worker: turn the result into the rows to write and, if it is read, a JSON copy
    (see _Prepared; the copy was a third of what a worker sent back)."""
    result, raw = out.result, out.raw
    assert result is not None and raw is not None
    ident = backend.identity
    rid, rows = store.result_rows(result, run_id, raw.sha256, ident.backend, ident.model, ident.prompt_version)
    doc_row = store.document_row(doc_id, raw.path, raw.sha256, raw.encoding, raw.text, out.cleaned)
    out.rows = (doc_id, rid, doc_row, rows)
    out.result_json = result.model_dump_json() if _WORKER_JSON else None
    out.counts = _counts(result)
    out.faults, out.dropped = list(result.faults), result.dropped
    out.result = None


def _counts(result: DocumentResult) -> tuple[int, int, int]:
    return len(result.goals), len(result.measures), sum(len(m.responsibilities) for m in result.measures)


def _cpu_stage(path: Path, doc_id: str, backend: Any = None, rules_first: bool | None = None) -> _Prepared:
    """Read, clean, outline (and extract, given a cpu_only backend; or read the rules ahead
    of a `rules_first` model backend, in a worker): no database here."""
    t0 = time.perf_counter()
    backend = backend if backend is not None else _WORKER_BACKEND
    rules_first = _WORKER_RULES if rules_first is None else rules_first
    out = _Prepared()
    try:
        raw = read_document(path)
        cleaned, doc = prepare(doc_id, raw.text)
        if not cleaned.strip():
            raise SummarizerError(f"{path}: no document text left after cleaning (only page noise)")
        # Most documents need no cleaning: the same string object twice is sent once (pickle's memo).
        out.raw, out.cleaned = raw, raw.text if cleaned == raw.text else cleaned
        if backend is not None:
            # The abstract and measure lines: the template here (a cpu_only backend asks no model).
            out.result = add_summaries(backend.extract(doc), cleaned, getattr(backend, "ask_abstract", None))
            if _WORKER_RUN is not None and backend is _WORKER_BACKEND:
                _ship(out, doc_id, backend, _WORKER_RUN)
        elif rules_first:
            out.doc = dataclasses.replace(doc, rules=RulesBackend().extract(doc))
        else:
            out.doc = doc
    except ConfigError as exc:
        out.config_error = str(exc)
    except SummarizerError as exc:
        out.error = str(exc)
    except Exception as exc:
        if os.environ.get("SUMMARIZER_RAISE_ERRORS"):
            out.config_error = f"{path}: internal error\n{traceback.format_exc()}"
        else:
            out.error = f"{path}: internal error ({type(exc).__name__}: {exc})"
    out.seconds = time.perf_counter() - t0
    return out


def _model_stage(backend: Backend, prep: _Prepared) -> _Prepared:
    """The backend's extraction on a prepared document (model calls: I/O, in a thread)."""
    if prep.doc is None or prep.error or prep.config_error:
        return prep
    t0 = time.perf_counter()
    path = prep.raw.path if prep.raw else "?"
    try:
        # The abstract and measure lines: the model's (fact-checked) where the backend has one, else the template.
        prep.result = add_summaries(backend.extract(prep.doc), prep.cleaned, getattr(backend, "ask_abstract", None))
    except ConfigError:
        raise
    except SummarizerError as exc:
        prep.error = str(exc)
    except Exception as exc:
        if os.environ.get("SUMMARIZER_RAISE_ERRORS"):
            raise
        prep.error = f"{path}: internal error ({type(exc).__name__}: {exc})"
    prep.doc = None
    prep.seconds += time.perf_counter() - t0
    return prep


@dataclass
class _Item:
    """One input file on its way through the stages, in input order."""

    path: Path
    doc_id: str
    note: str = ""
    sha256: str | None = None
    existing: str | None = None  # a stored complete result for these bytes and this backend
    skip: str | None = None  # recorded as skipped with this message, no work
    future: Future[_Prepared] | None = None
    prepared: _Prepared | None = None

    def ready(self) -> bool:
        return self.future is None or self.future.done()

    def get(self) -> _Prepared | None:
        if self.future is not None:
            try:
                self.prepared = self.future.result()
            except BrokenProcessPool as exc:  # a worker was killed (out of memory, kill -9)
                self.prepared = _Prepared(error=f"{self.path}: the worker process died while this document was "
                                                f"in flight ({exc}); run again with --retry-failed")
            self.future = None
        return self.prepared


def _in_flight(jobs: int, procs: int) -> int:
    """Items submitted ahead of the writer: enough to keep every worker and model slot busy,
    also while the writer commits a batch or catches the search index up (nothing is
    submitted meanwhile: with 4 per worker the workers ran dry during a commit, with 16
    during an index catch-up of 512 documents, 0.2-0.4 s). 48 per worker is about 0.3 s
    of work each; the documents waiting cost a few MB.)"""
    return max(4, 48 * procs + 2 * jobs)


def run_batch(
    paths: list[Path],
    db_path: str | Path,
    backend: Backend,
    force: bool = False,
    on_doc: Callable[[DocOutcome], None] | None = None,
    options: str = "",
    jobs: int = 1,
    keep_results: bool = True,
    refresh: bool = True,
    shard: tuple[int, int] | None = None,
    results: bool = True,
) -> RunSummary:
    """Run every file (of `shard` i/n, if given) into the database at `db_path`.

    `jobs` > 1: the CPU work runs in min(jobs, cores) worker processes and, for a
    backend that calls a model, up to `jobs` documents are in the model stage at once
    (threads: the backend must be thread-safe, as rules and the LLM backends are).
    Outcomes and `on_doc` calls come in input order from the calling thread, after
    the document's transaction committed.

    keep_results=False keeps neither results nor outcomes in the summary (the counts
    stay in `summary.counts` and `summary.totals`), so memory follows the documents
    in flight, not the batch.

    refresh=False leaves the derived tables (canonical units, browse views) to the
    caller (`refresh_views`), since a refresh reads every result it is given.

    results=False: outcomes carry counts and messages but no result, so worker
    processes do not send one (the CLI prints counts; the result is in the database).

    One run is one `RunSession` fed once; a service feeds one session many times.
    """
    files, ignored = find_documents(paths)
    if shard is not None:
        files = [p for p in files if in_shard(p, shard)]
    session = RunSession(db_path, backend, force=force, on_doc=on_doc, options=options, jobs=jobs,
                         keep_results=keep_results, documents=len(files), results=results)
    session.summary.ignored = [str(p) for p in ignored]
    with session.closing(refresh):
        session.process(files)
        session.completed = True
    return session.summary


class RunSession:
    """One run (its `runs` row, worker pools, writer and heartbeat) open across `process` calls.

    `run_batch` opens one, feeds it the batch once and closes it. A long-lived caller
    (the HTTP service's worker) feeds it document after document: what a run costs to
    set up (the row, the pools' forks, the connection, the heartbeat thread) is paid
    once per session, not once per document. `close` writes the run's final row
    (counts from what was committed) and, when asked, refreshes the derived tables for
    the results this session wrote.

    documents=None: the run's `documents` column grows with what is fed (a service
    does not know its batch in advance). `in_transaction(db, outcome)` runs inside the
    transaction that stores each document (`on_doc` runs after it commits).
    commit_each: every document is committed and reported as soon as it is written,
    not with the next few (for callers someone is waiting on, document by document).
    """

    def __init__(self, db_path: str | Path, backend: Backend, force: bool = False,
                 on_doc: Callable[[DocOutcome], None] | None = None, options: str = "", jobs: int = 1,
                 keep_results: bool = True, documents: int | None = None, results: bool = True,
                 in_transaction: Callable[[Any, DocOutcome], None] | None = None, commit_each: bool = False) -> None:
        self.db_path, self.backend, self.force = db_path, backend, force
        self.db = db = store.open_db(db_path)
        store.for_bulk_writes(db)
        self.ident = ident = backend.identity
        self.run_id = run_id = f"{store.now().replace(':', '').replace('-', '')[:15]}-{uuid.uuid4().hex[:6]}"
        self.summary = RunSummary(run_id=run_id, counts=dict.fromkeys(("ok", "degraded", "skipped", "failed"), 0))
        self.grows = documents is None
        self.planned = documents or 0
        db.table("runs").insert(
            {"id": run_id, "backend": ident.backend, "model": ident.model,
             "prompt_version": ident.prompt_version, "started_at": store.now(), "status": "running",
             "documents": self.planned, "options": options, **runstatus.owner()}
        )
        self.completed = False  # set by the caller once every document it meant to feed went through
        self.failure: str | None = None  # why the whole run failed (the database, not a document)
        self.closed = False
        self.config_failed = False
        jobs = self.jobs = max(1, jobs)
        self.cpu_only = cpu_only = bool(getattr(backend, "cpu_only", False))
        self.procs = procs = min(jobs, os.cpu_count() or 1) if jobs > 1 else 0
        threads = min(jobs, MAX_DOC_JOBS) if jobs > 1 and not cpu_only else 0
        self.writer = _Writer(db, backend, run_id, force, self.summary, on_doc, keep_results)
        self.writer.in_transaction = in_transaction
        self.writer.each = commit_each
        self._queue: deque[_Item] = deque()  # fed to `process`, not written yet
        self.ppool: ProcessPoolExecutor | None = None
        self.tpool: ThreadPoolExecutor | None = None
        # What exists now (modules, schemas, the caller's objects) is left out of garbage collection
        # until the session closes (`close` unfreezes it: delayed, never leaked). A run allocates
        # and drops many objects; scanning the long-lived ones again and again cost it about 0.3 ms
        # per document. The worker processes fork with it frozen too: a worker never finalizes what
        # it inherited. (A server forks from a thread while others may be inside SQLite; a worker
        # that collected an inherited connection then locked SQLite's mutex, held forever by a
        # thread it does not have: `summarizer serve --jobs 2` hung with its pool in sqlite3_free.)
        gc.freeze()
        try:
            if procs:
                load._register_formats()  # imported once here, not in every worker
                self.ppool = ProcessPoolExecutor(procs, mp_context=_mp_context(), initializer=_init_worker,
                                                 initargs=(backend if cpu_only else None,
                                                           bool(getattr(backend, "rules_first", False)), run_id,
                                                           results))
                self.ppool.submit(int).result()  # workers fork now (frozen, above), before this process starts threads
            if threads:
                self.tpool = ThreadPoolExecutor(max_workers=threads)
            self.heartbeat = runstatus.Heartbeat(db_path, run_id).__enter__()
        except BaseException:
            gc.unfreeze()
            self._shutdown_pools()
            db.table("runs").update(run_id, {"finished_at": store.now(), "status": "failed"})
            raise

    def _submit(self, item: _Item) -> None:
        if self.ppool is None:  # inline: the work happens when the writer reaches the item
            return
        try:
            pfut = self.ppool.submit(_cpu_stage, item.path, item.doc_id)
        except BrokenProcessPool:  # a worker died: the rest of the run goes on in this process
            self.ppool.shutdown(wait=False, cancel_futures=True)
            self.ppool = None
            return
        if self.tpool is not None:
            backend = self.backend
            item.future = self.tpool.submit(lambda: _model_stage(backend, pfut.result()))
        else:
            item.future = pfut

    def _compute(self, item: _Item) -> None:
        if item.skip is None and item.future is None and item.prepared is None:
            prep = _cpu_stage(item.path, item.doc_id, self.backend if self.cpu_only else None, rules_first=False)
            item.prepared = prep if self.cpu_only else _model_stage(self.backend, prep)

    def process(self, files: Iterable[Path | None]) -> None:
        """Run these files through every stage; every outcome is committed and reported on return.

        `files` may be a generator that yields work as it arrives (the service's worker):
        None stands for "nothing new just now", and the oldest document in flight is
        written (waited for, if need be) before the generator is asked again; it reads
        `in_flight` to tell whether there is any. So new documents join while earlier
        ones are still in the worker processes, and the pool never idles at the tail of
        one batch while the next waits.

        Ids are handed out per call (a file fed again later is a new version, not a
        duplicate in this run). StoreError/sqlite3.Error: the database failed; the
        caller closes the session (`closing` does), which records why.
        """
        db, ident, writer = self.db, self.ident, self.writer
        ids = identity.DocIds(db)
        try:
            queue = self._queue = deque()
            limit = _in_flight(self.jobs, self.procs)
            for path in files:
                if path is None:
                    if queue:
                        _drain_one(queue, writer, self._compute)
                    continue
                if self.grows:
                    self.planned += 1
                sha = identity.file_sha256(path)
                got = ids.assign(path, sha)
                item = _Item(path, got.doc_id, got.note, sha)
                if got.duplicate_of is not None:
                    item.skip = f"same file as {got.duplicate_of} (id {got.doc_id}) in this run"
                elif sha is not None:
                    item.existing = store.find_result(db, got.doc_id, sha, ident.backend, ident.model,
                                                      ident.prompt_version)
                    if item.existing and not self.force:
                        item.skip = "unchanged; use --force"
                if item.skip is None:
                    self._submit(item)
                queue.append(item)
                while len(queue) >= limit:
                    _drain_one(queue, writer, self._compute)
            if queue and (self.ppool is not None or self.tpool is not None):
                writer.catch_up_index()  # while the last documents are still in the pools (see there)
            while queue:
                _drain_one(queue, writer, self._compute)
            writer.flush()
        except (StoreError, sqlite3.Error) as exc:
            self.failure = str(exc) if isinstance(exc, StoreError) else guard.describe(exc, self.db_path)
            raise
        finally:
            self._queue = deque()

    @property
    def in_flight(self) -> int:
        """Documents fed to `process` and not yet written (a generator feeding it reads this)."""
        return len(self._queue)

    @property
    def room(self) -> int:
        """How many more documents `process` takes before it writes the oldest."""
        return max(0, _in_flight(self.jobs, self.procs) - 1 - len(self._queue))

    @contextlib.contextmanager
    def closing(self, refresh: bool = True) -> Iterator[RunSession]:
        """Close the session however the block ends (ConfigError: failed; Ctrl-C: interrupted);
        StoreError with the reason if the database failed while closing."""
        try:
            yield self
        except ConfigError:
            self.config_failed = True  # a setup problem: the run failed, nothing was interrupted
            raise
        finally:
            self.close(refresh)
        if self.failure:
            raise StoreError(self.failure)

    def close(self, refresh: bool = True, cancel: bool = True) -> None:
        """Stop the pools (documents under way finish or stop), write the run's final row and,
        with `refresh`, the derived tables for what this session wrote. Idempotent.

        A session closed before it completed cancels the backend's calls in flight (Ctrl-C);
        cancel=False leaves the backend usable, for a caller that goes on with a new session."""
        if self.closed:
            return
        self.closed = True
        gc.unfreeze()
        summary, db = self.summary, self.db
        if self.config_failed:
            status = "failed"
        elif self.completed:
            status = "ok" if summary.ok else ("degraded" if summary.count("failed") == 0 else "failed")
        else:
            status = "interrupted"
        if status == "interrupted" and cancel:  # Ctrl-C or SIGTERM: calls in flight are abandoned
            stop = getattr(self.backend, "cancel", None)
            if stop is not None:
                stop()
        self._shutdown_pools()
        self.heartbeat.__exit__(None, None, None)
        failure = self.failure or None
        if refresh:
            failure = _refresh_views_or_reason(db, self.db_path, failure, self.writer.changed, self.writer.tally)
        self.failure = failure
        status = "failed" if failure else status
        s = self.backend.stats
        db.table("runs").update(self.run_id, {
            "finished_at": store.now(), "status": status, "documents": self.planned,
            **runstatus.committed_counts(db, self.run_id),  # what was committed, whatever stopped the run
            "llm_calls": s.calls, "cache_hits": s.cache_hits, "prompt_tokens": s.prompt_tokens,
            "completion_tokens": s.completion_tokens, "dropped": s.dropped, "error": failure,
        })

    def _shutdown_pools(self) -> None:
        for pool in (self.ppool, self.tpool):
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        self.ppool = self.tpool = None


def _mp_context() -> Any:
    """fork where there is one: workers start at once and inherit the loaded modules."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else methods[0])


def _drain_one(queue: deque[_Item], writer: _Writer, compute: Callable[[_Item], None]) -> None:
    """Hand the oldest item to the writer; commit what it holds first if the item is not
    ready by the batch's deadline (`BATCH_SECONDS` after its first document).

    Waiting out the deadline rather than committing at once: with workers about as fast
    as the writer, the next document is often a moment away, and a commit per document
    or two cost the writer more than the rows."""
    item = queue[0]
    if not item.ready() and writer.buffer and item.future is not None:
        futures.wait([item.future], timeout=max(0.0, BATCH_SECONDS - (time.perf_counter() - writer.started)))
    if not item.ready():
        writer.flush()
    compute(item)
    item.get()
    queue.popleft()
    writer.add(item)


# ---- stage 3: one writer, several documents per transaction -------------------------------


class _Writer:
    """Writes finished documents in input order, several per transaction."""

    def __init__(self, db: Any, backend: Backend, run_id: str, force: bool, summary: RunSummary,
                 on_doc: Callable[[DocOutcome], None] | None, keep: bool) -> None:
        self.db, self.backend, self.run_id, self.force = db, backend, run_id, force
        self.summary, self.on_doc, self.keep = summary, on_doc, keep
        self.ident = backend.identity
        self.cpu_only = bool(getattr(backend, "cpu_only", False))
        self.buffer: list[_Item] = []
        self.started = 0.0
        self.changed: set[str] = set()  # result ids written by this run (derived tables follow them)
        self.unindexed = 0  # results written since the search index last caught up
        # Called with (db, outcome) inside the transaction that stores the document, so what the
        # caller records about it (the service's job row) commits with it or not at all.
        self.in_transaction: Callable[[Any, DocOutcome], None] | None = None
        self.each = False  # commit and report every document as soon as it is written
        # Into a database with no results yet, the run counts its unit mentions as it commits them,
        # and the end of the run writes the units from this tally (`units.refresh_units`) instead
        # of reading every mention back. None once that cannot hold (a document written twice).
        fresh = db.conn.execute("select 1 from results limit 1").fetchone() is None
        self.tally: units.Tally | None = units.Tally() if fresh else None
        self._mentions: list[list[dict[str, Any]]] = []  # the open batch's, counted once it commits

    def add(self, item: _Item) -> None:
        if not self.buffer:
            self.started = time.perf_counter()
        self.buffer.append(item)
        slow = item.prepared is not None and item.prepared.seconds >= BATCH_SECONDS
        if (slow or self.each or len(self.buffer) >= BATCH_DOCS
                or time.perf_counter() - self.started >= BATCH_SECONDS):
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        items, outcomes, rids = self.buffer, [], []
        self._mentions = []
        with store.journals_in_memory(self.db), store.write_lock(self.db):
            for item in items:
                outcome, rid = self._write(item)
                if self.in_transaction is not None:
                    self.in_transaction(self.db, outcome)
                outcomes.append(outcome)
                if rid:
                    rids.append(rid)
            self.unindexed += len(rids)
            if self.unindexed >= search.INDEX_EVERY:  # a long run's documents become searchable as it goes
                search.index_pending(self.db)
                self.unindexed = 0
        self.buffer = []
        if self.tally is not None:
            if len(rids) != len(set(rids)) or not self.changed.isdisjoint(rids):
                self.tally = None  # a result written again replaced its rows: the tally counted both
            else:
                for mentions in self._mentions:
                    self.tally.add_rows(mentions)
        self._mentions = []
        self.changed.update(rids)
        for o in outcomes:
            self._emit(o)

    def catch_up_index(self) -> None:
        """Commit what is buffered and index every result written so far.

        Called once the input is exhausted while the last documents are still in the
        worker processes (or model calls): the index then catches up while they work,
        instead of after the last document, when the other core has nothing to do. At
        1,000 documents that tail was about 490 documents' indexing (0.1-0.2 s)."""
        self.flush()
        if self.unindexed:
            with store.write_lock(self.db):
                search.index_pending(self.db)
            self.unindexed = 0

    def _emit(self, outcome: DocOutcome) -> None:
        s = self.summary
        counts = outcome.counts or (_counts(outcome.result) if outcome.result is not None else None)
        if counts is not None:
            s.totals["goals"] += counts[0]
            s.totals["measures"] += counts[1]
            s.totals["responsibilities"] += counts[2]
        s.counts[outcome.status] = s.counts.get(outcome.status, 0) + 1
        if self.keep:
            s.outcomes.append(outcome)
        if self.on_doc:
            self.on_doc(outcome)
        if not self.keep:
            outcome.result = None

    def _write(self, item: _Item) -> tuple[DocOutcome, str | None]:
        """One document inside the batch's transaction, in its own savepoint."""
        db, path = self.db, item.path
        if item.skip is not None:
            _record(db, self.run_id, item.doc_id, path, "skipped", item.skip, item.existing)
            msg = "unchanged since last run" if item.existing and item.skip.startswith("unchanged") else item.skip
            return DocOutcome(str(path), item.doc_id, "skipped", msg), None
        prep = item.prepared
        assert prep is not None
        if prep.config_error:
            raise ConfigError(prep.config_error)  # a setup problem fails every document alike
        if prep.error or (prep.result is None and prep.rows is None) or prep.raw is None:
            msg = prep.error or f"{path}: internal error (no result)"
            _record(db, self.run_id, item.doc_id, path, "failed", msg, None)
            return DocOutcome(str(path), item.doc_id, "failed", msg), None
        if prep.rows is not None:
            self.backend.stats.dropped += prep.dropped  # counted in the worker's copy of the backend
        elif self.cpu_only:
            self.backend.stats.dropped += prep.result.dropped if prep.result else 0
        db.conn.execute("SAVEPOINT doc")
        try:
            outcome, rid, mentions = self._store(item, prep)
        except Exception as exc:
            if db.conn.in_transaction:  # SQLite may have rolled the whole transaction back (a full disk)
                try:
                    db.conn.execute("ROLLBACK TO doc")
                    db.conn.execute("RELEASE doc")
                except sqlite3.Error:
                    pass
            if guard.is_fatal(exc):  # the database itself (full disk, damaged, read-only)
                raise StoreError(guard.describe(exc, guard.file_of(db))) from exc
            if not db.conn.in_transaction:
                raise  # the batch's transaction is gone: nothing in it can be kept
            if os.environ.get("SUMMARIZER_RAISE_ERRORS"):
                raise
            msg = f"{path}: internal error ({type(exc).__name__}: {exc})"
            _record(db, self.run_id, item.doc_id, path, "failed", msg, None)
            return DocOutcome(str(path), item.doc_id, "failed", msg), None
        db.conn.execute("RELEASE doc")
        self._mentions.append(mentions)
        return outcome, rid

    def _store(self, item: _Item, prep: _Prepared) -> tuple[DocOutcome, str | None, list[dict[str, Any]]]:
        """Write one prepared document; returns its outcome, result id and unit mention rows."""
        db, ident, raw, path = self.db, self.ident, prep.raw, item.path
        assert raw is not None
        doc_id, id_note = item.doc_id, item.note
        rows = prep.rows
        if not identity.still_mine(db, doc_id, path, raw.sha256):
            # Another run stored a different document under this id meanwhile: never replace it.
            got = identity.DocIds(db).assign(path, raw.sha256)
            doc_id, id_note = got.doc_id, got.note
            result = prep.the_result()
            if result is None:  # the worker sent rows for the old id and no result: read it again here
                again_prep = _cpu_stage(path, doc_id, self.backend)
                if again_prep.error or again_prep.result is None or again_prep.raw is None:
                    msg = again_prep.error or f"{path}: internal error (no result)"
                    _record(db, self.run_id, doc_id, path, "failed", msg, None)
                    return DocOutcome(str(path), doc_id, "failed", msg), None, []
                prep, raw, result = again_prep, again_prep.raw, again_prep.result
            prep.result, rows = result.model_copy(update={"doc_id": doc_id}), None
        # Another run may have stored this very result while we extracted.
        again = store.find_result(db, doc_id, raw.sha256, ident.backend, ident.model, ident.prompt_version)
        if again and again != item.existing and not self.force:
            _record(db, self.run_id, doc_id, path, "skipped", "stored meanwhile by another run", again)
            return DocOutcome(str(path), doc_id, "skipped", "stored meanwhile by another run"), None, []
        if rows is not None and rows[0] == doc_id:  # built by the worker: execute them
            _, rid, doc_row, table_rows = rows
            store.write_document_row(db, doc_row)
            counts, faults = prep.counts, prep.faults
        else:
            result = prep.the_result()
            assert result is not None
            store.save_document(db, doc_id, raw.path, raw.sha256, raw.encoding, raw.text, prep.cleaned)
            rid, table_rows = store.result_rows(result, self.run_id, raw.sha256, ident.backend, ident.model,
                                                ident.prompt_version)
            counts, faults = _counts(result), result.faults
        store.write_result_rows(db, rid, table_rows)
        status = "degraded" if faults else "ok"
        _record(db, self.run_id, doc_id, path, status, _fault_message(path, faults), rid)
        msg = f"{counts[0]} goals, {counts[1]} measures, {counts[2]} responsibilities"
        if id_note:
            msg += f" ({id_note})"
        if faults:
            msg = f"{_fault_message(path, faults)}; kept the rules' reading: {msg}"
        if prep.result is None and prep.result_json is not None:
            shipped = _ShippedOutcome(str(path), doc_id, status, msg, None, counts)
            shipped._json = prep.result_json
            return shipped, rid, table_rows["unit_mentions"]
        return DocOutcome(str(path), doc_id, status, msg, prep.result, counts), rid, table_rows["unit_mentions"]


def run_one(db, path: Path, backend: Backend, run_id: str, force: bool,  # type: ignore[no-untyped-def]
            doc_id: str | None = None, id_note: str = "") -> DocOutcome:
    """One document through every stage in this thread, stored in its own transaction.

    For callers that handle documents one at a time (a service request): the same
    reading, skip check and write as `run_batch`, without pools. The caller owns the
    run row (`run_id`) and refreshes the derived tables when it sees fit.
    """
    ident = backend.identity
    doc_id = doc_id or path.stem
    sha = identity.file_sha256(path)
    item = _Item(path, doc_id, id_note, sha)
    if sha is not None:
        item.existing = store.find_result(db, doc_id, sha, ident.backend, ident.model, ident.prompt_version)
        if item.existing and not force:
            item.skip = "unchanged; use --force"
    if item.skip is None:
        cpu_only = bool(getattr(backend, "cpu_only", False))
        prep = _cpu_stage(path, doc_id, backend if cpu_only else None, rules_first=False)
        item.prepared = prep if cpu_only else _model_stage(backend, prep)
    summary = RunSummary(run_id=run_id)
    writer = _Writer(db, backend, run_id, force, summary, None, True)
    writer.buffer.append(item)
    writer.flush()
    return summary.outcomes[0]




def _refresh_views_or_reason(db, db_path: str | Path, failure: str | None,  # type: ignore[no-untyped-def]
                             changed: set[str] | None = None, tally: units.Tally | None = None) -> str | None:
    """Refresh the derived tables unless the database already failed; a failure here is the reason.

    On a full disk the run's own row must still be marked failed with why: that small
    update reuses the space the rolled-back write left in the WAL file.
    """
    if failure:
        return failure
    try:
        refresh_views(db, changed, tally)
    except sqlite3.Error as exc:
        return guard.describe(exc, db_path)
    return None


def refresh_views(db, changed: set[str] | None = None,  # type: ignore[no-untyped-def]
                  tally: units.Tally | None = None) -> None:
    """The search index, canonical units and browse views follow every run: only the results a run wrote
    are indexed and resolved (`refresh_units(db, changed, tally)`), not the whole database; None: all."""
    from summarizer.interfaces.browse import ensure_views

    with store.write_lock(db):  # derived tables: read and rewritten under one write lock
        search.index_pending(db)
        units.refresh_units(db, changed, tally)
        ensure_views(db)


def _fault_message(path: Path, faults: list[str]) -> str:
    return f"{path}: degraded: {'; '.join(faults)}" if faults else ""


def failed_paths(db_path: str | Path) -> list[Path]:
    """Files whose latest outcome is a failure or degraded: what `run --retry-failed` retries."""
    db = store.open_db(db_path, create=False)
    rows = db.query(
        "select path, status from doc_runs where rowid in "
        "(select max(rowid) from doc_runs group by path) order by path"
    )
    return [Path(r["path"]) for r in rows if r["status"] in ("failed", "degraded")]


def _record(db, run_id: str, doc_id: str, path: Path, status: str, error: str,  # type: ignore[no-untyped-def]
            result_id: str | None) -> None:
    store.upsert_rows(db, "doc_runs", ("run_id", "path"), [
        {"run_id": run_id, "doc_id": doc_id, "path": str(path), "status": status,
         "error": error, "result_id": result_id, "finished_at": store.now()}])
