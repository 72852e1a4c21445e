"""Export the latest result of every document as JSON, JSON Lines or CSV."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from summarizer.errors import SummarizerError
from summarizer.store import db as store


def export_results(db_path: str | Path, fmt: str, out: Path) -> list[Path]:
    db = store.open_db(db_path)
    results = [store.load_result(db, rid) for rid in store.latest_results(db).values()]
    if fmt == "json":
        out.write_text(json.dumps([r.model_dump(mode="json") for r in results], ensure_ascii=False,
                                  indent=2), "utf-8")
        return [out]
    if fmt == "jsonl":
        with out.open("w", encoding="utf-8") as f:
            for r in results:
                f.write(json.dumps(r.model_dump(mode="json"), ensure_ascii=False) + "\n")
        return [out]
    if fmt == "csv":
        out.mkdir(parents=True, exist_ok=True)
        tables: dict[str, list[dict[str, object]]] = {"plans": [], "goals": [], "measures": [],
                                                      "responsibilities": []}
        for r in results:
            tables["plans"].append({"doc_id": r.doc_id, **r.plan.model_dump(mode="json"),
                                    "issuers": "、".join(r.plan.issuers)})
            tables["goals"] += [{"doc_id": r.doc_id, **g.model_dump(mode="json")} for g in r.goals]
            for i, m in enumerate(r.measures):
                row = m.model_dump(mode="json", exclude={"responsibilities"})
                tables["measures"].append({"doc_id": r.doc_id, "seq": i, **row})
                tables["responsibilities"] += [
                    {"doc_id": r.doc_id, "measure_seq": i, "measure_number": m.number,
                     **x.model_dump(mode="json")} for x in m.responsibilities
                ]
        written = []
        for name, rows in tables.items():
            path = out / f"{name}.csv"
            with path.open("w", encoding="utf-8-sig", newline="") as f:
                if rows:
                    w = csv.DictWriter(f, fieldnames=list(rows[0]))
                    w.writeheader()
                    w.writerows(rows)
            written.append(path)
        return written
    raise SummarizerError(f"unknown export format {fmt!r}; use json, jsonl or csv")
