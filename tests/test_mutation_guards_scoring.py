"""The scorer: optimal matching, every false positive counted, each field and role.

Written for issue 14: greedy matching and a scorer that dropped the duties of
unmatched measures both passed the suite. Cases are small and made up, so the right
answer can be worked out by hand.
"""

from __future__ import annotations

from typing import Any

import pytest

from summarizer.evaluation.scoring import goal_score, overlap, score_document, summarize, title_score, values_equal
from summarizer.models import DocumentResult, GoldFile, GroundedGoal, GroundedMeasure


def gold(goals: list[dict[str, Any]] = (), measures: list[dict[str, Any]] = (), **plan: Any) -> GoldFile:  # type: ignore[assignment]
    return GoldFile.model_validate({"doc_id": "d", "plan": plan, "goals": list(goals), "measures": list(measures)})


def goal(indicator: str, value: float, unit: str | None, quote: str, comparator: str = "exactly",
         year: int | None = 2026, **kw: Any) -> dict[str, Any]:
    return {"indicator": indicator, "value": value, "unit": unit, "comparator": comparator, "year": year,
            "quote": quote, **kw}


def pred_goal(**kw: Any) -> GroundedGoal:
    return GroundedGoal(**kw, start=0, end=len(kw["quote"]))


def measure(title: str, duties: list[tuple[str, str]] = (), section: str | None = None) -> dict[str, Any]:  # type: ignore[assignment]
    return {"number": "1", "title": title, "section": section,
            "responsibilities": [{"unit": u, "role": r} for u, r in duties]}


def pred_measure(title: str, duties: list[tuple[str, str]] = (), section: str | None = None) -> GroundedMeasure:  # type: ignore[assignment]
    return GroundedMeasure(**measure(title, duties, section), start=0, end=len(title), quote=title)


def overall(g: GoldFile, p: DocumentResult) -> dict[str, Any]:
    return summarize([score_document(g, p)])["overall"]


def test_matching_is_optimal_not_greedy() -> None:
    # P0 fits G1 best (the best pair of all) but also fits G0; P1 fits only G1.
    # Any greedy pairing takes P0-G1 and leaves P1 unmatched; the optimum pairs both.
    g = gold(goals=[goal("工业增加值", 1000, "亿元", "工业增加值达到1000亿元"),
                    goal("工业增加值", 1000, "万元", "工业增加值达到1000万元")])
    p0 = pred_goal(**goal("工业增加值", 1000, "万元", "工业增加值达到1000万元"))
    p1 = pred_goal(**goal("工业增加值", 10000000, "元", "工业增加值达到10000000元"))
    assert goal_score(p0, g.goals[1]) > goal_score(p1, g.goals[1]) > 0
    assert goal_score(p0, g.goals[0]) > 0 and goal_score(p1, g.goals[0]) == 0
    for order in ([p0, p1], [p1, p0]):
        s = overall(g, DocumentResult(doc_id="d", goals=order))["goals"]
        assert (s["tp"], s["fp"], s["fn"]) == (2, 0, 0)


def test_measure_matching_is_optimal_too() -> None:
    g = gold(measures=[measure("加快发展先进制造业"), measure("加快发展先进制造业集群")])
    p = DocumentResult(doc_id="d", measures=[pred_measure("加快发展先进制造业集群"),
                                             pred_measure("加快发展先进制造业")])
    s = overall(g, p)["measures"]
    assert (s["tp"], s["fp"], s["fn"]) == (2, 0, 0)


def test_duties_of_an_unmatched_measure_are_false_positives() -> None:
    g = gold(measures=[measure("推进企业上云", [("区经信局", "lead")])])
    p = DocumentResult(doc_id="d", measures=[
        pred_measure("推进企业上云", [("区经信局", "lead")]),
        pred_measure("完全无关的标题内容", [("区财政局", "support"), ("区统计局", "support")]),
    ])
    o = overall(g, p)
    assert (o["measures"]["tp"], o["measures"]["fp"]) == (1, 1)
    r = o["responsibilities"]
    assert (r["tp"], r["fp"], r["fn"]) == (1, 2, 0)
    assert (r["lenient"]["tp"], r["lenient"]["fp"]) == (1, 2)
    assert r["precision"] == round(1 / 3, 4)


def test_duties_of_an_unmatched_gold_measure_are_misses() -> None:
    g = gold(measures=[measure("推进企业上云", [("区经信局", "lead"), ("区财政局", "support")])])
    r = overall(g, DocumentResult(doc_id="d"))["responsibilities"]
    assert (r["tp"], r["fp"], r["fn"]) == (0, 0, 2)


