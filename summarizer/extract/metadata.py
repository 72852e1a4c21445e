"""Plan metadata by rule: title, issuers, date of issue, years covered.

Chinese government documents put these in a few fixed places, and scraping moves
them around, so each field has an ordered list of places to look:

- **title**: the document's outermost title line near the top (a transmittal
  `X关于印发《…》的通知`, or the document's own `国务院关于…的意见`), with the
  issuer prefix kept; a title broken over two lines, or an issuer line above a
  `关于…` line, is joined back. Front-matter `key: value` lines and page chrome are
  skipped; `# ` markdown heading marks are dropped.
- **issuers**: the signature (organisation names right before the date of issue,
  on the same line, glued, or on the lines above), else the title's prefix before
  `关于/印发/批转/转发`, else a report's `X省人民政府省长 某某` line, else the
  issuer a national 文号 prefix stands for (`国发` -> 国务院).
- **issued_date**: the date under the signature (Arabic or Chinese numerals, `〇`
  or `○`), a date line of its own such as `(2023年2月8日)` under the title, or a
  report's `——2026年1月26日在…会议上` line; else a page's `成文日期：2024.03.15`
  (never its 发布日期, the day it went online).
- **period**: a `2023—2027年` span or one year in the title; a five-year plan's
  `“十四五”` in the title gives its end year; else the latest `到YYYY年` deadline.
"""

from __future__ import annotations

import datetime as dt
import re

from summarizer.extract.numbers import cn_to_number
from summarizer.models import Plan

_GENRE = r"(方案|意见|规划|计划|通知|办法|纲要|措施|要点|清单|细则|决定|政策|行动|任务|报告|安排|预案|批复|条例|规定)"
_TITLE_RE = re.compile(
    rf"^.{{4,120}}{_GENRE}(?:[(（]\s*(?:试行|修订|暂行|征求意见稿|\d{{4}}\s*[—\-–~至]\s*\d{{4}}年?)\s*[)）])?$"
)
_CN_DIGITS = "〇○零一二三四五六七八九"
_DATE = (r"(?:(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日"
         rf"|(?P<cy>[{_CN_DIGITS}]{{4}})年(?P<cm>[一二三四五六七八九十]{{1,3}})月(?P<cd>[一二三四五六七八九十]{{1,3}})日)")
_DATE_RE = re.compile(_DATE)
_ORG_END = ("人民政府", "管理委员会", "委员会", "办公室", "办公厅", "政府", "党委", "县委", "市委", "省委", "区委",
            "国务院", "局", "厅", "委", "部", "署", "院", "办", "管委会", "领导小组", "指挥部", "中心", "银行",
            "法院", "检察院", "总工会", "联合会", "总局", "集团", "公司")
_ORG_RE = re.compile("(?:" + "|".join(sorted(map(re.escape, _ORG_END), key=len, reverse=True)) + ")")
_PERIOD_RE = re.compile(r"(\d{4})\s*[—\-–~至]+\s*(\d{4})\s*年")
_FIVE_YEAR_RE = re.compile(r"十([一二三四五六])五")
# `到2026年`, `至2026年`, `力争到2026年`: the lead looked up behind the year, so the engine searches
# for `20` (a lead first, `到|至|力争到`, had it test the leads' first characters everywhere).
_DEADLINE_RE = re.compile(r"(20\d\d)(?<=[到至]20\d\d)\s*年")
_TRANSMIT_RE = re.compile(r"(关于)?(印发|转发|批转)")
_PREFIX_RE = re.compile(r"^(.{2,60}?)(?:关于|印发|批转|转发)")
_FRONT_MATTER_RE = re.compile(r"^[\u4e00-\u9fff]{2,6}\s*[:：]\s*\S")
_REPORT_SIGNER_RE = re.compile(r"^(.{2,30}?)(?:省长|市长|县长|区长|州长|主席|主任)\s*\S{2,4}$")
_DELIVERED_RE = re.compile(rf"^——\s*{_DATE}\s*在.{{2,60}}(?:会议|大会)上")
# National 文号 prefixes whose issuer the number itself names.
_DOC_NO_ISSUER = {"国发": "国务院", "国函": "国务院", "国办发": "国务院办公厅", "国办函": "国务院办公厅"}
_DOC_NO_RE = re.compile(r"^(国发|国函|国办发|国办函)[〔\[［]\d{4}[〕\]］]\d+号$")
# A government-information page's 成文日期 is the date the document was signed; its
# 发布日期 is when it went online, not a date of issue, so it is never read.
_LABELED_DATE_RE = re.compile(
    r"^(?P<label>成文日期|印发日期|发文日期)\s*[:：]\s*"
    r"(?P<y>20\d\d|19\d\d)\s*[-./年]\s*(?P<m>\d{1,2})\s*[-./月]\s*(?P<d>\d{1,2})")
