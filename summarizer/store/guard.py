"""Checks before a results database is opened, and SQLite's errors as one line.

`--db` is a path a user types, so it can be a folder, a typo, a PDF, a truncated
copy, a read-only file, another program's SQLite file, or sit on a full disk.
SQLite reports each of those late (at the first query) and as a raw exception;
opening another program's file would even add our 25 tables to it and switch it to
WAL. `check_database` looks at the path *before* SQLite touches it and refuses with
one line that names the path and what to do, changing nothing; `describe` turns the
errors that can only show up later (a corrupt page, a full disk) into one line.

Read commands (`show`, `runs`, `units`, `export`, `eval`, `browse`) pass
`create=False`: a mistyped path is an error there, never a new empty database.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

from summarizer.errors import StoreError

HEADER = b"SQLite format 3\x00"
MARKER = "_migrations"  # every results database has it (store.db.open_db creates it first)
# Tables we may create before the marker exists: the model-call cache opens the file first.
OWN_EARLY_TABLES = frozenset({"llm_calls"})
# SQLite result codes (sqlite3.Error.sqlite_errorname) that no retry of the same batch can fix.
FATAL = ("SQLITE_FULL", "SQLITE_IOERR", "SQLITE_READONLY", "SQLITE_CORRUPT", "SQLITE_NOTADB",
         "SQLITE_CANTOPEN", "SQLITE_PERM")


def check_database(path: str | Path, create: bool = True) -> None:
    """Refuse, with one line and without touching it, a path that cannot be our database.

    create=True (the `run` command): a missing file may be created, in a folder that
    exists and is writable. create=False (read commands): it must already exist.
    """
    p = Path(path)
    if str(path) == ":memory:":
        return
    if p.is_dir():
        raise StoreError(f"{p}: is a directory, not a database file (give a file path, e.g. {p / 'results.db'})")
    if not p.exists():
        if p.is_symlink():
            raise StoreError(f"{p}: a broken symbolic link")
        if not create:
            raise StoreError(f"{p}: no such database (check the path; `summarizer run` creates one)")
        folder = p.parent
        if not folder.is_dir():
            raise StoreError(f"{p}: folder {folder} does not exist")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise StoreError(f"{p}: cannot create a database in read-only folder {folder}")
        return
    st = p.stat()
    if not stat.S_ISREG(st.st_mode):
        raise StoreError(f"{p}: not a regular file")
    _check_header(p, st.st_size)
    if not os.access(p, os.R_OK):
        raise StoreError(f"{p}: cannot read the database (permission denied)")
    if not os.access(p, os.W_OK):
        raise StoreError(f"{p}: the database file is read-only (needs write access; copy it somewhere writable)")
    if not os.access(p.parent, os.W_OK | os.X_OK):
        raise StoreError(f"{p}: folder {p.parent} is read-only (SQLite writes its -wal and -shm files beside "
                         "the database)")
    if st.st_size == 0:
        if not create:
            raise StoreError(f"{p}: an empty file, not a results database (run `summarizer run` first)")
        return
    tables = _tables(p)
    if MARKER in tables:
        return
    foreign = sorted(t for t in tables if t not in OWN_EARLY_TABLES and not t.startswith("sqlite_"))
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise StoreError(f"{p}: an SQLite database of another program (tables {shown}); "
                         "give a new path for the results")
    if not create:
        raise StoreError(f"{p}: no results in this database yet (run `summarizer run` first)")


def _check_header(p: Path, size: int) -> None:
    """The 100-byte header: the magic string, and a file as long as the header says."""
    if size == 0:
        return
    with p.open("rb") as f:
        head = f.read(100)
    if len(head) < 100 or not head.startswith(HEADER):
        raise StoreError(f"{p}: not an SQLite database (another kind of file, or damaged)")
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(head[28:32], "big")
    pages_valid = head[92:96] == head[24:28]  # the in-header size is trusted only when these agree
    wal = Path(f"{p}-wal")
    if page_size < 512 or size % page_size or (pages_valid and pages * page_size > size and not wal.exists()):
        raise StoreError(f"{p}: truncated or damaged SQLite file ({size:,} bytes, the header describes "
                         f"{pages * page_size:,}); restore it from a backup or give a new path")


def _tables(p: Path) -> set[str]:
    """Table names, read on a query-only connection (nothing is written, no file is left behind).

    Not a `mode=ro` connection: on a WAL database a read-only connection can get
    SQLITE_BUSY at once, without waiting, while another process is writing; this one
    waits like every other connection here (30 s).
    """
    try:
        conn = sqlite3.connect(str(p), timeout=30)
        try:
            conn.execute("PRAGMA query_only = ON")
            return {r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")}
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise StoreError(describe(exc, p)) from None


def is_fatal(exc: BaseException) -> bool:
    """A storage failure that ends the batch (disk full, I/O error, read-only, corrupt)."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name.startswith(FATAL):
        return True
    msg = str(exc).lower()
    return isinstance(exc, sqlite3.Error) and any(
        s in msg for s in ("disk is full", "disk i/o error", "readonly database", "malformed", "not a database"))


def describe(exc: BaseException, path: str | Path | None = None) -> str:
    """One line for an SQLite error: which database, what happened, what to do."""
    where = f"{path}: " if path else ""
    name = getattr(exc, "sqlite_errorname", "") or ""
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if name == "SQLITE_FULL" or "disk is full" in msg:
        return f"{where}disk full while writing the database ({msg}); free space and run again"
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in msg or "not a database" in msg:
        return f"{where}the database is damaged ({msg}); restore it from a backup or give a new path"
    if name.startswith("SQLITE_READONLY") or "readonly" in msg:
        return f"{where}the database is read-only ({msg})"
    if name.startswith("SQLITE_IOERR") or "i/o error" in msg.lower():
        return f"{where}disk I/O error on the database ({msg})"
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in msg:
        return f"{where}the database is locked by another program ({msg}); try again when it is done"
    if name.startswith("SQLITE_CANTOPEN"):
        return f"{where}cannot open the database ({msg})"
    return f"{where}database error ({msg})"


def file_of(db: object) -> str:
    """The file behind an open sqlite-utils Database (for messages)."""
    try:
        rows = db.conn.execute("pragma database_list").fetchall()  # type: ignore[attr-defined]
        return next((r[2] for r in rows if r[1] == "main"), "") or "database"
    except sqlite3.Error:
        return "database"


@contextlib.contextmanager
def translated(path: str | Path) -> Iterator[None]:
    """SQLite errors inside become StoreError with the path named (one line at the CLI)."""
    try:
        yield
    except sqlite3.Error as exc:
        raise StoreError(describe(exc, path)) from exc
