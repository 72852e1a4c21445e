"""Export the latest result of every document as JSON, JSON Lines or CSV.

Streaming: results are loaded and written one document at a time, so memory
follows the largest document, not the database (5,000 documents once took 1.5 GB).
All or nothing: each file is written beside its target and renamed over it when
complete (`summarizer.store.atomic`), so a full disk leaves the previous export
intact. CSV cells that a spreadsheet would run as formulas are neutralized with a
leading `'` (`summarizer.safe_output.csv_cell`, the OWASP rule).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import sqlite_utils

from summarizer.errors import SummarizerError
from summarizer.models import DocumentResult, GroundedGoal, GroundedMeasure, Plan, Responsibility
from summarizer.safe_output import csv_cell
from summarizer.store import atomic
from summarizer.store import db as store

FORMATS = ("json", "jsonl", "csv", "briefs")
CSV_COLUMNS: dict[str, list[str]] = {
    "plans": ["doc_id", *Plan.model_fields],
    "goals": ["doc_id", *GroundedGoal.model_fields],
    "measures": ["doc_id", "seq", *(k for k in GroundedMeasure.model_fields if k != "responsibilities")],
    "responsibilities": ["doc_id", "measure_seq", "measure_number", *Responsibility.model_fields],
}


def export_results(db_path: str | Path, fmt: str, out: Path) -> list[Path]:
    """Write every document's latest result to `out` (a file; for csv a folder of four files)."""
    if fmt not in FORMATS:
        raise SummarizerError(f"unknown export format {fmt!r}; use json, jsonl, csv or briefs")
    _check_target(out, folder=fmt in ("csv", "briefs"), fmt=fmt)
    db = store.open_db(db_path, create=False)
    try:
        if fmt == "briefs":
            return write_briefs(db, out)
        if fmt == "csv":
            paths = [out / f"{name}.csv" for name in CSV_COLUMNS]
            with atomic.replace_all(paths, encoding="utf-8-sig", newline="") as files:
                write_csv(iter_results(db), dict(zip(CSV_COLUMNS, files)))
            return paths
        with atomic.replace(out) as f:
            (write_json if fmt == "json" else write_jsonl)(iter_results(db), f)
        return [out]
    except OSError as exc:
        raise SummarizerError(f"{out}: cannot write the export ({exc.strerror or exc}); "
                              "any previous export there is unchanged") from None


def _check_target(out: Path, folder: bool, fmt: str = "csv") -> None:
    if folder and out.exists() and not out.is_dir():
        what = "four CSV files" if fmt == "csv" else "one HTML brief per document and index.html"
        raise SummarizerError(f"{out}: is a file; --format {fmt} writes a folder of {what}")
    if not folder and out.is_dir():
        raise SummarizerError(f"{out}: is a directory; give a file path for the export")


def write_briefs(db: sqlite_utils.Database, out: Path) -> list[Path]:
    """One self-contained HTML brief per document plus `index.html`, each file written whole.

    Briefs are rendered one document at a time (memory follows the largest document);
    the index is written last, so it never links to a brief that is not there.
    """
    from summarizer.interfaces.brief import brief_filename, brief_html, index_html, index_row, load_brief

    out.mkdir(parents=True, exist_ok=True)
    rows, paths = [], []
    for doc_id in store.latest_results(db):
        b = load_brief(db, doc_id)
        name = brief_filename(doc_id)
        with atomic.replace(out / name) as f:
            f.write(brief_html(b))
        rows.append(index_row(b, name))
        paths.append(out / name)
    with atomic.replace(out / "index.html") as f:
        f.write(index_html(rows))
    return [out / "index.html", *paths]


def iter_results(db: sqlite_utils.Database) -> Iterator[DocumentResult]:
    """Each document's latest result, loaded one at a time."""
    for rid in store.latest_results(db).values():
        yield store.load_result(db, rid)


def write_json(results: Iterator[DocumentResult], f: TextIO) -> None:
    """A JSON array, written item by item; the same text `json.dumps(list, indent=2)` gives."""
    n = 0
    for r in results:
        item = json.dumps(r.model_dump(mode="json"), ensure_ascii=False, indent=2)
        f.write(("[\n  " if n == 0 else ",\n  ") + item.replace("\n", "\n  "))
        n += 1
    f.write("\n]" if n else "[]")


def write_jsonl(results: Iterator[DocumentResult], f: TextIO) -> None:
    for r in results:
        f.write(json.dumps(r.model_dump(mode="json"), ensure_ascii=False) + "\n")


def write_csv(results: Iterator[DocumentResult], files: dict[str, TextIO]) -> None:
    """Four CSV tables written row by row; every cell passes `csv_cell`."""
    writers = {name: csv.DictWriter(files[name], fieldnames=cols) for name, cols in CSV_COLUMNS.items()}
    for w in writers.values():
        w.writeheader()

    def put(table: str, row: dict[str, Any]) -> None:
        writers[table].writerow({k: csv_cell(v) for k, v in row.items()})

    for r in results:
        put("plans", {"doc_id": r.doc_id, **r.plan.model_dump(mode="json"), "issuers": "、".join(r.plan.issuers)})
        for g in r.goals:
            put("goals", {"doc_id": r.doc_id, **g.model_dump(mode="json")})
        for i, m in enumerate(r.measures):
            put("measures", {"doc_id": r.doc_id, "seq": i, **m.model_dump(mode="json", exclude={"responsibilities"})})
            for x in m.responsibilities:
                put("responsibilities", {"doc_id": r.doc_id, "measure_seq": i, "measure_number": m.number,
                                         **x.model_dump(mode="json")})
