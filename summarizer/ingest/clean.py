"""Turn scraped policy text into clean simplified Chinese, keeping an offset map.

Every later stage (structure parser, LLM grounding, eval highlighting) works on the
cleaned text, but a reviewer must be able to find an item in the file they were
given. So each cleaned character remembers the raw offset it came from
(`CleanText.raw_offsets`), and every transformation here is written as a filter over
(char, raw_offset) pairs rather than as string replacement.

Cleaning must be idempotent (cleaning clean text changes nothing) so that gold
quotes written against cleaned text stay valid if a document is cleaned twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from summarizer.ingest.noise import noise_flags


@dataclass(frozen=True)
class CleanText:
    """Cleaned text plus, per cleaned char, its offset in the raw text."""

    text: str
    raw_offsets: tuple[int, ...]

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a cleaned [start, end) span back to the raw text."""
        if start >= end or not self.raw_offsets:
            pos = self.raw_offsets[start] if start < len(self.raw_offsets) else 0
            return pos, pos
        return self.raw_offsets[start], self.raw_offsets[end - 1] + 1


@lru_cache(maxsize=1)
def _t2s():  # type: ignore[no-untyped-def]
    import opencc

    return opencc.OpenCC("t2s")


# OpenCC's t2s keeps 著 wherever it may be a real 著 (显著, 著作); in these words the
# simplified standard writes 着. Equal-length swaps, so offsets are untouched.
_ZHE_WORDS = ("著力", "著眼", "著手", "著重", "著实", "著落", "著陆", "执著", "随著", "沿著",
              "为著", "意味著", "有著", "穿著", "本著", "接著", "紧接著", "围绕著", "朝著")


def to_simplified(text: str) -> str:
    """Traditional -> simplified with OpenCC, plus the 著 -> 着 words t2s leaves."""
    out = str(_t2s().convert(text))
    if "著" in out:
        for word in _ZHE_WORDS:
            out = out.replace(word, word.replace("著", "着"))
    return out


_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
_PINYIN_BODY = f"[a-zü{_TONED}]{{1,7}}"
# A pinyin annotation glued to a CJK char: 業(yè), 發(fā). Toneless syllables only for
# the common neutral-tone particles, so real bracketed words like (ai) survive.
_NEUTRAL = {"de", "le", "men", "zi", "me", "ge", "ne", "ma", "ba", "zhe", "li", "tou", "shang"}
# The bracket first, the CJK char before it checked behind: the engine then scans for
# brackets instead of trying the lookbehind at every character.
_PINYIN_RE = re.compile(rf"[(（](?<=[\u3400-\u9fff].)({_PINYIN_BODY})[)）]")



_TONED_SET = frozenset(_TONED)


def _is_pinyin(body: str) -> bool:
    return body in _NEUTRAL or not _TONED_SET.isdisjoint(body)


class _Line:
    """One line being cleaned: its text and, per character, the raw offset.

    Every step deletes characters or swaps them one for one, so the offsets follow
    by slicing (C speed) rather than a Python loop per character.
    """

    __slots__ = ("offs", "text")

    def __init__(self, text: str, offs: list[int]) -> None:
        self.text = text
        self.offs = offs

    def delete(self, spans: list[tuple[int, int]]) -> None:
        """Drop the characters of `spans` (in order, disjoint): the text joined from the kept
        slices, the offsets cut in place from the last span back (no list built per span:
        a line annotated with pinyin throughout has a span every few characters)."""
        if not spans:
            return
        text = self.text
        kept_starts = [0, *(b for _, b in spans)]
        kept_ends = [*(a for a, _ in spans), len(text)]
        self.text = "".join([text[a:b] for a, b in zip(kept_starts, kept_ends)])
        offs = self.offs
        for a, b in reversed(spans):
            del offs[a:b]

    def delete_matches(self, rx: re.Pattern[str]) -> None:
        self.delete([m.span() for m in rx.finditer(self.text)])


_INVISIBLE = r"\u200b\ufeff\x00-\x08\x0b-\x1f\x7f-\x9f"
_INVISIBLE_RE = re.compile(f"[{_INVISIBLE}]")
# Where a pinyin annotation may start once invisible characters are gone: a document
# with none (most) skips the per-line search. Never misses: cleaning only deletes
# invisible characters and extra spaces (a space never joins a bracket to pinyin).
# One pattern per bracket: a pattern that starts with one character is searched for that
# character (a few instructions a character), one that starts with a class `[(（]` runs the
# class's test on every character (about 40).
_PINYIN_HINT_RES = tuple(re.compile(f"{re.escape(b)}[{_INVISIBLE}]*[a-zü{_TONED}]") for b in "(（")
# One for one, so the offsets stay; a regex (not str.translate, which looks up every
# character of a CJK line in a dict) because most lines have none.
_ODD_SPACES = "\t\u3000\u00a0\u2002\u2003\u2009\x0c"
_ODD_SPACES_RE = re.compile(f"[{_ODD_SPACES}]")
# Extra spaces: all but the first of a run, and any at either end of the line.
_SPACES_RE = re.compile(" +")


