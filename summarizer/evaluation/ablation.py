"""Ablation: what the model fixed and what it broke, per field and per form category.

Scores two (or three) runs over the same gold files: the rules baseline and a model
run (`local`, and `full` on a server when given). Per metric it reports precision,
recall and F1 for goals, measures and responsibilities and the accuracy of each plan
field; per form category (from a corpus MANIFEST.md, `[national]`, `[prose-duty]` …)
the same F1s; and the errors that disappeared (fixed) or appeared (broken) from the
baseline to each model run, counted by kind and type.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from summarizer.evaluation.evaluate import _error_key, evaluate

METRICS = ("goals", "measures", "responsibilities")
PLAN_FIELDS = ("title", "issuers", "issued_date", "period_start", "period_end")


def categories(manifest: Path | None) -> dict[str, list[str]]:
    """doc_id -> its form categories, read from a MANIFEST.md table (`| d01 | file | [a] [b] |`)."""
    if manifest is None or not manifest.exists():
        return {}
    out: dict[str, list[str]] = {}
    for line in manifest.read_text("utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and re.match(r"^[\w.-]+\.\w+$", cells[1]):
            out[Path(cells[1]).stem] = re.findall(r"\[([\w-]+)\]", cells[2])
    return out


def _prf(docs: list[dict[str, Any]], metric: str) -> dict[str, float]:
    tp = sum(d[metric]["tp"] for d in docs)
    fp = sum(d[metric]["fp"] for d in docs)
    fn = sum(d[metric]["fn"] for d in docs)
    p = tp / (tp + fp) if tp + fp else (1.0 if not fn else 0.0)
    r = tp / (tp + fn) if tp + fn else 1.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def _plan(docs: list[dict[str, Any]]) -> dict[str, float]:
    out = {f: sum(d["plan"]["fields"].get(f, 0) for d in docs) / max(1, len(docs)) for f in PLAN_FIELDS}
    out["accuracy"] = sum(out[f] for f in PLAN_FIELDS) / len(PLAN_FIELDS)
    return out


def parse_run(spec: str) -> tuple[str, str, str | None]:
    """`NAME=DB` or `NAME=DB@RUN_ID` -> (name, db, run id or None: each document's latest result)."""
    name, _, rest = spec.partition("=")
    db, _, rid = rest.partition("@")
    if not name or not db:
        raise ValueError(f"give runs as NAME=DB or NAME=DB@RUN_ID, not {spec!r}")
    return name, db, rid or None


def ablate(gold_dir: Path, runs: dict[str, tuple[str, str | None]], manifest: Path | None = None) -> dict[str, Any]:
    """Scores per run (name -> (db, run id)), per category, and fixed/broken against the first run."""
    reports = {name: evaluate(db, gold_dir, rid, save=False).report for name, (db, rid) in runs.items()}
    cats = categories(manifest)
    names = list(runs)
    base = names[0]
    out: dict[str, Any] = {"runs": {n: f"{db}@{rid}" if rid else db for n, (db, rid) in runs.items()},
                           "overall": {}, "categories": {}, "changes": {}}
    for name, rep in reports.items():
        docs = list(rep["documents"].values())
        out["overall"][name] = {**{m: _prf(docs, m) for m in METRICS}, "plan": _plan(docs)}
        by_cat: dict[str, list[dict[str, Any]]] = {}
        for doc_id, d in rep["documents"].items():
            for c in cats.get(doc_id, []):
                by_cat.setdefault(c, []).append(d)
        for c, ds in sorted(by_cat.items()):
            out["categories"].setdefault(c, {"documents": len(ds)})[name] = {
                **{m: round(_prf(ds, m)["f1"], 3) for m in METRICS}, "plan": round(_plan(ds)["accuracy"], 3)}
    base_err = {_error_key(doc, e): e for doc, d in reports[base]["documents"].items() for e in d["errors"]}
    for name in names[1:]:
        errs = {_error_key(doc, e): e for doc, d in reports[name]["documents"].items() for e in d["errors"]}

        def label(e: dict[str, Any]) -> str:
            fields = ",".join(f["field"] for f in e.get("fields", []))
            return f"{e['kind']} {e['type']}" + (f" ({fields})" if fields else "")

        out["changes"][name] = {
            "fixed": dict(Counter(label(e) for k, e in base_err.items() if k not in errs).most_common()),
            "broken": dict(Counter(label(e) for k, e in errs.items() if k not in base_err).most_common()),
        }
    return out


def markdown(ab: dict[str, Any]) -> str:
    names = list(ab["runs"])
    lines = ["| metric | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for m in METRICS:
        for k in ("precision", "recall", "f1"):
            lines.append(f"| {m} {k} | " + " | ".join(f"{ab['overall'][n][m][k]:.3f}" for n in names) + " |")
    for f in (*PLAN_FIELDS, "accuracy"):
        lines.append(f"| plan {f} | " + " | ".join(f"{ab['overall'][n]['plan'][f]:.3f}" for n in names) + " |")
    if ab["categories"]:
        lines += ["", "| category (docs) | " + " | ".join(
            f"{n} goals / measures / resp. / plan" for n in names) + " |", "|---|" + "---|" * len(names)]
        for c, block in ab["categories"].items():
            cells = [" / ".join(f"{block[n][k]:.2f}" for k in (*METRICS, "plan")) if n in block else "-"
                     for n in names]
            lines.append(f"| {c} ({block['documents']}) | " + " | ".join(cells) + " |")
    for name, ch in ab["changes"].items():
        lines += ["", f"{names[0]} -> {name}: fixed {sum(ch['fixed'].values())}, broken {sum(ch['broken'].values())}"]
        lines += [f"- fixed {n} {k}" for k, n in ch["fixed"].items()]
        lines += [f"- broken {n} {k}" for k, n in ch["broken"].items()]
    return "\n".join(lines)
