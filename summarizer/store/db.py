"""The results database (SQLite via sqlite-utils).

Tables derive from the pydantic models (`columns_for`), so adding a field to a
model adds a column. Each document's results are written in one transaction: a
crash leaves either the whole result or none of it. Migrations are an ordered list
of functions recorded in `_migrations`, so old databases upgrade themselves.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import operator
import threading
import types
import typing
from collections.abc import Callable, Iterator
from enum import Enum
from pathlib import Path
from typing import Any

import sqlite_utils
from pydantic import BaseModel

from summarizer.models import DocumentResult, GroundedGoal, GroundedMeasure, Plan, Responsibility
from summarizer.store import guard, search

MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = []
migration = MIGRATIONS.append


def _sql_type(annotation: Any) -> type:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _sql_type(args[0]) if len(args) == 1 else str
    if annotation in (int, bool):
        return int
    if annotation is float:
        return float
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return str
    return str  # str, dates, lists (stored as JSON)


def columns_for(model: type[BaseModel], exclude: set[str] = frozenset()) -> dict[str, type]:  # type: ignore[assignment]
    """SQLite column types for a model's fields: the model is the schema."""
    return {
        name: _sql_type(field.annotation)
        for name, field in model.model_fields.items()
        if name not in exclude
    }


_KEYS = {"result_id": str, "doc_id": str, "run_id": str}


@migration
def m001_initial(db: sqlite_utils.Database) -> None:
    db.table("documents").create(
        {"id": str, "path": str, "sha256": str, "encoding": str, "raw_text": str,
         "clean_text": str, "raw_chars": int, "clean_chars": int, "added_at": str},
        pk="id",
    )
    db.table("runs").create(
        {"id": str, "backend": str, "model": str, "prompt_version": str, "started_at": str,
         "finished_at": str, "status": str, "documents": int, "succeeded": int, "failed": int,
         "skipped": int, "goals": int, "measures": int, "responsibilities": int,
         "llm_calls": int, "cache_hits": int, "prompt_tokens": int, "completion_tokens": int,
         "dropped": int, "options": str},
        pk="id",
    )
    db.table("doc_runs").create(
        {"run_id": str, "doc_id": str, "path": str, "status": str, "error": str,
         "result_id": str, "finished_at": str},
        pk=("run_id", "path"),
        foreign_keys=[("run_id", "runs", "id")],
    )
    db.table("results").create(
        {"id": str, "doc_id": str, "run_id": str, "backend": str, "model": str,
         "prompt_version": str, "sha256": str, "created_at": str, "dropped": int, "notes": str},
        pk="id",
        foreign_keys=[("doc_id", "documents", "id"), ("run_id", "runs", "id")],
    )
    db.table("plans").create(
        {**_KEYS, **columns_for(Plan)},
        pk="result_id",
        foreign_keys=[("result_id", "results", "id"), ("doc_id", "documents", "id")],
    )
    db.table("goals").create(
        {"id": str, **_KEYS, "seq": int, **columns_for(GroundedGoal)},
        pk="id",
        foreign_keys=[("result_id", "results", "id"), ("doc_id", "documents", "id")],
    )
    db.table("measures").create(
        {"id": str, **_KEYS, "seq": int, **columns_for(GroundedMeasure, {"responsibilities"})},
        pk="id",
        foreign_keys=[("result_id", "results", "id"), ("doc_id", "documents", "id")],
    )
    db.table("responsibilities").create(
        {"id": str, "measure_id": str, **_KEYS, "seq": int, **columns_for(Responsibility)},
        pk="id",
        foreign_keys=[("measure_id", "measures", "id"), ("result_id", "results", "id")],
    )
    for table, cols in {
        "goals": ["result_id"], "measures": ["result_id"], "responsibilities": ["measure_id"],
        "results": ["doc_id"], "doc_runs": ["doc_id"],
    }.items():
        for col in cols:
            db.table(table).create_index([col], if_not_exists=True)
    # trigram: CJK has no spaces, so the default tokenizer sees a paragraph as one word.
    for table, fts_cols in search.COLUMNS.items():
        db.table(table).enable_fts(list(fts_cols), create_triggers=True, tokenize="trigram")


