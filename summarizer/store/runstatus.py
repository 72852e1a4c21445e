"""Run status that stays true: who owns a running run, and what it really committed.

A run row says `running` while its process works. A process killed with SIGKILL
(or a machine that lost power) never gets to say otherwise, so every run records
its owner (host, pid) and refreshes a heartbeat; whoever opens the database next
marks a `running` run whose owner is gone (same host, pid dead) or whose heartbeat
is older than the lease as `interrupted`, with counts taken from what it committed.
Counts always come from `doc_runs` (one row per committed document outcome), never
from in-memory tallies that an interrupt cuts short.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import socket
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import sqlite_utils

LEASE_S = 120.0  # a run whose heartbeat is older than this is taken for dead
HEARTBEAT_S = 20.0
STATUSES = ("ok", "degraded", "failed", "skipped")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _stamp(t: dt.datetime | None = None) -> str:
    return (t or _now()).isoformat(timespec="seconds")


def owner() -> dict[str, Any]:
    """Columns that tie a new run row to this process."""
    return {"pid": os.getpid(), "host": socket.gethostname(), "heartbeat_at": _stamp()}


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed child its parent has not reaped yet is a zombie: dead
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def is_stale(run: dict[str, Any], now: dt.datetime | None = None) -> bool:
    """Is this `running` run's process gone?"""
    if run.get("status") != "running":
        return False
    if run.get("pid") and run.get("host") == socket.gethostname() and not pid_alive(int(run["pid"])):
        return True
    last = run.get("heartbeat_at") or run.get("started_at")
    if not last:
        return True
    try:
        seen = dt.datetime.fromisoformat(last)
    except ValueError:
        return True
    return ((now or _now()) - seen).total_seconds() > LEASE_S


def committed_counts(db: sqlite_utils.Database, run_id: str) -> dict[str, int]:
    """The run's counts as committed: documents by outcome, items stored by this run."""
    by_status = dict.fromkeys(STATUSES, 0)
    for row in db.query("select status, count(*) as n from doc_runs where run_id = ? group by status", [run_id]):
        by_status[row["status"]] = row["n"]
    # Through the run's results and each table's result_id index: `where run_id = ?` read the
    # whole table, so a run's end cost followed the database's size (0.3 s at 10,000 documents).
    items = {t: db.execute(f"select count(*) from [{t}] where result_id in "
                           "(select id from results where run_id = ?)", [run_id]).fetchone()[0]
             for t in ("goals", "measures", "responsibilities")}
    return {"succeeded": by_status["ok"], "degraded": by_status["degraded"], "failed": by_status["failed"],
            "skipped": by_status["skipped"], **items}


def as_listed(db: sqlite_utils.Database, run: dict[str, Any]) -> dict[str, Any]:
    """A run as `summarizer runs` and `GET /v1/runs` show it: one still `running` shows what it
    has committed so far (its row gets its counts when it ends, and a service's run stays open
    for as long as documents keep coming)."""
    if run.get("status") != "running":
        return run
    counts = committed_counts(db, run["id"])
    done = counts["succeeded"] + counts["degraded"] + counts["failed"] + counts["skipped"]
    return {**run, **counts, "documents": max(run.get("documents") or 0, done)}


def reap_stale_runs(db: sqlite_utils.Database) -> list[str]:
    """Mark `running` runs whose process is gone as `interrupted`; returns their ids.

    Best effort: a database this process may not write (read-only, busy) is left as
    it is and read commands still work.
    """
    try:
        running = list(db.query("select * from runs where status = 'running'"))
    except sqlite3.OperationalError:
        return []
    dead = [r for r in running if is_stale(r)]
    for r in dead:
        counts = committed_counts(db, r["id"])
        sets = ", ".join(f"[{k}] = ?" for k in counts)
        try:
            with db.conn:  # one statement, and only if the run is still marked running
                db.conn.execute(
                    f"update runs set status = 'interrupted', finished_at = coalesce(finished_at, ?), {sets} "
                    "where id = ? and status = 'running'",
                    [r.get("heartbeat_at") or r.get("started_at") or _stamp(), *counts.values(), r["id"]])
        except sqlite3.OperationalError:
            return []
    return [r["id"] for r in dead]


def this_process_run(db: sqlite_utils.Database) -> dict[str, Any] | None:
    """The latest run this process started (for the Ctrl-C report)."""
    rows = list(db.query("select * from runs where pid = ? and host = ? order by started_at desc, rowid desc limit 1",
                         [os.getpid(), socket.gethostname()]))
    return rows[0] if rows else None


class Heartbeat:
    """Refreshes a run's heartbeat from a thread, on its own connection, until stopped."""

    def __init__(self, db_path: str | Path, run_id: str, every_s: float = HEARTBEAT_S) -> None:
        self.db_path, self.run_id, self.every_s = str(db_path), run_id, every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{run_id}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _beat(self) -> None:
        conn = sqlite3.connect(self.db_path, timeout=30)
        try:
            while not self._stop.wait(self.every_s):
                with contextlib.suppress(sqlite3.OperationalError), conn:
                    conn.execute("update runs set heartbeat_at = ? where id = ? and status = 'running'",
                                 [_stamp(), self.run_id])
        finally:
            conn.close()


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (kill, docker stop, systemd) stops a run the way Ctrl-C does.

    Only the main thread can set signal handlers; elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