def test_role_accuracy_counts_units_both_sides_name() -> None:
    g = gold(measures=[measure("推进企业上云", [("区经信局", "lead"), ("区财政局", "support"),
                                                ("区统计局", "support")])])
    p = DocumentResult(doc_id="d", measures=[pred_measure("推进企业上云", [
        ("区经信局", "lead"), ("区财政局", "lead"), ("区商务局", "support")])])
    r = overall(g, p)["responsibilities"]
    assert r["role_accuracy"] == 0.5  # 区经信局 right, 区财政局 wrong; the others are unit errors
    assert (r["tp"], r["fp"], r["fn"]) == (1, 2, 2)
    assert (r["lenient"]["tp"], r["lenient"]["fp"], r["lenient"]["fn"]) == (2, 1, 1)


def test_field_accuracy_on_matched_goals() -> None:
    g = gold(goals=[goal("营业收入", 500, "亿元", "营业收入突破500亿元", "at_least"),
                    goal("企业", 100, "家", "企业新增100家以上", "increase_by"),
                    goal("园区", 3, "个", "园区3-5个", value_max=5)])
    p = DocumentResult(doc_id="d", goals=[
        pred_goal(**goal("营业收入", 500, "亿元", "营业收入突破500亿元", "at_least", year=2025)),
        pred_goal(**goal("企业", 100, "个", "企业新增100家以上", "at_least")),
        pred_goal(**goal("园区", 3, "个", "园区3-5个")),
    ])
    f = overall(g, p)["goals"]["field_accuracy"]
    assert f == {"indicator": 1.0, "unit": round(2 / 3, 4), "comparator": round(2 / 3, 4),
                 "year": round(2 / 3, 4), "value_max": round(2 / 3, 4)}


def test_section_accuracy_and_errors() -> None:
    g = gold(measures=[measure("推进企业上云", section="一、数字化"), measure("建设算力中心", section="二、新基建。")])
    p = DocumentResult(doc_id="d", measures=[pred_measure("推进企业上云", section="一、 数字化"),
                                             pred_measure("建设算力中心", section="三、其他")])
    score = score_document(g, p)
    assert summarize([score])["overall"]["measures"]["section_accuracy"] == 0.5
    assert [e["kind"] for e in score.errors] == ["wrong_field"]


def test_plan_fields() -> None:
    g = gold(title="某市方案", issuers=["某市人民政府"], issued_date="2024-01-02", period_start=None, period_end=2026)
    p = DocumentResult(doc_id="d", plan={"title": "《某市方案》", "issuers": ["某市人民政府"],
                                         "issued_date": "2024-01-03", "period_end": 2026})
    o = overall(g, p)["plan"]
    assert o["fields"] == {"title": 1.0, "issuers": 1.0, "issued_date": 0.0, "period_start": 1.0, "period_end": 1.0}
    assert o["accuracy"] == 0.8


def test_grounding_checks_quotes_against_the_text() -> None:
    text = "到2026年，营业收入突破500亿元。"
    good = GroundedGoal(**goal("营业收入", 500, "亿元", "营业收入突破500亿元"), start=7, end=18)
    moved = good.model_copy(update={"start": 6, "end": 17})
    g = gold()
    s = summarize([score_document(g, DocumentResult(doc_id="d", goals=[good, moved]), text)])["overall"]
    assert s["grounding"] == {"share": 0.5, "checked": 2}


def test_similarity_helpers() -> None:
    assert overlap("营业收入", "全市营业收入总额") == 1.0
    assert overlap("", "营业收入") == 0.0
    assert 0 < overlap("工业投资", "工业增加值") < 1
    assert title_score("推进企业上云", "完全无关", 0, 0) == 0.0
    assert title_score("推进企业上云", "推进企业上云", 0, 0) > title_score("推进企业上云", "推进企业上云", 0, 1) > 0
    assert values_equal(3, "万人", 30000, "人") and not values_equal(3, "万人", 30000, "人次")
    assert not values_equal(5, "%", 6, "%")


def test_micro_average_over_documents() -> None:
    g1 = gold(goals=[goal("营业收入", 500, "亿元", "营业收入突破500亿元")])
    g2 = GoldFile.model_validate({**g1.model_dump(mode="json"), "doc_id": "e"})
    s1 = score_document(g1, DocumentResult(doc_id="d", goals=[pred_goal(**goal("营业收入", 500, "亿元",
                                                                                  "营业收入突破500亿元"))]))
    s2 = score_document(g2, DocumentResult(doc_id="e"))
    rep = summarize([s1, s2])
    assert (rep["overall"]["goals"]["tp"], rep["overall"]["goals"]["fn"]) == (1, 1)
    assert rep["documents"]["d"]["goals"]["f1"] == 1.0 and rep["documents"]["e"]["goals"]["f1"] == 0.0


