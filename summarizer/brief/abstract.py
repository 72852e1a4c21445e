"""A document's abstract: 2-4 plain sentences (at most 200 characters), fact-checked.

The model writes it from the extracted items only (plan, goals, measures, units, as a
compact list: `abstract_input`), which keeps the call cheap. Whatever it writes must
pass `check_abstract`: the length and sentence limits and the fact check
(`summarizer.brief.factcheck`). When no model is asked (`rules`, `--abstract
template`), or its answers keep failing, or it cannot be reached, the deterministic
`template_abstract` is used; it is built from the same items, so its facts are
supported by construction (and checked all the same).

`add_summaries` is what the pipeline calls for every result: the abstract plus the
extractive one-line summary of every measure.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from summarizer.brief.factcheck import Evidence, unsupported
from summarizer.brief.measure_summary import with_summaries
from summarizer.models import DocumentResult, GroundedGoal, SummarySource

MAX_CHARS = 200
# The prompt asks for 2-4 sentences; one sentence within the length is accepted (the 1.5B model
# often writes one, and its facts are what the check is for), more than four is not.
MIN_SENTENCES, MAX_SENTENCES = 1, 4
_DOCNO_RE = re.compile(
    r"([\u4e00-\u9fff]{2,8})\s*[〔\[［【(（]\s*((?:19|20)\d{2})\s*[〕\]］】)）]\s*(第?\s*\d{1,4}\s*号)")
_CMP_WORDS = {"increase_by": "增长{v}", "decrease_by": "下降{v}", "at_least": "达到{v}以上",
              "at_most": "控制在{v}以内", "about": "约{v}", "exactly": "达到{v}"}


@dataclass
class ModelAbstract:
    """What asking the model gave: the checked text (None: nothing usable), answers checked, why not."""

    text: str | None
    asks: int
    note: str = ""


AskAbstract = Callable[[str, DocumentResult], ModelAbstract | None]


# The bracketed year and number alone: found first, so _DOCNO_RE (whose leading CJK run
# would be tried at every character of the head) starts just before it.
_DOCNO_TAIL_RE = re.compile(r"[〔\[［【(（]\s*(?:19|20)\d{2}\s*[〕\]］】)）]\s*第?\s*\d{1,4}\s*号")


def find_docno(text: str) -> str | None:
    """The document's 文号 (某政发〔2021〕12号) from its head, as written; None if it states none."""
    head = text[:3000]
    tail = _DOCNO_TAIL_RE.search(head)
    if not tail:
        return None
    start = tail.start()
    while start > 0 and head[start - 1].isspace():
        start -= 1
    m = _DOCNO_RE.search(head, max(0, start - 8))  # no match can start earlier (8 CJK at most)
    if not m:
        return None
    code = m.group(1)
    line_start = m.start() == 0 or text[m.start() - 1] in "\n \u3000"
    number = re.sub(r"\s", "", m.group(3))
    return (code if line_start else code[-4:]) + f"〔{m.group(2)}〕{number}"


def fmt_value(v: float) -> str:
    """1200.0 -> 1200, 1.50 -> 1.5 (never 1.2e+03)."""
    return str(int(v)) if float(v).is_integer() else f"{v:f}".rstrip("0").rstrip(".")


def goal_phrase(g: GroundedGoal) -> str:
    value = fmt_value(g.value) + (f"—{fmt_value(g.value_max)}" if g.value_max is not None else "") + (g.unit or "")
    return f"{g.indicator}{_CMP_WORDS[g.comparator.value].format(v=value)}"


def headline_goals(result: DocumentResult, n: int) -> list[GroundedGoal]:
    """The goals an abstract names: dated ones first, the plan's last year first, short ones."""
    dated = [g for g in result.goals if g.year and len(g.indicator) <= 24]
    dated.sort(key=lambda g: (-(g.year or 0), g.start))
    return dated[:n]


def lead_units(result: DocumentResult, n: int) -> list[tuple[str, int]]:
    """The units that lead most measures (or, when none is marked lead, are named most), with counts."""
    leads = Counter(r.unit for m in result.measures for r in m.responsibilities if r.role.value == "lead")
    if not leads:
        leads = Counter(r.unit for m in result.measures for r in m.responsibilities)
    return leads.most_common(n)


def _date(result: DocumentResult) -> str | None:
    d = result.plan.issued_date
    return f"{d.year}年{d.month}月{d.day}日" if d else None


def _period(result: DocumentResult) -> str | None:
    p = result.plan
    if p.period_start and p.period_end:
        return f"{p.period_start}—{p.period_end}年"
    if p.period_end:
        return f"至{p.period_end}年"
    return None


