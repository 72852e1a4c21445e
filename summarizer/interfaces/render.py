"""One result as people and programs see it: `summarizer show` text and its `--json`.

The JSON is the hand-labeled gold format; `summarizer serve` answers with the same
function, so the CLI and the HTTP service never disagree on a result's shape.
"""

from __future__ import annotations

from typing import Any

from summarizer.models import DocumentResult


def result_json(result: DocumentResult) -> dict[str, Any]:
    """The result as `summarizer show --json` prints it (gold format)."""
    return result.to_gold().dump()

_ROLE_CN = {"lead": "牵头", "support": "配合", "implement": "实施", "responsible": "责任"}
_CMP = {"increase_by": "+", "decrease_by": "-", "at_least": ">=", "at_most": "<=", "about": "~",
        "exactly": "="}


def render_text(result: DocumentResult) -> str:
    p = result.plan
    period = f"{p.period_start or '?'}-{p.period_end or '?'}" if (p.period_start or p.period_end) else "-"
    lines = [
        f"# {p.title or '(untitled)'}  [{result.doc_id}]",
        f"issuers: {'、'.join(p.issuers) or '-'}   issued: {p.issued_date or '-'}   period: {period}",
    ]
    if p.summary:
        lines.append(f"summary: {p.summary}")
    lines.append(f"\n## goals ({len(result.goals)})")
    for g in result.goals:
        value = f"{g.value:g}" + (f"-{g.value_max:g}" if g.value_max is not None else "")
        lines.append(f"  {g.year or '----'}  {_CMP[g.comparator.value]:2} {value}{g.unit or ''}  "
                     f"{g.indicator}    「{g.quote}」@{g.start}")
    lines.append(f"\n## measures ({len(result.measures)})")
    section = None
    for m in result.measures:
        if m.section != section:
            section = m.section
            lines.append(f"  [{section or '-'}]")
        units = "；".join(f"{r.unit}({_ROLE_CN[r.role.value]})" for r in m.responsibilities)
        lines.append(f"    {m.number}. {m.title}" + (f"  — {units}" if units else ""))
    if result.dropped:
        lines.append(f"\n({result.dropped} proposed items failed validation and were dropped)")
    for fault in result.faults:  # a degraded result says so wherever it is shown
        lines.append(f"DEGRADED: {fault}")
    return "\n".join(lines)
