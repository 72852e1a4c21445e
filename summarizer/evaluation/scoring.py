"""Scoring a result against a gold file: P/R/F1 with optimal one-to-one matching.

Matching is an assignment problem (scipy's `linear_sum_assignment`), so the score
does not depend on item order or on greedy choices. Texts are compared as the gold
format says: NFKC, whitespace removed. Everything here is pure: data in, numbers
and error lists out, so reports, the CLI and tests share one scorer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from summarizer.ingest.textnorm import norm
from summarizer.models import DocumentResult, GoldFile, GoldGoal, GoldMeasure

# Units that scale: a value in one is converted to the gold unit before comparing.
_SCALE = {"元": ("元", 1), "万元": ("元", 1e4), "亿元": ("元", 1e8), "亩": ("亩", 1),
          "万亩": ("亩", 1e4), "人": ("人", 1), "万人": ("人", 1e4), "吨": ("吨", 1),
          "万吨": ("吨", 1e4), "千瓦": ("千瓦", 1), "万千瓦": ("千瓦", 1e4), "美元": ("美元", 1),
          "万美元": ("美元", 1e4), "亿美元": ("美元", 1e8)}
GOAL_FIELDS = ("indicator", "unit", "comparator", "year", "value_max")


@dataclass
class PRF:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, other: PRF) -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn

    def as_dict(self) -> dict[str, float | int]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else (1.0 if not self.fn else 0.0)
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4),
                "tp": self.tp, "fp": self.fp, "fn": self.fn}


@dataclass
class DocScore:
    """One document's scores and every error a reviewer should look at."""

    doc_id: str
    goals: PRF = field(default_factory=PRF)
    measures: PRF = field(default_factory=PRF)
    responsibilities: PRF = field(default_factory=PRF)
    responsibilities_lenient: PRF = field(default_factory=PRF)
    goal_fields: dict[str, list[int]] = field(default_factory=dict)  # field -> [right, total]
    section: list[int] = field(default_factory=lambda: [0, 0])
    role: list[int] = field(default_factory=lambda: [0, 0])  # units both sides name: [same roles, total]
    plan_fields: dict[str, bool] = field(default_factory=dict)
    grounding: list[int] = field(default_factory=lambda: [0, 0])
    errors: list[dict[str, Any]] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)  # form categories (gold's `categories`)


def overlap(a: str, b: str) -> float:
    """Share of the shorter text found in the longer, in matching blocks."""
    a, b = norm(a), norm(b)
    if not a or not b:
        return 0.0
    if a in b or b in a:
        return 1.0
    same = sum(m.size for m in SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks())
    return same / min(len(a), len(b))


def values_equal(pred_value: float, pred_unit: str | None, gold_value: float, gold_unit: str | None) -> bool:
    """Numeric equality, converting 万/亿 only where the gold unit says so."""
    if abs(pred_value - gold_value) < 1e-6 * max(1.0, abs(gold_value)):
        return True
    pu, gu = _SCALE.get(norm(pred_unit)), _SCALE.get(norm(gold_unit))
    if pu and gu and pu[0] == gu[0]:
        return abs(pred_value * pu[1] - gold_value * gu[1]) < 1e-6 * max(1.0, abs(gold_value * gu[1]))
    return False


def _assign(score: np.ndarray) -> list[tuple[int, int]]:
    """Optimal one-to-one pairs among positive scores."""
    if score.size == 0:
        return []
    rows, cols = linear_sum_assignment(-score)
    return [(int(r), int(c)) for r, c in zip(rows, cols) if score[r, c] > 0]


def goal_score(p: Any, g: GoldGoal) -> float:
    if not values_equal(p.value, p.unit, g.value, g.unit):
        return 0.0
    ind, quote = overlap(p.indicator, g.indicator), overlap(p.quote, g.quote)
    if ind < 0.5 and quote < 0.6:
        return 0.0
    return 1 + ind + quote + 0.2 * (p.year == g.year) + 0.2 * (norm(p.unit) == norm(g.unit))


def _field_ok(name: str, p: Any, g: Any) -> bool:
    pv, gv = _jsonable(getattr(p, name)), _jsonable(getattr(g, name))
    if name == "indicator":
        return overlap(pv or "", gv or "") >= 0.8
    if pv is None or gv is None:
        return pv is None and gv is None
    if isinstance(pv, int | float) and isinstance(gv, int | float):
        return abs(pv - gv) < 1e-6
    return norm(str(pv)) == norm(str(gv))


def title_score(p_title: str, g_title: str, p_pos: float, g_pos: float) -> float:
    sim = overlap(p_title, g_title)
    ratio = SequenceMatcher(None, norm(p_title), norm(g_title), autojunk=False).ratio()
    if max(sim, ratio) < 0.6:
        return 0.0
    return sim + ratio + 0.3 * (1 - abs(p_pos - g_pos))


def _section_norm(s: str | None) -> str:
    return norm(s).rstrip("。.;；:：") if s else ""