def abstract_input(text: str, result: DocumentResult) -> str:
    """The compact list of extracted items the model writes the abstract from."""
    p = result.plan
    lines = [f"标题：{p.title}"] if p.title else []  # a missing field is left out: a placeholder gets echoed
    if p.issuers:
        lines.append(f"发文机关：{'、'.join(p.issuers)}")
    if _date(result):
        lines.append(f"成文日期：{_date(result)}")
    docno = find_docno(text)
    if docno:
        lines.append(f"文号：{docno}")
    if _period(result):
        lines.append(f"实施期：{_period(result)}")
    goals = headline_goals(result, 6)
    if goals:
        lines.append(f"量化目标（共{len(result.goals)}项，列出{len(goals)}项）：")
        lines += [f"- 到{g.year}年，{goal_phrase(g)}" for g in goals]
    sections = list(dict.fromkeys(m.section for m in result.measures if m.section))
    if result.measures:
        part = f"，分{len(sections)}部分：{'；'.join(s[:20] for s in sections[:6])}" if sections else ""
        lines.append(f"措施：共{len(result.measures)}项{part}")
    units = lead_units(result, 5)
    if units:
        lines.append("牵头单位（牵头措施数）：" + "、".join(f"{u}（{c}）" for u, c in units))
    return "\n".join(lines)


def template_abstract(text: str, result: DocumentResult) -> str:
    """The deterministic abstract: what the document is, headline targets, measures and lead units.

    Parts are dropped (goals, then units, then the date and 文号) and the title shortened
    until it fits MAX_CHARS; every fact comes from the extracted items.
    """
    p = result.plan
    docno = find_docno(text)

    def build(n_goals: int, n_units: int, detail: bool, title_max: int) -> str:
        title = p.title or "本文件（未载标题）"  # the rules found no title: say so rather than name nothing
        title = f"《{title[:title_max]}{'…' if len(title) > title_max else ''}》" if p.title else title
        who = f"由{'、'.join(p.issuers[:2])}" if p.issuers else ""
        when = f"于{_date(result)}" if detail and _date(result) else ""
        no = f"（{docno}）" if detail and docno else ""
        period = f"，实施期{_period(result)}" if _period(result) else ""
        first = f"{title}{who}{when}印发{no}{period}。" if who or when else f"{title}{no}{period}。"
        out = [first]
        goals = headline_goals(result, n_goals)
        if goals:
            out.append("主要目标：" + "；".join(f"到{g.year}年{goal_phrase(g)}" for g in goals) + "。")
        elif result.goals:
            out.append(f"文件提出{len(result.goals)}项量化目标。")
        units = lead_units(result, n_units)
        if result.measures:
            lead = f"，主要由{'、'.join(u for u, _ in units)}牵头" if units else ""
            out.append(f"共{len(result.measures)}项措施{lead}。")
        else:
            out.append("未识别出编号措施。")
        return "".join(out)

    for n_goals, n_units, detail, title_max in ((2, 3, True, 60), (1, 3, True, 60), (1, 2, True, 50),
                                                 (1, 2, False, 50), (0, 2, False, 40), (0, 1, False, 30),
                                                 (0, 0, False, 24)):
        a = build(n_goals, n_units, detail, title_max)
        if len(a) <= MAX_CHARS:
            return a
    return a[:MAX_CHARS - 1] + "。"


def sentences(abstract: str) -> int:
    return len([s for s in re.split(r"[。！？!?]", abstract) if s.strip()])


def check_abstract(abstract: str, ev: Evidence, min_sentences: int = MIN_SENTENCES) -> list[str]:
    """Why an abstract is not acceptable ([] when it is): length, sentences, unsupported facts."""
    problems = []
    a = abstract.strip()
    if not a:
        return ["the abstract is empty"]
    if len(a) > MAX_CHARS:
        problems.append(f"it has {len(a)} characters; write at most {MAX_CHARS}")
    n = sentences(a)
    if not min_sentences <= n <= MAX_SENTENCES:
        problems.append(f"it has {n} sentences; write 2 to {MAX_SENTENCES}")
    bad = unsupported(a, ev)
    if bad:
        problems.append("these facts are not in the document or its extracted items: "
                        + "、".join(str(f) for f in bad) + "; use only figures, years and units from the data")
    return problems


def add_summaries(result: DocumentResult, text: str, ask: AskAbstract | None = None) -> DocumentResult:
    """The result with its abstract (model, else template) and one summary line per measure."""
    measures = with_summaries(text, result.measures)
    notes = list(result.notes)
    got = ask(text, result) if ask is not None else None
    ev = Evidence.of(text, result)
    asks = got.asks if got is not None else 0
    if got is not None and got.text is not None and not check_abstract(got.text, ev):
        summary, source = got.text.strip(), SummarySource.model
    else:
        if got is not None:
            notes.append(f"abstract: no model answer passed ({asks} checked; {got.note}); the template is used")
        summary, source = template_abstract(text, result), SummarySource.template
        bad = check_abstract(summary, ev, min_sentences=1)
        if bad:  # never expected: the template states only extracted items
            notes.append(f"abstract: the template abstract fails its own check: {'; '.join(bad)}")
    plan = result.plan.model_copy(update={"summary": summary, "summary_source": source, "summary_asks": asks})
    return result.model_copy(update={"plan": plan, "measures": measures, "notes": notes})
