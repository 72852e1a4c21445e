"""A batch run: load -> clean -> outline -> backend -> store, one document at a time.

Each document is independent: a bad file or a failed extraction is recorded with
its reason and the batch goes on; each finished document is committed on its own,
so an interrupted run keeps everything finished before it. A document the model
could not fully answer is stored `degraded` (rules' reading, with the reason) and
counts as a problem: the exit code says so and the next run retries it.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from summarizer.backends import Backend, PreparedDoc
from summarizer.brief.abstract import add_summaries
from summarizer.errors import ConfigError, StoreError, SummarizerError
from summarizer.extract.structure import parse_outline
from summarizer.ingest.clean import clean_text
from summarizer.ingest.load import find_documents, read_document
from summarizer.models import DocumentResult
from summarizer.store import db as store
from summarizer.store import guard, identity, runstatus

# Documents in flight at once. SQLite takes one writer at a time: more threads only
# queue on its lock (and past busy_timeout fail with "database is locked").
MAX_DOC_JOBS = 16


@dataclass
class DocOutcome:
    """What happened to one input file."""

    path: str
    doc_id: str
    status: str  # ok | degraded | skipped | failed
    message: str = ""
    result: DocumentResult | None = None


@dataclass
class RunSummary:
    run_id: str
    outcomes: list[DocOutcome] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=lambda: {"goals": 0, "measures": 0, "responsibilities": 0})

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)

    @property
    def ok(self) -> bool:
        return self.count("failed") == 0 and self.count("degraded") == 0


def prepare(doc_id: str, raw: str) -> tuple[str, PreparedDoc]:
    """Clean raw text and outline it: the input every backend gets."""
    cleaned = clean_text(raw).text
    return cleaned, PreparedDoc(doc_id=doc_id, text=cleaned, outline=parse_outline(cleaned))


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
) -> RunSummary:
    """Run every file; `jobs` > 1 runs that many documents at once (threads).

    With jobs > 1 each document still gets its own write transaction (on its own
    connection, opened in the worker thread), outcomes and `on_doc` calls stay in
    input order and come from the calling thread, and the backend must be
    thread-safe (rules and the LLM backends are).

    keep_results=False drops each result once `on_doc` has seen it (the counts stay
    in `summary.totals`), so memory follows the largest document, not the batch.

    refresh=False leaves the derived tables (canonical units, browse views) to the
    caller: a service running many one-document batches refreshes them when idle
    (`refresh_views`), since each refresh reads every stored result.
    """
    db = store.open_db(db_path)
    ident = backend.identity
    files, ignored = find_documents(paths)
    run_id = f"{store.now().replace(':', '').replace('-', '')[:15]}-{uuid.uuid4().hex[:6]}"
    summary = RunSummary(run_id=run_id, ignored=[str(p) for p in ignored])
    db.table("runs").insert(
        {"id": run_id, "backend": ident.backend, "model": ident.model,
         "prompt_version": ident.prompt_version, "started_at": store.now(), "status": "running",
         "documents": len(files), "options": options, **runstatus.owner()}
    )
    ids = identity.DocIds(db)
    totals = summary.totals
    status = "interrupted"
    jobs = min(max(1, jobs), MAX_DOC_JOBS)
    failure: str | None = None  # why the whole run failed (the database, not a document)
    pool = ThreadPoolExecutor(max_workers=jobs) if jobs > 1 else None
    heartbeat = runstatus.Heartbeat(db_path, run_id).__enter__()

    def emit(outcome: DocOutcome) -> None:
        if outcome.result is not None:
            totals["goals"] += len(outcome.result.goals)
            totals["measures"] += len(outcome.result.measures)
            totals["responsibilities"] += sum(len(m.responsibilities) for m in outcome.result.measures)
        summary.outcomes.append(outcome)
        if on_doc:
            on_doc(outcome)
        if not keep_results:
            outcome.result = None

    def one_in_thread(path: Path, doc_id: str, note: str) -> DocOutcome:
        own = store.open_db(db_path)  # sqlite connections stay in the thread that opened them
        try:
            return _one(own, path, backend, run_id, force, doc_id, note)
        finally:
            own.close()

    try:
        planned: deque[DocOutcome | Future[DocOutcome]] = deque()
        for path in files:
            got = ids.assign(path, identity.file_sha256(path))
            if got.duplicate_of is not None:
                msg = f"same file as {got.duplicate_of} (id {got.doc_id}) in this run"
                _record(db, run_id, got.doc_id, path, "skipped", msg, None)
                outcome = DocOutcome(str(path), got.doc_id, "skipped", msg)
                if pool is None:
                    emit(outcome)
                else:
                    planned.append(outcome)
                continue
            if pool is None:
                emit(_one(db, path, backend, run_id, force, got.doc_id, got.note))
            else:
                planned.append(pool.submit(one_in_thread, path, got.doc_id, got.note))
        while planned:  # popped, so a finished future's result is not held to the end of the batch
            item = planned.popleft()
            emit(item.result() if isinstance(item, Future) else item)
        status = "ok" if summary.ok else ("degraded" if summary.count("failed") == 0 else "failed")
    except ConfigError:
        status = "failed"
        raise
    except (StoreError, sqlite3.Error) as exc:
        failure = str(exc) if isinstance(exc, StoreError) else guard.describe(exc, db_path)
        raise
    finally:
        if status == "interrupted":  # Ctrl-C or SIGTERM: calls in flight are abandoned
            cancel = getattr(backend, "cancel", None)
            if cancel is not None:
                cancel()
        if pool is not None:  # documents under way stop or commit, the rest never start
            pool.shutdown(wait=True, cancel_futures=True)
        heartbeat.__exit__(None, None, None)
        if refresh:
            failure = _refresh_views_or_reason(db, db_path, failure)
        status = "failed" if failure else status
        s = backend.stats
        db.table("runs").update(run_id, {
            "finished_at": store.now(), "status": status,
            **runstatus.committed_counts(db, run_id),  # what was committed, whatever stopped the run
            "llm_calls": s.calls, "cache_hits": s.cache_hits, "prompt_tokens": s.prompt_tokens,
            "completion_tokens": s.completion_tokens, "dropped": s.dropped, "error": failure,
        })
    if failure:
        raise StoreError(failure)
    return summary


def _refresh_views_or_reason(db, db_path: str | Path, failure: str | None) -> str | None:  # type: ignore[no-untyped-def]
    """Refresh the derived tables unless the database already failed; a failure here is the reason.

    On a full disk the run's own row must still be marked failed with why: that small
    update reuses the space the rolled-back write left in the WAL file.
    """
    if failure:
        return failure
    try:
        refresh_views(db)
    except sqlite3.Error as exc:
        return guard.describe(exc, db_path)
    return None


def _one(db, path: Path, backend: Backend, run_id: str, force: bool,  # type: ignore[no-untyped-def]
         doc_id: str | None = None, id_note: str = "") -> DocOutcome:
    ident = backend.identity
    doc_id = doc_id or path.stem
    try:
        raw = read_document(path)
        cleaned, doc = prepare(doc_id, raw.text)
        if not cleaned.strip():
            raise SummarizerError(f"{path}: no document text left after cleaning (only page noise)")
        existing = store.find_result(db, doc_id, raw.sha256, ident.backend, ident.model,
                                     ident.prompt_version)
        if existing and not force:
            _record(db, run_id, doc_id, path, "skipped", "unchanged; use --force", existing)
            return DocOutcome(str(path), doc_id, "skipped", "unchanged since last run")
        result = backend.extract(doc)
        # The abstract and measure lines: the model's (fact-checked) where the backend has one, else the template.
        result = add_summaries(result, cleaned, getattr(backend, "ask_abstract", None))
        with store.write_lock(db):
            if not identity.still_mine(db, doc_id, path, raw.sha256):
                # Another run stored a different document under this id meanwhile: never replace it.
                got = identity.DocIds(db).assign(path, raw.sha256)
                doc_id, id_note = got.doc_id, got.note
                result = result.model_copy(update={"doc_id": doc_id})
            # Another run may have stored this very result while we extracted.
            again = store.find_result(db, doc_id, raw.sha256, ident.backend, ident.model,
                                      ident.prompt_version)
            if again and again != existing and not force:
                _record(db, run_id, doc_id, path, "skipped", "stored meanwhile by another run", again)
                return DocOutcome(str(path), doc_id, "skipped", "stored meanwhile by another run")
            store.save_document(db, doc_id, raw.path, raw.sha256, raw.encoding, raw.text, cleaned)
            rid = store.save_result(db, result, run_id, raw.sha256, ident.backend, ident.model,
                                    ident.prompt_version)
            status = "degraded" if result.faults else "ok"
            _record(db, run_id, doc_id, path, status, _fault_message(path, result.faults), rid)
        n_resp = sum(len(m.responsibilities) for m in result.measures)
        msg = f"{len(result.goals)} goals, {len(result.measures)} measures, {n_resp} responsibilities"
        if id_note:
            msg += f" ({id_note})"
        if result.faults:
            msg = f"{_fault_message(path, result.faults)}; kept the rules' reading: {msg}"
        return DocOutcome(str(path), doc_id, status, msg, result)
    except ConfigError:
        raise  # a setup problem (model file, server start) fails every document alike: stop the run
    except SummarizerError as exc:
        _record(db, run_id, doc_id, path, "failed", str(exc), None)
        return DocOutcome(str(path), doc_id, "failed", str(exc))
    except Exception as exc:
        if guard.is_fatal(exc):  # the database itself (full disk, damaged, read-only): no later document fits
            raise StoreError(guard.describe(exc, guard.file_of(db))) from exc
        if os.environ.get("SUMMARIZER_RAISE_ERRORS"):
            raise
        msg = f"{path}: internal error ({type(exc).__name__}: {exc})"
        _record(db, run_id, doc_id, path, "failed", msg, None)
        return DocOutcome(str(path), doc_id, "failed", msg)


def refresh_views(db) -> None:  # type: ignore[no-untyped-def]
    """Canonical units and browse views follow every run (cheap, idempotent)."""
    from summarizer.interfaces.browse import ensure_views
    from summarizer.store.units import refresh_units

    with store.write_lock(db):  # derived tables: read and rewritten under one write lock
        refresh_units(db)
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
    db.table("doc_runs").upsert(
        {"run_id": run_id, "doc_id": doc_id, "path": str(path), "status": status,
         "error": error, "result_id": result_id, "finished_at": store.now()},
        pk=("run_id", "path"),
    )
