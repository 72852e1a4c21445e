"""Plan metadata by rule: title, issuers, date of issue, years covered.

Chinese government documents put these in fixed places: a transmittal
(`关于印发…的通知`), the plan's own title line, a signature line of issuing bodies
right above a date line, and a period in the title (`（2023—2027年）`) or a
deadline scope in the text (`到2026年`).
"""

from __future__ import annotations

import datetime as dt
import re

from summarizer.extract.numbers import cn_to_number
from summarizer.models import Plan

_GENRE = r"(方案|意见|规划|计划|通知|办法|纲要|措施|要点|清单|细则|决定|政策|行动|任务|报告|安排)"
_TITLE_RE = re.compile(
    rf"^.{{4,90}}{_GENRE}(?:[(（]\s*(?:试行|修订|征求意见稿|\d{{4}}\s*[—\-–~至]\s*\d{{4}}年?)\s*[)）])?$"
)
_DATE_RE = re.compile(r"^\s*(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*$")
_CN_DATE_RE = re.compile(
    r"^\s*([〇零一二三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,3})日\s*$"
)
_ORG_END = ("人民政府", "管理委员会", "委员会", "办公室", "办公厅", "政府", "党委", "局", "厅", "委", "部",
            "管委会", "领导小组", "指挥部", "中心", "银行", "法院", "检察院", "总工会", "联合会")
_PERIOD_RE = re.compile(r"(\d{4})\s*[—\-–~至]+\s*(\d{4})\s*年")
_DEADLINE_RE = re.compile(r"(?:到|至|力争到)(20\d\d)\s*年")
_TRANSMIT_RE = re.compile(r"关于印发(.+)的通知$")
_CN_DIGIT = {"〇": "0", "零": "0", "一": "1", "二": "2", "三": "3", "四": "4", "五": "5", "六": "6",
             "七": "7", "八": "8", "九": "9"}


def _date_of(line: str) -> dt.date | None:
    m = _DATE_RE.match(line)
    try:
        if m:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        m = _CN_DATE_RE.match(line)
        if m:
            year = int("".join(_CN_DIGIT[c] for c in m.group(1)))
            month, day = cn_to_number(m.group(2)), cn_to_number(m.group(3))
            if month and day:
                return dt.date(year, month, day)
    except ValueError:
        return None
    return None


def _is_title(line: str) -> bool:
    return bool(_TITLE_RE.match(line)) and not re.search(r"[。；;：:！？]", line) and not re.match(
        r"^([一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[)）]|\d+[.．、])", line
    )


def _is_signature(line: str) -> bool:
    names = line.split()
    return bool(names) and all(n.endswith(_ORG_END) and len(n) <= 30 for n in names)


def extract_plan(text: str) -> Plan:
    """Read the plan's metadata from cleaned text."""
    lines = [ln.strip() for ln in text.split("\n")]
    head = lines[:60]
    issued: dt.date | None = None
    issuers: list[str] = []
    for i, line in enumerate(lines):
        date = _date_of(line)
        if date is None:
            continue
        issued = issued or date
        if i > 0 and _is_signature(lines[i - 1]) and not issuers:
            issuers = lines[i - 1].split()
            j = i - 2  # signatures may take several lines
            while j >= 0 and _is_signature(lines[j]) and len(issuers) < 6:
                issuers = lines[j].split() + issuers
                j -= 1
        if issuers:
            break
    title = _pick_title(head)
    start, end = _period(title, text)
    return Plan(title=title, issuers=issuers, issued_date=issued, period_start=start, period_end=end)


def _pick_title(head: list[str]) -> str | None:
    titles = [ln.strip("《》") for ln in head if _is_title(ln)]
    if not titles:
        return None
    own = [t for t in titles if not _TRANSMIT_RE.search(t) and not t.endswith("的通知")]
    if own:
        return own[0]
    m = _TRANSMIT_RE.search(titles[0])
    return m.group(1).strip("《》") if m else titles[0]


def _period(title: str | None, text: str) -> tuple[int | None, int | None]:
    if title:
        m = _PERIOD_RE.search(title)
        if m:
            return int(m.group(1)), int(m.group(2))
        m = re.search(r"(20\d\d)\s*年", title)
        if m:
            return int(m.group(1)), int(m.group(1))
    years = [int(y) for y in _DEADLINE_RE.findall(text)]
    return None, (max(years) if years else None)
