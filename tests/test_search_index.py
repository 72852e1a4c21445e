"""The full-text index follows the stored rows in bulk (summarizer/store/search.py):
queued with the rows, indexed at the end of a run and during long runs, taken out
before a replaced result's rows go, caught up after a run that stopped early."""

from __future__ import annotations

from pathlib import Path

from conftest import DOCS

from summarizer.backends import get_backend
from summarizer.models import DocumentResult, GroundedMeasure
from summarizer.pipeline import run_batch
from summarizer.store import db as store
from summarizer.store import search


def _check_index(db) -> None:  # type: ignore[no-untyped-def]
    """FTS5's own check of an external-content index against its content table (raises if not)."""
    for table in search.COLUMNS:
        db.conn.execute(f"insert into [{table}_fts] ([{table}_fts], rank) values ('integrity-check', 1)")


def _hits(db, table: str, phrase: str) -> int:  # type: ignore[no-untyped-def]
    return db.conn.execute(f"select count(*) from [{table}_fts] where [{table}_fts] match ?",
                           [f'"{phrase}"']).fetchone()[0]


def test_a_run_leaves_every_row_indexed_and_nothing_queued(tmp_path: Path) -> None:
    assert run_batch([DOCS], tmp_path / "r.db", get_backend("rules")).ok
    db = store.open_db(tmp_path / "r.db")
    assert search.pending(db) == 0
    _check_index(db)
    indexed = db.conn.execute("select count(*) from measures_fts").fetchone()[0]
    assert indexed == db["measures"].count > 0
    assert not db.conn.execute("select name from sqlite_master where type = 'trigger' "
                               "and tbl_name in ('goals', 'measures')").fetchall()
    for table in search.COLUMNS:  # FTS5 keeps the merge setting in the database
        assert db.conn.execute(f"select v from [{table}_fts_config] where k = 'automerge'").fetchone() == (
            search.AUTOMERGE,)


def test_rows_stored_by_a_run_that_stopped_before_indexing_are_indexed_by_the_next(tmp_path: Path) -> None:
    db_path = tmp_path / "r.db"
    assert run_batch([DOCS], db_path, get_backend("rules"), refresh=False).ok  # as if it had died at the end
    db = store.open_db(db_path)
    stored = db["results"].count
    assert search.pending(db) == stored > 0
    assert _hits(db, "goals", "数字化车间") == 0  # not searchable yet
    assert run_batch([DOCS], db_path, get_backend("rules")).ok  # everything skipped as unchanged
    assert search.pending(db) == 0 and _hits(db, "goals", "数字化车间") == 2
    _check_index(db)


def test_a_long_run_indexes_as_it_goes(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(search, "INDEX_EVERY", 2)
    monkeypatch.setattr("summarizer.pipeline.BATCH_DOCS", 1)
    db_path = tmp_path / "r.db"
    assert run_batch([DOCS], db_path, get_backend("rules"), refresh=False).ok
    db = store.open_db(db_path)
    assert 0 <= search.pending(db) < 2 < db["results"].count
    assert db.conn.execute("select count(*) from measures_fts").fetchone()[0] > 0
    with store.write_lock(db):
        search.index_pending(db)
    _check_index(db)


def test_a_replaced_result_leaves_nothing_behind_in_the_index(tmp_path: Path) -> None:
    db = store.open_db(tmp_path / "r.db")
    text = "建设算力中心。推进数据开放。"
    store.save_document(db, "d", "d.txt", "0" * 64, "utf-8", text, text)

    def result(title: str) -> DocumentResult:
        start = text.index(title)
        return DocumentResult(doc_id="d", measures=[GroundedMeasure(
            number="1", title=title, quote=title, start=start, end=start + len(title))])

    db.conn.execute("insert into runs (id, status) values ('run', 'running')")
    for indexed_between in (False, True):
        with store.write_lock(db):
            store.save_result(db, result("建设算力中心"), "run", "0" * 64, "rules", "", "v")
            if indexed_between:
                search.index_pending(db)
        with store.write_lock(db):  # the same document and run again: the result is replaced
            store.save_result(db, result("推进数据开放"), "run", "0" * 64, "rules", "", "v")
            search.index_pending(db)
        assert _hits(db, "measures", "算力中心") == 0 and _hits(db, "measures", "数据开放") == 1
        _check_index(db)
