"""The outline and measures, asserted against what each sample document says."""

from __future__ import annotations

import pytest
from conftest import raw_text

from summarizer.backends.rules import measure_duties, rules_measures
from summarizer.extract.structure import parse_outline
from summarizer.ingest.clean import clean_text
from summarizer.models import Role


def outline(prefix: str):  # type: ignore[no-untyped-def]
    return parse_outline(clean_text(raw_text(prefix)).text)


def test_001_has_twenty_measures_and_nineteen_duty_notes() -> None:
    o = outline("001")
    assert [m.number for m in o.measures] == [str(i) for i in range(1, 21)]
    assert o.measures[0].title == "打造高能级产业大平台"
    assert o.section_of(o.measures[0]) == "二、聚焦载体打造,优化重大生产力布局"
    assert sum("责任单位" in o.text[m.head_start : m.body_end] for m in o.measures) == 19


def test_001_xiatong_makes_every_town_implement_all_measures() -> None:
    duties = measure_duties(outline("001"))
    assert len(duties) == 20
    assert all(("各镇街", Role.implement) in {(d.unit, d.role) for d in ds} for ds in duties)
    # item 18 has no note of its own: the 下同 rule is all it gets.
    assert [(d.unit, d.role) for d in duties[17]] == [("各镇街", Role.implement)]
    assert ("区经信局(金融办)", Role.responsible) in {(d.unit, d.role) for d in duties[13]}


def test_framing_items_are_sections_not_measures() -> None:
    titles = [m.title for m in outline("001").measures]
    assert "指导思想" not in titles and "主要目标" not in titles
    # …unless the document numbers them in its task sequence.
    assert [m.title for m in outline("002").measures][:2] == ["总体要求", "发展目标"]


def test_attachment_list_is_not_measures() -> None:
    assert all("越城区、滨海新区" not in m.title for m in outline("001").measures)


def test_003_tasks_and_policy_items() -> None:
    ms = rules_measures(outline("003"))
    assert len(ms) == 30
    assert ms[0].section == "(一)着力空间腾换,优化制造业发展布局"
    assert [m.number for m in ms[23:]] == list("一二三四五六七")
    assert {m.section for m in ms[23:]} == {"三、政策措施"}


def test_004_task_table_rows() -> None:
    o = outline("004")
    ms = rules_measures(o)
    assert len(ms) == 40
    assert ms[0].title == "编制战略性新兴产业发展规划"
    assert ms[0].section == "一、发展新产业"
    assert ms[-1].section == "十三、完善工作推进机制"
    assert [(r.unit, r.role) for r in ms[0].responsibilities] == [("市经贸委", Role.lead), ("市财政局", Role.support)]
    assert [(r.unit, r.role) for r in ms[2].responsibilities][:2] == [("市发改委", Role.lead), ("科技局", Role.lead)]


def test_000_excerpt_sections() -> None:
    ms = rules_measures(outline("000"))
    assert [m.number for m in ms] == ["3", "1", "2", "3", "一", "二", "三", "四"]
    assert ms[0].section is None
    assert ms[4].section == "五、保障措施"


@pytest.mark.parametrize("text,numbers", [
    ("第一章 总则\n第一条 为了规范管理，制定本办法。\n第二条 本办法适用于全市。", ["一", "二"]),
    ("一、重点任务\n（一）加强统筹。内容。\n（二）强化保障。内容。\n二、保障措施\n（一）加强领导。内容。", ["一", "二", "一"]),
    ("1.任务一。做事。\n(1)细项。\n(2)细项。\n2.任务二。做事。\n3.任务三。做事。", ["1", "2", "3"]),
])
def test_numbering_styles_of_the_genre(text: str, numbers: list[str]) -> None:
    assert [m.number for m in parse_outline(text).measures] == numbers


def test_division_of_labour_table_with_lead_and_support_columns() -> None:
    text = ("| 序号 | 主要任务 | 牵头单位 | 配合单位 | 完成时限 |\n"
            "| 1 | 推进企业上云，建设工业互联网平台 | 市经信局 | 市财政局、市科技局 | 2024年底 |\n"
            "| 2 | 完善用地保障 | 市自然资源和规划局 | 各区县政府 | 持续推进 |")
    ms = rules_measures(parse_outline(text))
    assert [(m.number, m.title) for m in ms] == [("1", "推进企业上云"), ("2", "完善用地保障")]
    assert [(r.unit, r.role) for r in ms[0].responsibilities] == [
        ("市经信局", Role.lead), ("市财政局", Role.support), ("市科技局", Role.support)]
    assert [(r.unit, r.role) for r in ms[1].responsibilities] == [
        ("市自然资源和规划局", Role.lead), ("各区县政府", Role.support)]
