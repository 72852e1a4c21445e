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

import itertools
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
    glued, glued_regions = glued_table_goals(text)
    return goals + glued, regions + glued_regions


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


# --- Tables glued into one run of text -------------------------------------------------
# A table flattened by a scraper that dropped every cell boundary: header and rows follow
# each other on one line, `指标2015年2020年〔累计〕属性…森林覆盖率（%）21.6623.04〔1.38〕约束性…`.
# Empty cells stay visible as `-`, comparison signs and 左右/以上 mark where a target starts,
# and a five-year total sits in 〔…〕; but two bare numbers of adjacent cells run together
# (`151165` is 151 then 165), and footnote marks glue onto names (`城市2空气质量`).
_GLUED_HEAD_RE = re.compile(
    r"指\s*标(?:名\s*称)?(?P<cols>(?:\s*(?:基准|现状|基期|目标|规划|预期)?[值年]?\s*[（(]?\s*20\d\d\s*年?\s*[)）]?){2,4})"
    r"\s*(?P<cum>[〔\[（(]\s*累计\s*[〕\]）)])?\s*\d?\s*(?:指标)?(?:属\s*性)?")
_GLUED_END_RE = re.compile(r"注\s*[：:]|。|专栏")
_NUMERAL = r"\d+(?:\.\d+)?"
# A run of value cells: empty marks, signed/bounded numbers and 〔totals〕, blanks between.
# A number glued to the name that follows (`城市2空气质量`, `6.区域性`) is a footnote mark or
# a numbering label, not a cell.
_NOT_LABEL = r"(?!\.?(?!预期性|约束性|指导性|左右|以上|以下|以内)[\u4e00-\u9fff])"
_CLUSTER_RE = re.compile(
    rf"(?:\s*(?:[-－—]|〔\s*{_NUMERAL}\s*〕|(?:≥|≤|＞|＜|>|<)?\s*(?>\d+(?:\.\d+)*){_NOT_LABEL}\s*(?:左右|以上|以下|以内)?))+")
_ATTR_AFTER_RE = re.compile(r"\s*(预期性|约束性|指导性)")
_TOKEN_RE = re.compile(
    rf"(?P<empty>[-－—])|〔\s*(?P<total>{_NUMERAL})\s*〕|(?P<op>≥|≤|＞|＜|>|<)?\s*(?P<num>\d+(?:\.\d+)*)\s*"
    r"(?P<bound>左右|以上|以下|以内)?")
_DECREASE_WORDS = ("下降", "减少", "降低", "削减", "压减")


@dataclass
class _Cell:
    start: int
    end: int
    kind: str  # "empty" | "value" | "total"
    value: float | None = None
    comparator: Comparator = Comparator.exactly
    glued: str | None = None  # digits of two cells run together, split later
    split: bool = False  # the second half of a split: its quote is the cell alone


def glued_table_goals(text: str) -> tuple[list[GoalCandidate], list[tuple[int, int]]]:
    """Goals from indicator tables whose cells were glued into one run of text."""
    goals: list[GoalCandidate] = []
    regions: list[tuple[int, int]] = []
    for head in _GLUED_HEAD_RE.finditer(text):
        years = [int(y) for y in re.findall(r"20\d\d", head.group("cols"))]
        if len(years) < 2 or any(b <= a for a, b in itertools.pairwise(years)):
            continue
        line_end = text.find("\n", head.end())
        line_end = len(text) if line_end < 0 else line_end
        stop = _GLUED_END_RE.search(text, head.end(), line_end)
        end = stop.start() if stop else line_end
        got = _glued_rows(text, head.end(), end, years, bool(head.group("cum")))
        if got:
            goals.extend(got)
            regions.append((head.start(), end))
    return goals, regions


def _glued_rows(text: str, start: int, end: int, years: list[int], has_total: bool) -> list[GoalCandidate]:
    """Rows between a glued header and the table's end: a name, then a cluster of cells."""
    goals: list[GoalCandidate] = []
    ncols = len(years) + (1 if has_total else 0)
    name_start = start
    group_unit: str | None = None
    group_words = ""
    pos = start
    while pos < end:
        m = _CLUSTER_RE.search(text, pos, end)
        if not m:
            break
        cluster = m.group(0)
        a = m.start() + (len(cluster) - len(cluster.lstrip()))
        cells = _cells(text, a, m.end())
        raw_name = text[name_start:a]
        name, unit, heading = _split_name(raw_name)
        if heading is not None:  # a heading's unit and words hold for the rows below it
            group_unit, group_words = unit, heading
        elif unit is not None:  # a row with its own unit ends the group
            group_unit, group_words = None, ""
        else:
            unit = group_unit
        cells = _fit(cells, ncols)
        if name and cells:
            goals.extend(_row_goals(text, name, unit, group_words, cells, years, has_total, name_start, raw_name))
        attr = _ATTR_AFTER_RE.match(text, m.end(), end)
        pos = attr.end() if attr else m.end()
        name_start = pos
    return goals


