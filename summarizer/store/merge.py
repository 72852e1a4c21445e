"""Fold shard databases into one: `summarizer merge OUT.db SHARD.db...`.

A large corpus split with `summarizer run --shard i/n` (one shard per machine, or
per process) gives n databases. Every stored row has a primary key that does not
depend on where it was computed (documents by id; runs, results and their goals,
measures and responsibilities by ids derived from the document and run ids; the
model-call cache by request hash), so folding is `INSERT OR IGNORE` table by table
in dependency order, inside SQLite (ATTACH), one transaction per shard:

- the same rows as one unsharded run, except the run ids (each shard is its own
  run) and the ids and timestamps derived from them;
- idempotent: merging a shard again adds no row and changes nothing;
- a document stored in two inputs keeps the row merged first (`documents`), and
  each result stays; the newest result per document is the one merged last.

The derived tables (units, views) are rebuilt once at the end when rows were added.
"""

from __future__ import annotations

from pathlib import Path

from summarizer.errors import StoreError
from summarizer.store import db as store
from summarizer.store import guard, search

# Parents before children (foreign keys are on).
TABLES = ("documents", "runs", "results", "plans", "goals", "measures", "responsibilities", "doc_runs",
          "llm_calls")


def merge_databases(out: str | Path, shards: list[Path]) -> list[str]:
    """Merge `shards` into `out` (created if missing); one line per shard saying what it added."""
    out_path = Path(out)
    db = store.open_db(out_path)
    lines: list[str] = []
    added_any = False
    for shard in shards:
        shard = Path(shard)
        if shard.exists() and out_path.exists() and shard.resolve() == out_path.resolve():
            raise StoreError(f"{shard}: is the output database; give the shards apart from it")
        store.open_db(shard, create=False).close()  # checks it is ours; upgrades an older schema
        counts = _merge_one(db, shard)
        added = sum(counts.values())
        added_any |= added > 0
        detail = ", ".join(f"{n} {t}" for t, n in counts.items() if n)
        lines.append(f"{shard}: {added} rows added" + (f" ({detail})" if detail else " (already merged)"))
    if added_any:
        from summarizer.interfaces.browse import ensure_views
        from summarizer.store.units import refresh_units

        with store.write_lock(db):
            search.index_pending(db)
        refresh_units(db)  # full rebuild: the merged results resolve as one database
        ensure_views(db)
    db.close()
    return lines


def _merge_one(db, shard: Path) -> dict[str, int]:  # type: ignore[no-untyped-def]
    conn = db.conn
    with guard.translated(shard):
        conn.execute("attach database ? as shard", [str(shard)])
        try:
            theirs = {r[0]: r[1] for r in conn.execute(
                "select name, sql from shard.sqlite_master where type = 'table'")}
            counts: dict[str, int] = {}
            with store.write_lock(db):
                for table in TABLES:
                    if table not in theirs:
                        continue
                    if not db.table(table).exists():  # the model-call cache exists only where a model ran
                        conn.execute(theirs[table])
                    mine = [c.name for c in db.table(table).columns]
                    have = {r[1] for r in conn.execute(f"pragma shard.table_info([{table}])")}
                    cols = ", ".join(f"[{c}]" for c in mine if c in have)
                    if table == "results":  # what this shard adds is searched once indexed
                        conn.execute("insert or ignore into main.fts_pending select id from shard.results "
                                     "where id not in (select id from main.results)")
                    before = conn.total_changes
                    conn.execute(f"insert or ignore into main.[{table}] ({cols}) "
                                 f"select {cols} from shard.[{table}] order by rowid")
                    counts[table] = conn.total_changes - before
        finally:
            conn.execute("detach database shard")
    return counts
