"""The outline of a policy document: numbered items, their levels, and task tables.

Chinese government documents number their parts in a fixed family of styles
(`第一章`, `一、`, `（一）`, `1.`, `（1）`, `①`) whose relative depth is the same
in every plan, so the outline is built from the styles, not from any one sample.
Task tables (`| 工作内容 | 目标任务 | 责任单位 |`) are read row by row, the section
column carried down. Offsets are into the cleaned text throughout, so every item
can be grounded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from summarizer.extract.flattables import column_kind, flat_table_rows
from summarizer.extract.numbers import CN_NUMERAL
from summarizer.extract.scan import line_start_matches

_CN = f"[{CN_NUMERAL}]+"
# (style, rank, regex): rank orders styles from outermost to innermost.
STYLES: tuple[tuple[str, float, re.Pattern[str]], ...] = (
    ("chapter", 0, re.compile(rf"^第({_CN})[章部篇](?:\s*|、)")),
    ("jie", 0.5, re.compile(rf"^第({_CN})节(?:\s*|、)")),
    ("cn", 1, re.compile(rf"^({_CN})\s?[、.．]\s*")),
    ("paren_cn", 2, re.compile(rf"^[（(]({_CN})[)）]\s*[、.．]?\s*")),
    # 第十二条, and 第 1 7 条 as PDF copy-paste leaves article numbers.
    ("article", 3, re.compile(rf"^第\s*({_CN}|\d(?:\s?\d){{0,2}})\s*条\s*")),
    ("arabic", 3, re.compile(r"^(\d{1,3})(?:[.．](?!\d)|、)\s*")),
    ("paren_arabic", 4, re.compile(r"^[（(](\d{1,3})[)）]\s*[、.．]?\s*")),
    ("circled", 5, re.compile(r"^([①-⑳])\s*")),
)
# Framing items that set out the plan's thinking rather than a task.
FRAMING_TITLES = re.compile(
    r"^(指导思想|总体思路|基本原则|主要目标|发展目标|总体目标|工作目标|目标任务|总体要求|"
    r"发展定位|战略定位|适用范围|编制依据|规划范围|规划期限)$"
)
_ATTACHMENT_RE = re.compile(r"^附件\s*\d*\s*[:：]")
# A project box (`专栏3 重点工程`) lists projects, not the plan's tasks: the run of
# numbered lines right after the box title (a box with a prose body lists nothing).
_BOX_RE = re.compile(r"^专栏\s*\d+")
# A part that reviews the past or describes the situation (工作回顾, 发展基础,
# 面临形势, 存在问题): its numbered items are findings, not tasks, and its figures
# are not targets.
REVIEW_TITLE_RE = re.compile(
    r"(回顾|发展基础|发展现状|现状与形势|面临的?形势|形势与挑战|形势分析|取得的成[效绩就]|主要成[效绩就]|工作成效|"
    r"取得[^，。]{0,4}进展|形势$|存在的?问题|问题与挑战|机遇与挑战|发展环境|规划背景|编制背景|[“\"]?十[一二三四五]五[”\"]?(?:时期|期间)?[^，。]{0,6}(?:成就|成效|回顾|进展))"
)
# `具体措施：` under a task introduces its detailed steps: the task is the measure.
# `凡符合下列情形之一的，为重大事件：1.… 2.…` lists conditions, not tasks.
_DETAIL_LEAD_RE = re.compile(
    r"((具体措施|主要措施|具体举措|工作措施|具体任务)[:：]|(下列|以下)(情形|条件|情况)[^。]{0,20}[:：])\s*$")
_TABLE_HEADER_WORDS = ("责任单位", "牵头单位", "工作内容", "目标任务", "主要任务", "重点任务",
                       "工作任务", "序号", "完成时限", "时间节点", "配合单位", "具体措施")


@dataclass
class Item:
    """A numbered item of the outline (a heading, a task, or a task-table row)."""

    style: str
    rank: float
    number: str
    title: str
    head_start: int  # start of the line (number included)
    head_end: int  # end of number + title
    body_end: int  # end of the whole item, children included
    line_end: int  # end of the item's first line
    parent: Item | None = None
    children: list[Item] = field(default_factory=list)
    cells: dict[str, tuple[int, int]] = field(default_factory=dict)  # table: column -> span
    section_cell: str | None = None
    detail: bool = False  # a step under a task's `具体措施：`, part of that task

    @property
    def is_leaf(self) -> bool:
        return not self.children


@dataclass
class Outline:
    """All numbered items of a cleaned document, in order, with the chosen measures."""

    text: str
    items: list[Item]
    measures: list[Item]

    def section_of(self, item: Item) -> str | None:
        if item.section_cell is not None:
            return item.section_cell
        if item.parent is None:
            return None
        p = item.parent
        return self.text[p.head_start : p.line_end].rstrip("。.;；:： ")


def _lines(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for line in text.split("\n"):
        spans.append((pos, pos + len(line)))
        pos += len(line) + 1
    return spans


_SENTENCE_STOP_RE = re.compile(r"[。；;！？]")
_COMMA_RE = re.compile(r"[，,]")
_CLAUSE_STOP_RE = re.compile(r"[，,；;。：:]")


def _title_span(text: str, start: int, line_end: int, cell: bool = False) -> tuple[int, int]:
    """Where an item's title lies: the heading phrase, or else its first clause.

    A line that is all heading (`（六）聚焦…,构筑…。`) is the title; a heading
    sentence before the body (`1.打造高能级产业大平台。发挥…`) is the title; an
    untitled item (a long first sentence, or a task-table cell) gives its first clause.
    """
    line = text[start:line_end]
    stop = _SENTENCE_STOP_RE.search(line)
    whole = stop is None or not line[stop.end() :].strip()
    sentence = line[: stop.start()] if stop else line.rstrip()
    if whole and not (cell and _COMMA_RE.search(sentence)):
        return start, _trim_end(text, start, start + len(sentence))
    if len(sentence) <= 40 and not _COMMA_RE.search(sentence):
        return start, start + len(sentence)
    clause = _CLAUSE_STOP_RE.search(line)
    end = start + (clause.start() if clause else len(line))
    return start, _trim_end(text, start, end)


def _trim_end(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1] in "。.，,；;：: ":
        end -= 1
    return end


def _split_cells(text: str, start: int, end: int) -> list[tuple[int, int]]:
    cells, pos = [], start
    for part in text[start:end].split("|"):
        a, b = pos, pos + len(part)
        pos = b + 1
        while a < b and text[a] == " ":
            a += 1
        while b > a and text[b - 1] == " ":
            b -= 1
        cells.append((a, b))
    # A leading or trailing pipe leaves an empty edge cell.
    while cells and cells[0][0] == cells[0][1]:
        cells.pop(0)
    while cells and cells[-1][0] == cells[-1][1]:
        cells.pop()
    return cells


def _is_table_line(line: str) -> bool:
    return line.count("|") >= 2


_CLAUSE_RANK = 3.5  # the （一） clauses inside an article (第五条), below the article
_DECIMAL_RE = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){1,3})\s+(?=[\u4e00-\u9fff])")
_DECIMAL_TOP_RE = re.compile(r"^(\d{1,2})\s+(?=[\u4e00-\u9fff]{2,16}(?:\s|$))")


def _match_number(line: str, decimal: bool = False) -> tuple[str, float, str, int] | None:
    """The numbering style, rank, number and heading length of a line, or None.

    With `decimal` (the document numbers its parts `1.1`, `3.2.1`), a dotted number
    ranks by its depth and a bare `1 总则` is a top part."""
    if decimal:
        m = _DECIMAL_RE.match(line) or _DECIMAL_TOP_RE.match(line)
        if m:
            return "decimal", float(m.group(1).count(".") + 1), m.group(1), m.end()
    for style, rank, rx in STYLES:
        m = rx.match(line)
        if m:
            return style, rank, m.group(1), m.end()
    return None


_DECIMAL_LINE_RE = re.compile(r"(?m)^\d{1,2}\.\d{1,2}\s+[\u4e00-\u9fff]")  # a line numbered `3.2 …`


def parse_outline(text: str) -> Outline:
    """Build the outline of cleaned text: items with levels, tables, and measures."""
    items: list[Item] = []
    header: list[str] | None = None
    section_cell: str | None = None
    in_attachments = False
    in_box, box_style = False, None
    decimal = sum(1 for _ in line_start_matches(_DECIMAL_LINE_RE, text)) >= 3
    spans = _lines(text)
    flat_rows, used = flat_table_rows(text, spans)
    for row in flat_rows:
        t_start, t_end = _title_span(text, row.task[0], row.task[1], cell=True)
        item = Item("table", 3, row.number, text[t_start:t_end], row.task[0], t_end, row.line_end, row.line_end)
        item.cells = {"task": row.task, **({row.duty_kind: row.duty} if row.duty else {})}
        item.section_cell = row.section
        items.append(item)
    for n, (start, end) in enumerate(spans):
        if n in used:
            continue
        line = text[start:end]
        if _BOX_RE.match(line):
            in_box, box_style = True, None
            continue
        if in_box:
            found = _match_number(line)
            if found is not None and found[1] >= 2 and box_style in (None, found[0]):
                box_style = found[0]
                continue
            in_box = False  # the box's own run of numbered lines has ended
        if _ATTACHMENT_RE.match(line):
            in_attachments = True
            continue
        if in_attachments:
            # `附件：1.… 2.…` lists attachment titles, not tasks; the list ends at
            # the first line that is not a short numbered title.
            if _match_number(line) and len(line) <= 60 and "。" not in line:
                continue
            in_attachments = False
        if _is_table_line(line):
            cells = _split_cells(text, start, end)
            values = [text[a:b] for a, b in cells]
            if sum(any(w in v for w in _TABLE_HEADER_WORDS) for v in values) >= 2:
                header = [column_kind(v) for v in values]
                section_cell = None
                continue
            row = _table_item(text, cells, header, section_cell, end)
            if row is not None:
                section_cell = row.section_cell
                items.append(row)
            continue
        header = None
        found = _match_number(line, decimal)
        if found is None:
            continue
        style, rank, number, skip = found
        number = number.replace(" ", "")
        if style == "decimal":  # `1.1 编制目的 健全…`: the heading ends at the blank
            gap = re.search(r"\s", text[start + skip : end])
            t_start, t_end = start + skip, (start + skip + gap.start()) if gap else end
        else:
            t_start, t_end = _title_span(text, start + skip, end)
        if t_end <= t_start:
            continue
        if style == "paren_cn" and items and (items[-1].style == "article" or items[-1].rank == _CLAUSE_RANK) \
                and text[: start].rstrip().endswith(("：", ":", "；", ";")):
            rank = _CLAUSE_RANK  # 第五条 …下列情形之一的：（一）… — the article's clauses (项)
        items.append(Item(style, rank, number, text[t_start:t_end], start, t_end, end, end))
    items.sort(key=lambda it: it.head_start)
    items = _drop_contents_list(text, items)
    _link(items, len(text))
    _mark_details(text, items)
    return Outline(text=text, items=items, measures=select_measures(items))


def _drop_contents_list(text: str, items: list[Item]) -> list[Item]:
    """A table of contents lists headings that come again with their text: drop the
    first, bodiless occurrence of a heading that appears again later."""
    later: dict[tuple[str, str], int] = {}
    for i, item in enumerate(items):
        later[(item.number, item.title)] = i
    return [item for i, item in enumerate(items)
            if later[(item.number, item.title)] == i or text[item.head_end : item.line_end].strip()]


def _mark_details(text: str, items: list[Item]) -> None:
    """Fold `具体措施：1．… 2．…` steps into their task: the task stays the measure."""
    for item in items:
        # An article's `（一）…（二）…` are its clauses (项), never tasks of their own.
        if item.children and (item.style == "article"
                              or _DETAIL_LEAD_RE.search(text[item.head_start : item.children[0].head_start])):
            for child in item.children:
                child.detail = True
            item.children = []


# A task heading that names a foundation or a challenge to act on: 夯实发展基础, 破解突出问题.
_TASK_VERB_RE = re.compile(
    r"^(夯实|筑牢|打牢|巩固|强化|加强|推进|推动|提升|加快|破解|解决|聚焦|着力|坚持|完善|健全|深化|优化)")


# Every match of REVIEW_TITLE_RE holds one of these: most titles hold none, and a few substring
# tests cost a tenth of the search (no first character to search for: tried at every position).
_REVIEW_WORDS = ("回顾", "基础", "现状", "形势", "成效", "成绩", "成就", "进展", "问题", "挑战", "环境", "背景", "五")


def is_review(item: Item) -> bool:
    """A part that reviews the past or describes the situation (see REVIEW_TITLE_RE)."""
    title = item.title
    return (any(w in title for w in _REVIEW_WORDS) and REVIEW_TITLE_RE.search(title) is not None
            and not _TASK_VERB_RE.match(title))


def in_review(item: Item) -> bool:
    """True when an item sits in (or is) a part that reviews the past."""
    node: Item | None = item
    while node is not None:
        if is_review(node):
            return True
        node = node.parent
    return False


def _table_item(
    text: str,
    cells: list[tuple[int, int]],
    header: list[str] | None,
    section: str | None,
    line_end: int,
) -> Item | None:
    """One task-table row as an item; extra leading cells hold the section."""
    kinds = list(header or [])
    if header is None:
        kinds = ["task"] + ["target"] * max(0, len(cells) - 2) + ["duty"]
    elif "task" not in kinds and "number" in kinds:
        # 序号 | 主要任务 …: the first non-number, non-duty column holds the task.
        for i, k in enumerate(kinds):
            if k not in ("number", "deadline") and not k.startswith("duty"):
                kinds[i] = "task"
                break
    extra = len(cells) - len(kinds)
    if extra > 0:
        section = text[cells[0][0] : cells[0][1]] or section
        cells = cells[extra:]
    elif extra < 0:
        kinds = kinds[-len(cells) :] if cells else []
    spans = dict(zip(kinds, cells))
    task = spans.get("task")
    if task is None:
        return None
    a, b = task
    found = _match_number(text[a:b])
    number = found[2] if found else ""
    if not found and "number" in spans:
        number = text[spans["number"][0] : spans["number"][1]].strip(".． ")
    if not number:
        return None
    t_start = a + (found[3] if found else 0)
    t_start, t_end = _title_span(text, t_start, b, cell=True)
    item = Item("table", 3, number, text[t_start:t_end], a, t_end, line_end, line_end)
    item.cells = spans
    item.section_cell = section
    return item


def _link(items: list[Item], text_len: int) -> None:
    """Set parents, children and each item's extent from the style ranks (one pass)."""
    stack: list[Item] = []
    for item in items:
        while stack and stack[-1].rank >= item.rank:
            closed = stack.pop()  # the next item of the same or a higher level ends it
            if closed.style != "table":
                closed.body_end = item.head_start - 1
        if stack and item.style != "table":
            item.parent = stack[-1]
            stack[-1].children.append(item)
        stack.append(item)
    for item in stack:
        if item.style != "table":
            item.body_end = text_len


