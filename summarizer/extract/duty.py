"""Responsibility clauses: who leads, supports, implements or answers for a measure.

Plans state duties in a few fixed forms: a labeled note
`（责任单位：A、B；实施单位：C，下同，不再列出）`, a verb form `A牵头，B等部门配合`,
`A、B分别牵头`, `C负责实施`, or a task-table column in either form. This module
turns any such clause into (unit, role) pairs with offsets, and reports units that a
`下同`/`不再列出` rule carries on to the following measures.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from summarizer.extract.scan import char_positions, line_start_matches
from summarizer.models import Role

# Label forms: `责任单位：…`. Longest labels first so 牵头责任单位 wins over 责任单位.
_LABELS: tuple[tuple[str, Role], ...] = (
    ("牵头责任单位", Role.lead), ("主要责任单位", Role.lead), ("牵头单位", Role.lead),
    ("牵头部门", Role.lead), ("牵头", Role.lead),
    ("配合单位", Role.support), ("配合部门", Role.support), ("协同单位", Role.support),
    ("协办单位", Role.support), ("参与单位", Role.support), ("协助单位", Role.support),
    ("实施单位", Role.implement), ("落实单位", Role.implement), ("实施主体", Role.implement),
    ("责任单位", Role.responsible), ("责任部门", Role.responsible),
    ("负责单位", Role.responsible), ("主管部门", Role.responsible),
)
# Labels the list does not name are read by their role word: 牵头考核单位, 推进单位,
# 配合落实部门, 责任主体 (a label is a short noun phrase ending in 单位/部门/主体).
_OPEN_LABEL = (r"[\u4e00-\u9fff]{0,4}(?:牵头|主办|责任|配合|协同|协办|参与|实施|落实|推进|承办)"
               r"[\u4e00-\u9fff]{0,4}?(?:单位|部门|主体)")
_LABEL_RE = re.compile(
    "(" + "|".join(re.escape(w) for w, _ in _LABELS) + "|" + _OPEN_LABEL + r")\s*[:：]\s*"
)
_LABEL_ROLE = dict(_LABELS)


def label_role(label: str) -> Role:
    """The role a duty label gives: a known label, else its role word."""
    if label in _LABEL_ROLE:
        return _LABEL_ROLE[label]
    for words, role in ((("牵头", "主办"), Role.lead), (("配合", "协同", "协办", "参与"), Role.support),
                        (("实施", "落实", "承办"), Role.implement)):
        if any(w in label for w in words):
            return role
    return Role.responsible
# Verb forms after the unit list: longest first.
_VERBS: tuple[tuple[str, Role], ...] = (
    ("分别牵头负责", Role.lead), ("牵头负责", Role.lead), ("分别牵头", Role.lead),
    ("牵头", Role.lead),
    ("按职责分工负责", Role.responsible),
    ("负总责", Role.responsible), ("共同负责", Role.responsible),
    ("负责实施", Role.implement), ("共同实施", Role.implement), ("负责落实", Role.implement),
    ("组织实施", Role.implement), ("具体实施", Role.implement), ("抓好落实", Role.implement),
    ("配合", Role.support), ("协同", Role.support), ("参与", Role.support),
    ("协助", Role.support), ("协办", Role.support),
    ("负责", Role.responsible), ("指导", Role.responsible),
)
_VERB_RE = re.compile(
    r"(?:等有关部门|等相关部门|等有关单位|等相关单位|等部门|等单位|等)?"
    r"(" + "|".join(re.escape(w) for w, _ in _VERBS) + r")$"
)
_VERB_ROLE = dict(_VERBS)
_CARRY_RE = re.compile(r"下同|不再列出|以下均需")
_DROP_TAIL_RE = re.compile(r"(等有关部门|等相关部门|等有关单位|等相关单位|等部门|等单位|等)$")
# A unit name ends in one of these; used to split `A和B` only between two units.
_UNIT_END = "局委办院部厅会室处所站队中心府区县市镇街组社行司团园校门位关构"
FIRST_IS_LEAD_RE = re.compile(r"列第一位(?:者|的)?(?:单位)?为牵头(?:责任)?单位")


@dataclass(frozen=True)
class Duty:
    """One unit with its role, and where its name stands in the text."""

    unit: str
    role: Role
    start: int
    end: int


@dataclass
class DutyNote:
    """A parsed clause: its duties and those a 下同 rule carries forward."""

    duties: list[Duty] = field(default_factory=list)
    carried: list[Duty] = field(default_factory=list)


_BRACKETS_RE = re.compile(r"[（(【\[）)】\]]")


def _split_top(text: str, start: int, end: int, seps: str) -> list[tuple[int, int]]:
    """Split text[start:end] on separators outside brackets (stripped, empty parts left out)."""
    if _BRACKETS_RE.search(text, start, end) is not None:
        cuts = _cuts_outside_brackets(text, start, end, seps)
    else:  # most clauses: every separator cuts, found by one pattern
        cuts = [m.start() for m in _separators(seps).finditer(text, start, end)]
    bounds = zip([start, *(c + 1 for c in cuts)], [*cuts, end])
    return [(s, e) for s, e in (_strip(text, a, b) for a, b in bounds) if s < e]


def _cuts_outside_brackets(text: str, start: int, end: int, seps: str) -> list[int]:
    """Where a separator stands outside brackets in text[start:end] (a walk: brackets nest)."""
    cuts, depth = [], 0
    for i in range(start, end):
        ch = text[i]
        if ch in "（(【[":
            depth += 1
        elif ch in "）)】]":
            depth = max(0, depth - 1)
        elif depth == 0 and ch in seps:
            cuts.append(i)
    return cuts


@functools.lru_cache(maxsize=16)
def _separators(seps: str) -> re.Pattern[str]:
    return re.compile(f"[{re.escape(seps)}]")


def _strip(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a] in " ，,；;。：:":
        a += 1
    while b > a and text[b - 1] in " ，,；;。：:":
        b -= 1
    return a, b


def _units(text: str, a: int, b: int) -> list[tuple[int, int]]:
    """The unit names in a list `A、B和C等部门`, with their spans."""
    m = _DROP_TAIL_RE.search(text[a:b])
    if m:
        b = a + m.start()
    out: list[tuple[int, int]] = []
    for s, e in _split_top(text, a, b, "、/"):
        # `A等国务院相关部门`: A, then the group it belongs to, as the text names it.
        cut = text.find("等", s + 2, e - 2)
        pieces = [(s, cut), (cut + 1, e)] if cut > 0 and re.search(r"部门|单位", text[cut:e]) else [(s, e)]
        for ps, pe in pieces:
            out.extend(_split_conj(text, ps, pe))
    return [(s, e) for s, e in out if e - s >= 2]


def _split_conj(text: str, a: int, b: int) -> list[tuple[int, int]]:
    """Split `A和B` / `A及B` only where A ends like a unit name (not 自然资源和规划局)."""
    depth = 0
    for i in range(a + 1, b - 1):
        ch = text[i]
        if ch in "（(":
            depth += 1
        elif ch in "）)":
            depth -= 1
        elif depth == 0 and ch in "和及与" and text[i - 1] in _UNIT_END + "）)" \
                and not re.match(r"(单位|部门)(?:$|[及和与])", text[i + 1 : b]):  # 部门和单位 is one group
            return [(a, i), *_split_conj(text, i + 1, b)]
    return [(a, b)]


def parse_duty_clause(text: str, start: int, end: int, first_is_lead: bool = False,
                      default_role: Role | None = None) -> DutyNote:
    """Parse text[start:end] (a note's inside or a table cell) into duties.

    default_role is the role of units listed with no label or verb: a task table's
    责任单位 column that just lists `市经信局、市发改委`.
    """
    note = DutyNote()
    seen: set[tuple[str, Role]] = set()
    # Each `；`-separated group, and inside it each `，` segment, names units then a role.
    for g_start, g_end in _split_top(text, start, end, "；;"):
        carry = bool(_CARRY_RE.search(text[g_start:g_end]))
        group: list[Duty] = []
        role_from_label: Role | None = default_role
        for s, e in _split_top(text, g_start, g_end, "，,"):
            seg = text[s:e]
            if _CARRY_RE.fullmatch(seg) or seg.startswith(("下同", "不再列出")):
                continue
            m = _LABEL_RE.match(seg)
            if m:
                role_from_label = label_role(m.group(1))
                s += m.end()
                seg = text[s:e]
            v = _VERB_RE.search(seg)
            role = role_from_label
            if v:
                role = _VERB_ROLE[v.group(1)]
                e = s + v.start()
            if role is None:
                continue
            for us, ue in _units(text, s, e):
                group.append(Duty(text[us:ue], role, us, ue))
        if first_is_lead and group:
            group = [Duty(d.unit, Role.lead if i == 0 else Role.responsible, d.start, d.end)
                     for i, d in enumerate(group)]
        for duty in group:
            if (duty.unit, duty.role) not in seen:
                seen.add((duty.unit, duty.role))
                note.duties.append(duty)
                if carry:
                    note.carried.append(duty)
    return note


_NOTE_OPEN = "（("
_NOTE_CLOSE = {"（": "）", "(": ")"}


def find_notes(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Spans (inside the brackets) of duty notes in text[start:end].

    A note is a bracketed clause that carries a duty label (`责任单位：`) or ends in
    a duty verb (`…牵头`, `…负责实施`); brackets may nest (`区经信局（金融办）`).
    """
    spans: list[tuple[int, int]] = []
    # The opening brackets, found per character (a class search tests every character).
    opens = sorted(p for c in _NOTE_OPEN for p in char_positions(text, c, start, end))
    i, k = start, 0
    while i < end:
        k = bisect.bisect_left(opens, i, k)  # the next opening bracket (a jump, not a loop)
        if k == len(opens):
            break
        i = opens[k]
        j = _close(text, i, end)
        if j is None:
            i += 1
            continue
        inner = text[i + 1 : j]
        if _LABEL_RE.search(inner) or _VERB_RE.search(inner.rstrip("。；;，, ")):
            spans.append((i + 1, j))
        i = j + 1
    # A bare labeled line (`责任单位：市经信局`) at the end of an item counts too.
    for m in line_start_matches(_LABEL_LINE_RE, text[start:end]):  # `^`: tried at line starts only
        spans.append((start + m.start(), start + m.end()))
    return spans


_LABEL_LINE_RE = re.compile(r"(?m)^\s*(?:" + "|".join(w for w, _ in _LABELS) + "|" + _OPEN_LABEL + r")\s*[:：].*$")


def _close(text: str, i: int, end: int) -> int | None:
    depth = 0
    for j in range(i, end):
        if text[j] in "（(":
            depth += 1
        elif text[j] in "）)":
            depth -= 1
            if depth == 0:
                return j
    # Scraped notes sometimes lose their last bracket at the end of the item.
    return None


# ---- duties stated in running text ------------------------------------------------
# `由市发改委牵头，市财政局配合`, `市发展改革委会同相关部门制定…`, `各区政府负责落实`:
# a unit list right before a role verb (or after 会同) inside the measure's own text.
_UNIT_WORD = (r"(?:[\u4e00-\u9fff（）()]{0,24}?(?:部门|单位|人民政府|政府|机关|机构|办公室|局|委|办|部|厅|院|馆|署|"
              r"中心|小组|工作组|指挥部|组|委员会|管委会|街道|乡镇|集团|公司|企业|队伍)|各地区|各地|各部门|各有关方面)")
_UNIT_LIST = rf"{_UNIT_WORD}(?:[、和及与]{_UNIT_WORD})*(?:等(?:有关|相关)?(?:部门|单位)?)?"
_PROSE_VERBS: tuple[tuple[str, Role], ...] = (
    ("牵头负责", Role.lead), ("牵头", Role.lead),
    ("负总责", Role.responsible), ("共同负责", Role.responsible),
    ("负责实施", Role.implement), ("负责落实", Role.implement), ("组织实施", Role.implement),
    ("组织落实", Role.implement), ("共同实施", Role.implement),
    ("按职责分工负责", Role.responsible), ("按照职责分工负责", Role.responsible),
    ("配合", Role.support), ("协同", Role.support), ("参与", Role.support), ("参加", Role.support),
    ("负责", Role.responsible), ("指导", Role.responsible),
)
_PROSE_ROLE = dict(_PROSE_VERBS)
# A modal and a manner phrase may stand between the unit and its verb:
# `地方各级人民政府要按照有关规定全面负责…`, `各区政府应切实负责…`.
_MANNER = r"(?:要|应当|应|须|必须)?(?:按照[^，,。；;]{1,10}?|根据[^，,。；;]{1,10}?)?(?:全面|切实|具体|统一)?"
_PROSE_RE = re.compile(
    rf"(?:^|(?<=[，,。；;：:\s])|(?<=由))(?P<units>{_UNIT_LIST}){_MANNER}(?P<verb>"
    + "|".join(re.escape(v) for v, _ in _PROSE_VERBS) + ")"
)
# `A会同B`, `A要会同B`; `可会同B` after a lead named before (the lead is read on its own).
_WITH_RE = re.compile(
    rf"(?:(?:^|(?<=[，,。；;：:\s])|(?<=由))(?P<a>{_UNIT_LIST})(?:要|应|应当|可|负责)?|(?<=[，,。；;])(?:可|并|要|应)?)"
    rf"会同(?P<b>{_UNIT_LIST})")
# `X对本地区工作负总责`: responsible for what follows 对.
_TOWARD_RE = re.compile(rf"(?:^|(?<=[，,。；;：:\s])|(?<=由))(?P<units>{_UNIT_LIST})对[^，,。；;]{{1,24}}负(?:总)?责")
# `X是…的责任主体`, `X是…的直接责任人`, `X承担…主体责任`: responsible by declaration.
_BEARS_RE = re.compile(rf"(?:^|(?<=[，,。；;：:\s、]))(?P<units>{_UNIT_LIST})(?:(?:是|为|作为)[^，,。；;]{{0,30}}?"
                       rf"(?:责任主体|第一责任人|直接责任人)|承担[^，,。；;]{{0,24}}?责任)")
# Words that end the subject before a unit: 州人民政府授权[州数据资源主管部门]负责…, 或由[…]负责.
_SUBJECT_CUT_RE = re.compile(r"^.*(?:授权|委托|要求|组织|明确|由)|^(?:或|并|同时|和)+")


_HARD_STOPS = "，,。；;"
_HARD_STOP_RE = re.compile(f"[{_HARD_STOPS}]")
_DUTY_NEEDLE = {"toward": re.compile("负"), "bears": re.compile("责任"), "with": re.compile("会同")}


def _clause_matches(rx: re.Pattern[str], needle: re.Pattern[str], text: str, start: int,
                    end: int) -> Iterator[re.Match[str]]:
    """`rx.finditer(text, start, end)`, searched only in the clauses that hold `needle`.

    The same matches: none of these patterns can match across a hard stop (，,。；;) and
    each match holds its needle (a role verb, 负, 责任, 会同), so a clause without one
    holds no match. The patterns open with a unit list tried at every clause start,
    which cost about 0.6 ms per pattern over a document; most clauses have no needle.
    """
    after = start
    for hit in needle.finditer(text, start, end):
        if hit.start() < after:
            continue  # in the clause just searched
        a = max(start, max(text.rfind(c, start, hit.start()) for c in _HARD_STOPS) + 1)
        stop = _HARD_STOP_RE.search(text, hit.end(), end)
        after = stop.start() if stop else end
        yield from rx.finditer(text, a, after)


# `在本单位负责实施的项目中`: the actor's own unit, named by the heading, not a unit of its own.
_SELF_RE = re.compile(r"^(?:在)?本(?:单位|部门|机关|地区|级)")
# A heading that is an administrative unit: a level (各/区/市/县…) and an office word.
_TITLE_UNIT_RE = re.compile(r"(?:各|[市区县州省镇乡]|国家|国务院)[\u4e00-\u9fff（）()]{1,14}?"
                            r"(?:委|局|办|厅|署|部门|单位|人民政府|政府|管委会|委员会|办公室|中心|馆|院)")
_ROLE_VERB_RE = re.compile("|".join(re.escape(v) for v, _ in _PROSE_VERBS))


def titled_unit_duties(title: str, text: str, start: int, end: int) -> list[Duty]:
    """Duties of a measure whose heading is a unit's name (a 职责分工 part: `（一）区建管委`,
    then what it does). The heading is the subject of the body's role verbs that name no
    unit of their own (`牵头协调…，负责…`); with no role verb it is simply responsible."""
    if not _TITLE_UNIT_RE.fullmatch(title):
        return []
    named = {m.start("verb") for m in _clause_matches(_PROSE_RE, _ROLE_VERB_RE, text, start, end)
             if not _SELF_RE.match(m.group("units"))}
    roles: list[Role] = []
    for m in _ROLE_VERB_RE.finditer(text, start, end):
        nxt = text[m.end() : m.end() + 2]
        if m.start() in named or nxt[:1] in ("人", "者") or nxt == "单位":
            continue
        role = _PROSE_ROLE[m.group(0)]
        if role not in roles:
            roles.append(role)
    head = text.find(title, max(0, start - len(title) - 8), end)
    a = head if head >= 0 else start
    return [Duty(title, role, a, a + len(title)) for role in roles or [Role.responsible]]


def prose_duties(text: str, start: int, end: int, skip: list[tuple[int, int]] | None = None) -> list[Duty]:
    """Duties stated in running text within text[start:end], outside the `skip` spans
    (the bracketed notes already read). A sentence with no role word (`X要…`) names none."""
    skip = skip or []
    found: list[tuple[int, Duty]] = []

    def add(a: int, b: int, role: Role) -> None:
        if any(s <= a < e for s, e in skip):
            return
        cut = _SUBJECT_CUT_RE.match(text[a:b])
        if cut:
            a += cut.end()
        for us, ue in _units(text, a, b):
            unit = text[us:ue]
            if len(unit) >= 2 and not _SELF_RE.match(unit):
                found.append((us, Duty(unit, role, us, ue)))

    for m in _clause_matches(_WITH_RE, _DUTY_NEEDLE["with"], text, start, end):
        if m.group("a"):
            add(m.start("a"), m.end("a"), Role.lead)
        add(m.start("b"), m.end("b"), Role.support)
    for m in (*_clause_matches(_TOWARD_RE, _DUTY_NEEDLE["toward"], text, start, end),
              *_clause_matches(_BEARS_RE, _DUTY_NEEDLE["bears"], text, start, end)):
        add(m.start("units"), m.end("units"), Role.responsible)
    for m in _clause_matches(_PROSE_RE, _ROLE_VERB_RE, text, start, end):
        nxt = text[m.end("verb") : m.end("verb") + 1]
        if nxt in ("人", "者") or text[m.end("verb"):].startswith("单位"):
            continue  # 负责人, 牵头单位: a noun, not a role statement
        role = _PROSE_ROLE[m.group("verb")]
        if role is Role.support and nxt and nxt not in "，,。；;、）)":
            continue  # 健全部门协同机制: a noun phrase; a support role ends its clause
        add(m.start("units"), m.end("units"), role)
    found.sort(key=lambda x: x[0])
    out, seen = [], set()
    for _, d in found:
        if (d.unit, d.role) not in seen:
            seen.add((d.unit, d.role))
            out.append(d)
    return out
