"""Property tests: clean_text and the duty parser on arbitrary input.

Strategies mix fully arbitrary Unicode with text drawn from the characters the code
special-cases (brackets, pinyin, odd spaces, line separators, 著 words, duty verbs),
where bugs live. Example counts are kept small so the file runs in a few seconds.
"""

from __future__ import annotations

import unicodedata

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from summarizer.extract.duty import parse_duty_clause
from summarizer.ingest.clean import clean_text, to_simplified

FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Characters the cleaner treats specially, plus ordinary policy text.
_CLEAN_ALPHABET = (
    list("一二三四五六七八九十（）()【】、，,。；;：:！？!?|- \t\u3000\u00a0\u200b\ufeff\r\n")
    + list("業發務開關數據質體著力眼手重實為區縣市局委办")
    + ["(yè)", "(fā)", "(de)", "（zhè）", ",,", ",、", "著力", "随著", "--- | ---", "首页", "版权所有",
       "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1e", "\x00", "\x7f", "ﬁ", "Ⅻ", "𠀀"]
)
policy_text = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(_CLEAN_ALPHABET), max_size=80).map("".join),
)

_DUTY_ALPHABET = (
    [*list("市区县局委办（）()【】、/和及与，,；;：: 。等"), "经信局", "发改委", "财政局", "自然资源和规划局", "牵头", "配合", "负责", "负责实施", "分别牵头", "责任单位：", "牵头单位：", "配合单位:", "实施单位：", "下同", "不再列出", "等部门", "等有关部门", "列第一位的为牵头单位"]
)
duty_text = st.one_of(
    st.text(max_size=120),
    st.lists(st.sampled_from(_DUTY_ALPHABET), max_size=40).map("".join),
)


def _maps_to(raw_ch: str, clean_ch: str) -> bool:
    """A cleaned char is its raw char, or that char's simplified form."""
    if clean_ch == raw_ch or clean_ch == to_simplified(raw_ch)[:1]:
        return True
    # phrase-level conversion: 著力 -> 着力, and the OpenCC phrase table (乾隆, 頭髮...)
    return (raw_ch == "著" and clean_ch == "着") or to_simplified(raw_ch) != raw_ch


@FAST
@given(policy_text)
def test_clean_text_never_raises_and_offsets_are_sound(raw: str) -> None:
    cleaned = clean_text(raw)
    assert len(cleaned.raw_offsets) == len(cleaned.text)
    for ch, off in zip(cleaned.text, cleaned.raw_offsets):
        assert 0 <= off < len(raw)
        if ch not in " \n":
            assert _maps_to(raw[off], ch), (ch, raw[off], off)


@FAST
@given(policy_text)
@example("㐀(è)(è)")  # minimal failing example found by hypothesis; real-world: 業(yè)(yè)
@example("第一行\u2028第二行")
@example("a\x85b")
def test_clean_text_is_idempotent(raw: str) -> None:
    once = clean_text(raw).text
    assert clean_text(once).text == once


@FAST
@given(policy_text)
def test_cleaned_lines_have_no_edge_spaces_or_blank_lines(raw: str) -> None:
    text = clean_text(raw).text
    for line in text.split("\n") if text else []:
        assert line and line == line.strip(" ")
        assert "  " not in line
        assert not any(unicodedata.category(c) == "Cc" for c in line)


@FAST
@given(duty_text, st.data())
@example("市经信局、市发改委牵头，市财政局等部门配合；下同", None)
def test_parse_duty_clause_never_raises_and_spans_match(text: str, data) -> None:  # type: ignore[no-untyped-def]
    if data is None:
        start, end = 0, len(text)
    else:
        start = data.draw(st.integers(0, len(text)))
        end = data.draw(st.integers(start, len(text)))
    for first_is_lead in (False, True):
        note = parse_duty_clause(text, start, end, first_is_lead)
        for duty in note.duties + note.carried:
            assert text[duty.start : duty.end] == duty.unit
            assert start <= duty.start < duty.end <= end
        assert all(d in note.duties for d in note.carried)
