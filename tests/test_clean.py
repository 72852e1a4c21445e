"""Each cleaning rule, on real lines from the sample corpus."""

from __future__ import annotations

import pytest
from conftest import raw_text

from summarizer.ingest.clean import clean_text, to_simplified


def test_traditional_with_pinyin_becomes_simplified() -> None:
    raw = "嘉興市人民政府關(guān)于印發(fā)嘉興市先進(jìn)制造業(yè)集群培育工程推進(jìn)方案(2023—2027年)的通知"
    assert clean_text(raw).text == "嘉兴市人民政府关于印发嘉兴市先进制造业集群培育工程推进方案(2023—2027年)的通知"


@pytest.mark.parametrize("keep", ["(2023—2027年)", "TB(太字节)", "（责任单位：区经信局、新区经发局）",
                                  "区经信局(金融办)", "各县(市、区)", "人工智能(ai)"])
def test_real_parentheses_survive(keep: str) -> None:
    assert keep in clean_text(f"推进方案{keep}实施").text


def test_doubled_punctuation_collapses() -> None:
    assert clean_text("一,、總體要求").text == "一、总体要求"
    assert clean_text("(一)指導(dǎo)思想,。").text == "(一)指导思想。"
    assert clean_text("各縣(市,、區(qū))人民政府,,市政府各部門").text == "各县(市、区)人民政府,市政府各部门"
    assert clean_text("打造长三角先进制造业基地，，制定本方案").text == "打造长三角先进制造业基地，制定本方案"


def test_zhe_words_follow_the_simplified_standard() -> None:
    assert to_simplified("(一)著力空間騰換") == "(一)着力空间腾换"
    assert to_simplified("全要素生產率顯著提升") == "全要素生产率显著提升"


def test_spam_nav_chrome_and_footer_lines_are_dropped() -> None:
    text = clean_text(raw_text("003")).text
    assert "麻豆" not in text
    assert "首页" not in text and "政务公开 >" not in text
    assert "打印本页" not in text and "点击下载附件" not in text and "信息来源" not in text
    footer = clean_text(raw_text("002")).text
    assert "Copyright" not in footer and "ICP" not in footer and "在线咨询" not in footer
    assert footer.endswith("让企业实实在在地享受到政策红利。")


def test_pipe_tables_are_kept_as_rows() -> None:
    text = clean_text(raw_text("004")).text
    assert text.splitlines()[0] == "| 工作内容 | 目标任务 | 责任单位 |"
    assert clean_text("| a | b |\n|---|---|\n| 1. 任务 | 市经贸委牵头 |").text == "| a | b |\n| 1. 任务 | 市经贸委牵头 |"


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_cleaning_is_idempotent_and_offsets_map_back(prefix: str) -> None:
    raw = raw_text(prefix)
    once = clean_text(raw)
    assert clean_text(once.text).text == once.text
    assert len(once.raw_offsets) == len(once.text)
    for i in range(0, len(once.text), 97):
        ch = once.text[i]
        if ch != "\n":
            assert to_simplified(raw[once.raw_offsets[i]]) == ch or raw[once.raw_offsets[i]] == ch


def test_raw_span_points_at_the_traditional_source() -> None:
    raw = "首頁(yè)\n嘉興市人民政府\n2023年3月30日"
    c = clean_text(raw)
    i = c.text.index("人民政府")
    a, b = c.raw_span(i, i + 4)
    assert raw[a:b] == "人民政府"
