"""Numbers as Chinese policy text writes them: 1000, 1.2, 三, 两, 翻番.

Shared by the rule-based goal extractor (to read values) and the validators (to
check that a model's value really appears in its quote).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
           "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
CN_NUMERAL = "零〇一二两三四五六七八九十百千"
NUMBER_RE = re.compile(r"\d+(?:\.\d+)?")
CN_NUMBER_RE = re.compile(rf"[{CN_NUMERAL}]+")
_MAGNITUDE = {"万": 10_000, "十万": 100_000, "百万": 1_000_000, "千万": 10_000_000}
_MAGNITUDE_RE = re.compile(r"(?<![\d.零〇一二两三四五六七八九十百千])(十万|百万|千万|万)(?![\d])")
# 翻番/翻一番 double; 翻两番 quadruples.
DOUBLING_RE = re.compile(r"翻(一|两|二|三)?番")


def cn_to_number(text: str) -> int | None:
    """Parse a Chinese numeral below ten thousand (`三`, `十二`, `一百五十`)."""
    if not text or any(ch not in _DIGITS and ch not in _UNITS for ch in text):
        return None
    total, current = 0, None
    for ch in text:
        if ch in _DIGITS:
            current = _DIGITS[ch] if current is None else current * 10 + _DIGITS[ch]
        else:
            total += (current if current is not None else 1) * _UNITS[ch]
            current = None
    return total + (current or 0)


def doubling_factor(text: str) -> int | None:
    """翻番 -> 2, 翻两番 -> 4; None when the text states no doubling."""
    m = DOUBLING_RE.search(text)
    if not m:
        return None
    times = {None: 1, "一": 1, "两": 2, "二": 2, "三": 3}[m.group(1)]
    return int(2**times)


def numbers_in(text: str) -> list[float]:
    """Every number the text states, in Arabic or Chinese numerals or as a doubling."""
    return list(_numbers(text))


def _numbers(text: str) -> Iterator[float]:
    """numbers_in, one at a time: Arabic numerals first, the commonest and cheapest."""
    for m in NUMBER_RE.finditer(text.replace(",", "")):
        yield float(m.group())
    for m in CN_NUMBER_RE.finditer(text):
        n = cn_to_number(m.group())
        if n is not None:
            yield float(n)
    if "万" in text:  # every magnitude ends in 万
        for m in _MAGNITUDE_RE.finditer(text):  # 万名, 百万: a round magnitude, not after digits (5万元)
            yield float(_MAGNITUDE[m.group(1)])
    factor = doubling_factor(text)
    if factor:
        yield float(factor)


def value_in_quote(value: float, quote: str) -> bool:
    """True when `value` is a number stated in `quote` (stops at the first that is)."""
    return any(abs(n - value) < 1e-9 for n in _numbers(quote))
