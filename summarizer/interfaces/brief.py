"""The brief: one page per document for people who read rather than query.

`load_brief(db, doc_id)` gathers what the page shows from the results database (the
document's latest result, its text and provenance); `brief_html` renders it as one
self-contained HTML file (inline CSS, no scripts), `brief_markdown` as Markdown, and
`index_html` lists many briefs in a sortable table (one small inline script).

Everything from a document (titles, quotes, unit names, file paths) is data: the
HTML templates run with Jinja2's autoescape on, the Markdown goes through
`markdown_text`, and file names written for briefs are derived, never taken raw.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils
from jinja2 import Environment, FileSystemLoader, select_autoescape

from summarizer.brief.abstract import find_docno, fmt_value, template_abstract
from summarizer.errors import SummarizerError
from summarizer.evaluation.report import _segments as text_segments
from summarizer.interfaces.render import _CMP, _ROLE_CN
from summarizer.models import DocumentResult
from summarizer.safe_output import markdown_text
from summarizer.store import db as store
from summarizer.store.units import document_level, issuer_places, resolve

_TEMPLATES = Path(__file__).resolve().parent / "templates"
_ENV = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=select_autoescape(default=True),
                   trim_blocks=True, lstrip_blocks=True)


@dataclass
class Brief:
    """Everything one brief page shows."""

    doc_id: str
    result: DocumentResult
    text: str
    docno: str | None
    abstract: str
    abstract_source: str  # model | template | template (not stored)
    provenance: dict[str, Any]
    goals_by_year: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)
    sections: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)
    units: list[dict[str, Any]] = field(default_factory=list)
    segments: list[dict[str, str]] = field(default_factory=list)
    anchors: set[str] = field(default_factory=set)  # quotes with a place in the shown text (links only to these)

    @property
    def title(self) -> str:
        return self.result.plan.title or self.doc_id

    @property
    def period(self) -> str:
        p = self.result.plan
        if not (p.period_start or p.period_end):
            return "-"
        return f"{p.period_start or '?'}—{p.period_end or '?'}"


def brief_filename(doc_id: str) -> str:
    """A safe file name for a document's brief: its id when plain, else a hash of it."""
    if re.fullmatch(r"[A-Za-z0-9_\-\u4e00-\u9fff][A-Za-z0-9_.\-\u4e00-\u9fff]{0,120}", doc_id):
        return f"{doc_id}.html"
    return f"doc-{hashlib.sha256(doc_id.encode()).hexdigest()[:16]}.html"


def _value(g: Any) -> str:
    v = fmt_value(g.value) + (f"—{fmt_value(g.value_max)}" if g.value_max is not None else "")
    return f"{_CMP[g.comparator.value]} {v}{g.unit or ''}"


