"""Running the eval: gold dir + results database -> scores, stored and reported.

Documents in the gold dir that the run lacks count as all-missed; results with no
gold file are listed but not scored. Each eval is stored (`eval_runs`,
`eval_items`) in the results database so misses can be browsed next to results.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from summarizer.errors import SummarizerError
from summarizer.evaluation.abstracts import abstract_score, summarize_abstracts
from summarizer.evaluation.gold import load_gold_dir
from summarizer.evaluation.report import locate
from summarizer.evaluation.scoring import score_document, summarize
from summarizer.store import db as store


@dataclass
class EvalOutcome:
    eval_id: str
    run_id: str | None
    report: dict[str, Any]
    texts: dict[str, str]
    spans: dict[str, list[tuple[int, int, str]]]


def evaluate(db_path: str | Path, gold_dir: Path, run_id: str | None = None, save: bool = True) -> EvalOutcome:
    db = store.open_db(db_path, create=False)
    golds = load_gold_dir(gold_dir)
    if not golds:
        raise SummarizerError(f"{gold_dir}: no gold files (*.json)")
    if run_id and not db.table("runs").count_where("id = ?", [run_id]):
        raise SummarizerError(f"{db_path}: no run {run_id!r} (see `summarizer runs`)")
    results = store.latest_results(db, run_id)
    scores, texts = [], {}
    spans: dict[str, list[tuple[int, int, str]]] = {}
    abstracts: dict[str, dict[str, Any] | None] = {}
    for doc_id, gold in golds.items():
        rid = results.get(doc_id)
        pred = store.load_result(db, rid) if rid else None
        doc = next(db.table("documents").rows_where("id = ?", [doc_id]), None)
        text = doc["clean_text"] if doc else None
        if text is not None:
            texts[doc_id] = text
        scores.append(score_document(gold, pred, text))
        abstracts[doc_id] = abstract_score(gold, pred, text)
        if text is not None:
            spans[doc_id] = [(x.start, x.end, "pred") for x in (pred.goals + pred.measures if pred else [])]
            for g in gold.goals:
                loc = locate(text, g.quote)
                if loc:
                    spans[doc_id].append((loc[0], loc[1], "gold"))
    report = summarize(scores)
    report["missing_documents"] = sorted(d for d in golds if d not in results)
    report["unscored_documents"] = sorted(d for d in results if d not in golds)
    report["run_id"] = run_id
    report["abstracts"] = summarize_abstracts(abstracts)
    eval_id = uuid.uuid4().hex[:12]
    if save:
        _save(db, eval_id, run_id, gold_dir, report)
    return EvalOutcome(eval_id, run_id, report, texts, spans)


def _save(db, eval_id: str, run_id: str | None, gold_dir: Path, report: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    o = report["overall"]
    with db.atomic():
        db.table("eval_runs").insert(
            {"id": eval_id, "run_id": run_id or "latest", "gold_dir": str(gold_dir),
             "created_at": store.now(), "goals_f1": o["goals"]["f1"], "measures_f1": o["measures"]["f1"],
             "responsibilities_f1": o["responsibilities"]["f1"], "plan_accuracy": o["plan"]["accuracy"],
             "report": json.dumps(report, ensure_ascii=False)},
            pk="id",
        )
        db.table("eval_items").insert_all(
            ({"eval_id": eval_id, "doc_id": doc_id, "kind": e["kind"], "type": e["type"],
              "quote": e.get("quote"), "start": e.get("start"), "end": e.get("end"),
              "detail": json.dumps(e, ensure_ascii=False)}
             for doc_id, d in report["documents"].items() for e in d["errors"]),
            columns={"eval_id": str, "doc_id": str, "kind": str, "type": str, "quote": str,
                     "start": int, "end": int, "detail": str},
        )


def _error_key(doc_id: str, e: dict[str, Any]) -> str:
    fields = ",".join(f["field"] for f in e.get("fields", []))
    return f"{doc_id}|{e['kind']}|{e['type']}|{e.get('quote')}|{e.get('measure', '')}|{fields}"


def compare(db_path: str | Path, gold_dir: Path, run_a: str, run_b: str) -> dict[str, Any]:
    """What got better and worse from run A to run B: metric deltas, fixed, broken."""
    a = evaluate(db_path, gold_dir, run_a, save=False).report
    b = evaluate(db_path, gold_dir, run_b, save=False).report
    deltas = {k: round(b["overall"][k]["f1"] - a["overall"][k]["f1"], 4)
              for k in ("goals", "measures", "responsibilities")}
    ea = {_error_key(d, e) for d, doc in a["documents"].items() for e in doc["errors"]}
    eb = {_error_key(d, e) for d, doc in b["documents"].items() for e in doc["errors"]}
    return {"run_a": run_a, "run_b": run_b, "f1_delta": deltas,
            "fixed": sorted(ea - eb), "broken": sorted(eb - ea),
            "a": {k: a["overall"][k]["f1"] for k in deltas}, "b": {k: b["overall"][k]["f1"] for k in deltas}}