def _extra_spaces(text: str) -> list[tuple[int, int]]:
    """The spans `(?<= ) +|^ +| +$` matches, from the runs of spaces (that pattern tried
    its lookbehind at every character of the line)."""
    spans = []
    for m in _SPACES_RE.finditer(text):
        a, b = m.span()
        if a == 0 or b == len(text):
            spans.append((a, b))
        elif b - a > 1:
            spans.append((a + 1, b))
    return spans
# A comma before another mark: `[,，](?=…)` as one pattern per comma, each searched for its
# character (a class first costs its test on every character of every line).
_DOUBLED_COMMA_RES = tuple(re.compile(f"{c}(?=[,，、。；;：:！？!?])") for c in ",，")


def _doubled_commas(text: str) -> list[tuple[int, int]]:
    """The spans `[,，](?=[,，、。；;：:！？!?])` matches, in order (one character each)."""
    spans = [m.span() for rx in _DOUBLED_COMMA_RES for m in rx.finditer(text)]
    spans.sort()
    return spans


def _normalize_spaces(line: _Line, invisible: bool = True, odd: bool = True) -> None:
    """Invisible characters out, odd spaces to one space, extra spaces out. `invisible` and
    `odd` False: the document has none of those (searched once, not on every line)."""
    if invisible:
        line.delete_matches(_INVISIBLE_RE)
    if odd:
        line.text = _ODD_SPACES_RE.sub(" ", line.text)
    if " " in line.text:
        line.delete(_extra_spaces(line.text))


def _drop_pinyin(line: _Line) -> None:
    if "(" not in line.text and "（" not in line.text:
        return  # no bracket, no annotation
    # Repeat: dropping `(yè)` from `業(yè)(yè)` glues the next annotation to the char.
    while True:
        spans = [m.span() for m in _PINYIN_RE.finditer(line.text) if _is_pinyin(m.group(1))]
        if not spans:
            return
        line.delete(spans)


def _simplify(lines: list[_Line]) -> None:
    """Every line to simplified Chinese in one OpenCC call (a call per line cost more than
    the conversion): OpenCC's phrases never span a line break, so converting the joined
    lines converts each line as on its own."""
    if not lines:
        return
    converted = to_simplified("\n".join(line.text for line in lines)).split("\n")
    if len(converted) != len(lines):  # never expected; line by line is always right
        converted = [to_simplified(line.text) for line in lines]
    for line, text in zip(lines, converted):
        if len(text) != len(line.text):
            # Phrase conversion changed the length: char by char keeps the offsets exact.
            text = "".join(to_simplified(c)[:1] or c for c in line.text)
        line.text = text


# Text stored without line breaks (a crawl's CSV field) runs its headings inline:
# `…意见如下：一、总体要求（一）指导思想。…`. A heading marker right after a sentence
# end, a closing bracket or a 文号 starts a new line there, so the outline, the
# header and the year scopes see the lines a printed page has. Only long lines are
# split: in text that has its line breaks, an inline `（一）` is a sub-point.
_CN_NUM = "一二三四五六七八九十"
_INLINE_HEAD_RE = re.compile(
    r"(?<=[。；;：:！？）)”】])\s*(?="
    rf"第[{_CN_NUM}百零〇\d ]{{1,6}}[章节条部篇]|[{_CN_NUM}]{{1,3}}\s?、|[（(][{_CN_NUM}]{{1,3}}[)）]"
    r"|\d{1,2}(?:[.．、](?![\d%％])|[.．](?=20\d\d年))|[（(]\d{1,2}[)）]|附件\s*\d*\s*[:：])"
    # A `（一）` heading right after a heading line that has no end mark: `二、总体要求（一）指导思想。`
    rf"|(?:(?<=[\u4e00-\u9fff])|(?<=[\u4e00-\u9fff] ))(?<![第款项条])(?=[（(][{_CN_NUM}]{{1,3}}[)）])"
)
# A 文号 glued to the title before it or the addressee after it: `…的通知国发〔2016〕65号各省、…`.
_DOC_NO_RE = re.compile(r"[〔\[［][12]\d{3}[〕\]］]\d{1,4}号")
_GENRE_END_RE = re.compile(r"(通知|意见|方案|规划|办法|决定|纲要|报告|计划|措施|细则|要点|批复)")


