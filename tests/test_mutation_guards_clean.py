"""Cleaning: pinyin annotations, spam, page chrome, offsets.

Written for issue 14: bugs that kept neutral-tone pinyin (`的(de)`) or full-width
annotations (`（fā）`) passed the suite, and the spam list matched `av` inside any
word. Lines here are written for the test, not taken from a scored document.
"""

from __future__ import annotations

import pytest

from summarizer.ingest.clean import LONG_LINE, clean_text, to_simplified
from summarizer.ingest.noise import is_noise_line, is_spam_line, spam_words


def clean(raw: str) -> str:
    return clean_text(raw).text


@pytest.mark.parametrize("raw,expected", [
    ("發(fā)展的(de)目標(biāo)", "发展的目标"),
    ("發（fā）展", "发展"),                      # full-width brackets
    ("他們(men)的(de)工作", "他们的工作"),       # neutral tone: no tone mark
    ("業(yè)(yè)務", "业务"),                    # a doubled annotation
    ("推進（jìn）產業（yè）", "推进产业"),
])
def test_pinyin_annotations_are_removed(raw: str, expected: str) -> None:
    assert clean(raw) == expected


@pytest.mark.parametrize("raw", ["人工智能(ai)应用", "企业(含个体户)", "第(3)项", "A(de)B", "(de)开头"])
def test_brackets_that_are_not_pinyin_stay(raw: str) -> None:
    assert clean(raw) == raw


def test_offsets_map_each_cleaned_char_to_its_raw_char() -> None:
    raw = "  發(fā)展\n\n\u3000規(guī)劃，，目標"
    ct = clean_text(raw)
    assert ct.text == "发展\n规划，目标"
    assert len(ct.raw_offsets) == len(ct.text)
    assert [raw[o] for o, c in zip(ct.raw_offsets, ct.text) if c != "\n"] == list("發展規劃，目標")
    assert ct.raw_span(0, 2) == (2, 8)  # 發…展, annotation inside
    assert clean_text(ct.text).text == ct.text


def test_spaces_and_invisible_characters() -> None:
    assert clean("\t发展\u3000\u3000规划 \u200b") == "发展 规划"
    assert clean("第一行\r\n\r\n   \r\n第二行") == "第一行\n第二行"


def test_latin_spam_words_match_only_as_whole_tokens() -> None:
    assert "av" in spam_words()
    assert is_spam_line("免费av|最新视频|高清|在线")
    assert not is_spam_line("java|navigation|travel|avenue")
    assert not is_spam_line("AVG、JAVA、SAVE和NAV四个系统接入平台")


def test_one_spam_word_needs_a_list_shaped_line() -> None:
    assert not is_spam_line("发行体育彩票，公益金用于全民健身设施建设。")
    assert is_spam_line("时时彩|开奖|走势图|下载")
    assert is_spam_line("博彩娱乐城，注册就送")  # two words: spam whatever the shape


def test_no_spam_word_is_a_policy_word() -> None:
    """Enforcement clauses name what they fight; a line naming two such things stays."""
    for line in ("依法打击赌博、色情、毒品、非法集资等违法犯罪活动。",
                 "规范棋牌室和体育彩票销售点管理，打击代孕、刷单、代开发票等违法行为，优化不动产办证流程。"):
        assert not is_noise_line(line)


@pytest.mark.parametrize("line", [
    "【打印本页】【关闭窗口】", "首页", "返回顶部", "来源：市政府办公室", "字号：大 中 小",
    "当前位置：首页 > 政务公开 > 政策文件", "> 政务公开 > 政策文件 > 规划计划",
    "版权所有：某市人民政府 ICP备12345678号", "上一篇：关于…的通知",
])
def test_page_chrome_is_noise(line: str) -> None:
    assert is_noise_line(line)


@pytest.mark.parametrize("line", [
    "来源于企业的数据应当依法使用。", "一、总体要求", "首页设计应当简洁。",
    "主办单位：" + "某" * 300,  # a long line with a footer word is text, not a footer
])
def test_document_lines_are_not_noise(line: str) -> None:
    assert not is_noise_line(line)


def test_doubled_punctuation_keeps_the_second_mark() -> None:
    assert clean("发展，，规划,。目标") == "发展，规划。目标"