@migration
def m002_degraded_results_and_run_owners(db: sqlite_utils.Database) -> None:
    """Degraded results (model faults) and the owner/heartbeat of a running run."""
    db.table("results").add_column("faults", str)
    for col, kind in (("degraded", int), ("pid", int), ("host", str), ("heartbeat_at", str)):
        db.table("runs").add_column(col, kind)


@migration
def m003_run_error(db: sqlite_utils.Database) -> None:
    """Why a run failed as a whole (a full disk, a damaged database), beside its status."""
    db.table("runs").add_column("error", str)


@migration
def m004_abstracts(db: sqlite_utils.Database) -> None:
    """Abstracts (issue 16): who wrote a plan's summary, and where a measure's summary stands.

    A database created after the models gained these fields already has them (m001 builds
    its tables from the models), so only the missing ones are added.
    """
    for table, model, names in (("plans", Plan, ("summary_source", "summary_asks")),
                                ("measures", GroundedMeasure, ("summary_start", "summary_end"))):
        have = db.table(table).columns_dict
        kinds = columns_for(model)
        for name in names:
            if name not in have:
                db.table(table).add_column(name, kinds[name])


@migration
def m005_responsibilities_by_result(db: sqlite_utils.Database) -> None:
    """Replacing a result deletes its responsibilities by result id, and the unit tables
    select them by result id: without this index each write scanned every stored
    responsibility (quadratic in the database: 44 ms/doc at 10,000 documents)."""
    db.table("responsibilities").create_index(["result_id"], if_not_exists=True)


@migration
def m006_search_index_in_bulk(db: sqlite_utils.Database) -> None:
    """The FTS index is written in bulk from a queue, not by per-row triggers (see
    `summarizer.store.search`); the index is complete when the triggers go."""
    search.drop_triggers(db)
    db.conn.execute(search.PENDING_SCHEMA)


@migration
def m007_unit_mentions_with_results(db: sqlite_utils.Database) -> None:
    """A result's unit mentions are written with its rows (`result_rows`), so the table exists
    from the start. A table made or reshaped here is emptied: the next refresh sees it lag
    behind the responsibilities and rebuilds it."""
    from summarizer.store import units

    if units.ensure_tables(db):
        db.conn.execute("delete from unit_mentions")
        db.conn.execute("delete from units")


@migration
def m008_search_index_merges_less(db: sqlite_utils.Database) -> None:
    """Bulk indexing merges the FTS segments less often (`search.AUTOMERGE`)."""
    search.merge_less(db)


def open_db(path: str | Path, create: bool = True) -> sqlite_utils.Database:
    """Open (and create or upgrade) a results database; one-line StoreError if it cannot be ours.

    Read commands pass create=False, so a mistyped path fails instead of becoming a
    new empty database; see `summarizer.store.guard` for every check.
    """
    key = str(Path(path).resolve()) if str(path) != ":memory:" else None
    # Once this process holds the file open through SQLite, reading its header with a
    # plain open()/close() would drop the process's POSIX locks on it (SQLite's known
    # pitfall): a worker thread's or a reader's check could then corrupt a running write.
    # So the file is checked the first time this process opens it, not again.
    if key is None or key not in _CHECKED or not Path(path).exists():
        guard.check_database(path, create=create)
    with guard.translated(path):
        db = _open_db(path)
    if key is not None:
        with _CHECKED_LOCK:
            _CHECKED.add(key)
    return db


_CHECKED: set[str] = set()  # databases this process has opened (see open_db)
_CHECKED_LOCK = threading.Lock()


def _open_db(path: str | Path) -> sqlite_utils.Database:
    db = sqlite_utils.Database(path)
    db.conn.execute("PRAGMA busy_timeout = 30000")
    db.enable_wal()
    db.conn.execute("PRAGMA foreign_keys = ON")
    db.conn.execute("PRAGMA synchronous = NORMAL")  # WAL: durable at checkpoints, safe from corruption
    if "_migrations" not in db.table_names():
        db.table("_migrations").create({"name": str, "applied_at": str}, pk="name", if_not_exists=True)
    done = {r["name"] for r in db.table("_migrations").rows}
    for fn in MIGRATIONS:
        if fn.__name__ not in done:
            with write_lock(db):
                # Another process may have applied it while we waited for the lock.
                if db.table("_migrations").count_where("name = ?", [fn.__name__]):
                    continue
                fn(db)
                db.table("_migrations").insert({"name": fn.__name__, "applied_at": now()})
    from summarizer.store.runstatus import reap_stale_runs

    reap_stale_runs(db)  # runs left `running` by a killed process read `interrupted`
    return db