_CN_DIGIT = {c: str(i) for i, c in enumerate("〇一二三四五六七八九")} | {"○": "0", "零": "0"}


def _date_from(m: re.Match[str]) -> dt.date | None:
    try:
        if m.group("y"):
            return dt.date(int(m.group("y")), int(m.group("m")), int(m.group("d")))
        year = int("".join(_CN_DIGIT[c] for c in m.group("cy")))
        month, day = cn_to_number(m.group("cm")), cn_to_number(m.group("cd"))
        return dt.date(year, month, day) if month and day else None
    except ValueError:
        return None


def _orgs(text: str) -> list[str]:
    """Split a signature (`A B`, or names glued `AB`) into organisation names; [] if
    any part is not one."""
    names: list[str] = []
    for part in text.split():
        while part:
            ends = [m.end() for m in _ORG_RE.finditer(part)]
            if not ends:
                return []
            # Glued names: cut after an organisation ending that another name follows.
            cut = next((e for e in ends if e < len(part) and _ORG_RE.search(part[e:]) and len(part[e:]) >= 3
                        and part[e:].startswith(("中共", part[:2]))), len(part))
            name, part = part[:cut], part[cut:]
            if not name.endswith(_ORG_END) or len(name) > 30 or len(name) < 2:
                return []
            names.append(name)
    return names


def _signature(lines: list[str]) -> tuple[dt.date | None, list[str]]:
    """The date of issue and the issuers signed above or before it."""
    first_alone: dt.date | None = None
    for i, line in enumerate(lines):
        if "日" not in line:
            continue  # every date ends in 日; the pattern starts at every numeral
        for m in _DATE_RE.finditer(line):
            date = _date_from(m)
            if date is None:
                continue
            before = line[: m.start()]
            after = line[m.end():].strip()
            tail = re.split(r"[。；;！？）)]", before)[-1].strip()
            if re.search(r"[：:]\s*$", before):
                continue  # 发布日期：… is a page's field, not the date under a signature
            alone = not tail and (not after or after.startswith(("（此件", "(此件")))
            if _DELIVERED_RE.match(line):
                first_alone = first_alone or date
                continue
            if re.fullmatch(r"[(（]\s*" + re.escape(m.group()) + r"\s*[)）]", line):
                first_alone = first_alone or date  # (2023年2月8日) under the title
                continue
            if tail:
                names = _orgs(tail)
                if names and (not after or after.startswith(("（此件", "(此件")) or i == len(lines) - 1
                              or len(after) < 40 or m.start() > 0):
                    return date, names
                continue
            if not alone:
                continue
            names, j = [], i - 1
            while j >= 0 and len(names) < 20:
                more = _orgs(lines[j])
                if not more:
                    break
                names = more + names
                j -= 1
            if names:
                return date, names
            first_alone = first_alone or date
    return first_alone, []


def _head_lines(text: str) -> list[str]:
    out = []
    for raw in text.split("\n")[:80]:
        line = raw.strip().lstrip("#").strip()
        if not line or _FRONT_MATTER_RE.match(line) or line.startswith((">", "【", "原文链接")):
            continue
        out.append(line)
    return out


def _is_title(line: str) -> bool:
    return bool(_TITLE_RE.match(line)) and not re.search(r"[。；;：:！？，,]", line) and not re.match(
        r"^([一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[)）]|\d+[.．、]|——)", line
    )