def score_document(gold: GoldFile, pred: DocumentResult | None, text: str | None = None) -> DocScore:
    """Score one document; pred None means the run has no result (all missed)."""
    out = DocScore(gold.doc_id, categories=gold_categories(gold))
    pred = pred or DocumentResult(doc_id=gold.doc_id)
    _score_goals(out, gold, pred)
    pairs = _score_measures(out, gold, pred)
    _score_duties(out, gold, pred, pairs)
    _score_plan(out, gold, pred)
    if text is not None:
        for item in [*pred.goals, *pred.measures]:
            out.grounding[1] += 1
            out.grounding[0] += text[item.start : item.end] == item.quote
    return out


def _score_goals(out: DocScore, gold: GoldFile, pred: DocumentResult) -> None:
    gg, pg = gold.goals, pred.goals
    m = np.array([[goal_score(p, g) for g in gg] for p in pg]).reshape(len(pg), len(gg))
    pairs = _assign(m)
    out.goals = PRF(tp=len(pairs), fp=len(pg) - len(pairs), fn=len(gg) - len(pairs))
    out.goal_fields = {f: [0, 0] for f in GOAL_FIELDS}
    matched_p = {p for p, _ in pairs}
    matched_g = {g for _, g in pairs}
    for pi, gi in pairs:
        wrong = []
        for f in GOAL_FIELDS:
            ok = _field_ok(f, pg[pi], gg[gi])
            out.goal_fields[f][1] += 1
            out.goal_fields[f][0] += ok
            if not ok:
                wrong.append({"field": f, "gold": _jsonable(getattr(gg[gi], f)),
                              "predicted": _jsonable(getattr(pg[pi], f))})
        if wrong:
            out.errors.append({"kind": "wrong_field", "type": "goal", "quote": gg[gi].quote,
                               "start": pg[pi].start, "end": pg[pi].end, "fields": wrong})
    for gi, g in enumerate(gg):
        if gi not in matched_g:
            out.errors.append({"kind": "missed", "type": "goal", "quote": g.quote,
                               "item": g.model_dump(mode="json")})
    for pi, p in enumerate(pg):
        if pi not in matched_p:
            out.errors.append({"kind": "spurious", "type": "goal", "quote": p.quote, "start": p.start,
                               "end": p.end, "item": p.model_dump(mode="json", include=set(GoldGoal.model_fields))})


def _score_measures(out: DocScore, gold: GoldFile, pred: DocumentResult) -> dict[int, int]:
    gm, pm = gold.measures, pred.measures
    m = np.array([
        [title_score(p.title, g.title, i / max(1, len(pm)), j / max(1, len(gm))) for j, g in enumerate(gm)]
        for i, p in enumerate(pm)
    ]).reshape(len(pm), len(gm))
    pairs = dict(_assign(m))  # pred index -> gold index
    out.measures = PRF(tp=len(pairs), fp=len(pm) - len(pairs), fn=len(gm) - len(pairs))
    for pi, gi in pairs.items():
        out.section[1] += 1
        if _section_norm(pm[pi].section) == _section_norm(gm[gi].section):
            out.section[0] += 1
        else:
            out.errors.append({"kind": "wrong_field", "type": "measure", "quote": pm[pi].quote,
                               "start": pm[pi].start, "end": pm[pi].end,
                               "fields": [{"field": "section", "gold": gm[gi].section,
                                           "predicted": pm[pi].section}]})
    gold_hit = set(pairs.values())
    for gi, g in enumerate(gm):
        if gi not in gold_hit:
            out.errors.append({"kind": "missed", "type": "measure", "quote": g.title,
                               "item": {"number": g.number, "title": g.title, "section": g.section}})
    for pi, p in enumerate(pm):
        if pi not in pairs:
            out.errors.append({"kind": "spurious", "type": "measure", "quote": p.quote, "start": p.start,
                               "end": p.end, "item": {"number": p.number, "title": p.title}})
    return pairs


def _score_duties(out: DocScore, gold: GoldFile, pred: DocumentResult, pairs: dict[int, int]) -> None:
    def gold_set(g: GoldMeasure, lenient: bool) -> set[tuple[str, str]]:
        return {(norm(r.unit), "" if lenient else r.role.value) for r in g.responsibilities}

    for lenient, prf in ((False, out.responsibilities), (True, out.responsibilities_lenient)):
        to_gold = {gi: pi for pi, gi in pairs.items()}
        for gi, g in enumerate(gold.measures):
            gs = gold_set(g, lenient)
            pi = to_gold.get(gi)
            ps = set()
            if pi is not None:
                ps = {(norm(r.unit), "" if lenient else r.role.value) for r in pred.measures[pi].responsibilities}
            prf.add(PRF(tp=len(gs & ps), fp=len(ps - gs), fn=len(gs - ps)))
            if not lenient:
                _score_roles(out, g, pred.measures[pi] if pi is not None else None)
                for unit, role in sorted(gs - ps):
                    out.errors.append({"kind": "missed", "type": "responsibility", "quote": unit,
                                       "measure": f"{g.number} {g.title}", "role": role})
                for unit, role in sorted(ps - gs):
                    out.errors.append({"kind": "spurious", "type": "responsibility", "quote": unit,
                                       "measure": f"{g.number} {g.title}", "role": role})
        for pi, p in enumerate(pred.measures):
            if pi not in pairs:
                n = len({(r.unit, r.role) for r in p.responsibilities})
                prf.add(PRF(fp=n))