_NAME_UNIT_IN_RE = re.compile(rf"[（(](?P<unit>{_UNIT_ALT})[)）]")


def _split_name(raw: str) -> tuple[str, str | None, str | None]:
    """The row's indicator, its unit, and a group heading when the name carries one.

    Group headings and numbering glue onto the row name (`生态环境质量1.空气质量地级及以上
    城市2空气质量优良天数比率（%）`): the indicator is what follows the last numbering or
    footnote mark. A `（%）` followed by more text is a heading's unit over the rows below
    (`主要污染物排放总量减少（%）化学需氧量`)."""
    flat = raw.strip()
    units = list(_NAME_UNIT_IN_RE.finditer(flat))
    last = units[-1] if units else None
    heading, unit, name = None, None, flat
    if last:
        unit = last.group("unit")
        if flat[last.end() :].strip():
            heading, name = re.split(r"\d+\.?", flat[: last.start()])[-1], flat[last.end() :]
        else:
            name = flat[: last.start()]
    name = re.split(r"\d+\.?", name)[-1].strip(" 、，")
    return name, (unit.replace("％", "%") if unit else None), heading


def _cells(text: str, a: int, b: int) -> list[_Cell]:
    out: list[_Cell] = []
    for t in _TOKEN_RE.finditer(text, a, b):
        if t.group("empty"):
            out.append(_Cell(t.start(), t.end(), "empty"))
        elif t.group("total"):
            out.append(_Cell(t.start(), t.end(), "total", float(t.group("total")), Comparator.exactly))
        elif t.group("num"):
            num = t.group("num")
            comp = _OP.get(t.group("op") or "") or _BOUND.get(t.group("bound") or "") or Comparator.exactly
            if num.count(".") > 1 or (not t.group("op") and re.fullmatch(r"\d{4,}|\d+\.\d{3,}", num)):
                out.append(_Cell(t.start(), t.end(), "value", None, comp, glued=num))
            else:
                out.append(_Cell(t.start(), t.end(), "value", float(num), comp))
    return out


def _split_glued(digits: str) -> tuple[str, str] | None:
    """Two numbers run together: the split whose halves are closest in size (a baseline
    and its target rarely differ by more than a few times)."""
    best: tuple[float, str, str] | None = None
    for i in range(1, len(digits)):
        x, y = digits[:i], digits[i:]
        if not (_valid_number(x) and _valid_number(y)):
            continue
        fx, fy = float(x), float(y)
        if fx <= 0 or fy <= 0:
            continue
        ratio = max(fx, fy) / min(fx, fy)
        if best is None or ratio < best[0]:
            best = (ratio, x, y)
    if best is None or best[0] > 5:
        return None
    return best[1], best[2]


def _valid_number(s: str) -> bool:
    return bool(re.fullmatch(r"(?:0|[1-9]\d*)(?:\.\d+)?", s))


def _fit(cells: list[_Cell], ncols: int) -> list[_Cell]:
    """Cells matched to the table's columns: glued pairs split when cells are missing,
    a leading footnote mark dropped when there are too many."""
    out: list[_Cell] = []
    missing = ncols - len(cells)
    for c in cells:
        if c.glued is not None:
            pair = _split_glued(c.glued) if missing > 0 else None
            if pair is None:
                if c.glued.count(".") > 1:
                    continue
                c.value, c.glued = float(c.glued), None
                out.append(c)
                continue
            missing -= 1
            cut = c.start + len(pair[0])
            out.append(_Cell(c.start, cut, "value", float(pair[0])))
            out.append(_Cell(cut, c.end, "value", float(pair[1]), c.comparator, split=True))
        else:
            out.append(c)
    while len(out) > ncols and out[0].kind == "value" and out[0].comparator is Comparator.exactly:
        out.pop(0)
    return out if len(out) <= ncols else []


def _row_goals(text: str, name: str, unit: str | None, group_words: str, cells: list[_Cell], years: list[int],
               has_total: bool, name_start: int, raw_name: str) -> list[GoalCandidate]:
    """Target-year cells and the five-year total of one row as goals."""
    goals: list[GoalCandidate] = []
    quote_start = name_start + raw_name.find(name) if name in raw_name else name_start
    target_year = years[-1]
    for i, c in enumerate(cells):
        if c.kind == "empty" or c.value is None:
            continue
        if c.kind == "total" or (has_total and i == len(years)):
            words = name + group_words
            comp = Comparator.decrease_by if any(w in words for w in _DECREASE_WORDS) else Comparator.increase_by
            goals.append(GoalCandidate(name, c.value, None, unit, comp, target_year, quote_start, c.end))
        elif i == len(years) - 1 or (i > 0 and i < len(years) and years[i] == target_year):
            # a cell split off a glued run is quoted alone: the run states no number of its own
            start = c.start if c.split else quote_start
            goals.append(GoalCandidate(name, c.value, None, unit, c.comparator, years[i], start, c.end))
    return goals
