"""Eval reports a reviewer reads: Markdown (tables + error lists) and one HTML file.

The HTML report is self-contained (inline CSS, no scripts from anywhere): the
metrics table, then per document the cleaned text with predicted spans and gold
quotes highlighted, misses and spurious items marked, each error linked to its
place in the text. All document text is escaped by Jinja2's autoescape: a
document's `<script>` is shown, never run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, select_autoescape

from summarizer.ingest.textnorm import norm
from summarizer.safe_output import markdown_text

_METRICS = ("goals", "measures", "responsibilities")


def _row(name: str, block: dict[str, Any]) -> list[str]:
    cells = [name]
    for k in _METRICS:
        b = block[k]
        cells.append(f"{b['precision']:.3f} / {b['recall']:.3f} / {b['f1']:.3f}")
    cells.append(f"{block['responsibilities']['lenient']['f1']:.3f}")
    acc = block["plan"]["accuracy"]
    cells.append("-" if acc is None else f"{acc:.2f}")
    g = block["grounding"]["share"]
    cells.append("-" if g is None else f"{g:.3f}")
    return cells


def error_detail(e: dict[str, Any]) -> str:
    """What a reviewer needs beyond the quote: the wrong fields, or the measure and role."""
    if e["kind"] == "wrong_field":
        return "; ".join(f"{f['field']}: gold {f['gold']!r}, predicted {f['predicted']!r}" for f in e["fields"])
    if e["type"] == "responsibility":
        return f"(measure {e['measure']}, role {e['role']})"
    return ""


HEADERS = ["document", "goals P / R / F1", "measures P / R / F1", "responsibilities P / R / F1",
           "resp. lenient F1", "plan acc.", "grounding"]


def markdown_report(report: dict[str, Any]) -> str:
    """The report as Markdown; document text (quotes, ids, details) is HTML-escaped, so it shows, never runs."""
    md = markdown_text
    lines = ["# Eval report", ""]
    if report.get("run_id"):
        lines += [f"Run: `{md(report['run_id'])}`", ""]
    lines += ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    for doc_id, block in report["documents"].items():
        lines.append("| " + " | ".join(_row(md(doc_id), block)) + " |")
    lines.append("| " + " | ".join(_row("**overall**", report["overall"])) + " |")
    if report.get("by_category"):
        lines += ["", "By form category (a document counts in each of its categories):", "",
                  "| " + " | ".join(["category (docs)", *HEADERS[1:]]) + " |", "|" + "---|" * len(HEADERS)]
        for cat, block in report["by_category"].items():
            lines.append("| " + " | ".join(_row(f"{cat} ({block['documents']})", block)) + " |")
    fa = report["overall"]["goals"]["field_accuracy"]
    lines += ["", "Goal field accuracy on matched pairs: "
              + ", ".join(f"{k} {v:.3f}" if v is not None else f"{k} -" for k, v in fa.items()),
              f"Measure section accuracy: {report['overall']['measures']['section_accuracy']}", ""]
    if report.get("abstracts"):
        from summarizer.evaluation.abstracts import abstract_line

        lines += [abstract_line(report["abstracts"]), ""]
    if report.get("missing_documents"):
        lines += [f"Documents with gold but no result (all missed): {md(', '.join(report['missing_documents']))}", ""]
    for doc_id, block in report["documents"].items():
        if not block["errors"]:
            continue
        lines += [f"## {md(doc_id)}", ""]
        for e in block["errors"]:
            where = f" @{e['start']}" if e.get("start") is not None else ""
            detail = md(error_detail(e))
            lines.append(f"- **{e['kind']}** {e['type']}{where}: 「{md(e.get('quote'))}」 {detail}".rstrip())
        lines.append("")
    return "\n".join(lines)


_HTML = """<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><title>Eval report</title>
<style>
body{font-family:system-ui,"Noto Sans CJK SC",sans-serif;margin:2em;max-width:70em}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}
.doc{white-space:pre-wrap;line-height:1.8;border:1px solid #ddd;padding:1em;background:#fcfcfc}
.pred{background:#cfe8ff}.gold{border-bottom:3px solid #2a9d3a}.miss{background:#ffd7d7}
.spur{background:#ffe9b3}.both{background:#e6d9ff}
.legend span{padding:0 .4em;margin-right:.5em}
li{margin:.2em 0}
</style></head><body>
<h1>Eval report</h1>
{% if run_id %}<p>Run: <code>{{ run_id }}</code></p>{% endif %}
<p class="legend"><span class="both">matched, wrong field</span><span class="spur">spurious prediction</span>
<span class="miss">missed gold item</span><span class="pred">prediction</span>
<span class="gold">gold quote</span></p>
<table><tr>{% for h in headers %}<th>{{ h }}</th>{% endfor %}</tr>
{% for row in rows %}<tr>{% for c in row %}<td>{{ c }}</td>{% endfor %}</tr>{% endfor %}
</table>
{% if abstracts %}<p id="abstracts">{{ abstracts }}</p>{% endif %}
{% if missing %}<p>Documents with gold but no result (all missed): {{ missing|join(", ") }}</p>{% endif %}
{% for d in docs %}
<h2 id="{{ d.anchor }}">{{ d.doc_id }}</h2>
<ol>{% for e in d.errors %}<li>{% if e.href %}<a href="#{{ e.href }}">{% endif %}<b>{{ e.kind }}</b> {{ e.type }}{% if e.href %}</a>{% endif %}:
 「{{ e.quote }}」 {{ e.detail }}</li>{% endfor %}</ol>
{% if d.segments %}<div class="doc">{% for s in d.segments %}{% if s.cls %}<span class="{{ s.cls }}"{% if s.id %} id="{{ s.id }}"{% endif %} title="{{ s.title }}">{{ s.text }}</span>{% else %}{{ s.text }}{% endif %}{% endfor %}</div>{% endif %}
{% endfor %}
</body></html>
"""


def locate(text: str, quote: str | None) -> tuple[int, int] | None:
    """Where a gold quote stands in the text (exact, else whitespace-insensitive)."""
    if not quote:
        return None
    i = text.find(quote)
    if i >= 0:
        return i, i + len(quote)
    target = norm(quote)
    for start in range(len(text)):
        if norm(text[start]) and norm(text[start : start + len(quote) + 8]).startswith(target):
            end = start
            while end <= len(text) and not norm(text[start:end]).startswith(target):
                end += 1
            return start, end
    return None


def _segments(text: str, marks: list[tuple[int, int, str, str, str]]) -> list[dict[str, str]]:
    """Split text into plain and highlighted runs; earlier marks win on overlap."""
    owner: list[int | None] = [None] * len(text)
    for n, (a, b, _cls, _id, _t) in enumerate(marks):
        for i in range(max(0, a), min(len(text), b)):
            if owner[i] is None:
                owner[i] = n
    segs: list[dict[str, str]] = []
    anchored: set[str] = set()  # ids already given to a segment (a set: a scan per segment was quadratic)
    i = 0
    while i < len(text):
        k = owner[i]
        j = i
        while j < len(text) and owner[j] == k:
            j += 1
        if k is None:
            segs.append({"text": text[i:j], "cls": "", "id": "", "title": ""})
        else:
            _, _, cls, ident, title = marks[k]
            first = ident not in anchored
            anchored.add(ident)
            segs.append({"text": text[i:j], "cls": cls, "id": ident if first else "", "title": title})
        i = j
    return segs


def html_report(report: dict[str, Any], texts: dict[str, str],
                spans: dict[str, list[tuple[int, int, str]]] | None = None) -> str:
    """Render the report; `spans` adds every predicted ("pred") and gold ("gold") span."""
    rows = [_row(d, b) for d, b in report["documents"].items()] + [_row("overall", report["overall"])]
    docs = []
    for n, (doc_id, block) in enumerate(report["documents"].items()):
        text = texts.get(doc_id, "")
        marks: list[tuple[int, int, str, str, str]] = []
        errors = []
        for k, e in enumerate(block["errors"]):
            span = (e["start"], e["end"]) if e.get("start") is not None else locate(text, e.get("quote"))
            ident = f"d{n}e{k}"
            cls = {"missed": "miss", "spurious": "spur"}.get(e["kind"], "both")
            detail = error_detail(e)
            if span and e["type"] != "plan":
                marks.append((span[0], span[1], cls, ident, f"{e['kind']} {e['type']}"))
            errors.append({**e, "href": ident if span and e["type"] != "plan" else "", "detail": detail})
        for a, b, kind in (spans or {}).get(doc_id, []):
            marks.append((a, b, kind, "", "predicted" if kind == "pred" else "gold"))
        docs.append({"doc_id": doc_id, "anchor": f"doc{n}", "errors": errors,
                     "segments": _segments(text, marks) if text else []})
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    return env.from_string(_HTML).render(headers=HEADERS, rows=rows, docs=docs, run_id=report.get("run_id"),
                                         missing=report.get("missing_documents"),
                                         abstracts=_abstract_line(report))


def _abstract_line(report: dict[str, Any]) -> str:
    from summarizer.evaluation.abstracts import abstract_line

    return abstract_line(report["abstracts"]) if report.get("abstracts") else ""


def write_report(path: Path, content: str) -> Path:
    """Write a report all or nothing (a temp file renamed over it): a full disk keeps the old one."""
    from summarizer.store import atomic

    with atomic.replace(path) as f:
        f.write(content)
    return path
