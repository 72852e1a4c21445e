"""The precedence policy (summarizer/backends/merge.py), clause by clause."""

from __future__ import annotations

import datetime as dt

from summarizer.backends.assist import rules_result
from summarizer.backends.merge import Proposals, is_ordinal, merge
from summarizer.backends.tasks.block import BlockAnswer
from summarizer.backends.tasks.keep import Verdict
from summarizer.backends.tasks.plan import PlanAnswer
from summarizer.models import Comparator, GroundedGoal, Role
from summarizer.pipeline import prepare

# Made-up text in the genre.
TEXT = (
    "一、工作目标\n到2026年，全市新培育绿色工厂30家以上，2023年建成绿色工厂12家。\n"
    "二、重点任务\n（一）开展诊断服务。由市经信局牵头，每年组织诊断服务（责任单位：市经信局）。\n"
    "（二）强化要素保障。市财政局负责统筹资金，新建充电桩500个。\n"
    "第 3 条 本办法自发布之日起施行。\n"
)


def setup():
    _, doc = prepare("m1", TEXT)
    return doc.text, rules_result(doc)


def goal(text: str, quote: str, value: float, year: int | None = None) -> GroundedGoal:
    s = text.index(quote)
    return GroundedGoal(indicator=quote, value=value, unit="个", comparator=Comparator.exactly, year=year,
                        start=s, end=s + len(quote), quote=quote)


def test_ordinals_are_never_targets():
    text, rules = setup()
    assert all(g.value != 3 for g in rules.goals)  # the rules skip 第 3 条; a model proposing it loses too
    out = merge(text, rules, Proposals(goals=[goal(text, "第 3 条", 3)]))
    assert all(g.value != 3 for g in out.goals)
    row = "序号\n26\n推进老旧小区改造\n"
    assert is_ordinal(row, GroundedGoal(indicator="x", value=26, unit=None, comparator=Comparator.exactly,
                                        start=3, end=5, quote="26"))


def test_drop_verdict_removes_a_rule_goal_and_target_keeps_it():
    text, rules = setup()
    i30 = next(i for i, g in enumerate(rules.goals) if g.value == 30)
    i12 = next(i for i, g in enumerate(rules.goals) if g.value == 12)
    out = merge(text, rules, Proposals(verdicts={i30: Verdict.target, i12: Verdict.past}))
    values = [g.value for g in out.goals]
    assert 30 in values and 12 not in values


def test_model_goal_on_a_rule_figure_loses_and_new_figure_joins():
    text, rules = setup()
    same = goal(text, "绿色工厂30家以上", 30)
    same = same.model_copy(update={"comparator": Comparator.about})
    new = goal(text, "新建充电桩500个", 500)
    out = merge(text, rules, Proposals(goals=[same, new]))
    thirty = [g for g in out.goals if g.value == 30]
    rule30 = next(g for g in rules.goals if g.value == 30)
    assert thirty == [rule30] and rule30.comparator != Comparator.about  # the rule's fields stand
    assert any(g.value == 500 for g in out.goals) or any(g.value == 500 for g in rules.goals)


def test_dropped_figure_is_not_brought_back_by_a_model_goal():
    text, rules = setup()
    i12 = next(i for i, g in enumerate(rules.goals) if g.value == 12)
    back = goal(text, "建成绿色工厂12家", 12)
    out = merge(text, rules, Proposals(verdicts={i12: Verdict.past}, goals=[back]))
    assert all(g.value != 12 for g in out.goals)


def test_model_ordinal_goal_is_refused():
    text, rules = setup()
    out = merge(text, rules, Proposals(goals=[goal(text, "第 3 条", 3)]))
    assert all(g.value != 3 for g in out.goals)


def test_scope_year_wins_and_model_year_fills_only_null():
    text, rules = setup()
    i30 = next(i for i, g in enumerate(rules.goals) if g.value == 30)
    assert rules.goals[i30].year == 2026
    nulls = [i for i, g in enumerate(rules.goals) if g.year is None]
    years = {i30: 2030, **{i: 2027 for i in nulls}}
    out = merge(text, rules, Proposals(years=years))
    by_value = {g.value: g.year for g in out.goals}
    assert by_value[30] == 2026
    before = {g.value: g.year for g in rules.goals}
    assert all(g.year == 2027 for g in out.goals if before[g.value] is None)
    assert all(g.year == before[g.value] for g in out.goals if before[g.value] is not None)


def test_model_duty_joins_its_measure_unless_the_unit_is_listed():
    text, rules = setup()
    listed = [("市经信局", Role.responsible), ("市经信局", Role.lead)]
    assert [(r.unit, r.role) for r in rules.measures[0].responsibilities] == listed
    props = Proposals(duties=[(0, [("市经信局", Role.support)]), (1, [("市财政局", Role.responsible)])])
    out = merge(text, rules, props)
    assert [(r.unit, r.role) for r in out.measures[0].responsibilities] == listed
    assert [(r.unit, r.role) for r in out.measures[1].responsibilities] == [("市财政局", Role.responsible)]


def test_block_measures_only_where_the_rules_found_none():
    text, rules = setup()
    a = text.index("（二）")
    b = len(text)
    inside = BlockAnswer.model_validate({"m": [{"n": "二", "t": "强化要素保障", "u": []}]})
    out = merge(text, rules, Proposals(blocks=[((a, b), inside)]))
    assert len(out.measures) == len(rules.measures)  # a rule measure starts in the block
    other = "附件\n老旧小区改造清单\n推进老旧小区改造 区房管局\n加装电梯 区建管委\n"
    _, odoc = prepare("m2", other)
    orules = rules_result(odoc)
    assert not orules.measures
    tail = BlockAnswer.model_validate({"m": [{"n": "1", "t": "推进老旧小区改造", "u": ["区房管局"]}]})
    out = merge(odoc.text, orules, Proposals(blocks=[((0, len(odoc.text)), tail)]))
    added = [m for m in out.measures if m.title == "推进老旧小区改造"]
    assert added and added[0].quote == odoc.text[added[0].start:added[0].end]
    assert [(r.unit, r.role) for r in added[0].responsibilities] == [("区房管局", Role.responsible)]


def test_plan_model_fills_only_the_doubted_empty_fields():
    text, rules = setup()
    rules.plan.title = "某市行动方案"
    ans = PlanAnswer.model_construct(t="别的标题", i=["某市人民政府"], d="2024年5月6日", s=None, e=2026)
    ans._date = dt.date(2024, 5, 6)
    out = merge(text, rules, Proposals(plan=[(("title", "issuers", "issued_date"), ans)]))
    assert out.plan.title == "某市行动方案"  # the rules' value wins
    assert out.plan.issuers == ["某市人民政府"] and out.plan.issued_date == dt.date(2024, 5, 6)
    assert out.plan.period_end == rules.plan.period_end  # not doubted: untouched