def mixed_case() -> tuple[GoldFile, DocumentResult]:
    """One of each error a reviewer reads: a wrong field, a miss and a spurious item for
    goals, measures and duties, a wrong section and a wrong plan field."""
    g = gold(goals=[goal("营业收入", 500, "亿元", "营业收入突破500亿元", "at_least"),
                    goal("企业", 100, "家", "企业新增100家以上", "increase_by")],
             measures=[measure("推进企业上云", [("区经信局", "lead")], section="一、数字化"),
                       measure("建设算力中心", [("区科技局", "responsible")])],
             title="某市方案", issuers=["某市人民政府"], issued_date="2024-01-02", period_start=None,
             period_end=2026)
    p = DocumentResult(
        doc_id="d", plan={"title": "某市方案", "issuers": [], "issued_date": "2024-01-02", "period_end": 2026},
        goals=[pred_goal(**goal("营业收入", 500, "亿元", "营业收入突破500亿元", "about")),
               pred_goal(**goal("园区", 3, "个", "园区3个"))],
        measures=[pred_measure("推进企业上云", [("区经信局", "lead"), ("区财政局", "support")], section="二、其他"),
                  pred_measure("完全无关的标题内容", [("区统计局", "support")])])
    return g, p


def test_every_error_is_reported_with_what_a_reviewer_needs() -> None:
    g, p = mixed_case()
    assert score_document(g, p).errors == [
        {"kind": "wrong_field", "type": "goal", "quote": "营业收入突破500亿元", "start": 0, "end": 11,
         "fields": [{"field": "comparator", "gold": "at_least", "predicted": "about"}]},
        {"kind": "missed", "type": "goal", "quote": "企业新增100家以上",
         "item": {"indicator": "企业", "value": 100.0, "value_max": None, "unit": "家", "comparator": "increase_by",
                  "year": 2026, "quote": "企业新增100家以上"}},
        {"kind": "spurious", "type": "goal", "quote": "园区3个", "start": 0, "end": 4,
         "item": {"quote": "园区3个", "indicator": "园区", "value": 3.0, "value_max": None, "unit": "个",
                  "comparator": "exactly", "year": 2026}},
        {"kind": "wrong_field", "type": "measure", "quote": "推进企业上云", "start": 0, "end": 6,
         "fields": [{"field": "section", "gold": "一、数字化", "predicted": "二、其他"}]},
        {"kind": "missed", "type": "measure", "quote": "建设算力中心",
         "item": {"number": "1", "title": "建设算力中心", "section": None}},
        {"kind": "spurious", "type": "measure", "quote": "完全无关的标题内容", "start": 0, "end": 9,
         "item": {"number": "1", "title": "完全无关的标题内容"}},
        {"kind": "spurious", "type": "responsibility", "quote": "区财政局", "measure": "1 推进企业上云",
         "role": "support"},
        {"kind": "missed", "type": "responsibility", "quote": "区科技局", "measure": "1 建设算力中心",
         "role": "responsible"},
        {"kind": "wrong_field", "type": "plan", "quote": "issuers",
         "fields": [{"field": "issuers", "gold": ["某市人民政府"], "predicted": []}]},
    ]


def test_the_summary_block_in_full() -> None:
    g, p = mixed_case()
    prf = {"precision": 0.5, "recall": 0.5, "f1": 0.5, "tp": 1, "fp": 1, "fn": 1}
    duties = {"precision": 0.3333, "recall": 0.5, "f1": 0.4, "tp": 1, "fp": 2, "fn": 1}
    rep = summarize([score_document(g, p)])
    expected = {
        "goals": {**prf, "field_accuracy": {"indicator": 1.0, "unit": 1.0, "comparator": 0.0, "year": 1.0,
                                            "value_max": 1.0}},
        "measures": {**prf, "section_accuracy": 0.0},
        "responsibilities": {**duties, "lenient": duties, "role_accuracy": 1.0},
        "plan": {"accuracy": 0.8, "fields": {"title": 1.0, "issuers": 0.0, "issued_date": 1.0, "period_start": 1.0,
                                             "period_end": 1.0}},
        "grounding": {"share": None, "checked": 0},
    }
    assert rep["overall"] == expected
    assert rep["documents"]["d"] == {**expected, "errors": score_document(g, p).errors}


