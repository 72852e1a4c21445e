"""The outline: numbering styles, levels, titles, sections, extents and task tables.

Written for issue 14 to guard what the mutation run showed unguarded in the outline
reader. Texts are written for the test, in the genre's numbering styles.
"""

from __future__ import annotations

import pytest

from summarizer.extract.structure import parse_outline


def measures(text: str) -> list[tuple[str, str, str | None]]:
    o = parse_outline(text)
    return [(m.number, m.title, o.section_of(m)) for m in o.measures]


@pytest.mark.parametrize("line,style,number", [
    ("第三章 保障措施", "chapter", "三"),
    ("二、主要任务", "cn", "二"),
    ("十二．强化保障", "cn", "十二"),
    ("（三）加强统筹", "paren_cn", "三"),
    ("(四)、加强统筹", "paren_cn", "四"),
    ("第十五条 本办法自印发之日起施行。", "article", "十五"),
    ("12.推进上云", "arabic", "12"),
    ("3、推进上云", "arabic", "3"),
    ("（2）细项", "paren_arabic", "2"),
    ("③细项", "circled", "③"),
])
def test_numbering_styles(line: str, style: str, number: str) -> None:
    (item,) = parse_outline(line).items
    assert (item.style, item.number) == (style, number)


@pytest.mark.parametrize("line", ["2.5万亩土地", "2024年工作要点", "一是加强统筹", "第一批试点"])
def test_lines_that_only_look_numbered(line: str) -> None:
    assert parse_outline(line).items == []


def test_titles_are_the_heading_phrase_or_the_first_clause() -> None:
    text = ("1.打造高能级平台。发挥平台作用，集聚资源。\n"
            "2.聚焦载体打造，优化布局。\n"
            "3.支持企业开展技术改造，对符合条件的给予补助。每家最高补助若干万元。\n"
            "4.完善政策。")
    assert [m[1] for m in measures(text)] == [
        "打造高能级平台", "聚焦载体打造，优化布局", "支持企业开展技术改造", "完善政策"]


def test_sections_are_the_parent_headings() -> None:
    text = ("一、总体要求\n（一）指导思想。坚持创新。\n（二）主要目标。到2026年完成。\n"
            "二、重点任务\n（一）加强统筹\n1.推进上云。内容。\n2.建设平台。内容。\n3.培育企业。内容。\n"
            "（二）强化保障。内容。\n三、保障措施：\n（一）加强领导。内容。")
    assert measures(text) == [
        ("1", "推进上云", "（一）加强统筹"),
        ("2", "建设平台", "（一）加强统筹"),
        ("3", "培育企业", "（一）加强统筹"),
        ("二", "强化保障", "二、重点任务"),
        ("一", "加强领导", "三、保障措施"),
    ]


def test_item_extent_runs_to_the_next_item_of_its_level() -> None:
    text = "一、任务\n1.推进上云。内容甲。\n（1）细项。\n2.建设平台。内容乙。\n二、保障\n（一）加强领导。"
    o = parse_outline(text)
    first, second = o.measures[0], o.measures[1]
    assert text[first.head_start : first.body_end] == "1.推进上云。内容甲。\n（1）细项。"
    assert text[second.head_start : second.body_end] == "2.建设平台。内容乙。"
    assert o.items[-1].body_end == len(text)
    assert [c.number for c in o.items[0].children] == ["1", "2"]


def test_the_task_level_has_the_most_leaves() -> None:
    # four sub-points under one task do not outvote three tasks: the task level weighs 1.5
    subpoints = "1.任务一。\n（1）甲。\n（2）乙。\n（3）丙。\n（4）丁。\n2.任务二。\n3.任务三。\n4.任务四。"
    assert [m[0] for m in measures(subpoints)] == ["1", "2", "3", "4"]
    many = "（一）甲。\n（二）乙。\n（三）丙。\n（四）丁。\n1.单独一项。"
    assert [m[0] for m in measures(many)] == ["一", "二", "三", "四"]  # 1. is a sub-point of （四）


def test_framing_leaves_are_not_measures_unless_at_the_task_level() -> None:
    text = "一、总体要求\n（一）指导思想\n（二）主要目标\n二、重点任务\n1.推进上云。\n2.建设平台。\n3.培育企业。"
    assert [m[1] for m in measures(text)] == ["推进上云", "建设平台", "培育企业"]


def test_attachment_lists_are_skipped() -> None:
    text = "1.推进上云。内容。\n2.建设平台。内容。\n附件：\n1.重点项目表\n2.任务清单\n3.完善机制，确保落实。内容很长。"
    assert [m[1] for m in measures(text)] == ["推进上云", "建设平台", "完善机制"]


