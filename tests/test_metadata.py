from __future__ import annotations

import datetime as dt

from conftest import raw_text

from summarizer.extract.metadata import extract_plan
from summarizer.ingest.clean import clean_text


def test_transmittal_then_plan_title_signature_date_period() -> None:
    plan = extract_plan(clean_text(raw_text("003")).text)
    assert plan.title == "嘉兴市人民政府关于印发嘉兴市先进制造业集群培育工程推进方案(2023—2027年)的通知"
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


def test_one_line_notice_title_glued_to_doc_number_and_signature() -> None:
    raw = ("某省人民政府关于加快某项工作的实施意见某政发〔2031〕7号各市人民政府：为推进工作，提出如下意见。"
           "一、总体要求（一）指导思想。坚持稳中求进。" + "推进各项工作。" * 150 +
           "某省人民政府二〇三一年五月六日（此件公开发布）")
    plan = extract_plan(clean_text(raw).text)
    assert plan.title == "某省人民政府关于加快某项工作的实施意见"
    assert plan.issuers == ["某省人民政府"]
    assert plan.issued_date == dt.date(2031, 5, 6)


def test_issuers_from_title_prefix_when_no_signature() -> None:
    plan = extract_plan("某区人民政府办公室关于印发《某区水务“十四五”规划》的通知\n各街道：\n现印发给你们。\n2031年3月2日\n正文")
    assert plan.issuers == ["某区人民政府办公室"]
    assert plan.issued_date == dt.date(2031, 3, 2)
    assert plan.period_end == 2025


def test_title_broken_over_two_lines_and_issuer_line_above_guanyu() -> None:
    assert extract_plan("某部关于印发某项工作\n“十五五”规划的通知\n正文").title == "某部关于印发某项工作“十五五”规划的通知"
    plan = extract_plan("中共某县委 某县人民政府\n关于支持某产业发展的实施意见\n(2031年2月8日)\n正文")
    assert plan.title == "中共某县委 某县人民政府关于支持某产业发展的实施意见"
    assert plan.issuers == ["中共某县委", "某县人民政府"]
    assert plan.issued_date == dt.date(2031, 2, 8)


def test_glued_joint_signature_and_report_signer() -> None:
    plan = extract_plan("关于印发《某方案》的通知\n各单位：\n某区发展和改革委员会某区建设和管理委员会\n2031年2月24日")
    assert plan.issuers == ["某区发展和改革委员会", "某区建设和管理委员会"]
    plan = extract_plan("2031年某省政府工作报告\n——2031年1月26日在某省人民代表大会第四次会议上\n某省人民政府省长 张三\n各位代表：")
    assert plan.issuers == ["某省人民政府"] and plan.issued_date == dt.date(2031, 1, 26)
    assert (plan.period_start, plan.period_end) == (2031, 2031)


def test_national_doc_number_names_the_issuer() -> None:
    assert extract_plan("关于某事的意见\n国办发〔2031〕3号\n正文").issuers == ["国务院办公厅"]
