"""A batch run: load -> clean -> outline -> backend -> store, one document at a time.

Each document is independent: a bad file or a failed extraction is recorded with
its reason and the batch goes on; each finished document is committed on its own,
so an interrupted run keeps everything finished before it.
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
from summarizer.errors import StoreError, SummarizerError
from summarizer.extract.structure import parse_outline
from summarizer.ingest.clean import clean_text
from summarizer.ingest.load import find_documents, read_document
from summarizer.models import DocumentResult
from summarizer.store import db as store
from summarizer.store import guard


@dataclass
class DocOutcome:
    """What happened to one input file."""

    path: str
    doc_id: str
    status: str  # ok | skipped | failed
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
        return self.count("failed") == 0


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
) -> RunSummary:
    """Run every file; `jobs` > 1 runs that many documents at once (threads).

    With jobs > 1 each document still gets its own write transaction (on its own
    connection, opened in the worker thread), outcomes and `on_doc` calls stay in
    input order and come from the calling thread, and the backend must be
    thread-safe (rules and the LLM backends are).

    keep_results=False drops each result once `on_doc` has seen it (the counts stay
    in `summary.totals`), so memory follows the largest document, not the batch.
    """
    db = store.open_db(db_path)
    ident = backend.identity
    files, ignored = find_documents(paths)
    run_id = f"{store.now().replace(':', '').replace('-', '')[:15]}-{uuid.uuid4().hex[:6]}"
    summary = RunSummary(run_id=run_id, ignored=[str(p) for p in ignored])
    db.table("runs").insert(
        {"id": run_id, "backend": ident.backend, "model": ident.model,
         "prompt_version": ident.prompt_version, "started_at": store.now(), "status": "running",
         "documents": len(files), "options": options}
    )
    totals = summary.totals
    used: dict[str, Path] = {}
    status = "interrupted"
    failure: str | None = None  # why the whole run failed (the database, not a document)
    pool = ThreadPoolExecutor(max_workers=jobs) if jobs > 1 else None

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

    def one_in_thread(path: Path) -> DocOutcome:
        own = store.open_db(db_path)  # sqlite connections stay in the thread that opened them
        try:
            return _one(own, path, backend, run_id, force)
        finally:
            own.close()

    try:
        planned: deque[DocOutcome | Future[DocOutcome]] = deque()
        for path in files:
            if path.stem in used:
                msg = f"{path}: document id {path.stem!r} already used by {used[path.stem]}; rename one"
                _record(db, run_id, path.stem, path, "failed", msg, None)
                outcome = DocOutcome(str(path), path.stem, "failed", msg)
                if pool is None:
                    emit(outcome)
                else:
                    planned.append(outcome)
                continue
            used[path.stem] = path
            if pool is None:
                emit(_one(db, path, backend, run_id, force))
            else:
                planned.append(pool.submit(one_in_thread, path))
        while planned:  # popped, so a finished future's result is not held to the end of the batch
            item = planned.popleft()
            emit(item.result() if isinstance(item, Future) else item)
        status = "ok" if summary.ok else "failed"
    except (StoreError, sqlite3.Error) as exc:
        failure = str(exc) if isinstance(exc, StoreError) else guard.describe(exc, db_path)
        raise
    finally:
        if pool is not None:  # an interrupt: documents under way finish and commit, the rest never start
            pool.shutdown(wait=True, cancel_futures=True)
        failure = _refresh_views_or_reason(db, db_path, failure)
        status = "failed" if failure else status
        s = backend.stats
        db.table("runs").update(run_id, {
            "finished_at": store.now(), "status": status,
            "succeeded": summary.count("ok"), "failed": summary.count("failed"),
            "skipped": summary.count("skipped"), **totals, "llm_calls": s.calls,
            "cache_hits": s.cache_hits, "prompt_tokens": s.prompt_tokens,
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
        _refresh_views(db)
    except sqlite3.Error as exc:
        return guard.describe(exc, db_path)
    return None


def _one(db, path: Path, backend: Backend, run_id: str, force: bool) -> DocOutcome:  # type: ignore[no-untyped-def]
    ident = backend.identity
    doc_id = path.stem
    try:
        raw = read_document(path)
        doc_id = raw.doc_id
        cleaned, doc = prepare(raw.doc_id, raw.text)
        if not cleaned.strip():
            raise SummarizerError(f"{path}: no document text left after cleaning (only page noise)")
        existing = store.find_result(db, raw.doc_id, raw.sha256, ident.backend, ident.model,
                                     ident.prompt_version)
        if existing and not force:
            _record(db, run_id, raw.doc_id, path, "skipped", "unchanged; use --force", existing)
            return DocOutcome(str(path), raw.doc_id, "skipped", "unchanged since last run")
        result = backend.extract(doc)
        with store.write_lock(db):
            # Another run may have stored this very result while we extracted.
            again = store.find_result(db, raw.doc_id, raw.sha256, ident.backend, ident.model,
                                      ident.prompt_version)
            if again and again != existing and not force:
                _record(db, run_id, raw.doc_id, path, "skipped", "stored meanwhile by another run", again)
                return DocOutcome(str(path), raw.doc_id, "skipped", "stored meanwhile by another run")
            store.save_document(db, raw.doc_id, raw.path, raw.sha256, raw.encoding, raw.text, cleaned)
            rid = store.save_result(db, result, run_id, raw.sha256, ident.backend, ident.model,
                                    ident.prompt_version)
            _record(db, run_id, raw.doc_id, path, "ok", "", rid)
        n_resp = sum(len(m.responsibilities) for m in result.measures)
        msg = f"{len(result.goals)} goals, {len(result.measures)} measures, {n_resp} responsibilities"
        return DocOutcome(str(path), raw.doc_id, "ok", msg, result)
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


def _refresh_views(db) -> None:  # type: ignore[no-untyped-def]
    """Canonical units and browse views follow every run (cheap, idempotent)."""
    from summarizer.interfaces.browse import ensure_views
    from summarizer.store.units import refresh_units

    with store.write_lock(db):  # derived tables: read and rewritten under one write lock
        refresh_units(db)
        ensure_views(db)


def failed_paths(db_path: str | Path) -> list[Path]:
    """Files whose latest outcome is a failure: what `run --retry-failed` retries."""
    db = store.open_db(db_path, create=False)
    rows = db.query(
        "select path, status from doc_runs where rowid in "
        "(select max(rowid) from doc_runs group by path) order by path"
    )
    return [Path(r["path"]) for r in rows if r["status"] == "failed"]


def _record(db, run_id: str, doc_id: str, path: Path, status: str, error: str,  # type: ignore[no-untyped-def]
            result_id: str | None) -> None:
    db.table("doc_runs").upsert(
        {"run_id": run_id, "doc_id": doc_id, "path": str(path), "status": status,
         "error": error, "result_id": result_id, "finished_at": store.now()},
        pk=("run_id", "path"),
    )