WRITER_CACHE_MB = 64


def for_bulk_writes(db: sqlite_utils.Database) -> None:
    """A larger page cache for the connection a run writes through.

    Rows go into indexes keyed by hashes, i.e. at random places: with SQLite's default
    2 MB cache, every write re-read index pages as the database grew. At 10,000 documents
    64 MB took the writer from 8.8 to 6.7 ms of CPU per document (256 MB gave no more).
    The cache fills only as pages are used.
    """
    db.conn.execute(f"PRAGMA cache_size = -{WRITER_CACHE_MB * 1024}")


@contextlib.contextmanager
def write_lock(db: sqlite_utils.Database) -> Iterator[None]:
    """One write transaction that takes SQLite's write lock up front (BEGIN IMMEDIATE).

    Checks made inside it (is this result already stored?) cannot be overtaken by
    another process writing the same database; WAL and busy_timeout make the other
    writer wait rather than fail.
    """
    conn = db.conn
    if conn.in_transaction:  # nested: a savepoint inside the outer write transaction
        with db.atomic():
            yield
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.rollback()
        raise
    conn.commit()


@contextlib.contextmanager
def journals_in_memory(db: sqlite_utils.Database) -> Iterator[None]:
    """SQLite's temporary files in memory for the block, then as they were.

    For a batch of documents written each in its own savepoint: a savepoint journals
    the pages its document changes, and past 64 KB that journal went to a temporary
    file, about 100 page writes per document (0.3 ms of system time per document,
    measured at 1,000 documents). One document's journal is small, so memory holds it.
    Only around such a batch: a large sort (the derived tables' refresh over a whole
    database) must still spill to disk, or memory would grow with the database."""
    conn = db.conn
    before = conn.execute("PRAGMA temp_store").fetchone()[0]
    conn.execute("PRAGMA temp_store = MEMORY")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA temp_store = {int(before)}")


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _row(model: BaseModel, exclude: set[str] = frozenset()) -> dict[str, Any]:  # type: ignore[assignment]
    return _columns(model.model_dump(mode="json", exclude=exclude))


def _columns(dumped: dict[str, Any]) -> dict[str, Any]:
    """A model's JSON dump as column values: lists and objects as JSON text.

    A dump of scalars only (every goal and responsibility row, and a measure's once its
    responsibilities are taken out) is its own column values, returned as it is: types
    checked in one C-level pass instead of a Python loop per column (a quarter of the
    rows' cost, about 1 M instructions per document)."""
    if _JSON_TYPES.isdisjoint(map(type, dumped.values())):
        return dumped
    return {key: json.dumps(value, ensure_ascii=False) if type(value) in _JSON_TYPES else value
            for key, value in dumped.items()}


_JSON_TYPES = frozenset((list, dict))  # a JSON dump holds exactly these containers (`type in` beats isinstance)


def _id(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:16]


def _child_id(parent: str, kind: str, seq: int) -> str:
    """A row's id under its parent's: `<result id>g007`, `<measure id>r002`.

    Not a hash of its own: the rows of one result then sit side by side in each id
    index, where hashed ids put every goal, measure and responsibility on a page of
    its own; at 10,000 documents that made each commit write three times the pages
    (writer 6.6 -> 5.4 ms of CPU per document). Unique as long as the parent's is.
    """
    return f"{parent}{kind}{seq:03d}"


# ---- writing: prepared statements, no per-row type guessing -------------------------------
#
# The tables' columns derive from the models (m001_initial above); the rows written
# here derive from the same models (`_row`), so the column list of each statement is
# the row's keys. sqlite-utils' insert/upsert inspects every row's types and the
# table's columns on each call: a third of a rules run went there. `executemany` on a
# statement built once per (table, columns) writes the same values.

_SQL: dict[tuple[str, tuple[str, ...], tuple[str, ...] | None], str] = {}


