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

from summarizer.ingest.noise import is_noise_line


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
_PINYIN_RE = re.compile(rf"(?<=[\u3400-\u9fff])[(（]({_PINYIN_BODY})[)）]")



def _is_pinyin(body: str) -> bool:
    return any(ch in _TONED for ch in body) or body in _NEUTRAL


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
        if not spans:
            return
        parts, offs, last = [], [], 0
        for a, b in spans:
            parts.append(self.text[last:a])
            offs.extend(self.offs[last:a])
            last = b
        parts.append(self.text[last:])
        offs.extend(self.offs[last:])
        self.text, self.offs = "".join(parts), offs

    def delete_matches(self, rx: re.Pattern[str]) -> None:
        self.delete([m.span() for m in rx.finditer(self.text)])


_INVISIBLE_RE = re.compile(r"[\u200b\ufeff\x00-\x08\x0b-\x1f\x7f-\x9f]")
_ODD_SPACES = str.maketrans({c: " " for c in "\t\u3000\u00a0\u2002\u2003\u2009\x0c"})
# Extra spaces: all but the first of a run, and any at either end of the line.
_EXTRA_SPACE_RE = re.compile(r"(?<= ) +|^ +| +$")
_DOUBLED_COMMA_RE = re.compile(r"[,，](?=[,，、。；;：:！？!?])")


def _normalize_spaces(line: _Line) -> None:
    line.delete_matches(_INVISIBLE_RE)
    line.text = line.text.translate(_ODD_SPACES)
    line.delete_matches(_EXTRA_SPACE_RE)


def _drop_pinyin(line: _Line) -> None:
    # Repeat: dropping `(yè)` from `業(yè)(yè)` glues the next annotation to the char.
    while True:
        spans = [m.span() for m in _PINYIN_RE.finditer(line.text) if _is_pinyin(m.group(1))]
        if not spans:
            return
        line.delete(spans)


def _simplify(line: _Line) -> None:
    converted = to_simplified(line.text)
    if len(converted) != len(line.text):
        # Phrase conversion changed the length: char by char keeps the offsets exact.
        converted = "".join(to_simplified(c)[:1] or c for c in line.text)
    line.text = converted


_TABLE_RULE_RE = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$")


def clean_text(raw: str) -> CleanText:
    """Clean raw document text. Deterministic and idempotent."""
    kept: list[_Line] = []
    pos = 0
    for raw_line in raw.splitlines(keepends=True):
        body = raw_line.rstrip("\r\n")
        line = _Line(body, list(range(pos, pos + len(body))))
        pos += len(raw_line)
        _normalize_spaces(line)
        if not line.text:
            continue
        _drop_pinyin(line)
        _simplify(line)
        line.delete_matches(_DOUBLED_COMMA_RE)
        _normalize_spaces(line)
        if not line.text or _TABLE_RULE_RE.match(line.text) or is_noise_line(line.text):
            continue
        kept.append(line)

    offsets: list[int] = []
    for i, line in enumerate(kept):
        if i:
            offsets.append(max(0, line.offs[0] - 1))  # the newline stands for the line break
        offsets.extend(line.offs)
    return CleanText(text="\n".join(line.text for line in kept), raw_offsets=tuple(offsets))
