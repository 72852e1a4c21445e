"""Rule-based targets: scopes, units, comparators, ranges, doubling."""

from __future__ import annotations

import pytest

from summarizer.extract.goals import find_goals
from summarizer.models import Comparator as C


def one(text: str):  # type: ignore[no-untyped-def]
    goals = find_goals(text)
    assert len(goals) == 1, goals
    g = goals[0]
    return g.indicator, g.value, g.value_max, g.unit, g.comparator, g.year, text[g.start : g.end]


@pytest.mark.parametrize("text,expected", [
    ("到2026年，全部工业增加值突破1000亿元。", ("全部工业增加值", 1000, None, "亿元", C.at_least, 2026, "全部工业增加值突破1000亿元")),
    ("力争到2025年，规上工业亩均税收年均增速超过15%。", ("规上工业亩均税收", 15, None, "%", C.increase_by, 2025, "规上工业亩均税收年均增速超过15%")),
    ("投资比重提高2个百分点。", ("投资比重", 2, None, "个百分点", C.increase_by, None, "投资比重提高2个百分点")),
    ("每年引进项目2-3个。", ("项目", 2, 3, "个", C.exactly, None, "每年引进项目2-3个")),
    ("到2027年，每年实施100个左右。", ("个", 100, None, "个", C.about, 2027, "每年实施100个左右")),
    ("单位能耗下降5%。", ("单位能耗", 5, None, "%", C.decrease_by, None, "单位能耗下降5%")),
    ("到2025年，规模以上工业亩均税收实现翻番。", ("规模以上工业亩均税收", 2, None, "倍", C.exactly, 2025, "规模以上工业亩均税收实现翻番")),
    ("劳动生产率达到35万元/人以上。", ("劳动生产率", 35, None, "万元/人", C.at_least, None, "劳动生产率达到35万元/人以上")),
])
def test_target_forms(text: str, expected: tuple) -> None:  # type: ignore[type-arg]
    assert one(text) == expected


@pytest.mark.parametrize("text", [
    "推进10亿元以上重大项目建设。",  # a threshold qualifying a noun
    "实施“1515”专项行动。",  # a slogan
    "嘉兴市先进制造业集群培育工程推进方案(2023—2027年)",  # a period
    "2022年12月31日",  # a date
])
def test_not_targets(text: str) -> None:
    assert find_goals(text) == []


def test_scope_carries_over_bullet_lines() -> None:
    text = "到2026年，基本实现以下目标：\n——全部工业增加值突破1000亿元。\n——新增100家以上优质企业。\n3.其他任务，完成50家。"
    years = [g.year for g in find_goals(text)]
    assert years == [2026, 2026, None]


def test_list_of_targets_splits_indicators() -> None:
    goals = find_goals("确保每年新增高新技术企业100家、省科技型中小企业200家以上。")
    assert [(g.indicator, g.value) for g in goals] == [("高新技术企业", 100), ("省科技型中小企业", 200)]


@pytest.mark.parametrize("text,value,expected", [
    ("按工业用地评估价的70%确定土地挂牌起始价", 70, True),
    ("完成年销售5亿元以上企业管理创新推进工作", 5, True),
    ("实现一般企业投资项目全过程审批“最多80天”", 80, False),
    ("打造5个以上未来产业园区", 5, False),
])
def test_threshold_figures_are_told_from_targets(text: str, value: float, expected: bool) -> None:
    from summarizer.extract.goals import threshold_in_quote

    assert threshold_in_quote(text, 0, len(text), value) is expected
