"""Rule-based reading of quantified targets: `到2026年，全部工业增加值突破1000亿元`.

A target is a number with a unit in a clause that a time scope governs. The rules
read the genre's fixed vocabulary: year scopes (`到YYYY年`, `YYYY年底`), bound words
(`以上`, `突破`, `不超过`, `左右`), change words (`增长`, `新增`, `提高…个百分点`),
ranges (`2-3个`) and doubling (`翻番`). They are the baseline the LLM must beat and
the candidate finder that tells the LLM which spans carry targets.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass

from summarizer.extract.numbers import CN_NUMERAL, DOUBLING_RE, cn_to_number
from summarizer.extract.scan import char_positions, line_start_matches
from summarizer.models import Comparator

# Units, longest first so 万元/人 wins over 万元 and 个百分点 over 个.
UNITS = sorted(
    ["万亿元", "万亿", "亿美元", "万美元", "亿元", "万元", "元", "亿亩", "万亩", "亩", "平方公里", "万平方米", "平方米", "公里", "千米", "万吨标准煤", "吨标准煤", "亿吨", "万吨", "吨", "万蒸吨", "蒸吨", "万公顷", "公顷", "亿立方米", "万立方米", "立方米", "亿千瓦时", "亿千瓦", "万平方公里", "亿斤", "万株", "万户", "万辆", "万个", "万套", "块", "万千瓦", "千瓦", "万千瓦时", "千瓦时", "兆瓦", "吉瓦", "个百分点", "百分点", "%", "％", "家", "个", "项", "只", "次", "座", "条", "所", "名", "位", "人", "万人", "人次", "万人次", "万家", "万名", "班次", "年一遇", "户", "件", "台", "套", "批", "处", "支", "场", "部", "款", "种", "类", "张", "辆", "艘", "棵", "株", "天", "小时", "分钟", "倍", "强", "级", "亿", "万", "TB", "PB", "GB"],
    key=len,
    reverse=True,
)
COUNT_UNITS = set(["万个", "万户", "万辆", "万套", "万株", "块", "家", "个", "项", "只", "次", "座", "条", "所", "名", "位", "户", "件", "台", "套", "批", "处", "支", "场", "部", "款", "种", "类", "张", "辆", "艘"])
_UNIT_RE = "|".join(re.escape(u) for u in UNITS)
_NUM = r"\d+(?:\.\d+)?"
# number, optional range end, optional compound unit (万元/人), optional bound word.
TARGET_RE = re.compile(
    rf"(?P<value>{_NUM})(?:\s*[-—–~～至到]\s*(?P<max>{_NUM}))?\s*"
    rf"(?P<unit>(?:{_UNIT_RE})(?:/(?:{_UNIT_RE}))?)?"
    r"(?P<bound>及以上|以上|及以下|以下|以内|左右)?"
)
_DIGIT_RE = re.compile(r"\d")


def _target_matches(text: str, start: int, end: int) -> Iterator[re.Match[str]]:
    """The matches `TARGET_RE.finditer(text, start, end)` gives: one at every digit the last
    match did not take (the pattern matches at a digit, whatever follows, and nowhere else).
    The digit is searched with a pattern that is one class: the engine then tests the class
    on each character. TARGET_RE starts with a group, so the engine found no first class
    and tried the whole pattern at every position (1.54 against 1.12 M instructions for a
    sample document's figures)."""
    pos = start
    while (d := _DIGIT_RE.search(text, pos, end)) is not None:
        m = TARGET_RE.match(text, d.start(), end)
        assert m is not None  # a digit always starts a match
        yield m
        pos = m.end()


_YEAR_LEADS = ("到", "至", "于", "力争", "确保", "在")
_YEAR_SCOPE_RE = re.compile(rf"(?:{'|'.join(_YEAR_LEADS)})?(?P<year>20\d\d)\s*年(?:底|末|前|年底)?(?:前)?")
_YEAR_CORE_RE = re.compile(r"(?P<year>20\d\d)\s*年(?:底|末|前|年底)?(?:前)?")


def _year_scope_spans(text: str) -> Iterator[tuple[int, int, int]]:
    """(start, end, year) of each `_YEAR_SCOPE_RE` match, in order, found from the year with
    its lead word looked up behind it: the pattern's optional lead was tried at every
    character of the document. A lead must end where the year starts and begin after the
    previous match (no two leads end with the same character, so at most one fits)."""
    after = 0
    for m in _YEAR_CORE_RE.finditer(text):
        start = m.start()
        for lead in _YEAR_LEADS:
            if start - len(lead) >= after and text.startswith(lead, start - len(lead)):
                start -= len(lead)
                break
        after = m.end()
        yield start, m.end(), int(m.group("year"))
_CHANGE_DEC = ("下降", "减少", "降低", "压减", "削减")
# Words that open a target clause but are not part of the indicator.
_LEAD_WORDS = re.compile(
    r"^(?:其中|力争|确保|争取|实现|全市|全县|全区|累计|每年|年均|新增|完成|培育|打造|建成|建设|"
    r"创建|争创|引进|实施|推动|推进|形成|达到|新建|组织|承办|举办|开展|认定|招引|落地|再|共|"
    r"基本|全面|努力|使|让|将|把|有|并)+"
)
_TAIL_WORDS = re.compile(
    r"(?:分别|均|累计|年均|力争|将|要|突破|超过|超|达到|达|实现|保持在|保持|控制在|提高到|提升到|"
    r"提高|提升|增长|增速|增加|新增|下降|减少|降低|不低于|不少于|不超过|为|在|至|到|约|近|"
    r"稳定在|稳定|完成|培育|打造|建成|建设|创建|争创|引进|实施)+$"
)
_CLAUSE_SEP = "，,；;。！？：:\n|"


@dataclass(frozen=True)
class GoalCandidate:
    """A target found by the rules, with its quote span in the cleaned text."""

    indicator: str
    value: float
    value_max: float | None
    unit: str | None
    comparator: Comparator
    year: int | None
    start: int
    end: int


class _QuoteDepth:
    """Whether a position sits inside “…” or 《…》 (names, slogans) on its line.

    Counting quote marks from the line start for every candidate is quadratic when
    a document comes as one long line; this keeps running counts since the last line
    break and counts only the stretch between two calls, so a pass over candidates
    in increasing order is linear.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = -1
        self.counts = [0, 0, 0, 0]  # “ ” 《 》 since the last line break

    def inside(self, pos: int) -> bool:
        if pos < self.pos or self.pos < 0:  # first call or out of order: from the line start
            self.pos, self.counts = _line_start(self.text, pos), [0, 0, 0, 0]
        seg = self.text[self.pos : pos]
        nl = seg.rfind("\n")
        if nl >= 0:
            seg, self.counts = seg[nl + 1 :], [0, 0, 0, 0]
        for i, ch in enumerate("“”《》"):
            self.counts[i] += seg.count(ch)
        self.pos = pos
        c = self.counts
        return c[0] > c[1] or c[2] > c[3]


_NEW_WORDS = ("新增", "新建", "新开通", "新培育", "新认定", "新招引", "新引进", "新创建")


_DEC_TO_RE = re.compile(r"(下降|减少|降低|压减)(到|至)")
_GROW_END_RE = re.compile(r"(提高|提升|增长|增加|扩大)(了)?$")  # 3 characters at most
_ABOUT_END_RE = re.compile(r"((?<![节集制签合])约|大约|近)$")  # 2 at most


def _at_end(rx: re.Pattern[str], s: str, width: int) -> re.Match[str] | None:
    """`rx.search(s)` for a pattern that ends in `$` and spans at most `width` characters:
    searched in the last width + 1 characters (`$` also holds before a final newline; a
    lookbehind still sees the characters before). A search of the whole string tested
    the pattern's first characters on every character of a clause or sentence."""
    return rx.search(s, max(0, len(s) - width - 1))


def _comparator(before: str, bound: str | None, unit: str | None) -> Comparator:
    """Comparator from the words before the number and the bound after it.

    A change word wins over a bound word (增长7%以上 is increase_by); 新增-type words
    govern their whole clause, growth words only when close to the number.
    """
    if any(w in before[-8:] for w in _CHANGE_DEC) and not _DEC_TO_RE.search(before):
        return Comparator.decrease_by
    recent = before[-6:].replace("增加值", "")
    grow = _at_end(_GROW_END_RE, before, 3) and unit in ("个百分点", "百分点", "%", "％", "倍")
    if any(w in before for w in _NEW_WORDS) or "年均增" in before or any(
        w in recent for w in ("增长", "增速", "增加", "扩大")) or grow:
        return Comparator.increase_by
    if bound in ("以上", "及以上"):
        return Comparator.at_least
    if bound in ("以下", "及以下", "以内"):
        return Comparator.at_most
    if bound == "左右":
        return Comparator.about
    tail = before[-4:]
    for words, comp in ((("不低于", "不少于", "至少"), Comparator.at_least),
                        (("不超过", "不高于", "控制在", "低于", "少于", *(("前",) if unit in ("强", "名", "位") and before.endswith("前") else ())), Comparator.at_most),
                        (("突破", "超过", "超"), Comparator.at_least)):
        if any(w in tail for w in words):
            return comp
    if _at_end(_ABOUT_END_RE, before, 2):
        return Comparator.about
    return Comparator.exactly


_DASH_LEAD_RE = re.compile(r"^[——\-\s]*(?:“[^”]{1,4}”是)?")


def _indicator(clause: str) -> str:
    ind = _YEAR_SCOPE_RE.sub("", clause)
    ind = _DASH_LEAD_RE.sub("", ind)
    ind = _LEAD_WORDS.sub("", ind)
    ind = _TAIL_WORDS.sub("", ind)
    return ind.strip(" 、，,的")


_SENTENCE_SEP = "。；;！？\n|"  # each is a clause separator too
_CLAUSE_SEP_RE = re.compile("[" + "".join(map(re.escape, _CLAUSE_SEP)) + "]")


class _Starts:
    """Where the clause and the sentence holding a figure start, for the figures of
    text[start:end]: just after the last separator before the figure and not before `lo`,
    from the separators' positions found in one scan and bisected.

    Walking back from each figure (or an `rfind` per separator, which searches a separator
    the text lacks, `|`, `;`, `,` in most documents, back to `lo`) was quadratic in the
    document's length: 3-4% of a worker's time. (Eleven `char_positions`, one per separator,
    measured the same as this one class scan: 0.97 against 1.02 M instructions a document.)"""

    def __init__(self, text: str, start: int, end: int) -> None:
        self.clause = [m.start() for m in _CLAUSE_SEP_RE.finditer(text, start, end)]
        self.sentence = [p for p in self.clause if text[p] in _SENTENCE_SEP]

    def clause_start(self, pos: int, lo: int) -> int:
        return self._after(self.clause, pos, lo)

    def sentence_start(self, pos: int, lo: int) -> int:
        return self._after(self.sentence, pos, lo)

    @staticmethod
    def _after(stops: list[int], pos: int, lo: int) -> int:
        """Just after the last of `stops` in [lo, pos), else lo (pos itself when pos <= lo);
        lo and pos within the scanned part."""
        if pos <= lo:
            return pos
        i = bisect.bisect_left(stops, pos)
        return stops[i - 1] + 1 if i and stops[i - 1] >= lo else lo


_PERIOD_SCOPE_RE = re.compile(r"(?:^|(?<=[。；;\n]))\s*(20\d\d)\s*[—\-–~至]\s*(20\d\d)\s*年\s*[，,]")
# What every period scope holds after its blanks, searched for its `20`: most texts have none.
_PERIOD_HINT_RE = re.compile(r"20\d\d\s*[—\-–~至]\s*20\d\d\s*年\s*[，,]")


def _period_scopes(text: str) -> Iterator[re.Match[str]]:
    """The matches `_PERIOD_SCOPE_RE.finditer(text)` gives, tried only in the blanks before
    each hint (a match is a sentence start, blanks, then a hint; hints never overlap): the
    pattern opens with a lookbehind, so the engine tried it at every position."""
    pos = 0
    for hint in _PERIOD_HINT_RE.finditer(text):
        year = hint.start()
        if year < pos:
            continue
        a = year
        while a > pos and text[a - 1].isspace():  # `\s`: the same characters
            a -= 1
        for s in range(a, year + 1):
            m = _PERIOD_SCOPE_RE.match(text, s)
            if m:
                yield m
                pos = m.end()
                break


_TOP_HEADING_RE = re.compile(r"^\s*[一二三四五六七八九十]{1,3}、", re.M)
_YEAR_HEADING_RE = re.compile(r"^\s*[一二三四五六七八九十]{1,3}、[^。\n\d]{0,6}(?P<year>20\d\d)\s*年(?![—\-–~至\d])[^。\n]{0,24}$",
                              re.M)


_PERIOD_AFTER_RE = re.compile(r"[—\-–\d]")  # 2023—2027年: a period, not a deadline
_BASELINE_AFTER_RE = re.compile(r"(?:底|末)?(?:的)?基础上|(?:底|末)?相比")


def year_scopes(text: str) -> list[tuple[int, int, int]]:
    """(start, end, year) regions that a `到YYYY年` scope governs.

    A scope holds to the end of its sentence; a scope sentence that ends in `：`
    (`到2026年，基本实现以下目标：`) holds over the bullet lines that follow it.
    """
    scopes = []
    line_end = last_char = -1
    for m_start, m_end, year in _year_scope_spans(text):
        after = text[m_end : m_end + 2]
        if _PERIOD_AFTER_RE.match(after):
            continue  # a period like 2023—2027年, not a deadline
        prefix = text[max(0, m_start - 1) : m_start]
        if prefix and prefix in "—-–":
            continue
        if prefix in ("比", "较", "同") or _BASELINE_AFTER_RE.match(text[m_end : m_end + 6]):
            continue  # 比2005年降低20%, 在2010年的基础上: the baseline year, not a deadline
        if line_end < m_end:  # once per line, not per scope: one long line stays linear
            line_start = text.rfind("\n", 0, m_end) + 1
            line_end = text.find("\n", m_end)
            line_end = len(text) if line_end < 0 else line_end
            last_char = line_start + len(text[line_start:line_end].rstrip()) - 1
        stop = text.find("。", m_end, line_end)
        end = stop if stop >= 0 else line_end
        if text[line_start:m_start].strip() == "" and text[m_end : m_end + 1] in "，,":
            end = line_end  # `到2020年，…。…。` opening a paragraph holds over the paragraph
        if m_end <= last_char and text[last_char] in "：:":
            end = line_end
            nxt = line_end + 1
            while nxt < len(text) and text[nxt : nxt + 2] in ("——", "--"):
                e = text.find("\n", nxt)
                end = len(text) if e < 0 else e
                nxt = end + 1
        scopes.append((m_start, end, year))
    # `三、2026年重点工作安排`: a top-level heading naming one year scopes its part.
    for m in line_start_matches(_YEAR_HEADING_RE, text):  # `^`: tried at line starts only
        nxt = _TOP_HEADING_RE.search(text, m.end())
        scopes.append((m.start(), nxt.start() if nxt else len(text), int(m.group("year"))))
    # `2024—2027年，每年…`: a period that opens a sentence scopes it to its end year.
    for m in _period_scopes(text):
        stop = re.search(r"[。\n]", text[m.end() :])
        scopes.append((m.start(), m.end() + (stop.start() if stop else len(text) - m.end()), int(m.group(2))))
    scopes.sort()
    return scopes


_ACHIEVE_BEFORE = re.compile(r"(完成|实现|新增|盘活|节约|出让|投入|安排|设立|引进|争取|出清|腾出|改造|招引)$")
_OBJECT_STOP = re.compile(r"[，,。；;：:、|\n]|\d|(?:[的等]|作为|开展|进行|实现)")

def is_threshold(text: str, m: re.Match[str]) -> bool:
    """A figure that qualifies the noun after it (10亿元以上重大项目, 评估价的70%确定)
    rather than stating a target: a measure unit, a noun right after, no 完成/实现…
    before. Counts (5个以上园区) and achievements (完成3000亩…出清) are targets."""
    if not _HAN_OR_QUOTE_START_RE.match(text[m.end() : m.end() + 1]):
        return False
    before_num = text[max(0, m.start() - 4) : m.start()]
    if m.group("unit") in ("%", "％") and not before_num.endswith("的"):
        return False  # 90%以上村庄…得到治理: a share of the things named, a target

    unit = m.group("unit") or ""
    if "元" not in unit and not m.group("bound") and not before_num.endswith("的"):
        return False  # a quantity to deliver (79公里大堤); 淘汰10蒸吨以下燃煤锅炉 names a threshold
    if "元" not in unit and "以上" in (m.group("bound") or "") and re.search(r"(?:建设|建成|新建|修建|打造|完成)$", before_num):
        return False  # 建设30公里以上绿道: at least that much to build
    return unit not in COUNT_UNITS and not _ACHIEVE_BEFORE.search(before_num)


def threshold_in_quote(text: str, start: int, end: int, value: float) -> bool:
    """True when the figure stating `value` inside text[start:end] is a threshold."""
    for m in TARGET_RE.finditer(text, start, end):
        if (m.group("unit") or m.group("bound")) and abs(float(m.group("value")) - value) < 1e-9:
            return is_threshold(text, m)
    return False


# Figures that a sentence uses for something other than a target the plan sets.
# Incentives and prices: 给予最高500万元奖励, 按投资额的5%给予补助, 上网标杆电价.
_INCENTIVE_RE = re.compile(r"奖励|奖补|补贴|补助|资助|贴息|给予|引导资金|专项资金|电价|收费标准")
# Eligibility criteria and rules: 原则上应不小于5万吨, 新上项目应满足…不低于20%, 自受理之日起7个工作日内.
_CRITERIA_RE = re.compile(r"原则上应|应满足|须满足|需满足|准入|门槛|申报条件|认定条件|之日起|自收到")
# Facts about the past or the present: 已经传播到183个国家, 由…降至7.6%, 因污染导致10人以上死亡.
_PAST_RE = re.compile(r"目前|现有|已经|已(?:有|达|建|实现|完成|累计)|取得了|实现了|完成了|达到了|比上年|同比|因[^，。；]{0,20}(?:导致|造成)")


# Counts that name a scope rather than set a target: `A、B等6个地区`, `在56个城市实施`,
# `以580个单元为重点`, `对1436个监测站…`, and a heading's `（108个）`.
_SCOPE_COUNT_BEFORE = re.compile(r"(?:等|在|以|对|向|从|为)$")  # 1 character
_SCOPE_CLAUSE_RE = re.compile(r"^\s*(?:\d{1,2}[.．、]\s*)?(?:对|在|以|针对)[^，,。；;]{0,30}$")


def _last_part(s: str, seps: str) -> str:
    """What `re.split(f"[{seps}]", s)[-1]` gives, from the separators' last positions (a split
    tests a class on every character of the sentence and builds every part)."""
    return s[max(map(s.rfind, seps)) + 1 :]


# Patterns of `not_a_target`, compiled once (it runs for every figure in a document).
_SCOPE_NUMBER_RE = re.compile(r"^(?:对|在|以|向)\d")
_COVERS_AFTER_RE = re.compile(r"[^，,。；;]{0,30}?(?:实施|开展|为重点|为主|进行)")
_COUNT_NOTE_RE = re.compile(r"[（(][^（()）]{0,30}(?:含|包括|共计|分布于|其中)[^（()）]{0,20}$")
_FROM_RE = re.compile(r"由[^，,。；;]{0,12}$")
_FROM_CHANGE_RE = re.compile(r"[，,]?[^，,。；;]{0,8}(?:提高|提升|增加|增长|扩大|下降|降低|减少|降)")
_SIZE_CLASS_RE = re.compile(r"(?:单机|单台|单套|单体)(?:容量)?$")
_SIZE_GRADE_RE = re.compile(r"级(?:及)?以[上下]")
_CONDITION_RE = re.compile(r"[^，,。；;：:]{0,40}?的\s*[，,；;]")
_TIER_AFTER_RE = re.compile(r"(?:（含）)?(?:及)?以\s*上\s*至")
_TIER_BEFORE_RE = re.compile(r"(?:及)?以\s*上\s*至\s*$")
_STANDARD_BOUND_RE = re.compile(r"(?:不超过|不低于|不少于|不高于|不大于|不小于)\s*$")
_MUST_RE = re.compile(r"应|须|原则上|一律")
_YEAR_IN_RE = re.compile(r"20\d\d\s*年")
_BY_RULE_RE = re.compile(r"(?:按照|按)$")


def not_a_target(text: str, sent_start: int, m: re.Match[str]) -> bool:
    """True when the sentence around a figure marks it as an incentive, a criterion
    or a fact, not a target: the genre's wording, checked before the figure (and a
    few characters after it for rewards such as `…的5%给予奖励`)."""
    before = text[sent_start : m.start()]
    if m.group("unit") in COUNT_UNITS and (_at_end(_SCOPE_COUNT_BEFORE, before, 1)
                                           or _SCOPE_NUMBER_RE.match(_last_part(before, "，,"))):
        return True
    if m.group("unit") in COUNT_UNITS and _SCOPE_CLAUSE_RE.match(_last_part(before, "，,：:")) and _COVERS_AFTER_RE.match(
            text[m.end() : m.end() + 40]):
        return True  # 对沿海56个城市及29个湖库实施总量控制: the places a measure covers
    if text[m.start() - 1 : m.start()] in ("（", "(") and text[m.end() : m.end() + 1] in ("）", ")"):
        return True
    # (The `x in s and` tests below only skip searches that need x to match.)
    if ("（" in before or "(" in before) and _COUNT_NOTE_RE.search(before):
        return True  # （全区圩区分布于14个乡镇，共计64处）, （含三期水闸1座）: a note on what is counted
    stop = _CLAUSE_END_RE.search(text, m.end(), m.end() + 20)
    after = text[m.end() : stop.start() if stop else m.end() + 20]
    clause = _last_part(before, "，,")
    if "由" in clause and _FROM_RE.search(clause) and _FROM_CHANGE_RE.match(text[m.end() : m.end() + 10]):
        return True  # 由95%提高至99%: the figure after 由 is the baseline
    if ("单" in clause and _SIZE_CLASS_RE.search(clause)) or _SIZE_GRADE_RE.match(after):
        return True  # 单机30万千瓦, 10万千瓦级以下: the size class of a plant, not a target
    if _CONDITION_RE.match(text[m.end() : m.end() + 44]):
        return True  # 投资总额达到300万元以上的，给予…: a condition ending in 的，
    if (_TIER_AFTER_RE.match(text[m.end() - len(m.group("bound") or ""): m.end() + 8])
            or ("至" in before and _TIER_BEFORE_RE.search(before))):
        return True  # 1000万元及以上至2000万元: one bracket of a tiered rule
    sentence = text[sent_start : m.start()]
    if ("不" in before and _STANDARD_BOUND_RE.search(before)
            and _MUST_RE.search(sentence) and not _YEAR_IN_RE.search(sentence)):
        return True  # 新建绿地地下空间应…，开发比例不超过50%: a standard each project must meet
    if "按" in clause and _BY_RULE_RE.search(clause):
        return True  # 统一按照60%控制: a rule applied, not a level to reach
    if _INCENTIVE_RE.search(clause) or _INCENTIVE_RE.search(after[:12]):
        return True
    return bool(_CRITERIA_RE.search(before) or _PAST_RE.search(clause))


_CLAUSE_END_RE = re.compile(r"[，,。；;！？\n]")


def _object_after(text: str, pos: int, end: int) -> int:
    """End of the noun a count governs: 打造5个以上[未来产业园区]，…"""
    m = _OBJECT_STOP.search(text, pos, end)
    stop = m.start() if m else end
    return stop if stop - pos <= 30 else pos


# `A、B分别达到65%和55%` / `A、B均达到45%以上`: one target per item, sharing the quote.
_SPLIT_VERBS = ("达到|提高到|提升到|降至|降低到|下降到|为|不低于|不少于|不超过|控制在|下降|降低|减少|增长|提高|提升|"
                "超过")
_SPLIT_RE = re.compile(
    rf"(?P<subj>[^，,。；;：:\n]{{2,60}}?)(?P<kw>分别|均)(?P<verb>{_SPLIT_VERBS})?(?P<vals>{_NUM}\s*(?:{_UNIT_RE})?"
    rf"(?:\s*[、和及与,，]\s*{_NUM}\s*(?:{_UNIT_RE})?)*)(?P<bound>及以上|以上|以下|以内|左右)?"
)
_SPLIT_VALUE_RE = re.compile(rf"(?P<v>{_NUM})\s*(?P<u>{_UNIT_RE})?")


_SPLIT_SEPS = "，,。；;：:\n"


def _split_matches(text: str, start: int, end: int) -> Iterator[re.Match[str]]:
    """The matches `_SPLIT_RE.finditer(text, start, end)` gives, found faster.

    A match starts 2..60 characters before a 分别/均 with no clause break between, so
    only those starts are tried (anchored, in ascending order, each at most once),
    instead of running the lazy subject at every position of the document (a tenth
    of the rules' time went there). A 分别/均 that no verb and figure follow (人均, 均衡,
    分别牵头: most of them) is the key of no match, and its starts are not tried: up to 58
    failing attempts each (a match from them through a later key is found from that key)."""
    keys = [p for p, e in _split_keys(text, start, end) if _SPLIT_TAIL_RE.match(text, e, end)]
    pos, tried = start, start - 1  # next free position; highest start tried so far
    for p in keys:
        if p - 2 < pos:
            continue
        lo = max(pos, p - 60, tried + 1)
        cut = max(text.rfind(c, lo, p) for c in _SPLIT_SEPS)
        if cut >= 0:
            lo = max(lo, cut + 1)
        for s in range(lo, p - 1):
            m = _SPLIT_RE.match(text, s, end)
            if m:
                yield m
                pos = m.end()
                break
        tried = max(tried, p - 2)


def _split_keys(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """(start, end) of each 分别 and 均 in text[start:end], in order (what `分别|均` finds),
    from the positions of 分 and 均: that pattern tested its first characters' class on every
    character of the document."""
    keys = [(p, p + 2) for p in char_positions(text, "分", start, end) if text.startswith("别", p + 1, end)]
    keys += [(p, p + 1) for p in char_positions(text, "均", start, end)]
    keys.sort()
    return keys


_SPLIT_TAIL_RE = re.compile(rf"(?:{_SPLIT_VERBS})?\d")  # what `_SPLIT_RE` needs right after its key


def _split_targets(text: str, start: int, end: int, scopes: list[tuple[int, int, int]]) -> list[GoalCandidate]:
    """The targets of `分别`/`均` sentences (see _SPLIT_RE)."""
    out: list[GoalCandidate] = []
    for m in _split_matches(text, start, end):
        values = list(_SPLIT_VALUE_RE.finditer(m.group("vals")))
        units = [v.group("u") for v in values if v.group("u")]
        unit = units[-1] if units else None
        if unit is None:
            continue
        subj = _YEAR_SCOPE_RE.sub("", m.group("subj"))
        if m.group("kw") == "均":
            if len(values) != 1:
                continue
            bare = re.sub(r"[（(][^）)]*[）)]|及以上|及以下", "", subj)
            n = min(6, 1 + len(re.findall("、" if "、" in bare else "[和与]", bare)))
            values = values * n
        elif len(values) < 2:
            continue
        verb, bound = m.group("verb") or "", m.group("bound")
        comp = _comparator(verb, bound, unit)
        q_start = _skip_lead(text, m.start("subj"), m.end())
        for v in values:
            out.append(GoalCandidate(_indicator(subj) or subj, float(v.group("v")), None,
                                     (v.group("u") or unit).replace("％", "%"), comp,
                                     _year_for(text, scopes, m.start()), q_start, m.end()))
    return out


_PUNCT_START_RE = re.compile(r"[，,。；;、]")
_HAN_START_RE = re.compile(r"[\u4e00-\u9fff]")
_HAN_OR_QUOTE_START_RE = re.compile(r"[\u4e00-\u9fff“]")
_ORDINAL_END_RE = re.compile(r"第[\d\s]*$")


def find_goals(text: str, start: int = 0, end: int | None = None) -> list[GoalCandidate]:
    """All quantified targets the rules can read in text[start:end]."""
    end = len(text) if end is None else end
    scopes = year_scopes(text)
    found: list[GoalCandidate] = []
    prev_end = -1
    quotes = _QuoteDepth(text)
    starts = _Starts(text, start, end)
    for m in _target_matches(text, start, end):
        unit = m.group("unit")
        bound = m.group("bound")
        after = text[m.end() : m.end() + 4]
        before_num = text[max(0, m.start() - 4) : m.start()]
        if unit is None and not bound:
            continue  # 2026年, 5G, 第3批, an item number 13.加快: a figure needs a unit or a bound
        if unit is None and bound and m.group("value") and not _PUNCT_START_RE.match(after):
            continue
        if unit in ("亿", "万") and _HAN_START_RE.match(after):
            continue
        if (before_num.rstrip()[-1:] in ("第", "”", "/") or quotes.inside(m.start())
                or _ORDINAL_END_RE.search(text[max(0, m.start() - 6) : m.start()])):
            continue
        if unit == "强" and before_num[-1:] != "前":
            continue  # 世界500强 is a name; 进入全国前50强 is a target
        noun_end = m.end()
        if _HAN_OR_QUOTE_START_RE.match(after):
            if is_threshold(text, m):
                continue  # a threshold qualifying a noun: 10亿元以上重大项目
            noun_end = _object_after(text, m.end(), end)
        c_start = starts.clause_start(m.start(), start)
        s_start = starts.sentence_start(m.start(), start)
        if not_a_target(text, s_start, m):
            continue
        sentence = text[s_start : m.start()]
        item_start = c_start
        if c_start <= prev_end < m.start() and text[prev_end] == "、":
            item_start = prev_end + 1  # the next target of a list: 100家、省科技型…200家
        prev_end = max(m.end(), noun_end)
        clause = text[c_start : m.start()]
        value = float(m.group("value"))
        vmax = float(m.group("max")) if m.group("max") else None
        if vmax is not None and vmax <= value:
            vmax = None
        indicator = _indicator(text[item_start : m.start()])
        if noun_end > m.end():
            indicator = text[m.end() : noun_end].strip("“”")
        context = clause
        if clause.startswith("其中"):
            context = sentence  # 新增…，其中…20家以上: the change word governs the sub-targets
        found.append(
            GoalCandidate(
                indicator=indicator or (unit or ""),
                value=value,
                value_max=vmax,
                unit=unit.replace("％", "%") if unit else None,
                comparator=_comparator(context, bound, unit),
                year=_year_for(text, scopes, m.start()),
                start=_skip_lead(text, item_start, m.start()),
                end=max(m.end(), noun_end),
            )
        )
    for m in DOUBLING_RE.finditer(text, start, end):
        c_start = starts.clause_start(m.start(), start)
        ind = _indicator(text[c_start : m.start()])
        factor = 2 ** {None: 1, "一": 1, "两": 2, "二": 2, "三": 3}[m.group(1)]
        found.append(GoalCandidate(ind or "翻番", float(factor), None, "倍", Comparator.exactly,
                                   _year_for(text, scopes, m.start()),
                                   _skip_lead(text, c_start, m.start()), m.end()))
    found.extend(_magnitude_counts(text, start, end, scopes))
    found.extend(_return_periods(text, start, end, scopes))
    split = _split_targets(text, start, end, scopes)
    if split:
        spans = [(g.start, g.end) for g in split]
        found = [g for g in found if not any(a <= g.start < b or a < g.end <= b for a, b in spans)] + split
    found.sort(key=lambda g: g.start)
    return [g for g in found if g.indicator]


# `创建百家示范企业、千家示范工厂`, `由百名国医大师、万名中医名师组成`: a round magnitude
# in Chinese with a count word, after a verb that creates or a list comma.
_MAGNITUDE_RE = re.compile(
    r"(?:(?P<verb>创建|打造|培育|建设|建成|形成|培养|引进|新增|遴选|认定|由)|(?<=、))"
    r"(?P<n>百万|千万|百|千|万)(?P<unit>家|名|所|座)(?=[\u4e00-\u9fff“])")
_MAGNITUDE = {"百": 100, "千": 1000, "万": 10000, "百万": 1_000_000, "千万": 10_000_000}


def _magnitude_matches(text: str, start: int, end: int) -> Iterator[re.Match[str]]:
    """The matches `_MAGNITUDE_RE.finditer(text, start, end)` gives, found from their hints.

    Every match holds a hint, `[百千万][家名所座]` (the end of its magnitude and its count
    word), at most 3 characters after the match's start; so only the starts 0..4 before a
    hint are tried (in ascending order, each at most once). The pattern has no first
    character to search for (a verb or a lookbehind): finditer tried it at every position
    of a document that has a hint, and the hint's class was tested on every character of
    every document. The hints are found from the count words' positions (`char_positions`)."""
    hints = sorted(p - 1 for c in "家名所座" for p in char_positions(text, c, start + 1, end) if text[p - 1] in "百千万")
    pos, tried = start, start - 1  # next free position; highest start tried so far
    for h in hints:
        if h < pos:
            continue  # inside the last match
        for s in range(max(pos, h - 4, tried + 1), h + 1):
            m = _MAGNITUDE_RE.match(text, s, end)
            if m:
                yield m
                pos = m.end()  # past h: the match holds a hint, and none lies in [pos, h)
                break
        tried = max(tried, h)


def _magnitude_counts(text: str, start: int, end: int, scopes: list[tuple[int, int, int]]) -> list[GoalCandidate]:
    out: list[GoalCandidate] = []
    for m in _magnitude_matches(text, start, end):
        noun_end = _object_after(text, m.end(), end)
        noun = re.sub(r"(?:组成|构成)$", "", text[m.end() : noun_end]).strip("“”")
        if noun_end <= m.end() or not noun or re.search(r"(?:计划|行动|工程|活动|项目)$", noun):
            continue  # 万名大学生助企计划: the name of a programme
        a = m.start("n") if m.group("verb") == "由" else m.start()
        out.append(GoalCandidate(noun, float(_MAGNITUDE[m.group("n")]), None, m.group("unit"),
                                 Comparator.exactly, _year_for(text, scopes, m.start()), a, noun_end))
    return out


# Flood and drainage standards in Chinese numerals: `排水标准提高到三年一遇`.
_RETURN_PERIOD_RE = re.compile(rf"(?P<n>[{CN_NUMERAL}]{{1,4}})年一遇(?P<bound>(?:标准)?(?:及)?以上)?")


def _return_periods(text: str, start: int, end: int, scopes: list[tuple[int, int, int]]) -> list[GoalCandidate]:
    out: list[GoalCandidate] = []
    if text.find("年一遇", start, end) < 0:
        return out  # most documents: the numeral-first pattern is not tried at every numeral
    starts = _Starts(text, start, end)
    for m in _RETURN_PERIOD_RE.finditer(text, start, end):
        n = cn_to_number(m.group("n"))
        c_start = starts.clause_start(m.start(), start)
        clause = text[c_start : m.start()]
        if n is None or not re.search(r"(?:提高|提升|达到|达)(?:到|至)?$", clause):
            continue  # a standard reached or raised to, not one described
        comp = Comparator.at_least if m.group("bound") else Comparator.exactly
        indicator = _indicator(re.sub(r"(?:提高|提升|达到|达)(?:到|至)?$", "", clause)) or "标准"
        out.append(GoalCandidate(indicator, float(n), None, "年一遇", comp, _year_for(text, scopes, m.start()),
                                 _skip_lead(text, c_start, m.start()), m.end()))
    return out


def _line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


_LEAD_SCOPE_RE = re.compile(r"(?:——|\s)*(?:“[^”]{1,4}”是)?(?:(?:到|至|力争到|力争)?20\d\d年(?:底|末)?(?:前)?)?")


def _skip_lead(text: str, a: int, b: int) -> int:
    """Start the quote after a leading year scope or dash, keeping it short."""
    seg = text[a:b]
    m = _LEAD_SCOPE_RE.match(seg)
    return a + (m.end() if m else 0)


def _year_for(text: str, scopes: list[tuple[int, int, int]], pos: int) -> int | None:
    """The innermost scope holding pos; scopes are sorted by start."""
    i = bisect.bisect_right(scopes, (pos, len(text) + 1, 9999))
    for start, end, year in reversed(scopes[max(0, i - 8) : i]):
        if start <= pos < end:
            return year
    return None
