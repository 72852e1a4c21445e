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
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from summarizer.noise import is_noise_line

# One cleaned line: its characters and, for each, the raw offset it came from.
_Chars = list[tuple[str, int]]


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

# A comma doubled by the scraper before another punctuation mark: `,,` `,、` `,。`.
_PUNCT_AFTER_COMMA = set(",，、。；;：:！？!?")


def _is_pinyin(body: str) -> bool:
    return any(ch in _TONED for ch in body) or body in _NEUTRAL


def _drop_pinyin(chars: _Chars) -> _Chars:
    # Repeat: dropping `(yè)` from `業(yè)(yè)` glues the next annotation to the char.
    while True:
        line = "".join(c for c, _ in chars)
        keep = [True] * len(chars)
        for m in _PINYIN_RE.finditer(line):
            if _is_pinyin(m.group(1)):
                for i in range(m.start(), m.end()):
                    keep[i] = False
        kept = [c for c, k in zip(chars, keep) if k]
        if len(kept) == len(chars):
            return kept
        chars = kept


def _drop_doubled_commas(chars: _Chars) -> _Chars:
    out: _Chars = []
    for i, (ch, pos) in enumerate(chars):
        nxt = chars[i + 1][0] if i + 1 < len(chars) else ""
        if ch in ",，" and nxt in _PUNCT_AFTER_COMMA:
            continue
        out.append((ch, pos))
    return out


def _simplify(chars: _Chars) -> _Chars:
    line = "".join(c for c, _ in chars)
    converted = to_simplified(line)
    if len(converted) == len(line):
        return [(c, pos) for c, (_, pos) in zip(converted, chars)]
    # Phrase conversion changed the length: fall back to char-by-char so the
    # offset map stays exact.
    return [(to_simplified(c)[:1] or c, pos) for c, pos in chars]


def _normalize_spaces(chars: _Chars) -> _Chars:
    """Unify odd spaces, strip the line, and squeeze runs of spaces."""
    out: _Chars = []
    for ch, pos in chars:
        if ch in "\t\u3000\u00a0\u2002\u2003\u2009\u200b\ufeff":
            ch = " " if ch != "\u200b" and ch != "\ufeff" else ""
        if not ch or unicodedata.category(ch) == "Cc":
            continue
        if ch == " " and (not out or out[-1][0] == " "):
            continue
        out.append((ch, pos))
    while out and out[-1][0] == " ":
        out.pop()
    return out


_TABLE_RULE_RE = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$")


def clean_text(raw: str) -> CleanText:
    """Clean raw document text. Deterministic and idempotent."""
    lines_out: list[_Chars] = []
    pos = 0
    for raw_line in raw.splitlines(keepends=True):
        body = raw_line.rstrip("\r\n")
        chars: _Chars = [(ch, pos + i) for i, ch in enumerate(body)]
        pos += len(raw_line)
        chars = _normalize_spaces(chars)
        if not chars:
            continue
        chars = _drop_pinyin(chars)
        chars = _simplify(chars)
        chars = _drop_doubled_commas(chars)
        chars = _normalize_spaces(chars)
        line = "".join(c for c, _ in chars)
        if not line or _TABLE_RULE_RE.match(line) or is_noise_line(line):
            continue
        lines_out.append(chars)

    text_parts: list[str] = []
    offsets: list[int] = []
    for i, chars in enumerate(lines_out):
        if i:
            text_parts.append("\n")
            offsets.append(chars[0][1] - 1 if chars[0][1] > 0 else 0)
        text_parts.extend(c for c, _ in chars)
        offsets.extend(p for _, p in chars)
    return CleanText(text="".join(text_parts), raw_offsets=tuple(offsets))
