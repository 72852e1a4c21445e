from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "eval" / "docs"
GOLD = ROOT / "eval" / "gold"


@pytest.fixture(autouse=True)
def _isolated_user_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Caches and model files go to a temp dir, never the user's home."""
    monkeypatch.setenv("SUMMARIZER_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


def doc_path(prefix: str) -> Path:
    return next(DOCS.glob(f"{prefix}_*.txt"))


def raw_text(prefix: str) -> str:
    return doc_path(prefix).read_text("utf-8-sig")


@pytest.fixture(scope="session")
def rules_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample corpus run once through the rules backend."""
    from summarizer.backends import get_backend
    from summarizer.pipeline import run_batch

    db = tmp_path_factory.mktemp("rules") / "results.db"
    summary = run_batch([DOCS], db, get_backend("rules"))
    assert summary.ok
    return db


def rows(db: Path, sql: str, *params: object) -> list[tuple]:
    """Rows of a query on a results database, read through a connection of its own."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()