def test_empty_sides_score_as_defined() -> None:
    o = overall(gold(), DocumentResult(doc_id="d"))
    assert o["goals"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "tp": 0, "fp": 0, "fn": 0,
                          "field_accuracy": dict.fromkeys(("indicator", "unit", "comparator", "year", "value_max"))}
    assert o["measures"]["section_accuracy"] is None and o["responsibilities"]["role_accuracy"] is None
    spurious = overall(gold(), DocumentResult(doc_id="d", goals=[pred_goal(**goal("园区", 3, "个", "园区3个"))]))
    assert (spurious["goals"]["precision"], spurious["goals"]["recall"], spurious["goals"]["f1"]) == (0.0, 1.0, 0.0)
    missed = overall(gold(goals=[goal("园区", 3, "个", "园区3个")]), DocumentResult(doc_id="d"))
    assert (missed["goals"]["precision"], missed["goals"]["recall"], missed["goals"]["f1"]) == (0.0, 0.0, 0.0)


def test_summarize_adds_every_document_and_rounds_to_four_places() -> None:
    from summarizer.evaluation.scoring import PRF, DocScore

    def doc(i: int, **kw: Any) -> DocScore:
        return DocScore(f"d{i}", **kw)

    scores = [
        doc(1, goals=PRF(1, 0, 2), goal_fields={"indicator": [1, 2]}, section=[1, 2], role=[1, 3],
            grounding=[2, 3], plan_fields={"title": True, "issuers": False}, responsibilities=PRF(1, 2, 2)),
        doc(2, goals=PRF(2, 1, 0), goal_fields={"indicator": [1, 4]}, section=[0, 1], role=[1, 3],
            grounding=[0, 3], plan_fields={"title": False, "issuers": False}),
        doc(3, plan_fields={"title": True, "issuers": True}),
    ]
    out = summarize(scores)["overall"]
    assert {k: out["goals"][k] for k in ("precision", "recall", "f1", "tp", "fp", "fn")} == {
        "precision": 0.75, "recall": 0.6, "f1": 0.6667, "tp": 3, "fp": 1, "fn": 2}
    assert out["goals"]["field_accuracy"]["indicator"] == 0.3333
    assert out["measures"]["section_accuracy"] == 0.3333
    assert out["responsibilities"]["role_accuracy"] == 0.3333
    assert {k: out["responsibilities"][k] for k in ("precision", "recall", "f1")} == {
        "precision": 0.3333, "recall": 0.3333, "f1": 0.3333}
    assert out["grounding"] == {"share": 0.3333, "checked": 6}
    assert out["plan"] == {"accuracy": 0.5, "fields": {"title": 0.6667, "issuers": 0.3333}}
    assert summarize(scores)["documents"]["d3"]["plan"]["fields"] == {"title": 1.0, "issuers": 1.0}


@pytest.mark.parametrize("pred,pred_unit,gold_value,gold_unit,equal", [
    (110000000.01, "元", 110000000, "元", True),       # relative tolerance for large figures
    (0.5000015, "%", 0.5, "%", False),                # absolute tolerance below one
    (11000.00001, "万元", 1.1, "亿元", True),          # converted figures compare with a relative tolerance
    (11000.5, "万元", 1.1, "亿元", False),
])
def test_values_equal_tolerances(pred: float, pred_unit: str, gold_value: float, gold_unit: str, equal: bool) -> None:
    assert values_equal(pred, pred_unit, gold_value, gold_unit) is equal


def test_goal_pairs_prefer_the_same_year_and_unit() -> None:
    g = gold([goal("企业", 20, "家", "新增企业20家", year=2025), goal("企业", 20, "家", "新增企业20家", year=2026)])
    p = DocumentResult(doc_id="d", goals=[pred_goal(indicator="企业", value=20, unit="家", comparator="exactly",
                                                    year=2026, quote="新增企业20家")])
    s = score_document(g, p)
    assert s.goal_fields["year"] == [1, 1]
    g = gold([goal("规模", 2, "亿元", "规模2亿元"), goal("规模", 2, "亿", "规模2亿元")])
    p = DocumentResult(doc_id="d", goals=[pred_goal(indicator="规模", value=2, unit="亿", comparator="exactly",
                                                    year=2026, quote="规模2亿元")])
    assert score_document(g, p).goal_fields["unit"] == [1, 1]


