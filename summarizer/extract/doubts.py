"""Where the rules are unsure: typed Doubt records for the model to settle.

This module sits on top of whatever the rule readers return. It takes the cleaned
text, the outline and the rules' DocumentResult and marks what the rules could not
settle, one `Doubt` per question a model task can answer:

| kind              | what the rules left                                              | task   |
|-------------------|------------------------------------------------------------------|--------|
| `plan_field`      | a plan field (title, issuers, date of issue) left empty          | plan   |
| `doubtful_goal`   | a rule goal that may be a past figure, a threshold, a subsidy,   | keep   |
|                   | a deadline rather than a target                                  |        |
| `goal_year`       | goals with no year in a document that states year scopes         | year   |
| `stray_duty`      | role verbs (牵头/负责/配合/落实…) outside any recognized note      | duties |
| `target_sentence` | a sentence with figures that did not become goals                | goals  |
| `table_block`     | a block that looks tabular but has no recognized columns         | block  |
| `no_measures`     | a long document with no measures found                           | block  |

Each doubt carries an expected value (`value`): the backend asks the most valuable
first and stops at its token budget. Detection is pure: text in, doubts out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from summarizer.extract.duty import find_notes
from summarizer.extract.goals import year_scopes
from summarizer.extract.structure import Item, Outline
from summarizer.models import DocumentResult


class DoubtKind(StrEnum):
    plan_field = "plan_field"
    doubtful_goal = "doubtful_goal"
    goal_year = "goal_year"
    stray_duty = "stray_duty"
    target_sentence = "target_sentence"
    table_block = "table_block"
    no_measures = "no_measures"


@dataclass(frozen=True)
class Doubt:
    """One question the rules could not settle, about text[start:end]."""

    kind: DoubtKind
    start: int
    end: int
    reason: str
    value: float  # expected gain from asking; higher is asked first
    goals: tuple[int, ...] = ()  # indexes into the rules' goals (keep, year)
    fields: tuple[str, ...] = ()  # plan fields (plan)
    measure: int | None = None  # index into the rules' measures (duties)
    heading: str = ""  # the heading of the part the doubt sits in (keep, year)
    spans: tuple[tuple[int, int], ...] = field(default=())  # pieces to read (plan, goals)


HEAD_CHARS, TAIL_CHARS = 360, 220
LONG_DOC = 3000
_ROLE_RE = re.compile(r"牵头|负责|配合|会同|协同|参加|参与|落实|组织实施")
_UNIT_RE = re.compile(r"[\u4e00-\u9fff]{1,14}(?:部|局|委|办|厅|府|院|会|组|中心|公司|集团|街道|单位|部门)")
_PAST_HEAD = re.compile(r"回顾|成效|进展|形势|现状|成就|过去|基础|取得|完成情况")
_PAST_CUE = re.compile(r"已经|已|了|比上年|同比|较上年|累计完成|过去|上年|分别增长|年均增长")
_INCENTIVE_CUE = re.compile(r"奖励|补贴|补助|资助|贴息|给予|最高|一次性|扶持资金|引导资金|财政贡献|按.{0,12}的")
_THRESHOLD_CUE = re.compile(r"原则上|不小于|以上的|以下的|条件|标准为|导致|造成|凡|对于")
_DEADLINE_CUE = re.compile(r"工作日|日内|小时内|日起")
_SENT_END = "。；;！？\n"
_HEADER_CUE = re.compile(r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|[〇○零一二三四五六七八九]{4}年|〔\d{4}〕\d+号")


def _sentence(text: str, a: int, b: int) -> tuple[int, int]:
    s = max(text.rfind(ch, 0, a) for ch in _SENT_END) + 1
    ends = [i for i in (text.find(ch, b) for ch in _SENT_END) if i >= 0]
    return s, (min(ends) + 1 if ends else len(text))


def _section(outline: Outline, pos: int) -> Item | None:
    """The innermost outline item holding pos."""
    best = None
    for item in outline.items:
        if item.head_start <= pos <= item.body_end and item.style != "table":
            if best is None or item.head_start >= best.head_start:
                best = item
    return best


def _heading(outline: Outline, item: Item | None) -> str:
    if item is None:
        return ""
    line = outline.text[item.head_start : item.line_end]
    return line[:40]


def plan_doubts(text: str, result: DocumentResult, full: bool = False) -> list[Doubt]:
    p = result.plan
    empty = [name for name, v in (("title", p.title), ("issuers", p.issuers), ("issued_date", p.issued_date))
             if not v]
    if full:
        empty += [n for n in ("period_start", "period_end") if getattr(p, n) is None]
    if not empty or len(text) < 600:
        return []
    head = (0, min(len(text), HEAD_CHARS))
    tail = (max(head[1], len(text) - TAIL_CHARS), len(text))
    if not (_HEADER_CUE.search(text[head[0] : head[1]] + text[tail[0] : tail[1]]) or "关于" in text[:120]):
        return []  # an excerpt with no header or signature: nothing for the model to read
    spans = (head, tail) if tail[0] < tail[1] else (head,)
    return [Doubt(DoubtKind.plan_field, 0, len(text), f"plan fields left empty: {', '.join(empty)}",
                  1.0 + 0.3 * len(empty), fields=tuple(empty), spans=spans)]


def goal_doubts(text: str, outline: Outline, result: DocumentResult, full: bool = False) -> list[Doubt]:
    """Rule goals to keep or drop, and goals with no year where years are stated."""
    groups: dict[int, list[int]] = {}
    heads: dict[int, Item | None] = {}
    year_groups: dict[int, list[int]] = {}
    has_scopes = bool(year_scopes(text))
    for n, g in enumerate(result.goals):
        sec = _section(outline, g.start)
        key = sec.head_start if sec else -1
        heads[key] = sec
        s, e = _sentence(text, g.start, g.end)
        sentence = text[s:e]
        before = text[s : g.end]
        cue = (bool(_PAST_HEAD.search(_heading(outline, sec))) or bool(_PAST_CUE.search(before))
               or bool(_INCENTIVE_CUE.search(sentence)) or bool(_THRESHOLD_CUE.search(before))
               or bool(_DEADLINE_CUE.search(text[g.start : g.end + 4])))
        if cue or full:
            groups.setdefault(key, []).append(n)
        if g.year is None and (has_scopes or full):
            year_groups.setdefault(key, []).append(n)
    out: list[Doubt] = []
    for key, idx in groups.items():
        for i in range(0, len(idx), 10):
            part = tuple(idx[i : i + 10])
            a, b = result.goals[part[0]].start, result.goals[part[-1]].end
            out.append(Doubt(DoubtKind.doubtful_goal, a, b, "figures that may not be targets",
                             0.5 + 0.1 * len(part), goals=part, heading=_heading(outline, heads[key])))
    for key, idx in year_groups.items():
        sec = heads[key]
        for i in range(0, len(idx), 12):
            part = tuple(idx[i : i + 12])
            a = sec.head_start if sec else result.goals[part[0]].start
            out.append(Doubt(DoubtKind.goal_year, a, result.goals[part[-1]].end, "goals with no year",
                             0.3 + 0.08 * len(part), goals=part, heading=_heading(outline, sec)))
    return out


def duty_doubts(text: str, outline: Outline, result: DocumentResult, full: bool = False) -> list[Doubt]:
    """Sentences with role verbs inside a measure but outside its recognized notes."""
    out: list[Doubt] = []
    for n, item in enumerate(outline.measures):
        if item.style == "table":
            continue
        a, b = item.head_start, item.body_end
        notes = find_notes(text, a, b)
        pieces: list[tuple[int, int]] = []
        pos = a
        while pos < b:
            s, e = _sentence(text, pos, pos)
            e = min(e, b)
            seg = text[s:e]
            if (s >= a and _ROLE_RE.search(seg) and _UNIT_RE.search(seg)
                    and not any(s <= ns and ne <= e for ns, ne in notes)):
                pieces.append((s, min(e, s + 160)))
            pos = max(e, pos + 1)
        if not pieces:
            continue
        has = n < len(result.measures) and bool(result.measures[n].responsibilities)
        if has and not full:
            continue  # the rules found this measure's duties in a note
        spans = tuple(pieces[:3])
        out.append(Doubt(DoubtKind.stray_duty, spans[0][0], spans[-1][1],
                         "role verbs outside any recognized note", 0.7, measure=n, spans=spans))
    return out


def target_doubts(text: str, residual: list[tuple[int, int]]) -> list[Doubt]:
    """Sentences with figures the rules did not turn into goals (spans from the caller)."""
    return [Doubt(DoubtKind.target_sentence, a, b, "figures that did not become goals", 0.45, spans=((a, b),))
            for a, b in residual]


def block_doubts(text: str, outline: Outline) -> list[Doubt]:
    """Blocks that look tabular with no recognized columns; a long text with no measures."""
    out: list[Doubt] = []
    lines, pos = [], 0
    for line in text.split("\n"):
        lines.append((pos, pos + len(line)))
        pos += len(line) + 1
    run: list[tuple[int, int]] = []

    def flush() -> None:
        if len(run) >= 8:
            a, b = run[0][0], run[-1][1]
            block = text[a:b]
            if re.search(r"责任单位|推进单位|牵头单位|实施单位", block) and not any(
                    a <= m.head_start < b for m in outline.measures):
                for i in range(a, b, 700):
                    j = min(b, i + 700)
                    out.append(Doubt(DoubtKind.table_block, i, j, "tabular block, no recognized columns", 0.6,
                                     spans=((i, j),)))
        run.clear()

    for a, b in lines:
        seg = text[a:b].strip()
        if seg and (len(seg) <= 40 or seg.count("|") >= 2):
            run.append((a, b))
        elif seg and len(seg) <= 160 and run:
            run.append((a, b))  # a task cell runs longer than the other cells
        else:
            flush()
    flush()
    if len(text) > LONG_DOC and not outline.measures:
        out.append(Doubt(DoubtKind.no_measures, 0, min(len(text), 900), "long document, no measures found", 0.3,
                         spans=((0, min(len(text), 900)),)))
    return out


def find_doubts(text: str, outline: Outline, result: DocumentResult,
                residual: list[tuple[int, int]] | None = None, full: bool = False) -> list[Doubt]:
    """Every doubt in a document, most valuable first."""
    doubts = [*plan_doubts(text, result, full), *goal_doubts(text, outline, result, full),
              *duty_doubts(text, outline, result, full), *target_doubts(text, residual or []),
              *block_doubts(text, outline)]
    return sorted(doubts, key=lambda d: (-d.value, d.start))

