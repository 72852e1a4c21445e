"""Recognize lines that are web-page noise rather than document text.

Scraped government pages carry SEO spam, breadcrumbs, print/close buttons and site
footers. These rules look at the shape of a line (and a reviewed word list for
spam), never at which sample it came from, so they hold for the genre.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def spam_words() -> tuple[str, ...]:
    """The reviewed spam word list (`summarizer/data/spam_words.txt`), lower-cased."""
    text = resources.files("summarizer.data").joinpath("spam_words.txt").read_text("utf-8")
    return tuple(
        w.strip().lower() for w in text.splitlines() if w.strip() and not w.startswith("#")
    )


@lru_cache(maxsize=1)
def _spam_patterns() -> tuple[re.Pattern[str], ...]:
    """One pattern per spam word. A Latin-letter word must stand alone among Latin
    letters, so a two-letter abbreviation such as `av` cannot fire inside an ordinary
    word (`java`, `navigation`) or a URL; Chinese has no spaces, so CJK words match
    as substrings."""
    return tuple(re.compile(_spam_pattern(w)) for w in spam_words())


def _spam_pattern(word: str) -> str:
    """`av` alone among Latin letters, written `a(?<![a-z]a)v(?![a-z])`: the same matches as a
    leading `(?<![a-z])`, but starting with a literal lets the engine skip to candidate
    characters (the combined pattern ran six times slower with the lookbehind first)."""
    if not word.isascii():
        return re.escape(word)
    first = re.escape(word[0])
    return rf"{first}(?<![a-z]{first}){re.escape(word[1:])}(?![a-z])"


# Whole-line page chrome: buttons, widgets, empty metadata fields.
_CHROME_RE = re.compile(
    r"^(【[^】]{1,8}】\s*)+$"  # 【打印本页】 【关闭本页】
    r"|^(下载|打印|全屏|收藏|加大|还原|减小|默认|【?\s*字号\s*[:：]?|】)$"  # split-up font-size widgets
    r"|^(首页|返回顶部|在线咨询|点击下载附件|下载附件|相关附件|扫一扫.*|分享到.*|网站地图.*)$"
    r"|^(作者|信息来源|来源|责任编辑|编辑|审核|浏览次数|访问量|点击数|字号)\s*[:：].{0,40}$"
    r"|^字号\s*[:：]?\s*[大中小\s]+$"
    r"|^(上一篇|下一篇)\s*[:：].*$"
)
# Breadcrumbs: "> 政务公开 > 市政府信息 > ..." or "首页 > ...".
_BREADCRUMB_RE = re.compile(r"^(当前位置[:：]?\s*)?(首页\s*)?([>＞»]\s*[^>＞»]{1,20}\s*){2,}$")
# Searched in the lower-cased line (not with re.IGNORECASE, which defeats the engine's
# first-character skip and cost three times as much).
_FOOTER_WORDS = ("copyright", "版权所有", "all rights reserved", "icp备", "icp证", "公网安备", "增值电信业务经营许可证",
                 "违法和不良信息举报", *(f"{w}{c}" for w in ("主办单位", "承办单位", "技术支持") for c in ":："),
                 "网站标识码")
_FOOTER_RE = re.compile("|".join(map(re.escape, _FOOTER_WORDS)))


@lru_cache(maxsize=1)
def _any_spam() -> re.Pattern[str]:
    """Matches where any one spam pattern matches: a line it misses has no hit at all."""
    return re.compile("|".join(f"(?:{rx.pattern})" for rx in _spam_patterns()) or "(?!)")


def _spam_hits(line: str, low: str | None = None) -> int:
    low = line.lower() if low is None else low
    if not _any_spam().search(low):
        return 0  # most lines: one search instead of one per word
    return sum(1 for rx in _spam_patterns() if rx.search(low))


_FRAGMENT_SPLIT_RE = re.compile(r"[|｜,，]")


def is_spam_line(line: str, low: str | None = None) -> bool:
    hits = _spam_hits(line, low)
    if hits >= 2:
        return True
    fragments = [f for f in _FRAGMENT_SPLIT_RE.split(line) if f.strip()]
    return hits >= 1 and len(fragments) >= 4 and max(len(f) for f in fragments) <= 25


# Page chrome and SEO spam come as short lines; a longer "line" is a document stored
# without line breaks, and a few spam words in it must not drop the whole document.
MAX_NOISE_LINE = 2000


def is_noise_line(line: str) -> bool:
    """True for a cleaned line that is page noise, not document content."""
    return _is_noise(line.strip(), True, True)


def noise_flags(lines: list[str]) -> list[bool]:
    """`is_noise_line` for every line of a document, with the footer and spam searches run
    once over the whole document first: most documents have neither, and then no line is
    searched for them. (No footer or spam word spans a line break, so a line with a hit
    makes the whole text have one.)"""
    stripped = [line.strip() for line in lines]
    low = "\n".join(s for s in stripped if len(s) <= MAX_NOISE_LINE).lower()
    footer = any(w in low for w in _FOOTER_WORDS)  # substring tests: 40% fewer instructions than the search
    spam = _any_spam().search(low) is not None
    return [_is_noise(s, footer, spam) for s in stripped]


def _is_noise(s: str, footer: bool, spam: bool) -> bool:
    if len(s) > MAX_NOISE_LINE:
        return False
    low = s.lower() if footer or spam else s
    return bool(
        _CHROME_RE.match(s)
        or _BREADCRUMB_RE.match(s)
        or (footer and len(s) < 300 and _FOOTER_RE.search(low))
        or (spam and is_spam_line(s, low))
    )