def _doc_no_cuts(text: str) -> set[int]:
    """Line breaks around a 文号 in the first lines of a document stored as one line."""
    cuts: set[int] = set()
    if text.find("号", 0, 400) < 0:
        return cuts  # a 文号 ends in 号 (most lines have none)
    for m in _DOC_NO_RE.finditer(text, 0, 400):
        head = [g.end() for g in _GENRE_END_RE.finditer(text, max(0, m.start() - 10), m.start())]
        if head and 0 < m.start() - head[-1] <= 8 and all("\u4e00" <= c <= "\u9fff" for c in text[head[-1]:m.start()]):
            cuts.add(head[-1])
        if m.end() < len(text) and "\u4e00" <= text[m.end()] <= "\u9fff":
            cuts.add(m.end())
    return cuts


LONG_LINE = 1000


# Decimal section numbers (`3.2.1 预警分级`, contingency plans and standards) stored
# inline with blanks for line breaks; `1 总则` counts only among them.
_DECIMAL_HEAD_RE = re.compile(r"(?<=\s)(?=\d{1,2}(?:\.\d{1,2}){1,3}\s+[\u4e00-\u9fff])")
_DECIMAL_TOP_RE = re.compile(r"(?<=\s)(?=\d{1,2}\s+[\u4e00-\u9fff]{2,16}\s)")


# A chapter heading with its first article on the same line: `第七章 安全保障 第三十八条 …`.
_CHAPTER_ARTICLE_RE = re.compile(
    rf"^第[{_CN_NUM}百零〇\d]{{1,6}}[章节]\s*[\u4e00-\u9fff、，和与及]{{1,24}}?\s+(?=第[{_CN_NUM}百零〇\d]{{1,6}}条)")


def _split_long(line: _Line) -> list[_Line]:
    """Break a line stored without line breaks at its inline headings (see above)."""
    cuts = _doc_no_cuts(line.text)
    chapter = _CHAPTER_ARTICLE_RE.match(line.text)
    if chapter:
        cuts.add(chapter.end())
    if len(line.text) >= LONG_LINE:
        cuts |= {m.start() for m in _INLINE_HEAD_RE.finditer(line.text)}
        decimal = {m.start() for m in _DECIMAL_HEAD_RE.finditer(line.text)}
        if len(decimal) >= 3:
            cuts |= decimal | {m.start() for m in _DECIMAL_TOP_RE.finditer(line.text)}
    if not cuts:
        return [line]
    parts, last = [], 0
    for cut in [*sorted(cuts), len(line.text)]:
        a, b = last, cut
        while a < b and line.text[a] == " ":
            a += 1
        while b > a and line.text[b - 1] == " ":
            b -= 1
        if b > a:
            parts.append(_Line(line.text[a:b], line.offs[a:b]))
        last = cut
    return parts


def _invisible_and_odd(raw: str) -> tuple[bool, bool]:
    """Whether the text has invisible characters, and odd spaces. Both are characters
    `str.isprintable` rejects (controls, format characters, spaces other than ' '), so text
    that is printable but for its line breaks (most documents) has neither, found by a
    table lookup per character; a character-class search of a whole document cost about
    70 instructions a character. Otherwise the odd spaces (seven characters) are searched
    one by one and the invisible ones by their class."""
    if raw.replace("\n", "").isprintable():
        return False, False
    return _INVISIBLE_RE.search(raw) is not None, any(c in raw for c in _ODD_SPACES)


_TABLE_RULE_RE = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$")


def clean_text(raw: str) -> CleanText:
    """Clean raw document text. Deterministic and idempotent."""
    lines: list[_Line] = []
    before: list[str] = []  # each line as first normalized
    pos = 0
    pinyin = any(rx.search(raw) for rx in _PINYIN_HINT_RES)
    invisible, odd = _invisible_and_odd(raw)
    for raw_line in raw.splitlines(keepends=True):
        body = raw_line.rstrip("\r\n")
        line = _Line(body, list(range(pos, pos + len(body))))
        pos += len(raw_line)
        _normalize_spaces(line, invisible, odd)
        if not line.text:
            continue
        before.append(line.text)
        if pinyin:
            _drop_pinyin(line)
        lines.append(line)
    _simplify(lines)
    for line, text in zip(lines, before):
        line.delete(_doubled_commas(line.text))
        if line.text != text:  # normalized text stays normalized unless something changed it
            _normalize_spaces(line)
    kept: list[_Line] = []
    for line, noise in zip(lines, noise_flags([line.text for line in lines])):
        if not line.text or _TABLE_RULE_RE.match(line.text) or noise:
            continue
        kept.extend(_split_long(line))

    offsets: list[int] = []
    for i, line in enumerate(kept):
        if i:
            offsets.append(max(0, line.offs[0] - 1))  # the newline stands for the line break
        offsets.extend(line.offs)
    return CleanText(text="\n".join(line.text for line in kept), raw_offsets=tuple(offsets))