def _statement(table: str, cols: tuple[str, ...], pk: tuple[str, ...] | None) -> str:
    key = (table, cols, pk)
    sql = _SQL.get(key)
    if sql is None:
        names = ", ".join(f"[{c}]" for c in cols)
        sql = f"insert into [{table}] ({names}) values ({', '.join('?' * len(cols))})"
        if pk is not None:  # upsert: the row's other columns replace the stored ones
            sets = ", ".join(f"[{c}] = excluded.[{c}]" for c in cols if c not in pk)
            conflict = ", ".join(f"[{c}]" for c in pk)
            sql += f" on conflict ({conflict}) do " + (f"update set {sets}" if sets else "nothing")
        _SQL[key] = sql
    return sql


def insert_rows(db: sqlite_utils.Database, table: str, rows: list[dict[str, Any]],
                pk: tuple[str, ...] | None = None) -> None:
    """Insert (or, given the primary key `pk`, upsert) rows that all have the same keys."""
    if not rows:
        return
    cols = tuple(rows[0])
    values = operator.itemgetter(*cols)  # a C call per row; one column gives a bare value
    db.conn.executemany(_statement(table, cols, pk),
                        map(values, rows) if len(cols) > 1 else ((values(r),) for r in rows))


def upsert_rows(db: sqlite_utils.Database, table: str, pk: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    """Insert rows, or update every given column of the row with the same primary key."""
    insert_rows(db, table, rows, pk)


def document_row(doc_id: str, path: str, sha256: str, encoding: str, raw: str, clean: str) -> dict[str, Any]:
    return {"id": doc_id, "path": path, "sha256": sha256, "encoding": encoding, "raw_text": raw,
            "clean_text": clean, "raw_chars": len(raw), "clean_chars": len(clean), "added_at": now()}


def save_document(db: sqlite_utils.Database, doc_id: str, path: str, sha256: str, encoding: str,
                  raw: str, clean: str) -> None:
    write_document_row(db, document_row(doc_id, path, sha256, encoding, raw, clean))


def write_document_row(db: sqlite_utils.Database, row: dict[str, Any]) -> None:
    upsert_rows(db, "documents", ("id",), [row])


def find_result(db: sqlite_utils.Database, doc_id: str, sha256: str, backend: str, model: str,
                prompt_version: str) -> str | None:
    """The id of a stored complete result for this exact input and backend, if any.

    A degraded result (the model gave no answer for part of it) does not count: the
    next run tries the model again.
    """
    row = db.conn.execute(
        "select id from results where doc_id = ? and sha256 = ? and backend = ? and model = ? "
        "and prompt_version = ? and coalesce(faults, '[]') = '[]' order by created_at desc limit 1",
        [doc_id, sha256, backend, model, prompt_version],
    ).fetchone()
    return row[0] if row else None


def save_result(db: sqlite_utils.Database, result: DocumentResult, run_id: str, sha256: str,
                backend: str, model: str, prompt_version: str) -> str:
    """Write one document's result; callers wrap this in a transaction."""
    rid, rows = result_rows(result, run_id, sha256, backend, model, prompt_version)
    write_result_rows(db, rid, rows)
    return rid


def result_rows(result: DocumentResult, run_id: str, sha256: str, backend: str, model: str,
                prompt_version: str) -> tuple[str, dict[str, list[dict[str, Any]]]]:
    """(result id, table -> rows) for one result: no database needed, so a worker process
    can build them and the writer only executes them. The unit mentions are among them
    (resolved against the result's own issuers; see `units.mention_rows`)."""
    from summarizer.store import units  # units builds on this module
    rid = _id(result.doc_id, run_id)
    keys = {"result_id": rid, "doc_id": result.doc_id, "run_id": run_id}
    mids = [_child_id(rid, "m", i) for i in range(len(result.measures))]
    dumped = result.model_dump(mode="json", include={"goals", "measures"})  # one call, not one per row
    # Each measure's responsibilities are taken out of its dump (pop) as they become their own rows.
    duties = [{"id": _child_id(mid, "r", j), "measure_id": mid, **keys, "seq": j, **_columns(r)}
              for mid, m in zip(mids, dumped["measures"]) for j, r in enumerate(m.pop("responsibilities"))]
    return rid, {
        "results": [{"id": rid, "doc_id": result.doc_id, "run_id": run_id, "backend": backend,
                     "model": model, "prompt_version": prompt_version, "sha256": sha256,
                     "created_at": now(), "dropped": result.dropped,
                     "notes": json.dumps(result.notes, ensure_ascii=False),
                     "faults": json.dumps(result.faults, ensure_ascii=False)}],
        "plans": [{**keys, **_row(result.plan)}],
        "goals": [{"id": _child_id(rid, "g", i), **keys, "seq": i, **_columns(g)}
                  for i, g in enumerate(dumped["goals"])],
        "measures": [{"id": mid, **keys, "seq": i, **_columns(m)}
                     for i, (mid, m) in enumerate(zip(mids, dumped["measures"]))],
        "responsibilities": duties,
        "unit_mentions": units.mention_rows(rid, duties, result.plan.issuers),
    }


def write_result_rows(db: sqlite_utils.Database, rid: str, rows: dict[str, list[dict[str, Any]]]) -> None:
    """Write the rows `result_rows` built; callers wrap this in a transaction."""
    # A retried document in the same run replaces its earlier partial result.
    if db.conn.execute("select 1 from results where id = ?", [rid]).fetchone():
        search.unindex(db, rid)
        for table in ("unit_mentions", "responsibilities", "goals", "measures", "plans"):
            db.conn.execute(f"delete from [{table}] where result_id = ?", [rid])
    upsert_rows(db, "results", ("id",), rows["results"])
    for table in ("plans", "goals", "measures", "responsibilities", "unit_mentions"):
        insert_rows(db, table, rows[table])
    search.mark_pending(db, rid)


def load_result(db: sqlite_utils.Database, result_id: str) -> DocumentResult:
    """Rebuild the DocumentResult stored under result_id."""
    res = db.table("results").get(result_id)
    plan_row = next(db.table("plans").rows_where("result_id = ?", [result_id]), None)
    plan = Plan()
    if plan_row:
        plan_data = {k: plan_row[k] for k in Plan.model_fields}
        plan_data["issuers"] = json.loads(plan_data["issuers"] or "[]")
        plan = Plan.model_validate(plan_data)
    goals = [
        GroundedGoal.model_validate({k: r[k] for k in GroundedGoal.model_fields})
        for r in db.table("goals").rows_where("result_id = ?", [result_id], order_by="seq")
    ]
    measures = []
    for r in db.table("measures").rows_where("result_id = ?", [result_id], order_by="seq"):
        resp = [
            Responsibility(unit=x["unit"], role=x["role"])
            for x in db.table("responsibilities").rows_where("measure_id = ?", [r["id"]], order_by="seq")
        ]
        data = {k: r[k] for k in GroundedMeasure.model_fields if k != "responsibilities"}
        measures.append(GroundedMeasure.model_validate({**data, "responsibilities": resp}))
    return DocumentResult(
        doc_id=res["doc_id"], plan=plan, goals=goals, measures=measures,
        dropped=res["dropped"] or 0, notes=json.loads(res["notes"] or "[]"),
        faults=json.loads(res.get("faults") or "[]"),
    )


def latest_results(db: sqlite_utils.Database, run_id: str | None = None) -> dict[str, str]:
    """doc_id -> result id: the given run's results, or each document's newest."""
    if run_id:
        rows = db.query(
            "select doc_id, result_id as id from doc_runs where run_id = ? and status in ('ok', 'degraded', 'skipped') "
            "and result_id is not null", [run_id])
    else:
        rows = db.query(
            "select doc_id, id from results where rowid in "
            "(select max(rowid) from results group by doc_id) order by doc_id")
    return {r["doc_id"]: r["id"] for r in rows}


def latest_result_id(db: sqlite_utils.Database, doc_id: str) -> str | None:
    """One document's newest result id (what `latest_results` holds for it), by index lookup."""
    rows = list(db.query("select id from results where doc_id = ? order by rowid desc limit 1", [doc_id]))
    return rows[0]["id"] if rows else None


def iter_runs(db: sqlite_utils.Database) -> Iterator[dict[str, Any]]:
    yield from db.table("runs").rows_where(order_by="started_at desc")