def test_a_goal_with_the_value_but_nothing_else_in_common_is_not_a_match() -> None:
    g = gold([goal("数字经济核心产业增加值", 20, "家", "数字经济核心产业增加值20家")])
    p = DocumentResult(doc_id="d", goals=[pred_goal(indicator="绿化面积", value=20, unit="家", comparator="exactly",
                                                    year=2026, quote="建成绿地20家")])
    assert (score_document(g, p).goals.tp, score_document(g, p).goals.fp) == (0, 1)


def test_measure_pairs_follow_title_likeness_over_position() -> None:
    """Two predicted titles, each contained in both gold titles, in the opposite order:
    the pairing by likeness gives each its own duties back."""
    g = gold(measures=[measure("推进企业上云", [("甲局", "lead")]), measure("推进企业上云用云工程", [("乙局", "lead")])])
    p = DocumentResult(doc_id="d", measures=[pred_measure("推进企业上云用云工程", [("乙局", "lead")]),
                                             pred_measure("推进企业上云", [("甲局", "lead")])])
    s = score_document(g, p)
    assert (s.measures.tp, s.responsibilities.tp, s.responsibilities.fp) == (2, 2, 0)


def test_a_short_title_inside_a_long_one_is_a_match() -> None:
    g = gold(measures=[measure("推进企业上云用云工程建设与推广")])
    p = DocumentResult(doc_id="d", measures=[pred_measure("企业上云")])
    assert score_document(g, p).measures.tp == 1


@pytest.mark.parametrize("pred_section,same", [("一、重点任务", True), ("一、重点任务。", True), ("重点任务", False)])
def test_sections_compare_without_trailing_punctuation(pred_section: str, same: bool) -> None:
    g = gold(measures=[measure("推进企业上云", section="一、重点任务：")])
    p = DocumentResult(doc_id="d", measures=[pred_measure("推进企业上云", section=pred_section)])
    assert score_document(g, p).section == [int(same), 1]
    g = gold(measures=[measure("推进企业上云", section="：重点任务")])
    p = DocumentResult(doc_id="d", measures=[pred_measure("推进企业上云", section="重点任务")])
    assert score_document(g, p).section == [0, 1]


def test_a_wrong_plan_date_is_reported_as_json_text() -> None:
    import json

    g = gold(title="某方案", issued_date="2024-03-01")
    p = DocumentResult.model_validate({"doc_id": "d", "plan": {"title": "某方案", "issued_date": "2024-03-02"}})
    (err,) = [e for e in score_document(g, p).errors if e["quote"] == "issued_date"]
    assert err["fields"] == [{"field": "issued_date", "gold": "2024-03-01", "predicted": "2024-03-02"}]
    json.dumps(summarize([score_document(g, p)]))


def test_scores_are_also_summed_per_form_category() -> None:
    def with_cats(cats: object, value: float) -> GoldFile:
        return GoldFile.model_validate({"doc_id": f"d{value}", "categories": cats,
                                        "goals": [goal("企业", value, "家", f"新增企业{value:g}家")]})

    def hit(value: float) -> DocumentResult:
        return DocumentResult(doc_id=f"d{value}", goals=[pred_goal(indicator="企业", value=value, unit="家",
                                                                  comparator="exactly", year=2026,
                                                                  quote=f"新增企业{value:g}家")])

    scores = [score_document(with_cats(["plan", "forms"], 1), hit(1)), score_document(with_cats(["plan"], 2), None),
              score_document(with_cats("plan", 3), hit(3))]  # not a list: no category
    cats = summarize(scores)["by_category"]
    assert sorted(cats) == ["forms", "plan"]
    assert (cats["plan"]["documents"], cats["plan"]["goals"]["tp"], cats["plan"]["goals"]["fn"]) == (2, 1, 1)
    assert (cats["forms"]["documents"], cats["forms"]["goals"]["recall"]) == (1, 1.0)


@pytest.mark.parametrize("indicator,quote", [("数字经济核心产业增加值", "全年营收900亿元"),
                                             ("营收规模", "数字经济核心产业增加值突破900亿元")])
def test_a_goal_matches_on_its_indicator_or_its_quote_alone(indicator: str, quote: str) -> None:
    g = gold([goal("数字经济核心产业增加值", 900, "亿元", "数字经济核心产业增加值突破900亿元")])
    p = DocumentResult(doc_id="d", goals=[pred_goal(indicator=indicator, value=900, unit="亿元",
                                                    comparator="exactly", year=2026, quote=quote)])
    assert score_document(g, p).goals.tp == 1