def _is_titled(item: Item) -> bool:
    """A short heading phrase (`海塘达标`), not an untitled sentence (`完成8座水闸的续建，…`)."""
    return len(item.title) <= 16 and not _COMMA_RE.search(item.title)


def _titled_parent_rank(items: list[Item], task_rank: float) -> float:
    """`1.海塘达标。…` with `（1）完成…，…` sentences under it: the titled level is the
    task level and the untitled sentences are its sub-points."""
    level = [i for i in items if i.rank == task_rank and i.style != "table"]
    parents = {id(i.parent): i.parent for i in level if i.parent is not None}
    if not level or not parents or any(p.style == "chapter" for p in parents.values()):
        # 第X章 总则 over 第X条: chapters group a regulation's articles, which are its tasks
        return task_rank
    ranks = {p.rank for p in parents.values()}
    if len(ranks) != 1:
        return task_rank
    titled_parents = sum(_is_titled(p) for p in parents.values()) / len(parents)
    untitled_level = sum(not _is_titled(i) for i in level) / len(level)
    share_under = sum(i.parent is not None for i in level) / len(level)
    if titled_parents >= 0.8 and untitled_level >= 0.5 and share_under >= 0.8 and len(parents) >= 3:
        return ranks.pop()
    return task_rank


def select_measures(items: list[Item]) -> list[Item]:
    """Pick the items that are the plan's measures.

    The task level is the numbering style with the most leaf items, `1.`/`第一条`/table
    rows weighted 1.5x because that is where plans of this genre number their tasks
    (so a few `（1）` sub-points under one task do not outvote the tasks). Its items
    are measures; leaves of a shallower style are measures too
    (e.g. `（一）强化财政支持` under 保障措施) unless they only frame the plan
    (指导思想, 主要目标); leaves deeper than the task level are sub-points of a task.
    """
    items = [i for i in items if not i.detail and not in_review(i)]
    leaves = [i for i in items if i.is_leaf]
    if not leaves:
        return []
    counts: dict[float, int] = {}
    for leaf in leaves:
        counts[leaf.rank] = counts.get(leaf.rank, 0) + 1
    task_rank = max(counts, key=lambda r: (counts[r] * (1.5 if r == 3 else 1.0), r))
    task_rank = _titled_parent_rank(items, task_rank)
    chosen = []
    for item in items:
        if item.rank == task_rank or (item.is_leaf and item.rank < task_rank and not FRAMING_TITLES.match(item.title)):
            chosen.append(item)
    return chosen