def test_markdown_table_rule_lines_go_and_rows_stay() -> None:
    assert clean("| 任务 | 单位 |\n|---|---|\n| 上云 | 市经信局 |") == "| 任务 | 单位 |\n| 上云 | 市经信局 |"


def test_zhe_words_and_plain_traditional() -> None:
    assert to_simplified("著力推進，顯著提高") == "着力推进，显著提高"


def test_a_long_single_line_is_split_at_its_headings_only() -> None:
    body = "加强统筹。" * (LONG_LINE // 5)
    raw = f"某市实施方案的通知某府发〔2024〕3号各区政府：一、总体要求。{body}（一）指导思想。内容。二、主要任务。1.做好工作。"
    lines = clean(raw).split("\n")
    assert lines[0] == "某市实施方案的通知"
    assert lines[1].startswith("某府发〔2024〕3号")
    assert "各区政府：" in lines[2]
    assert any(x.startswith("一、总体要求") for x in lines)
    assert any(x.startswith("（一）指导思想") for x in lines)
    assert any(x.startswith("二、主要任务") for x in lines) and lines[-1] == "1.做好工作。"
    short = "一、总体要求（一）指导思想。二、主要任务。"
    assert clean(short) == short


def test_raw_span_of_empty_and_out_of_range_spans() -> None:
    ct = clean_text("發(fā)展规划")
    assert ct.raw_span(1, 1) == (ct.raw_offsets[1], ct.raw_offsets[1]) == (5, 5)
    assert ct.raw_span(len(ct.text), len(ct.text)) == (0, 0)
    assert ct.raw_span(3, 2) == (ct.raw_offsets[3], ct.raw_offsets[3])
    assert clean_text("").raw_span(0, 0) == (0, 0)


def test_each_newline_maps_to_the_raw_line_break_before_its_line() -> None:
    raw = "第一行\n\n第二行X\r\n第三行"
    ct = clean_text(raw)
    assert ct.text == "第一行\n第二行X\n第三行"
    assert [raw[o] for o, c in zip(ct.raw_offsets, ct.text) if c == "\n"] == ["\n", "\n"]
    assert [o for o, c in zip(ct.raw_offsets, ct.text) if c == "\n"] == [4, 10]
    assert clean_text("\n第一行").raw_offsets[0] == 1


def test_one_spam_word_in_a_sentence_is_not_spam() -> None:
    assert not is_spam_line("这一行只提到av一次，并不是列表。")
    assert not is_noise_line("这一行只提到av一次，并不是列表。")


def test_list_shaped_spam_lines_have_short_fragments() -> None:
    assert is_spam_line("av|二|三|" + "四" * 25)
    assert not is_spam_line("av|二|三|" + "四" * 26)
    assert not is_spam_line("av|二|三")


def test_a_footer_is_a_short_line() -> None:
    assert is_noise_line("版权所有" + "某" * 295)
    assert not is_noise_line("版权所有" + "某" * 296)


def test_long_lines_split_from_the_length_limit_on() -> None:
    unit = "加强统筹。二、任务"
    at_limit = (unit * (LONG_LINE // len(unit) + 1))[:LONG_LINE]
    assert len(clean(at_limit).split("\n")) > 1
    below = at_limit[:-1]
    assert clean(below) == below


def test_cut_pieces_lose_their_edge_spaces() -> None:
    body = "正文内容。" * (LONG_LINE // 5)
    lines = clean(f"{body} 二、主要任务。 1.做好工作。 ").split("\n")
    assert lines[1:] == ["二、主要任务。", "1.做好工作。"]


def test_a_document_number_glued_to_title_and_addressee_is_cut_out() -> None:
    body = "正文内容。" * (LONG_LINE // 5)
    lines = clean(f"某市关于加快发展的意见某府发〔2024〕12号各区人民政府：{body}").split("\n")
    assert lines[:2] == ["某市关于加快发展的意见", "某府发〔2024〕12号"] and lines[2].startswith("各区人民政府：")
    far = clean(f"某市关于加快发展的意见第一批某某某某府发〔2024〕12号各区：{body}").split("\n")
    assert far[0].startswith("某市关于加快发展的意见第一批某某某某府发〔2024〕12号")  # genre word too far back
    assert far[1].startswith("各区：")
    late = clean(f"{'前言文字。' * 80}某市方案某府发〔2024〕12号各区：{body}").split("\n")
    assert not any(x.startswith("某府发〔2024〕12号") for x in late)  # only in the first 400 characters
