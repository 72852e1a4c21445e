"""The scorer on small hand-made cases whose right answer is known."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import GOLD

from summarizer.errors import GoldError
from summarizer.evaluation.gold import load_gold
from summarizer.evaluation.scoring import score_document, summarize, values_equal
from summarizer.models import DocumentResult, GoldFile, GroundedGoal, GroundedMeasure, Role

TEXT = "到2026年，工业增加值突破1000亿元，企业新增100家以上。\n1.打造平台。内容。\n2.培育企业。内容。"


def gold() -> GoldFile:
    return GoldFile.model_validate({
        "doc_id": "d",
        "plan": {"title": "某方案", "issuers": ["某市人民政府"], "issued_date": "2023-01-02",
                 "period_start": None, "period_end": 2026},
        "goals": [
            {"indicator": "工业增加值", "value": 1000, "unit": "亿元", "comparator": "at_least", "year": 2026,
             "quote": "工业增加值突破1000亿元"},
            {"indicator": "企业", "value": 100, "unit": "家", "comparator": "increase_by", "year": 2026,
             "quote": "企业新增100家以上"},
        ],
        "measures": [
            {"number": "1", "title": "打造平台", "section": None,
             "responsibilities": [{"unit": "市经信局", "role": "lead"}, {"unit": "市财政局", "role": "support"}]},
            {"number": "2", "title": "培育企业", "section": None, "responsibilities": []},
        ],
    })


def perfect() -> DocumentResult:
    g = gold()
    goals = []
    for x in g.goals:
        start = TEXT.index(x.quote)
        goals.append(GroundedGoal(**x.model_dump(include={"indicator", "value", "value_max", "unit",
                                                          "comparator", "year", "quote"}),
                                  start=start, end=start + len(x.quote)))
    measures = []
    for x in g.measures:
        quote = f"{x.number}.{x.title}"
        start = TEXT.index(quote)
        measures.append(GroundedMeasure(number=x.number, title=x.title, section=x.section,
                                        responsibilities=[r.model_dump() for r in x.responsibilities],
                                        start=start, end=start + len(quote), quote=quote))
    return DocumentResult(doc_id="d", plan=g.plan.model_dump(), goals=goals, measures=measures)


def test_perfect_output_scores_one() -> None:
    s = summarize([score_document(gold(), perfect(), TEXT)])["overall"]
    assert s["goals"]["f1"] == s["measures"]["f1"] == s["responsibilities"]["f1"] == 1.0
    assert s["plan"]["accuracy"] == 1.0 and s["grounding"]["share"] == 1.0


def test_empty_output_has_zero_recall() -> None:
    s = summarize([score_document(gold(), DocumentResult(doc_id="d"))])["overall"]
    assert s["goals"]["recall"] == s["measures"]["recall"] == s["responsibilities"]["recall"] == 0.0
    assert s["goals"]["fn"] == 2


def test_missing_document_counts_as_all_missed() -> None:
    s = summarize([score_document(gold(), None)])["overall"]
    assert s["goals"]["fn"] == 2 and s["measures"]["fn"] == 2


def test_swapped_order_still_matches() -> None:
    p = perfect()
    p.goals.reverse()
    p.measures.reverse()
    s = summarize([score_document(gold(), p)])["overall"]
    assert s["goals"]["f1"] == 1.0 and s["measures"]["f1"] == 1.0 and s["responsibilities"]["f1"] == 1.0


def test_wrong_value_is_a_miss_and_a_spurious_item() -> None:
    p = perfect()
    p.goals[0] = p.goals[0].model_copy(update={"value": 999})
    s = summarize([score_document(gold(), p)])["overall"]["goals"]
    assert (s["tp"], s["fp"], s["fn"]) == (1, 1, 1)


def test_role_errors_are_strict_misses_but_lenient_hits() -> None:
    p = perfect()
    p.measures[0].responsibilities[1].role = Role.lead
    o = summarize([score_document(gold(), p)])["overall"]["responsibilities"]
    assert (o["tp"], o["fp"], o["fn"]) == (1, 1, 1)
    assert o["lenient"]["f1"] == 1.0


def test_wrong_field_is_reported_on_a_match() -> None:
    p = perfect()
    p.goals[1] = p.goals[1].model_copy(update={"comparator": "at_least"})
    score = score_document(gold(), p)
    assert score.goals.tp == 2
    assert [e["fields"][0]["field"] for e in score.errors if e["kind"] == "wrong_field"] == ["comparator"]


def test_units_scale_only_where_the_gold_unit_says() -> None:
    assert values_equal(1.2, "万亩", 12000, "亩")
    assert values_equal(1000, "亿元", 10000000, "万元")
    assert not values_equal(1.2, "万亩", 12000, "家")


def test_gold_with_unknown_doc_id_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text(json.dumps({"doc_id": "y"}), "utf-8")
    with pytest.raises(GoldError, match="does not match"):
        load_gold(bad)


def test_bad_gold_names_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "d.json"
    bad.write_text(json.dumps({"doc_id": "d", "goals": [{"indicator": "x", "value": 1, "comparator": "more",
                                                          "quote": "x"}]}), "utf-8")
    with pytest.raises(GoldError, match=r"d\.json: goals\.0\.comparator"):
        load_gold(bad)


def test_shipped_gold_files_load() -> None:
    golds = [load_gold(p) for p in sorted(GOLD.glob("*.json"))]
    assert len(golds) == 5
    assert sum(len(g.goals) for g in golds) >= 100
    assert sum(len(g.measures) for g in golds) >= 100
