"""The `rules` backend: the deterministic parser, no model. Baseline and backbone."""

from __future__ import annotations

from pydantic import ValidationError

from summarizer.backends import CallStats, Identity, PreparedDoc, register
from summarizer.extract.duty import (
    FIRST_IS_LEAD_RE,
    Duty,
    find_notes,
    parse_duty_clause,
    prose_duties,
    titled_unit_duties,
)
from summarizer.extract.goals import find_goals
from summarizer.extract.indicators import indicator_goals
from summarizer.extract.metadata import extract_plan
from summarizer.extract.structure import Item, Outline, is_review
from summarizer.models import DocumentResult, GroundedGoal, GroundedMeasure, Role


def measure_duties(outline: Outline) -> list[list[Duty]]:
    """Duties per measure, with `下同` rules carried on to the following measures."""
    text = outline.text
    first_is_lead = bool(FIRST_IS_LEAD_RE.search(text))
    carried: list[Duty] = []
    out: list[list[Duty]] = []
    for item in outline.measures:
        own: list[Duty] = []
        spans = _duty_spans(text, item)
        for (a, b), default in spans:
            note = parse_duty_clause(text, a, b, first_is_lead, default)
            own.extend(note.duties)
            carried.extend(d for d in note.carried if d not in carried)
        if item.style != "table":
            notes = [(a - 1, b + 1) for (a, b), _ in spans]
            own.extend(titled_unit_duties(item.title, text, item.head_end, item.body_end))
            own.extend(prose_duties(text, item.head_start, item.body_end, notes))
        seen: set[tuple[str, str]] = set()
        merged = []
        for d in own + carried:
            if (d.unit, d.role) not in seen:
                seen.add((d.unit, d.role))
                merged.append(d)
        out.append(merged)
    return out


_COLUMN_ROLE = {"duty": Role.responsible, "duty:lead": Role.lead, "duty:support": Role.support,
                "duty:implement": Role.implement}


def _duty_spans(text: str, item: Item) -> list[tuple[tuple[int, int], Role | None]]:
    """Where a measure's duties are stated, with the role a bare unit list gets there."""
    if item.style == "table":
        # Lead columns first, so a 牵头单位 | 配合单位 table lists units in reading order.
        return [(item.cells[k], role) for k, role in _COLUMN_ROLE.items() if k in item.cells]
    return [(span, None) for span in find_notes(text, item.head_start, item.body_end)]


def rules_measures(outline: Outline) -> list[GroundedMeasure]:
    measures = []
    for item, duties in zip(outline.measures, measure_duties(outline)):
        measures.append(
            GroundedMeasure(
                number=item.number,
                title=item.title,
                section=outline.section_of(item),
                # As plain data: validated inside the measure's own validation, one call
                # instead of one model __init__ per unit.
                responsibilities=[{"unit": d.unit, "role": d.role} for d in duties],
                start=item.head_start,
                end=item.head_end,
                quote=outline.text[item.head_start : item.head_end],
                body_end=item.body_end,
            )
        )
    return measures


def review_spans(outline: Outline) -> list[tuple[int, int]]:
    """Parts that review the past (工作回顾, 发展基础, 存在问题): their figures are facts."""
    return [(i.head_start, i.body_end) for i in outline.items if is_review(i)]


def rules_goals(text: str, outline: Outline | None = None) -> tuple[list[GroundedGoal], int]:
    goals, dropped = [], 0
    past = review_spans(outline) if outline is not None else []
    table_goals, tables = indicator_goals(text)
    prose = [c for c in find_goals(text) if not any(a <= c.start < b for a, b in tables)]
    for c in sorted(prose + table_goals, key=lambda g: g.start):
        if any(a <= c.start < b for a, b in past):
            continue
        try:
            goals.append(
                GroundedGoal.model_validate(
                    {
                        "indicator": c.indicator, "value": c.value, "value_max": c.value_max,
                        "unit": c.unit, "comparator": c.comparator, "year": c.year,
                        "start": c.start, "end": c.end, "quote": text[c.start : c.end],
                    },
                    context={"text": text},
                )
            )
        except ValidationError:
            dropped += 1
    return goals, dropped


@register("rules")
class RulesBackend:
    """Everything by rule: outline, duties, goals, metadata."""

    cpu_only = True  # no model calls: the pipeline extracts in its worker processes

    def __init__(self, **_: object) -> None:
        self.identity = Identity("rules")
        self.stats = CallStats()

    def extract(self, doc: PreparedDoc) -> DocumentResult:
        goals, dropped = rules_goals(doc.text, doc.outline)
        self.stats.dropped += dropped
        result = DocumentResult(doc_id=doc.doc_id, plan=extract_plan(doc.text), dropped=dropped)
        # Assigned, not passed: pydantic runs a model's after-validators again on an instance
        # passed to another model (every goal's value-in-quote, every item's offsets: about 2%
        # of a worker's instructions), and these items were validated a moment ago, the goals
        # against this text. Assignment marks the fields set, as passing them does.
        result.goals = goals
        result.measures = rules_measures(doc.outline)
        return result
