from __future__ import annotations

import datetime as dt

from conftest import raw_text

from summarizer.extract.metadata import extract_plan
from summarizer.ingest.clean import clean_text


def test_transmittal_then_plan_title_signature_date_period() -> None:
    plan = extract_plan(clean_text(raw_text("003")).text)
    assert plan.title == "嘉兴市先进制造业集群培育工程推进方案(2023—2027年)"
    assert plan.issuers == ["嘉兴市人民政府"]
    assert plan.issued_date == dt.date(2023, 3, 30)
    assert (plan.period_start, plan.period_end) == (2023, 2027)


def test_joint_issuers_and_deadline_period() -> None:
    plan = extract_plan(clean_text(raw_text("001")).text)
    assert plan.issuers == ["绍兴市越城区人民政府", "绍兴滨海新区管理委员会"]
    assert (plan.period_start, plan.period_end) == (None, 2026)


def test_untitled_excerpt_states_nothing() -> None:
    plan = extract_plan(clean_text(raw_text("000")).text)
    assert plan.title is None and plan.issuers == [] and plan.issued_date is None


def test_chinese_numeral_date_and_one_year_plan() -> None:
    plan = extract_plan("某市2018年政府工作任务\n某市人民政府办公室\n二〇一八年三月五日\n一、任务")
    assert plan.title == "某市2018年政府工作任务"
    assert plan.issued_date == dt.date(2018, 3, 5)
    assert (plan.period_start, plan.period_end) == (2018, 2018)
