"""One line per measure (at most 40 characters), extractive: the measure's first sentence.

A measure's heading is often a slogan (`加快数字化转型`); what it commits to is in its
first sentence. That sentence is cut at the last clause boundary (，、：；) that keeps
it within 40 characters, so the line is a verbatim span of the text and carries its
offsets (`summary_start`, `summary_end`); a responsibility note at its end
(`（责任单位：…）`) is left out, the brief lists the units beside it.
"""

from __future__ import annotations

import re

from summarizer.models import GroundedMeasure

MAX_CHARS = 40
_SENT_END = re.compile(r"[。；;！？!?\n|]")
_CLAUSE = "，、：,:"
_NOTE = re.compile(r"[（(][^（）()]*(?:单位|牵头|负责|配合)[^（）()]*[)）]?$")
_LEAD = " \t\u3000：:，,。；;、.．"


def first_line(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Offsets of the first sentence in text[start:end], trimmed to MAX_CHARS at a clause; None if none."""
    a = start
    while a < end and text[a] in _LEAD:
        a += 1
    if a >= end:
        return None
    m = _SENT_END.search(text, a, end)
    b = m.start() if m else end
    note = _NOTE.search(text[a:b])
    if note and note.start() > 0:
        b = a + note.start()
    if b - a > MAX_CHARS:
        cut = max(text.rfind(c, a + 8, a + MAX_CHARS + 1) for c in _CLAUSE)  # the last clause mark, or -1
        b = cut if cut >= 0 else a + MAX_CHARS
    while b > a and text[b - 1] in _LEAD:
        b -= 1
    return (a, b) if b > a else None


def summary_span(text: str, m: GroundedMeasure) -> tuple[int, int] | None:
    """Where a measure's summary line stands: its body's first sentence, else its own heading title."""
    if m.body_end is not None and m.body_end > m.end:
        span = first_line(text, m.end, min(m.body_end, len(text)))
        if span is not None:
            return span
    i = m.quote.find(m.title)
    if i >= 0:
        return first_line(text, m.start + i, m.start + i + len(m.title))
    return None


def with_summaries(text: str, measures: list[GroundedMeasure]) -> list[GroundedMeasure]:
    """The measures with their extractive summary and its offsets (a measure with no text keeps none)."""
    out = []
    for m in measures:
        span = summary_span(text, m)
        if span is None:
            out.append(m)
            continue
        a, b = span
        out.append(m.model_copy(update={"summary": text[a:b], "summary_start": a, "summary_end": b}))
    return out
