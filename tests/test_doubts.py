"""Where the rules are unsure: each kind of doubt, on made-up text in the genre."""

from __future__ import annotations

from summarizer.backends.assist import estimate_tokens, plan_queries, rules_result
from summarizer.backends.llm import residual_spans
from summarizer.extract.doubts import DoubtKind, find_doubts
from summarizer.pipeline import prepare

TEXT = (
    "一、主要进展\n五年来，全市建成绿色工厂120家，新增就业岗位8万个。\n"
    "二、主要目标\n全市新培育绿色工厂30家以上。\n"
    "三、重点任务\n（一）开展诊断服务。诊断工作由市经信局统筹，市财政局做好资金配合工作。\n"
    "（二）落实支持政策。对新认定的企业一次性支持，每家最高50万元。\n"
    "（三）优化审批流程。实现工程建设项目审批“最多60天”。\n"
    "（四）强化监测。到2027年，建成监测站5个。\n"
)


def doubts(text: str = TEXT, full: bool = False):
    _, doc = prepare("x", text)
    res = rules_result(doc)
    return doc, res, find_doubts(doc.text, doc.outline, res, residual_spans(doc.text), full=full)


def kinds(ds) -> set[str]:
    return {d.kind.value for d in ds}


def test_each_kind_of_doubt_is_marked():
    doc, res, ds = doubts()
    assert {"doubtful_goal", "goal_year", "stray_duty", "target_sentence"} <= kinds(ds)
    keep = [d for d in ds if d.kind == DoubtKind.doubtful_goal]
    flagged = {res.goals[i].value for d in keep for i in d.goals}
    assert {120, 50} <= flagged and 30 not in flagged  # past and incentive figures, not the target
    year = next(d for d in ds if d.kind == DoubtKind.goal_year and any(res.goals[i].value == 30 for i in d.goals))
    assert year.heading.startswith("二、主要目标")
    duty = next(d for d in ds if d.kind == DoubtKind.stray_duty)
    assert "市财政局做好资金配合" in doc.text[duty.start:duty.end]


def test_plan_field_doubt_on_a_long_document_with_no_signature():
    text = "关于印发某区节水行动方案的通知\n" + "各街道要加强节水管理。" * 80
    _, _res, ds = doubts(text)
    plan = next(d for d in ds if d.kind == DoubtKind.plan_field)
    assert "issuers" in plan.fields and "issued_date" in plan.fields and plan.spans[0][0] == 0


def test_tabular_block_without_recognized_columns():
    rows = "".join(f"推进第{n}批老旧小区改造\n区房管局、各街道\n" for n in range(1, 5))
    text = "附表 重点任务清单\n任务名称\n推进单位\n" + rows
    _, _, ds = doubts(text)
    assert DoubtKind.table_block in {d.kind for d in ds}


def test_doubts_are_ordered_by_value_and_budgeted():
    doc, res, ds = doubts()
    assert [d.value for d in ds] == sorted((d.value for d in ds), reverse=True)
    asks = plan_queries(ds, doc.text, res, budget=400, max_doubts=10)
    assert asks and len(asks) < len(ds)
    assert plan_queries(ds, doc.text, res, budget=None, max_doubts=2).__len__() == 2
    assert estimate_tokens("到2025年新增绿色工厂30家") in range(8, 20)


def test_full_scope_asks_about_every_goal():
    _, res, ds = doubts(full=True)
    asked = {i for d in ds if d.kind == DoubtKind.doubtful_goal for i in d.goals}
    assert asked == set(range(len(res.goals)))