def test_task_table_rows_with_a_section_column_carried_down() -> None:
    text = ("| 工作内容 | 目标任务 | 责任单位 |\n"
            "一、发展新产业 | 1. 编制发展规划 | 完成规划编制 | 市经贸委牵头 |\n"
            "2. 实施专项,加大招商力度 | 投资100亿元 | 市发改委 |\n"
            "二、改造传统产业 | 3. 推进技术改造 | 完成改造 | 市经信局 |")
    o = parse_outline(text)
    got = [(m.number, m.title, o.section_of(m), text[slice(*m.cells["duty"])]) for m in o.measures]
    assert got == [("1", "编制发展规划", "一、发展新产业", "市经贸委牵头"),
                   ("2", "实施专项", "一、发展新产业", "市发改委"),
                   ("3", "推进技术改造", "二、改造传统产业", "市经信局")]


def test_a_table_with_a_number_column() -> None:
    text = "| 序号 | 重点任务 | 完成时限 | 责任单位 |\n| 1 | 推进企业上云 | 2025年 | 市经信局 |\n| 2 | 建设平台 | 2026年 | 市科技局 |"
    o = parse_outline(text)
    assert [(m.number, m.title, text[slice(*m.cells["duty"])]) for m in o.measures] == [
        ("1", "推进企业上云", "市经信局"), ("2", "建设平台", "市科技局")]


def test_a_header_row_needs_two_header_words() -> None:
    text = "| 工作内容 | 说明 |\n| 1. 推进上云 | 市经信局 |"
    o = parse_outline(text)
    assert [(m.number, m.title) for m in o.measures] == [("1", "推进上云")]


@pytest.mark.parametrize("header,kind", [
    ("牵头单位", "duty:lead"), ("牵头部门", "duty:lead"), ("配合单位", "duty:support"), ("协同部门", "duty:support"),
    ("参与单位", "duty:support"), ("协办单位", "duty:support"), ("实施单位", "duty:implement"),
    ("落实单位", "duty:implement"), ("实施主体", "duty:implement"), ("责任单位", "duty"), ("责任部门", "duty"),
    ("牵头和配合单位", "duty:support"), ("预期目标", "target"), ("工作成效", "target"), ("完成时限", "deadline"),
    ("时间节点", "deadline"), ("推进进度", "deadline"),
])
def test_table_columns_are_told_by_their_header(header: str, kind: str) -> None:
    text = f"| 序号 | 工作任务 | {header} |\n| 1 | 推进企业上云 | 区经信局 |"
    (m,) = parse_outline(text).measures
    assert set(m.cells) == {"number", "task", kind}
    assert text[slice(*m.cells[kind])] == "区经信局"


def test_a_table_without_a_header_reads_task_targets_and_duty() -> None:
    text = "| 1. 推进企业上云 | 上云企业100家 | 新增50家 | 区经信局 |"
    (m,) = parse_outline(text).measures
    assert (m.number, m.title, m.style) == ("1", "推进企业上云", "table")
    assert {k: text[slice(*v)] for k, v in m.cells.items()} == {
        "task": "1. 推进企业上云", "target": "新增50家", "duty": "区经信局"}


def test_a_row_with_fewer_cells_keeps_the_last_columns() -> None:
    text = "| 序号 | 工作任务 | 完成时限 | 责任单位 |\n| 推进企业上云 | 2025年 | 区经信局 |\n| 2 | 建设平台 | 2026年 | 区科技局 |"
    o = parse_outline(text)
    assert [(m.number, m.title) for m in o.measures] == [("2", "建设平台")]  # the short row has no number


def test_a_section_row_of_a_table_is_carried_until_the_next() -> None:
    text = ("| 工作内容 | 目标任务 | 责任单位 |\n"
            "一、发展新产业 | 1. 编制规划 | 完成编制 | 市经贸委 |\n"
            "2. 招商引资 | 投资100亿元 | 市商务局 |\n"
            "| 工作内容 | 目标任务 | 责任单位 |\n"
            "3. 技术改造 | 完成改造 | 市经信局 |")
    o = parse_outline(text)
    assert [o.section_of(m) for m in o.measures] == ["一、发展新产业", "一、发展新产业", None]


def test_body_extent_of_the_last_item_and_of_rows() -> None:
    text = "一、任务\n1.推进上云。\n正文一。\n正文二。"
    o = parse_outline(text)
    assert text[o.measures[0].head_start : o.measures[0].body_end] == "1.推进上云。\n正文一。\n正文二。"
    row_text = "| 1. 推进上云 | 区经信局 |\n正文。"
    (row,) = parse_outline(row_text).measures
    assert row_text[row.head_start : row.body_end] == "1. 推进上云 | 区经信局 |"