def load_brief(db: sqlite_utils.Database, doc_id: str) -> Brief:
    """The brief of a document's latest result; SummarizerError when the database has none."""
    rid = store.latest_results(db).get(doc_id)
    if rid is None:
        raise SummarizerError(f"no result for document {doc_id!r} (see `summarizer runs`)")
    result = store.load_result(db, rid)
    res = db.table("results").get(rid)
    doc = next(db.table("documents").rows_where("id = ?", [doc_id]), None) or {}
    text = doc.get("clean_text") or ""
    if result.plan.summary:
        abstract, source = result.plan.summary, result.plan.summary_source or "template"
    else:  # stored before abstracts existed: the template, said so
        abstract, source = template_abstract(text, result), "template (not stored; re-run to store)"
    run = db.table("runs").get(res["run_id"]) if res.get("run_id") else {}
    provenance = {"source file": doc.get("path"), "sha256": doc.get("sha256") or res.get("sha256"),
                  "backend": res.get("backend"), "model": res.get("model") or "-",
                  "prompt versions": res.get("prompt_version") or "-", "run id": res.get("run_id"),
                  "result id": rid, "extracted at": res.get("created_at"),
                  "run started": run.get("started_at") if run else None}
    marks: list[tuple[int, int, str, str, str]] = []
    by_year: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for i, g in enumerate(result.goals):
        anchor = f"g{i}"
        marks.append((g.start, g.end, "goal", anchor, f"goal: {g.indicator}"))
        by_year[str(g.year) if g.year else "no year"].append(
            {"indicator": g.indicator, "value": _value(g), "quote": g.quote, "anchor": anchor})
    goals_by_year = sorted(by_year.items(), key=lambda kv: (kv[0] == "no year", kv[0]))
    sections: dict[str, list[dict[str, Any]]] = {}
    for i, m in enumerate(result.measures):
        anchor = f"m{i}"
        marks.append((m.start, m.end, "measure", anchor, f"measure {m.number}"))
        line_anchor = ""
        if m.summary_start is not None and m.summary_end is not None and m.summary_end > m.start:
            line_anchor = f"s{i}"
            marks.append((m.summary_start, m.summary_end, "line", line_anchor, f"measure {m.number}: summary"))
        leads = [r.unit for r in m.responsibilities if r.role.value == "lead"]
        others = [f"{r.unit}（{_ROLE_CN[r.role.value]}）" for r in m.responsibilities if r.role.value != "lead"]
        sections.setdefault(m.section or "-", []).append(
            {"number": m.number, "title": m.title, "summary": m.summary, "anchor": anchor,
             "line_anchor": line_anchor, "leads": leads, "others": others})
    level = document_level(result.plan.issuers, (r.unit for m in result.measures for r in m.responsibilities))
    places = issuer_places(result.plan.issuers)
    counts: Counter[str] = Counter()
    roles: dict[str, Counter[str]] = defaultdict(Counter)
    for m in result.measures:
        for r in m.responsibilities:
            name = resolve(r.unit, level, places).canonical
            counts[name] += 1
            roles[name][_ROLE_CN[r.role.value]] += 1
    units = [{"unit": u, "count": n, "roles": "、".join(f"{k}{v}" for k, v in roles[u].most_common())}
             for u, n in counts.most_common()]
    # Quotes are marked in the text; where two overlap the goal wins, then a measure's line, then its heading.
    order = {"goal": 0, "line": 1, "measure": 2}
    marks.sort(key=lambda x: order[x[2]])
    segments = text_segments(text, marks) if text else []
    return Brief(doc_id, result, text, find_docno(text), abstract, str(source), provenance, goals_by_year,
                 list(sections.items()), units, segments, {s["id"] for s in segments if s["id"]})


def brief_html(b: Brief) -> str:
    return _ENV.get_template("brief.html.j2").render(b=b, plan=b.result.plan)


def index_html(briefs: list[dict[str, Any]]) -> str:
    """The sortable list of documents; each row links to its brief (rows: see `index_row`)."""
    return _ENV.get_template("index.html.j2").render(rows=briefs)


def index_row(b: Brief, href: str) -> dict[str, Any]:
    p = b.result.plan
    return {"href": href, "doc_id": b.doc_id, "title": b.title, "issuers": "、".join(p.issuers),
            "date": str(p.issued_date or ""), "period": b.period if b.period != "-" else "",
            "goals": len(b.result.goals), "measures": len(b.result.measures), "source": b.abstract_source,
            "abstract": b.abstract}


def brief_markdown(b: Brief) -> str:
    """The brief as Markdown; document text escaped (`markdown_text`), so tags show, never run."""
    md = markdown_text
    p = b.result.plan

    def cell(s: object) -> str:
        return md(s).replace("|", "\\|").replace("\n", " ")

    lines = [f"# {md(b.title)}", "",
             f"- 发文机关: {md('、'.join(p.issuers) or '-')}", f"- 成文日期: {p.issued_date or '-'}",
             f"- 实施期: {b.period}", f"- 文号: {md(b.docno or '-')}", "",
             f"## 摘要 ({md(b.abstract_source)})", "", md(b.abstract), "", "## 目标", ""]
    for year, goals in b.goals_by_year:
        lines += [f"### {year}", "", "| 指标 | 目标值 | 原文 |", "|---|---|---|"]
        lines += [f"| {cell(g['indicator'])} | {cell(g['value'])} | {cell(g['quote'])} |" for g in goals]
        lines.append("")
    lines += ["## 措施", ""]
    for section, items in b.sections:
        lines += [f"### {md(section)}", ""]
        for m in items:
            who = "；".join(filter(None, ["牵头：" + "、".join(m["leads"]) if m["leads"] else "",
                                          "其他：" + "、".join(m["others"]) if m["others"] else ""]))
            line = f" — {md(m['summary'])}" if m["summary"] else ""
            lines.append(f"- **{md(m['number'])}. {md(m['title'])}**{line}" + (f" ({md(who)})" if who else ""))
        lines.append("")
    lines += ["## 责任单位", "", "| 单位 | 次数 | 角色 |", "|---|---|---|"]
    lines += [f"| {cell(u['unit'])} | {u['count']} | {cell(u['roles'])} |" for u in b.units]
    lines += ["", "## 来源", ""]
    lines += [f"- {k}: {md(v if v is not None else '-')}" for k, v in b.provenance.items()]
    return "\n".join(lines) + "\n"
