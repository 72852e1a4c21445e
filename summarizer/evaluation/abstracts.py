"""How the abstracts fared: fact-checked again at eval time, re-asks, fallbacks, gold coverage.

Per document: whether the stored abstract passes the fact check against the stored
text now (`checked`/`passed`), who wrote it, whether the model needed a re-ask
(`summary_asks` >= 2) or the template replaced the model's answers (`fallback`: the
model was asked, the template is stored), and which of the gold goals' values the
abstract states as a figure (a number or percentage the fact checker reads, so a
year or a day of a date does not count as stating a goal's value). The overall share of
gold goal values is summed over documents (micro), so a document with many goals
weighs more.
"""

from __future__ import annotations

from typing import Any

from summarizer.brief.abstract import check_abstract
from summarizer.brief.factcheck import NUM_RE, Evidence, facts_in
from summarizer.models import DocumentResult, GoldFile


def stated_figures(abstract: str) -> set[float]:
    """The figures an abstract states as figures: numbers and percentages, not years, dates or 文号."""
    out = set()
    for f in facts_in(abstract):
        if f.kind in ("number", "percent"):
            m = NUM_RE.search(f.text)
            if m:
                out.add(float(m.group()))
    return out


def abstract_score(gold: GoldFile, pred: DocumentResult | None, text: str | None) -> dict[str, Any] | None:
    """One document's abstract figures; None when it has no stored abstract."""
    if pred is None or not pred.plan.summary:
        return None
    a = pred.plan.summary
    problems = check_abstract(a, Evidence.of(text, pred), min_sentences=1) if text is not None else ["no text"]
    source = pred.plan.summary_source.value if pred.plan.summary_source else "template"
    asks = pred.plan.summary_asks or 0
    values = [g.value for g in gold.goals]
    figures = stated_figures(a)
    stated = sum(any(abs(v - f) < 1e-9 for f in figures) for v in values)
    return {"source": source, "passed": not problems, "problems": problems, "asks": asks,
            "reasked": asks >= 2, "fallback": source == "template" and asks > 0,
            "gold_goals": len(values), "gold_values_stated": stated,
            "gold_value_share": round(stated / len(values), 4) if values else None, "chars": len(a)}


def summarize_abstracts(per_doc: dict[str, dict[str, Any] | None]) -> dict[str, Any]:
    """The eval's abstract block: counts over documents and the micro share of gold goal values."""
    rows = [r for r in per_doc.values() if r is not None]
    goals = sum(r["gold_goals"] for r in rows)
    stated = sum(r["gold_values_stated"] for r in rows)
    return {
        "documents": len(per_doc), "checked": len(rows), "passed": sum(r["passed"] for r in rows),
        "model": sum(r["source"] == "model" for r in rows), "template": sum(r["source"] == "template" for r in rows),
        "reasked": sum(r["reasked"] for r in rows), "fallback": sum(r["fallback"] for r in rows),
        "gold_goals": goals, "gold_values_stated": stated,
        "gold_value_share": round(stated / goals, 4) if goals else None,
        "per_document": per_doc,
    }


def abstract_line(block: dict[str, Any]) -> str:
    """One line for the terminal and the reports."""
    share = block["gold_value_share"]
    return (f"abstracts: {block['checked']} checked, {block['passed']} pass the fact check; "
            f"{block['model']} by the model, {block['template']} template ({block['fallback']} fell back from the "
            f"model); {block['reasked']} needed a re-ask; gold goal values stated: "
            f"{block['gold_values_stated']}/{block['gold_goals']}" + (f" ({share:.1%})" if share is not None else ""))