def test_a_header_without_a_task_column_takes_the_first_content_column() -> None:
    text = "| 序号 | 完成时限 | 工作目标 | 责任单位 |\n| 1 | 2025年 | 上云企业100家 | 区经信局 |"
    (m,) = parse_outline(text).measures
    assert (m.number, m.title) == ("1", "上云企业100家")
    assert {k: text[slice(*v)] for k, v in m.cells.items()} == {
        "number": "1", "deadline": "2025年", "task": "上云企业100家", "duty": "区经信局"}


def test_a_headerless_row_after_prose_is_read_as_task_targets_duty() -> None:
    text = "说明文字。\n| 1. 推进企业上云 | 新增50家 | 区经信局 |"
    (m,) = parse_outline(text).measures
    assert {k: text[slice(*v)] for k, v in m.cells.items()} == {
        "task": "1. 推进企业上云", "target": "新增50家", "duty": "区经信局"}
    assert parse_outline(text).section_of(m) is None


def test_a_number_cell_loses_its_dot() -> None:
    text = "| 序号 | 工作任务 | 责任单位 |\n| 3. | 推进企业上云 | 区经信局 |\n| （4） | 建设平台 | 区科技局 |"
    assert [(m.number, m.title) for m in parse_outline(text).measures] == [("3", "推进企业上云"), ("（4）", "建设平台")]


def test_rows_are_measures_beside_numbered_headings() -> None:
    text = "一、发展新产业\n| 1. 编制规划 | 区发改委 |\n| 2. 招商引资 | 区商务局 |\n二、保障措施"
    o = parse_outline(text)
    # rows never become children, so a heading above rows is a leaf of its own
    assert [(m.style, m.number) for m in o.measures] == [("cn", "一"), ("table", "1"), ("table", "2"), ("cn", "二")]
    assert all(m.parent is None for m in o.measures)
    assert o.items[0].body_end == len(text) - len("\n二、保障措施")


def test_a_line_with_two_pipes_is_a_table_row() -> None:
    assert [m.title for m in parse_outline("1. 推进上云 | 区经信局 |").measures] == ["推进上云"]
    assert [m.style for m in parse_outline("1. 推进上云 | 区经信局").measures] == ["arabic"]


@pytest.mark.parametrize("line,title", [
    ("1.推进上云：", "推进上云"),
    ("1.推进上云。", "推进上云"),
    ("1.推进上云，", "推进上云"),
    ("1. 推进上云  ", "推进上云"),
    ("1.推进上云。正文", "推进上云"),
    ("1." + "甲" * 40 + "。正文", "甲" * 40),
    ("1." + "甲" * 41 + "。正文", "甲" * 41),
    ("1." + "甲" * 20 + "，" + "乙" * 20 + "。正文", "甲" * 20),
    ("1.推进上云，建设平台", "推进上云，建设平台"),
])
def test_title_boundaries(line: str, title: str) -> None:
    assert [m.title for m in parse_outline(line).measures] == [title]


def test_a_numbered_line_with_no_title_is_skipped() -> None:
    assert [m.number for m in parse_outline("1.\n2.推进上云\n3.。").measures] == ["2"]


def test_section_names_lose_their_end_marks_only() -> None:
    text = "一、重点任务：\n1.甲。\n二、保障措施；\n2.乙。\n三、X\n3.丙。"
    o = parse_outline(text)
    assert [o.section_of(m) for m in o.measures] == ["一、重点任务", "二、保障措施", "三、X"]


def test_an_attachment_list_ends_at_a_long_or_sentence_line() -> None:
    head = "1.推进上云。\n附件：\n"
    assert [m.number for m in parse_outline(head + "1." + "甲" * 58 + "\n2.乙").measures] == ["1"]
    assert [m.number for m in parse_outline(head + "1." + "甲" * 59 + "\n2.乙").measures] == ["1", "1", "2"]
    assert [m.number for m in parse_outline(head + "1.甲。\n2.乙").measures] == ["1", "1", "2"]


def test_the_task_level_weight_is_one_and_a_half() -> None:
    # four sub-points outweigh two further tasks (2 x 1.5 = 3 < 4): the sub-points are the level
    text = "1.任务一\n（1）甲\n（2）乙\n（3）丙\n（4）丁\n2.任务二\n3.任务三"
    assert [m.number for m in parse_outline(text).measures] == ["1", "2", "3", "4", "2", "3"]