def gold_categories(gold: GoldFile) -> list[str]:
    """The form categories a gold file names (an extra key the contract allows)."""
    cats = (gold.model_extra or {}).get("categories") or []
    return [str(c) for c in cats] if isinstance(cats, list) else []


def _title_key(title: str | None) -> str:
    """Titles compare without book-title marks anywhere (the contract drops 《》)."""
    return norm((title or "").replace("《", "").replace("》", ""))


def _score_roles(out: DocScore, g: GoldMeasure, p: Any) -> None:
    """Role accuracy: of the units both gold and the result name for a matched measure,
    the share given the same roles. Strict responsibility F1 mixes a wrong unit and a
    wrong role; this field tells the role reading apart from the unit reading."""
    if p is None:
        return
    gold_roles: dict[str, set[str]] = {}
    pred_roles: dict[str, set[str]] = {}
    for r in g.responsibilities:
        gold_roles.setdefault(norm(r.unit), set()).add(r.role.value)
    for r in p.responsibilities:
        pred_roles.setdefault(norm(r.unit), set()).add(r.role.value)
    for unit in gold_roles.keys() & pred_roles.keys():
        out.role[1] += 1
        out.role[0] += gold_roles[unit] == pred_roles[unit]


def _score_plan(out: DocScore, gold: GoldFile, pred: DocumentResult) -> None:
    gp, pp = gold.plan, pred.plan
    out.plan_fields = {
        "title": _title_key(gp.title) == _title_key(pp.title),
        "issuers": {norm(x) for x in gp.issuers} == {norm(x) for x in pp.issuers},
        "issued_date": gp.issued_date == pp.issued_date,
        "period_start": gp.period_start == pp.period_start,
        "period_end": gp.period_end == pp.period_end,
    }
    for name, ok in out.plan_fields.items():
        if not ok:
            out.errors.append({"kind": "wrong_field", "type": "plan", "quote": name, "fields": [
                {"field": name, "gold": _jsonable(getattr(gp, name)), "predicted": _jsonable(getattr(pp, name))}]})


def _jsonable(v: Any) -> Any:
    if hasattr(v, "value"):
        return v.value
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return v


def summarize(scores: list[DocScore]) -> dict[str, Any]:
    """Per-document and micro-averaged overall metrics (the `--json` shape)."""

    def block(items: list[DocScore]) -> dict[str, Any]:
        goals, measures, resp, lenient = PRF(), PRF(), PRF(), PRF()
        fields: dict[str, list[int]] = {f: [0, 0] for f in GOAL_FIELDS}
        section, grounding, role = [0, 0], [0, 0], [0, 0]
        plan_ok, plan_n = 0, 0
        plan_fields: dict[str, list[int]] = {}
        for s in items:
            goals.add(s.goals)
            measures.add(s.measures)
            resp.add(s.responsibilities)
            lenient.add(s.responsibilities_lenient)
            for f, (a, b) in s.goal_fields.items():
                fields[f][0] += a
                fields[f][1] += b
            section[0] += s.section[0]
            section[1] += s.section[1]
            role[0] += s.role[0]
            role[1] += s.role[1]
            grounding[0] += s.grounding[0]
            grounding[1] += s.grounding[1]
            for name, ok in s.plan_fields.items():
                plan_fields.setdefault(name, [0, 0])
                plan_fields[name][0] += ok
                plan_fields[name][1] += 1
                plan_ok += ok
                plan_n += 1
        return {
            "goals": {**goals.as_dict(), "field_accuracy": {
                f: round(a / b, 4) if b else None for f, (a, b) in fields.items()}},
            "measures": {**measures.as_dict(), "section_accuracy": round(section[0] / section[1], 4)
                         if section[1] else None},
            "responsibilities": {**resp.as_dict(), "lenient": lenient.as_dict(),
                                 "role_accuracy": round(role[0] / role[1], 4) if role[1] else None},
            "plan": {"accuracy": round(plan_ok / plan_n, 4) if plan_n else None,
                     "fields": {k: round(a / b, 4) for k, (a, b) in plan_fields.items()}},
            "grounding": {"share": round(grounding[0] / grounding[1], 4) if grounding[1] else None,
                          "checked": grounding[1]},
        }

    by_category: dict[str, list[DocScore]] = {}
    for s in scores:
        for cat in s.categories:
            by_category.setdefault(cat, []).append(s)
    return {
        "overall": block(scores),
        "by_category": {c: {**block(items), "documents": len(items)} for c, items in sorted(by_category.items())},
        "documents": {s.doc_id: {**block([s]), "errors": s.errors} for s in scores},
    }
