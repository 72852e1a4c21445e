"""The precedence policy: how model answers join the rules' result.

The rules' DocumentResult is the backbone; a model answer changes it only as
written here, and tests/test_merge.py covers every clause.

1. **Grounding gate.** A model item joins only when it is grounded (its quote is
   a verbatim span of the cleaned text at its offsets) and passes the same checks as
   a rule item: value in its quote, plausible year, not a figure that qualifies a
   noun (`threshold_in_quote`), not an ordinal (2).
2. **Ordinals are never targets.** A row number, list ordinal or section number
   (`第 1 条`, `第三章`, a table's 序号 cell alone on its line) is never a target
   value, whoever proposed it: such goals are dropped, rule goals included.
3. **Keep or drop.** A rule goal the model judged a past figure, a threshold, a
   subsidy/reward or a procedural deadline is dropped; `target`, `other` or no
   verdict keeps it. A dropped figure is not brought back by another model answer.
4. **New goals.** A model goal joins only where no rule goal reads the same
   figure (overlapping quote, same value). Where both read it, every field of the
   rule goal stands: on disagreement the rules win.
5. **Goal year.** A year from an explicit scope (`到2026年`, read by the rules)
   wins. A model year fills only a goal with no year, and only with a year written
   in the passage the model read (the task validates that).
6. **Measures.** The rules' outline wins. Model measures from an irregular block
   are added only when no rule measure starts inside that block.
7. **Responsibilities.** Rule pairs stay. A model (unit, role) pair is added to
   the measure whose text holds its sentence, unless that unit is already listed for
   the measure (with any role: the rule's role wins).
8. **Plan.** A rule value wins; the model fills only fields the rules left empty
   (the doubt names them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from summarizer.backends.tasks.block import BlockAnswer
from summarizer.backends.tasks.keep import DROP, Verdict
from summarizer.backends.tasks.plan import PlanAnswer
from summarizer.extract.goals import threshold_in_quote, year_scopes
from summarizer.models import DocumentResult, GroundedGoal, GroundedMeasure, Responsibility, Role


@dataclass
class Proposals:
    """Everything valid the model said about one document, by kind."""

    plan: list[tuple[tuple[str, ...], PlanAnswer]] = field(default_factory=list)
    verdicts: dict[int, Verdict] = field(default_factory=dict)  # rule goal index -> verdict
    years: dict[int, int] = field(default_factory=dict)  # rule goal index -> year
    duties: list[tuple[int, list[tuple[str, Role]]]] = field(default_factory=list)  # measure index -> pairs
    goals: list[GroundedGoal] = field(default_factory=list)
    blocks: list[tuple[tuple[int, int], BlockAnswer]] = field(default_factory=list)


_SECTION_NO = re.compile(r"第\s*([\d\s]{1,8}?)\s*[条章节款项篇]")


def is_ordinal(text: str, g: GroundedGoal) -> bool:
    """True when the goal's figure is a row number, list ordinal or section number."""
    digits = f"{g.value:g}"
    window = text[max(0, g.start - 4) : g.end + 3]
    for m in _SECTION_NO.finditer(window):
        if m.group(1).replace(" ", "") == digits:
            return True
    line_start = text.rfind("\n", 0, g.start) + 1
    line_end = text.find("\n", g.start)
    line = text[line_start : len(text) if line_end < 0 else line_end].strip()
    if line.replace(" ", "") == digits:
        return True  # a 序号 cell alone on its line
    return bool(re.match(rf"^\s*{re.escape(digits)}\s*[.．、)）]", text[line_start : g.end]) and
                text[line_start : g.start].strip() == "")


def _same_figure(a: GroundedGoal, b: GroundedGoal) -> bool:
    return a.start < b.end and b.start < a.end and abs(a.value - b.value) < 1e-9


def merge(text: str, rules: DocumentResult, props: Proposals) -> DocumentResult:
    """The rules' result with the model's grounded answers joined by the policy above."""
    notes = list(rules.notes)
    dropped = rules.dropped
    # 2, 3, 5: rule goals
    kept: list[GroundedGoal] = []
    removed: list[GroundedGoal] = []
    n_ord = n_drop = n_year = 0
    for i, g in enumerate(rules.goals):
        if is_ordinal(text, g):
            n_ord += 1
            removed.append(g)
            continue
        if props.verdicts.get(i) in DROP:
            n_drop += 1
            removed.append(g)
            continue
        if g.year is None and i in props.years:
            g = g.model_copy(update={"year": props.years[i]})
            n_year += 1
        kept.append(g)
    # 1, 4: model goals
    scopes = year_scopes(text)
    added = 0
    for g in props.goals:
        if any(_same_figure(g, r) for r in rules.goals) or any(_same_figure(g, k) for k in kept):
            continue
        if is_ordinal(text, g) or threshold_in_quote(text, g.start, g.end, g.value):
            dropped += 1
            continue
        year = next((y for s0, e0, y in reversed(scopes) if s0 <= g.start < e0), None)
        kept.append(g.model_copy(update={"year": year}))
        added += 1
    kept.sort(key=lambda g: (g.start, g.end))
    # 6, 7: measures and duties
    measures = [m.model_copy(deep=True) for m in rules.measures]
    n_duty = 0
    for idx, pairs in props.duties:
        if idx >= len(measures):
            continue
        m = measures[idx]
        have = {r.unit for r in m.responsibilities}
        for unit, role in pairs:
            if unit not in have:
                m.responsibilities.append(Responsibility(unit=unit, role=role))
                have.add(unit)
                n_duty += 1
    n_meas = 0
    for (a, b), ans in props.blocks:
        if any(a <= m.start < b for m in rules.measures):
            continue
        for item in ans.m:
            pos = text.find(item.t, a, b)
            if pos < 0:
                continue
            measures.append(GroundedMeasure(
                number=item.n, title=item.t, section=None, start=pos, end=pos + len(item.t), quote=item.t,
                responsibilities=[Responsibility(unit=u.strip(), role=Role.responsible) for u in item.u if u.strip()],
            ))
            n_meas += 1
    measures.sort(key=lambda m: m.start)
    # 8: plan
    plan = rules.plan.model_copy(deep=True)
    filled = []
    for fields, ans in props.plan:
        for name in fields:
            value = {"title": ans.t, "issuers": ans.i, "issued_date": ans.date, "period_start": ans.s,
                     "period_end": ans.e}[name]
            if value and not getattr(plan, name):
                setattr(plan, name, value)
                filled.append(name)
    for count, what in ((n_ord, "ordinals dropped as targets"), (n_drop, "rule goals dropped on the model's verdict"),
                        (n_year, "goal years set by the model"), (added, "goals added by the model beyond the rules"),
                        (n_duty, "responsibilities added by the model"), (n_meas, "measures added by the model")):
        if count:
            notes.append(f"{count} {what}")
    if filled:
        notes.append(f"plan fields filled by the model: {', '.join(filled)}")
    return DocumentResult(doc_id=rules.doc_id, plan=plan, goals=kept, measures=measures, dropped=dropped,
                          notes=notes)
