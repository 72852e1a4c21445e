"""Plan metadata: title, issuers (also over several signature lines), date, period.

Written for issue 14: a signature taking several lines and the latest of several
deadline years were unguarded. Documents here are written for the test.
"""

from __future__ import annotations

import datetime as dt

import pytest

from summarizer.extract.metadata import extract_plan


def test_a_signature_over_several_lines_lists_every_issuer_in_order() -> None:
    plan = extract_plan("某区智慧城市建设方案\n一、任务\n内容。\n某区发展和改革委员会\n某区经济和信息化局 某区财政局\n"
                        "2024年5月6日")
    assert plan.issuers == ["某区发展和改革委员会", "某区经济和信息化局", "某区财政局"]
    assert plan.issued_date == dt.date(2024, 5, 6)


def test_the_signature_is_the_line_right_above_the_date() -> None:
    plan = extract_plan("某市方案\n正文第一段。\n某市人民政府\n抄送：某部门。\n2024年5月6日")
    assert plan.issuers == [] and plan.issued_date == dt.date(2024, 5, 6)


def test_the_first_signed_date_wins() -> None:
    plan = extract_plan("某市方案\n某市人民政府\n2024年5月6日\n附件\n某市财政局\n2024年6月1日")
    assert plan.issuers == ["某市人民政府"] and plan.issued_date == dt.date(2024, 5, 6)


def test_the_period_end_is_the_latest_deadline() -> None:
    plan = extract_plan("某市行动方案\n到2025年，完成试点。到2027年，全面推广。到2026年，形成经验。")
    assert (plan.period_start, plan.period_end) == (None, 2027)


def test_a_period_in_the_title_wins_over_deadlines() -> None:
    plan = extract_plan("某市行动计划（2024—2026年）\n到2030年，全面建成。")
    assert (plan.period_start, plan.period_end) == (2024, 2026)


def test_a_year_in_the_title_is_a_one_year_plan() -> None:
    plan = extract_plan("某县2025年重点工作任务\n到2027年，全面建成。")
    assert (plan.period_start, plan.period_end) == (2025, 2025)


def test_the_title_is_the_transmittal_with_its_issuer_prefix() -> None:
    # The document's outermost title, as the development corpus and its manifest read it.
    plan = extract_plan("某市人民政府关于印发《某市数字经济促进方案》的通知\n各区政府：\n现印发给你们。")
    assert plan.title == "某市人民政府关于印发《某市数字经济促进方案》的通知"
    assert plan.issuers == ["某市人民政府"]


def test_the_first_title_line_wins_over_the_plan_s_own() -> None:
    plan = extract_plan("关于印发某市数字经济促进方案的通知\n某市数字经济促进方案（试行）\n一、总体要求")
    assert plan.title == "关于印发某市数字经济促进方案的通知"


@pytest.mark.parametrize("line", ["一、实施方案", "（二）工作计划", "3.推进方案", "请认真贯彻落实工作方案。"])
def test_headings_and_sentences_are_not_titles(line: str) -> None:
    assert extract_plan(line).title is None


@pytest.mark.parametrize("line,date", [
    ("2024年2月30日", None),
    ("二〇二四年十二月三十一日", dt.date(2024, 12, 31)),
    ("二〇二四年十三月一日", None),
    ("发布日期：2024年1月2日", None),
])
def test_date_lines(line: str, date: dt.date | None) -> None:
    assert extract_plan(f"某市方案\n{line}").issued_date == date


def test_signature_names_up_to_thirty_characters() -> None:
    ok = "某" * 26 + "人民政府"
    assert extract_plan(f"某市方案\n{ok}\n2024年5月6日").issuers == [ok]
    assert extract_plan(f"某市方案\n某{ok}\n2024年5月6日").issuers == []


def test_a_signature_on_the_first_lines_of_the_text() -> None:
    assert extract_plan("某市人民政府\n2024年5月6日").issuers == ["某市人民政府"]
    assert extract_plan("某市人民政府\n某市财政局\n2024年5月6日").issuers == ["某市人民政府", "某市财政局"]
    assert extract_plan("2024年5月6日\n某市人民政府").issuers == []


def test_the_title_is_searched_in_the_first_forty_head_lines() -> None:
    filler = "\n".join(f"第{i}行说明文字。" for i in range(39))
    assert extract_plan(f"{filler}\n某市数字经济促进方案").title == "某市数字经济促进方案"
    assert extract_plan(f"{filler}\n说明。\n某市数字经济促进方案").title is None


@pytest.mark.parametrize("head,title", [
    ("某市人民政府关于某某工作的通知", "某市人民政府关于某某工作的通知"),
    ("某市人民政府关于某某工作的通知\n某市数字经济促进方案", "某市人民政府关于某某工作的通知"),
    ("关于印发《某市数字经济促进方案》的通知\n关于转发某某的通知", "关于印发《某市数字经济促进方案》的通知"),
])
def test_title_choice(head: str, title: str) -> None:
    assert extract_plan(head + "\n一、总体要求").title == title


def test_a_date_needs_both_month_and_day() -> None:
    assert extract_plan("某市方案\n二〇二四年十月十日").issued_date == dt.date(2024, 10, 10)
    assert extract_plan("某市方案\n2024年0月6日").issued_date is None
