"""Document ids that stay readable and never collide.

A document's id is its file stem (`001_edc70f5a27395571`), which is how gold files
are named. Scraped corpora are full of `index.html` and `1.docx`, so a second,
different file with a stem already taken, in this run or an earlier one, gets the
stem plus a short hash of its absolute path (`index-3f9a1c2e`): stable across
runs, so re-running that file finds its own results again. "Different" means
another path and other bytes: the same file, or an identical copy of it, keeps
the id it has.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils


@dataclass(frozen=True)
class Assigned:
    doc_id: str
    note: str = ""  # set when the id is not the plain stem: says why
    duplicate_of: str | None = None  # an identical file already in this run


def file_sha256(path: Path) -> str | None:
    """The file's content hash; None for what is not a regular file (a FIFO would block
    here) or cannot be read: the run reports those when it reads the file."""
    try:
        if not path.is_file():
            return None
        with open(path, "rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()
    except OSError:
        return None  # unreadable: the run reports it when it reads the file


def _path_hash(path: Path, length: int) -> str:
    return hashlib.sha256(str(path.resolve()).encode("utf-8")).hexdigest()[:length]


def _candidates(path: Path) -> Iterator[str]:
    """The stem, then the stem with a hash of the resolved path: each hash (a path
    resolution, with a system call per folder) only when the id before it is taken."""
    yield path.stem
    yield f"{path.stem}-{_path_hash(path, 8)}"
    yield f"{path.stem}-{_path_hash(path, 16)}"


def _same_path(a: str, b: Path) -> bool:
    try:
        return Path(a).resolve() == b.resolve()
    except OSError:
        return a == str(b)


class DocIds:
    """Hands out ids for one run, in input order, against the database and the run so far."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self.claimed: dict[str, tuple[str, str | None]] = {}  # id -> (path, sha256) in this run

    def _holder(self, doc_id: str) -> tuple[str, str | None] | None:
        if doc_id in self.claimed:
            return self.claimed[doc_id]
        return stored_holder(self.db, doc_id)

    def assign(self, path: Path, sha256: str | None) -> Assigned:
        stem = path.stem
        first_holder: str | None = None
        for candidate in _candidates(path):
            holder = self._holder(candidate)
            if holder is not None and not _same_path(holder[0], path) and not (sha256 and holder[1] == sha256):
                first_holder = first_holder or holder[0]
                continue
            mine = self.claimed.get(candidate)
            if mine is not None:  # the same file listed twice, or an identical copy
                return Assigned(candidate, duplicate_of=mine[0])
            self.claimed[candidate] = (str(path), sha256)
            note = "" if candidate == stem else f"id {candidate}: {stem!r} is already {first_holder}"
            return Assigned(candidate, note)
        raise RuntimeError(f"no free document id for {path}")  # three distinct hashes all taken


def stored_holder(db: sqlite_utils.Database, doc_id: str) -> tuple[str, str | None] | None:
    """(path, sha256) of the stored document with this id, if any."""
    row = db.conn.execute("select path, sha256 from documents where id = ?", [doc_id]).fetchone()
    return (row[0], row[1]) if row else None


def still_mine(db: sqlite_utils.Database, doc_id: str, path: Path, sha256: str) -> bool:
    """Checked under the write lock: has another run stored a different document under this id meanwhile?"""
    holder = stored_holder(db, doc_id)
    return holder is None or _same_path(holder[0], path) or holder[1] == sha256
