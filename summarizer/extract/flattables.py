"""Task tables a scraper flattened to text, read back into rows.

Two shapes are common in the genre once the `|` borders are gone:

- **one row per line, cells split by blanks**: a header line `序号 重点任务 牵头单位
  完成时限`, then rows `5 新增规模以上工业企业50家以上. 经信局`: the serial first,
  the unit list last (a deadline such as `2025年底前` may follow it), the task between;
- **one cell per line**: header cells on consecutive lines (`任务类型` / `序号` /
  `工作任务` / `推进单位`), then per row a serial line, the task line and the unit
  line; group rows (`行动一 …`, `旧区改造`) stand between rows. A merged unit cell is
  printed once, on the first row of its block: a row without its own unit line takes
  the unit of the row above.

Each row becomes a `table` outline item whose cells say where the task and the
duty column are, so duties are read the same way as in a bordered table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEADER_WORDS = ("序号", "编号", "重点任务", "主要任务", "工作任务", "工作内容", "具体任务", "任务内容", "任务类型",
                 "牵头单位", "责任单位", "推进单位", "配合单位", "实施单位", "责任部门", "牵头部门", "完成时限",
                 "完成时间", "时间节点", "具体措施", "目标任务", "工作目标")
_SERIAL_RE = re.compile(r"^\d{1,3}$")
_ROW_RE = re.compile(r"^(\d{1,3})[\s.．、]+(\S.*)$")
_UNIT_TOKEN = (r"(?:各[\u4e00-\u9fff]{1,8}|[\u4e00-\u9fff（）()]{1,20}?"
               r"(?:局|委|办|部|厅|院|署|中心|政府|街道|镇|乡|集团|公司|单位|部门|管委会|委员会|组))")
_UNIT_LIST_RE = re.compile(rf"^{_UNIT_TOKEN}(?:[、，,/]{_UNIT_TOKEN})*(?:等(?:有关|相关)?(?:部门|单位))?$")
_DEADLINE_RE = re.compile(r"^(?:20\d\d年.{0,6}|\d{4}[-—至]\d{4}年?|持续推进|长期坚持|长期|持续|按年度推进|每年)$")


@dataclass
class FlatRow:
    """One task-table row: its serial, task span, duty span (maybe inherited), group label."""

    number: str
    task: tuple[int, int]
    duty: tuple[int, int] | None
    section: str | None
    line_start: int
    line_end: int
    duty_kind: str = "duty"  # the duty column's kind: duty, duty:lead, duty:support…


def column_kind(header: str) -> str:
    """What a task-table column holds. A 分工表 may split duties into a 牵头单位 and a
    配合单位 column; each keeps its role (`duty:lead`, `duty:support`)."""
    if "牵头" in header and "配合" not in header:
        return "duty:lead"
    if any(w in header for w in ("配合", "协同", "参与", "协办")):
        return "duty:support"
    if any(w in header for w in ("实施单位", "落实单位", "实施主体")):
        return "duty:implement"
    if any(w in header for w in ("责任", "单位", "部门")):
        return "duty"
    if any(w in header for w in ("目标", "成效", "预期")):
        return "target"
    if any(w in header for w in ("时限", "时间", "进度")):
        return "deadline"
    if header in ("序号", "编号"):
        return "number"
    return "task"


_CLAUSE_RANK = 3.5  # the （一） clauses inside an article (第五条), below the article
_DECIMAL_RE = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){1,3})\s+(?=[\u4e00-\u9fff])")
_DECIMAL_TOP_RE = re.compile(r"^(\d{1,2})\s+(?=[\u4e00-\u9fff]{2,16}(?:\s|$))")



def _kind(header: str) -> str:
    if header == "任务类型":
        return "group"
    kind = column_kind(header)
    return "duty" if kind.startswith("duty") else kind


def is_unit_list(cell: str) -> bool:
    return bool(_UNIT_LIST_RE.match(cell.replace(" ", "")))


def flat_table_rows(text: str, lines: list[tuple[int, int]]) -> tuple[list[FlatRow], set[int]]:
    """Rows of every flattened task table, and the indices of the lines they use."""
    rows: list[FlatRow] = []
    used: set[int] = set()
    i = 0
    while i < len(lines):
        line = text[lines[i][0] : lines[i][1]].strip()
        tokens = line.split()
        if len(tokens) >= 3 and sum(t in _HEADER_WORDS for t in tokens) >= 2 and all(len(t) <= 8 for t in tokens):
            got, end = _blank_rows(text, lines, i + 1, [_kind(t) for t in tokens],
                                   next((column_kind(t) for t in tokens if _kind(t) == "duty"), "duty"))
        elif line in _HEADER_WORDS:
            got, end = _cell_rows(text, lines, i)
        else:
            got, end = [], i
        if got:
            rows.extend(got)
            used.update(range(i, end))
            i = end
        else:
            i += 1
    return rows, used


def _blank_rows(text: str, lines: list[tuple[int, int]], i: int, kinds: list[str],
                duty_kind: str) -> tuple[list[FlatRow], int]:
    rows: list[FlatRow] = []
    section: str | None = None
    while i < len(lines):
        a, b = lines[i]
        line = text[a:b]
        m = _ROW_RE.match(line.strip())
        if not m:
            if line.strip() and len(line) <= 30 and not rows:
                section = line.strip()  # a group row before the first task row
                i += 1
                continue
            if line.strip() and len(line) <= 30 and not re.search(r"[。；;]", line):
                section = line.strip()
                i += 1
                continue
            break
        body_a = a + line.index(m.group(2))
        parts = [(mm.start() + body_a, mm.end() + body_a) for mm in re.finditer(r"\S+", text[body_a:b])]
        duty: tuple[int, int] | None = None
        if parts and "deadline" in kinds and _DEADLINE_RE.match(text[parts[-1][0] : parts[-1][1]]):
            parts = parts[:-1]
        if len(parts) >= 2 and is_unit_list(text[parts[-1][0] : parts[-1][1]]):
            duty = parts[-1]
            parts = parts[:-1]
        elif rows and "duty" in kinds:
            duty = rows[-1].duty  # a merged unit cell
        if not parts:
            break
        rows.append(FlatRow(m.group(1), (parts[0][0], parts[-1][1]), duty, section, a, b, duty_kind))
        i += 1
    return rows, i


def _cell_rows(text: str, lines: list[tuple[int, int]], i: int) -> tuple[list[FlatRow], int]:
    header: list[str] = []
    j = i
    while j < len(lines) and text[lines[j][0] : lines[j][1]].strip() in _HEADER_WORDS:
        header.append(text[lines[j][0] : lines[j][1]].strip())
        j += 1
    kinds = [_kind(h) for h in header]
    duty_kind = next((column_kind(h) for h in header if _kind(h) == "duty"), "duty")
    if len(header) < 3 or "number" not in kinds or "task" not in kinds:
        return [], i
    after = kinds[kinds.index("number") + 1 :]
    rows: list[FlatRow] = []
    section: str | None = None
    expected = 1
    while j < len(lines):
        cell = text[lines[j][0] : lines[j][1]].strip()
        if _SERIAL_RE.match(cell) and int(cell) == expected:
            k = j + 1
            task = duty = None
            for kind in after:
                if k >= len(lines):
                    break
                nxt = text[lines[k][0] : lines[k][1]].strip()
                if _SERIAL_RE.match(nxt):
                    break
                if kind == "task" and task is None:
                    task = lines[k]
                    k += 1
                elif kind == "duty" and duty is None and is_unit_list(nxt):
                    duty = lines[k]
                    k += 1
                elif kind == "deadline" and _DEADLINE_RE.match(nxt):
                    k += 1
            if task is None:
                break
            if duty is None and rows:
                duty = rows[-1].duty  # a merged unit cell, printed on the block's first row
            rows.append(FlatRow(cell, task, duty, section, lines[j][0], lines[k - 1][1], duty_kind))
            expected += 1
            j = k
            continue
        if cell and len(cell) <= 40 and not re.search(r"[。；;]", cell) and rows is not None:
            section = cell  # a group or sub-type row between task rows
            j += 1
            continue
        break
    return (rows, j) if len(rows) >= 2 else ([], i)