def _pick_title(head: list[str]) -> str | None:
    """The first title line, joined with a broken-off first half or an issuer line above."""
    for i, line in enumerate(head[:40]):
        if len(line) > 120:
            continue
        nxt = head[i + 1] if i + 1 < len(head) else ""
        if (not _is_title(line) and "关于" in line and len(line) <= 40 and not re.search(r"[。；;：:！？，,]", line)
                and _is_title(line + nxt)):
            return line + nxt  # a title broken over two lines
        if _is_title(line):
            prev = head[i - 1] if i > 0 else ""
            if line.startswith("关于") and prev and _orgs(prev):
                return f"{prev}{line}"  # 中共某县委 某县人民政府 / 关于…的实施意见
            if prev and _GENERIC_TAIL_RE.match(line) and _is_first_half(prev):
                return f"{prev}{line}".strip("《》")  # 某市推进新型工业化 / 三年行动方案（2024—2026年）
            return line.strip("《》")
    return None


# A title's second half with no topic of its own (`三年行动方案（2024—2026年）`): only
# generic words before the genre word, so it cannot be a whole title.
_GENERIC_TAIL_RE = re.compile(
    rf"^(?:[一二三四五六七八九十\d]+年|专项|重点|攻坚|提升)?(?:行动|实施|工作|若干|推进|发展|建设)*{_GENRE}"
    r"(?:[（(][^）)]*[)）])?$")


def _is_first_half(line: str) -> bool:
    """A title's first half left on its own line: a short phrase with no punctuation,
    no date and not just an issuer's name."""
    if len(line) > 40 or _is_title(line) or re.search(r"[。；;：:！？，,]|\d{4}\s*年\s*\d", line):
        return False
    orgs = _orgs(line)
    return not (orgs and "".join(orgs) == re.sub(r"\s+", "", line))


def _issuers_from_title(title: str | None) -> list[str]:
    """`国务院办公厅关于…`, `中共某县委 某县人民政府关于…`, `某局印发《…》的通知`."""
    m = _PREFIX_RE.match(title or "")
    if not m:
        return []
    names: list[str] = []
    for part in re.split(r"[、\s]", m.group(1)):
        found = _orgs(part) if part else []
        if part and not found:
            return []
        names.extend(found)
    return names


def extract_plan(text: str) -> Plan:
    """Read the plan's metadata from cleaned text."""
    lines = [ln.strip() for ln in text.split("\n")]
    head = _head_lines(text)
    issued, issuers = _signature(lines)
    title = _pick_title(head)
    if not issuers:
        issuers = _issuers_from_title(title)
    if not issuers:
        for line in head[:20]:
            m = _REPORT_SIGNER_RE.match(line)
            if m and _orgs(m.group(1)):
                issuers = _orgs(m.group(1))
                break
    if not issuers:
        for line in head[:10]:
            m = _DOC_NO_RE.match(line)
            if m:
                issuers = [_DOC_NO_ISSUER[m.group(1)]]
                break
    if issued is None:
        for line in head[:20]:
            m = _DELIVERED_RE.match(line)
            if m:
                issued = _date_from(m)
                break
    if issued is None:
        issued = _labeled_date(lines[:80])
    start, end = _period(title, text)
    return Plan(title=title, issuers=issuers, issued_date=issued, period_start=start, period_end=end)


def _labeled_date(lines: list[str]) -> dt.date | None:
    for line in lines:
        m = _LABELED_DATE_RE.match(line)
        if m:
            try:
                return dt.date(int(m.group("y")), int(m.group("m")), int(m.group("d")))
            except ValueError:
                continue
    return None


def _period(title: str | None, text: str) -> tuple[int | None, int | None]:
    if title:
        inner = title
        m = _PERIOD_RE.search(inner)
        if m:
            return int(m.group(1)), int(m.group(2))
        m = re.search(r"(20\d\d)\s*年", inner)
        if m:
            return int(m.group(1)), int(m.group(1))
        m = _FIVE_YEAR_RE.search(inner)
        if m:
            return None, 2005 + 5 * (cn_to_number(m.group(1)) or 0)
    years = [int(y) for y in _DEADLINE_RE.findall(text)]
    return None, (max(years) if years else None)
