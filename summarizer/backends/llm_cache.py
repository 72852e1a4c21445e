"""The model-call cache: one row per request in table `llm_calls` of the results db.

A request is keyed by sha256 of (endpoint, model, prompt version, mode, rendered
messages); the row keeps the final validated response (after instructor's re-asks),
its usage and latency, so a re-run with identical inputs makes no model call at all.
A call that failed is logged with status 'failed' and its reason, and never served:
after the server is fixed, the next run makes the call.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

import sqlite_utils

from summarizer.store import guard

TABLE = "llm_calls"
COLUMNS: dict[str, type] = {
    "request_hash": str, "model": str, "prompt_version": str, "prompt_tokens": int,
    "completion_tokens": int, "latency_s": float, "attempts": int, "status": str,
    "response_json": str, "created_at": str,
}


def request_hash(model: str, prompt_version: str, messages: list[dict[str, Any]], mode: str = "",
                 endpoint: str = "") -> str:
    """The cache key: the same request to another endpoint (or model) is another call."""
    payload = json.dumps([endpoint, model, prompt_version, mode, messages], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class CallCache:
    """Thread-safe access to `llm_calls`; no db_path means an in-memory cache."""

    def __init__(self, db_path: str | Path | None) -> None:
        self._lock = threading.Lock()
        if db_path:  # before SQLite touches the file: not a folder, not another program's database
            guard.check_database(db_path, create=True)
        conn = sqlite3.connect(str(db_path) if db_path else ":memory:", check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 30000")
        self.db = sqlite_utils.Database(conn)
        if db_path:
            self.db.enable_wal()
        if TABLE not in self.db.table_names():
            with self._lock, conn:
                self.db.table(TABLE).create(COLUMNS, pk="request_hash", if_not_exists=True)

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored answer for a request; a failed call is never served (the next run retries it)."""
        with self._lock:
            rows = list(self.db.query(
                f"select * from {TABLE} where request_hash = ? and status != 'failed'", [key]))
        if not rows:
            return None
        row = dict(rows[0])
        row["response"] = json.loads(row["response_json"]) if row["response_json"] else None
        return row

    def put(self, key: str, *, model: str, prompt_version: str, prompt_tokens: int,
            completion_tokens: int, latency_s: float, attempts: int, status: str,
            response: Any) -> None:
        row = {
            "request_hash": key, "model": model, "prompt_version": prompt_version,
            "prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
            "latency_s": round(latency_s, 3), "attempts": attempts, "status": status,
            "response_json": json.dumps(response, ensure_ascii=False),
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        with self._lock, self.db.conn:
            self.db.table(TABLE).upsert(row, pk="request_hash")

    def close(self) -> None:
        with self._lock:
            self.db.conn.close()
