"""主要指标 tables of five-year and sector plans: each target-year cell is a goal.

A plan's indicator table has a header naming the indicator, often its 属性
(预期性/约束性), and value columns labeled by year (`基准值（2020年）`,
`目标值（2025年）`, `2035年`). Scraped text keeps it in one of two shapes:

- one cell per line (a table copied out of a page or a PDF): a serial number line
  `1`, the indicator name, the attribute, then one line per value, a unit sometimes
  on its own line (`120.14` / `平方公里`), header labels split over lines too;
- one row per line with `|` between cells (Markdown or a converter's output).

The reader finds the header, works out which columns are targets (a `目标`/`规划`
label, or any year column after a `基准`/`现状` one), and reads each row's target
cells: value, unit (the cell's, else the indicator's `（%）`), comparator (`≥`, `＞`,
`不低于`, `左右`…) and the column's year. Baseline cells are not goals; `/` and `-`
are empty cells.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from summarizer.extract.goals import UNITS, GoalCandidate
from summarizer.models import Comparator

_YEAR_COL_RE = re.compile(
    r"(?:(?P<kind>基准|现状|基期|目标|规划|预期)[值年]?)?\s*[（(]?\s*(?P<year>20\d\d)\s*年?\s*[)）]?")
_ATTR_RE = re.compile(r"^(预期性|约束性|指导性|预期|约束)$")
_SERIAL_RE = re.compile(r"^\d{1,2}$")
_UNIT_ALT = "|".join(re.escape(u) for u in UNITS)
_CELL_RE = re.compile(
    rf"^(?P<op>≥|≤|＞|＜|>|<|不低于|不少于|不高于|不超过|大于|小于)?\s*(?P<v>\d+(?:\.\d+)?)\s*"
    rf"(?P<unit>{_UNIT_ALT})?\s*(?P<bound>左右|以上|以下|以内)?"
)
_NAME_UNIT_RE = re.compile(rf"[（(](?P<unit>{_UNIT_ALT})[)）]\s*$")
_OP = {"≥": Comparator.at_least, "＞": Comparator.at_least, ">": Comparator.at_least, "不低于": Comparator.at_least,
       "不少于": Comparator.at_least, "大于": Comparator.at_least, "≤": Comparator.at_most, "＜": Comparator.at_most,
       "<": Comparator.at_most, "不高于": Comparator.at_most, "不超过": Comparator.at_most, "小于": Comparator.at_most}
_BOUND = {"左右": Comparator.about, "以上": Comparator.at_least, "以下": Comparator.at_most, "以内": Comparator.at_most}


@dataclass(frozen=True)
class Column:
    year: int
    target: bool


def _columns(header: str) -> list[Column]:
    found = [(m.group("kind") or "", int(m.group("year"))) for m in _YEAR_COL_RE.finditer(header)]
    if not found:
        return []
    has_base = any(k in ("基准", "现状", "基期") for k, _ in found)
    cols = []
    for i, (kind, year) in enumerate(found):
        if kind in ("目标", "规划", "预期"):
            target = True
        elif kind in ("基准", "现状", "基期"):
            target = False
        else:  # bare years: the first is the base when more than one follows
            target = not (i == 0 and len(found) > 1) if not has_base else True
        cols.append(Column(year, target))
    return cols


def _cell_goal(text: str, a: int, b: int, name: str, col: Column) -> GoalCandidate | None:
    cell = text[a:b]
    flat = re.sub(r"\s+", "", cell)
    m = _CELL_RE.match(flat)
    if not m or flat.startswith(("（", "(")):
        return None  # empty (/ or -), or a bracketed reference value
    unit = m.group("unit")
    if unit is None:
        nu = _NAME_UNIT_RE.search(name)
        unit = nu.group("unit") if nu else None
    comp = _OP.get(m.group("op") or "") or _BOUND.get(m.group("bound") or "") or Comparator.exactly
    indicator = _NAME_UNIT_RE.sub("", name).strip() or name
    return GoalCandidate(indicator, float(m.group("v")), None, unit.replace("％", "%") if unit else None,
                         comp, col.year, a, b)


def _line_spans(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for line in text.split("\n"):
        a, b = pos, pos + len(line)
        while a < b and text[a] == " ":
            a += 1
        while b > a and text[b - 1] == " ":
            b -= 1
        spans.append((a, b))
        pos += len(line) + 1
    return spans


def indicator_goals(text: str) -> tuple[list[GoalCandidate], list[tuple[int, int]]]:
    """Goals read from the indicator tables in text, and the spans the tables cover
    (so the prose reader does not read their cells a second time)."""
    goals: list[GoalCandidate] = []
    regions: list[tuple[int, int]] = []
    lines = _line_spans(text)
    i = 0
    while i < len(lines):
        a, b = lines[i]
        line = text[a:b]
        if line in ("序号", "指标名称", "指标") or (line.startswith("序号") and "|" not in line and len(line) <= 6):
            found = _cell_table(text, lines, i)
            if found:
                got, end_i = found
                goals.extend(got)
                regions.append((a, lines[end_i - 1][1]))
                i = end_i
                continue
        i += 1
    return goals, regions


def _cell_table(text: str, lines: list[tuple[int, int]], start: int) -> tuple[list[GoalCandidate], int] | None:
    """A one-cell-per-line table whose header starts at lines[start]."""
    j = start
    header_parts: list[str] = []
    while j < len(lines) and j < start + 20:
        cell = text[lines[j][0] : lines[j][1]]
        if _SERIAL_RE.match(cell) and header_parts:
            break
        header_parts.append(cell)
        j += 1
    header = "".join(header_parts)
    cols = _columns(header)
    if "指标" not in header or not cols or not any(c.target for c in cols) or j >= len(lines):
        return None
    has_attr = "属性" in header
    goals: list[GoalCandidate] = []
    expected = 1
    while j < len(lines):
        serial = text[lines[j][0] : lines[j][1]]
        if not _SERIAL_RE.match(serial) or int(serial) != expected:
            break
        k = j + 1
        row: list[tuple[int, int]] = []
        while k < len(lines):
            cell = text[lines[k][0] : lines[k][1]]
            if (_SERIAL_RE.match(cell) and int(cell) == expected + 1) or not cell or len(cell) > 60 or "。" in cell:
                break
            row.append(lines[k])
            k += 1
        cells = _merge_units(text, row)
        name_end = 1
        if has_attr:
            attr = next((n for n, (a, b) in enumerate(cells) if _ATTR_RE.match(text[a:b])), None)
            if attr is None:
                break
            name_end = attr + 1
            name = "".join(text[a:b] for a, b in cells[:attr])
        else:
            name = text[cells[0][0] : cells[0][1]] if cells else ""
        values = cells[name_end:]
        if len(values) == len(cols):
            for (a, b), col in zip(values, cols):
                if col.target:
                    goal = _cell_goal(text, a, b, name, col)
                    if goal:
                        goals.append(goal)
        expected += 1
        j = k
    return (goals, j) if goals else None


def _merge_units(text: str, row: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join a unit left on its own line to the value above it (`120.14` / `平方公里`)."""
    out: list[tuple[int, int]] = []
    for a, b in row:
        cell = text[a:b]
        if out and re.fullmatch(rf"(?:{_UNIT_ALT})", cell) and re.search(r"\d$", text[out[-1][0] : out[-1][1]]):
            out[-1] = (out[-1][0], b)
        elif out and re.fullmatch(r"[（(][^）)]{1,12}[)）]", cell) and not re.search(r"\d", cell):
            out[-1] = (out[-1][0], b)  # a note on the cell above: （除危废外）
        else:
            out.append((a, b))
    return out
