"""The full-text index (FTS5, trigram) over goals and measures, kept up in bulk.

Why not triggers: an FTS5 trigger indexes one row at a time and every write
transaction leaves a small segment for FTS5 to merge later. Storing documents a
few per transaction, that cost 3-4 ms of the writer's CPU per document, more than
the rows themselves; one `insert ... select` over many documents costs a tenth.

So a stored result is queued in `fts_pending` in the same transaction as its rows,
and `index_pending` indexes every queued result in one statement per table: at the
end of each run, every `INDEX_EVERY` documents during a long run, and after a merge.
A crash leaves the queue behind with the rows, and the next run indexes it: search
lags a run in progress by at most `INDEX_EVERY` documents, and never loses a row.

The content tables are external (`content=measures`): FTS5 cannot look up what a
deleted row said, so a result that was already indexed is taken out of the index
(`unindex`) before its rows are deleted.
"""

from __future__ import annotations

import sqlite_utils

# table -> the columns its FTS table indexes (m001 creates them; search follows them).
COLUMNS: dict[str, tuple[str, ...]] = {
    "goals": ("indicator", "quote"),
    "measures": ("title", "section", "quote"),
}
INDEX_EVERY = 512  # documents stored in a run before their rows are indexed
# FTS5 merges an index's segments inside a write once this many of one size pile up (its
# default: 4). Indexing 10,000 documents 512 at a time, merging cost 0.6-0.7 ms of the
# writer per document at 4 and 0.4-0.5 at 8; a search reads a few more segments (well
# under a millisecond either way).
AUTOMERGE = 8

PENDING_SCHEMA = "create table if not exists fts_pending (result_id text primary key)"


def drop_triggers(db: sqlite_utils.Database) -> None:
    """Remove the per-row FTS triggers (sqlite-utils' `enable_fts(create_triggers=True)`)."""
    for (name,) in db.conn.execute(
            "select name from sqlite_master where type = 'trigger' and tbl_name in "
            f"({', '.join('?' * len(COLUMNS))})", list(COLUMNS)).fetchall():
        db.conn.execute(f"drop trigger [{name}]")


def merge_less(db: sqlite_utils.Database) -> None:
    """Set `AUTOMERGE` on every FTS table (FTS5 keeps it in the database)."""
    for table in COLUMNS:
        db.conn.execute(f"insert into [{table}_fts] ([{table}_fts], rank) values ('automerge', ?)", [AUTOMERGE])


def mark_pending(db: sqlite_utils.Database, result_id: str) -> None:
    """Queue a result written in this transaction for indexing."""
    db.conn.execute("insert or ignore into fts_pending (result_id) values (?)", [result_id])


def unindex(db: sqlite_utils.Database, result_id: str) -> None:
    """Take an indexed result's rows out of the index (before they are deleted)."""
    conn = db.conn
    if conn.execute("select 1 from fts_pending where result_id = ?", [result_id]).fetchone():
        conn.execute("delete from fts_pending where result_id = ?", [result_id])
        return  # never indexed: nothing to take out
    for table, cols in COLUMNS.items():
        names = ", ".join(f"[{c}]" for c in cols)
        conn.execute(f"insert into [{table}_fts] ([{table}_fts], rowid, {names}) "
                     f"select 'delete', rowid, {names} from [{table}] where result_id = ?", [result_id])


def pending(db: sqlite_utils.Database) -> int:
    return int(db.conn.execute("select count(*) from fts_pending").fetchone()[0])


def index_pending(db: sqlite_utils.Database) -> int:
    """Index every queued result's rows; callers hold the write transaction. Returns how many."""
    conn = db.conn
    count = pending(db)
    if not count:
        return 0
    for table, cols in COLUMNS.items():
        names = ", ".join(f"[{c}]" for c in cols)
        conn.execute(f"insert into [{table}_fts] (rowid, {names}) select rowid, {names} from [{table}] "
                     "where result_id in (select result_id from fts_pending) order by rowid")
    conn.execute("delete from fts_pending")
    return count
