"""The fact check an abstract must pass: every fact it states occurs in the document.

An abstract is free prose, so the model could write a figure, a year, a 文号 or a unit
that the document never states. Each such fact is read out of the abstract and looked
up in the evidence: the cleaned text, plus what was extracted from it (goal values,
plan fields, unit names) and the counts of extracted items (so "共12项措施" is
supported when 12 measures were extracted). The rules:

- **percent** (`30%`, `30％`, `百分之三十`): the text states that percentage, or a goal
  has that value with unit `%`;
- **year** (a four-digit 1900-2099 followed by 年, or in a 2021—2025 range): the
  year is written in the text or is a plan year (period, date of issue);
- **number** (any other Arabic figure): the figure is written in the text (Arabic or
  Chinese numerals), is a goal's value, a part of the date of issue, or a count of the
  extracted goals, measures, sections or units;
- **docno** (文号, `某政发〔2021〕12号`): the year-and-number core is in the text with
  the last up-to-three characters of its code in front of it;
- **title** (anything in 《》): it is written in the text, or is the extracted title (a
  small model copies a made-up title from its prompt's example otherwise);
- **unit** (a name ending in 局, 委, 厅, 办, 办公室, 委员会, 政府, 中心 …): some name
  ending there, of at least three characters, is in the text or is an extracted unit.

Figures inside a 文号 or a date are checked as part of it, not again on their own.
Comparison is after NFKC normalisation (full-width digits and ％) with whitespace
removed, so formatting differences do not count as unsupported.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from summarizer.extract.numbers import CN_NUMBER_RE, cn_to_number
from summarizer.models import DocumentResult

_BRACKETS = str.maketrans({"[": "〔", "]": "〕", "［": "〔", "］": "〕", "【": "〔", "】": "〕",
                           "(": "〔", ")": "〕", "（": "〔", "）": "〕", "〖": "〔", "〗": "〕"})
DOCNO_RE = re.compile(r"([\u4e00-\u9fff]{1,8})〔((?:19|20)\d{2})〕第?(\d{1,4})号")
NUM_RE = re.compile(r"\d+(?:\.\d+)?")
_PCT_CN = re.compile(r"百分之([零〇一二两三四五六七八九十百]+)")
_YEAR_AFTER = re.compile(r"\s*(?:年|[-—–~～至到]\s*(?:19|20)\d{2}\s*年)")
_UNIT_END = re.compile(r"人民政府|政府|办公厅|办公室|委员会|管委会|领导小组|工作组|局|委|厅|办|中心|集团|公司|银行")
# Words that end like a unit name and are none (格局 is a shape, 举办 a verb, 为中心 a phrase).
_NOT_UNIT = ("格局", "布局", "大局", "全局", "结局", "开局", "变局", "时局", "举办", "创办", "兴办", "承办",
             "督办", "查办", "包办", "代办", "交办", "申办", "协办", "主办", "难办", "好办", "为中心",
             "以中心", "到中心")
# A unit ending followed by these is a word, not a name's end (局面, 委托, 办理, 中心城区).
_NOT_UNIT_NEXT = ("局面", "局势", "局限", "局部", "委托", "委屈", "委派", "委婉", "办理", "办法", "办好", "办事",
                  "办学", "办成", "办结", "中心城", "中心镇", "公司制", "公司化", "银行业")
_TWO_CHAR_UNITS = ("市委", "省委", "县委", "区委", "党委", "镇委", "团委", "市府", "省府")


_SPACES_RE = re.compile(r"\s+")
_THOUSANDS_RE = re.compile(r",(?<=\d,)(?=\d{3})")  # = (?<=\d),(?=\d{3}); the literal first scans faster


def normalize(text: str) -> str:
    """What facts are compared on: NFKC (full-width digits, ％), brackets unified, no whitespace."""
    text = unicodedata.normalize("NFKC", text)
    if " " in text or not text.isprintable():  # `\s` other than " " is never printable
        text = _SPACES_RE.sub("", text)
    return _THOUSANDS_RE.sub("", text) if "," in text else text


_OPENING_RE = re.compile("[" + re.escape("".join(chr(k) for k, v in _BRACKETS.items() if v == "〔")) + "]")
_CLOSING_RE = re.compile("[" + re.escape("".join(chr(k) for k, v in _BRACKETS.items() if v == "〕")) + "]")


def _unify_brackets(text: str) -> str:
    """text.translate(_BRACKETS), by two substitutions: translating CJK text looks up every
    character in the table, a few times slower over a whole document."""
    return _CLOSING_RE.sub("〕", _OPENING_RE.sub("〔", text))


@dataclass(frozen=True)
class Fact:
    """One checkable fact stated by an abstract."""

    kind: str  # number | percent | year | docno | title | unit
    text: str

    def __str__(self) -> str:
        return f"{self.text} ({self.kind})"


class Evidence:
    """What an abstract may state: the document's text and its extracted items.

    The items' facts are kept as given; the text's are read from it only when a fact is
    not among the items (`supported` looks there first). A template abstract states
    extracted items only, and scanning the whole document for every abstract was a
    tenth of the worker's time per document. `numbers`, `percents` and `years` are
    the union of both, for readers that want every one.
    """

    def __init__(self, text: str) -> None:
        self._source = text
        self.item_numbers: set[float] = set()
        self.item_percents: set[float] = set()
        self.item_years: set[int] = set()
        self.units: set[str] = set()

    @classmethod
    def of(cls, text: str, result: DocumentResult | None = None) -> Evidence:
        ev = cls(text)
        if result is not None:
            ev.add_items(result)
        return ev

    @functools.cached_property
    def text(self) -> str:
        """The cleaned text, normalized."""
        return normalize(self._source)

    @functools.cached_property
    def docno_text(self) -> str:
        """The same with brackets unified."""
        return _unify_brackets(self.text)

    @functools.cached_property
    def _scanned(self) -> tuple[set[float], set[float], set[int]]:
        """(numbers, percents, years) the text states."""
        norm, numbers, percents, years = self.text, set(), set(), set()
        for m in NUM_RE.finditer(norm):
            number = m.group()
            numbers.add(float(number))
            if norm[m.end():m.end() + 1] == "%":
                percents.add(float(number))
            if len(number) == 4 and number[:2] in ("19", "20") and "." not in number:  # (?:19|20)\d{2}
                years.add(int(number))
        for numeral in set(CN_NUMBER_RE.findall(norm)):  # a document repeats its numerals (一, 二…)
            n = cn_to_number(numeral)
            if n is not None:
                numbers.add(float(n))
        for m in _PCT_CN.finditer(norm):
            n = cn_to_number(m.group(1))
            if n is not None:
                percents.add(float(n))
        return numbers, percents, years

    @property
    def numbers(self) -> set[float]:
        return self.item_numbers | self._scanned[0]

    @property
    def percents(self) -> set[float]:
        return self.item_percents | self._scanned[1]

    @property
    def years(self) -> set[int]:
        return self.item_years | self._scanned[2]

    def has_number(self, value: float) -> bool:
        return value in self.item_numbers or value in self._scanned[0]

    def has_percent(self, value: float) -> bool:
        return value in self.item_percents or value in self._scanned[1]

    def has_year(self, year: int) -> bool:
        return year in self.item_years or year in self._scanned[2]

    def add_items(self, result: DocumentResult) -> None:
        """The extracted items and their counts are evidence too."""
        p = result.plan
        for g in result.goals:
            for v in (g.value, g.value_max):
                if v is not None:
                    self.item_numbers.add(float(v))
                    if g.unit == "%":
                        self.item_percents.add(float(v))
            if g.year:
                self.item_years.add(g.year)
        for y in (p.period_start, p.period_end):
            if y:
                self.item_years.add(y)
                self.item_numbers.add(float(y))
        if p.issued_date:
            self.item_years.add(p.issued_date.year)
            self.item_numbers.update(float(x) for x in (p.issued_date.year, p.issued_date.month, p.issued_date.day))
        units = {r.unit for m in result.measures for r in m.responsibilities}
        leads = {r.unit for m in result.measures for r in m.responsibilities if r.role.value == "lead"}
        sections = {m.section for m in result.measures if m.section}
        self.item_numbers.update(float(n) for n in (len(result.goals), len(result.measures), len(sections),
                                               len(units), len(leads)))
        self.units.update(normalize(u) for u in units | set(p.issuers))
        if p.title:
            self.units.add(normalize(p.title))
        # Numbers inside the goals' quotes and a title that stands verbatim in the text (`“1515”
        # 专项行动`, `“135N”集群`): an abstract repeats them, and they are the text's own words
        # (a quote is checked against the text at its offsets; a model's indicator is not).
        spans = [g.quote for g in result.goals]
        if p.title and p.title in self._source:
            spans.append(p.title)
        for words in spans:
            self.item_numbers.update(float(m.group()) for m in NUM_RE.finditer(normalize(words)))

    def add_units(self, names: Iterable[str]) -> None:
        self.units.update(normalize(n) for n in names if n)


def facts_in(abstract: str) -> list[Fact]:
    """The checkable facts an abstract states, in order."""
    text = normalize(abstract)
    dtext = _unify_brackets(text)
    facts: list[Fact] = []
    covered: list[tuple[int, int]] = []
    for m in re.finditer(r"《([^《》]{1,120})》", text):
        facts.append(Fact("title", m.group(1)))
    for m in DOCNO_RE.finditer(dtext):
        facts.append(Fact("docno", m.group()[len(m.group(1)) - len(m.group(1)[-4:]):]))
        covered.append(m.span())
    for m in re.finditer(r"((?:19|20)\d{2})年(\d{1,2})月(?:(\d{1,2})日)?", text):
        if not any(a <= m.start() < b for a, b in covered):  # a date: its year checked, month/day are part of it
            facts.append(Fact("year", m.group(1)))
            covered.append(m.span())
    for m in _PCT_CN.finditer(text):
        facts.append(Fact("percent", m.group()))
        covered.append(m.span())
    for m in NUM_RE.finditer(text):
        if any(a <= m.start() < b for a, b in covered):
            continue
        after = text[m.end():]
        if after.startswith("%"):
            facts.append(Fact("percent", m.group() + "%"))
        elif re.fullmatch(r"(?:19|20)\d{2}", m.group()) and (
                _YEAR_AFTER.match(after) or re.search(r"(?:19|20)\d{2}\s*[-—–~～至到]\s*$", text[:m.start()])):
            facts.append(Fact("year", m.group()))
        else:
            facts.append(Fact("number", m.group()))
    for m in _UNIT_END.finditer(text):
        if any(a <= m.start() < b for a, b in covered):  # 国办 in 国办发〔2020〕43号 is part of the 文号
            continue
        head = text[:m.end()]
        if head.endswith(_NOT_UNIT) or text[m.end() - 1:].startswith(_NOT_UNIT_NEXT) or \
                text[m.start():].startswith(_NOT_UNIT_NEXT):
            continue
        run = re.search(r"[\u4e00-\u9fff]+$", head)
        name = (run.group() if run else "").lstrip("由和与及并同向对在为将是等")
        if len(name) >= 2:
            facts.append(Fact("unit", name[-16:]))
    return facts


def supported(fact: Fact, ev: Evidence) -> bool:
    """Whether one fact occurs in the document's text or extracted items (the rules above)."""
    if fact.kind == "percent":
        m = _PCT_CN.fullmatch(fact.text)
        value = float(cn_to_number(m.group(1)) or -1) if m else float(fact.text.rstrip("%"))
        return ev.has_percent(value)
    if fact.kind == "year":
        return ev.has_year(int(fact.text))
    if fact.kind == "number":
        return ev.has_number(float(fact.text))
    if fact.kind == "docno":
        m = DOCNO_RE.fullmatch(fact.text)
        if m is None:
            return False
        core = f"〔{m.group(2)}〕{m.group(3)}号"
        code = m.group(1)[-3:]
        numbered = f"〔{m.group(2)}〕第{m.group(3)}号"  # 〔2021〕第12号 in the text reads as 〔2021〕12号
        return (code + core) in ev.docno_text or (code + numbered) in ev.docno_text
    if fact.kind == "title":
        return fact.text in ev.units or fact.text in ev.text  # the extracted title is among ev.units
    if fact.kind == "unit":
        name = fact.text
        if name in _TWO_CHAR_UNITS and name in ev.text:
            return True
        ends = [name[-k:] for k in range(3, len(name) + 1)]
        return (any(e in ev.units or any(u.endswith(e) for u in ev.units) for e in ends)
                or any(e in ev.text for e in ends))  # the items first: the text is normalized only if needed
    return False


def unsupported(abstract: str, ev: Evidence) -> list[Fact]:
    """The abstract's facts that occur neither in the text nor in the extracted items."""
    out: list[Fact] = []
    for f in facts_in(abstract):
        if not supported(f, ev) and f not in out:
            out.append(f)
    return out
