"""Responsibilities: roles from labels, verbs and table columns; unit names.

Written for issue 14: a bare unit list in a duty column read as `lead` and `等部门`
kept in a unit name both passed the suite (the table test never asserted the role).
Clauses and tables here are written for the test.
"""

from __future__ import annotations

import pytest

from summarizer.backends import get_backend
from summarizer.extract.duty import find_notes, parse_duty_clause
from summarizer.models import Role
from summarizer.pipeline import prepare

L, S, I, R = Role.lead, Role.support, Role.implement, Role.responsible


def parse(text: str, first_is_lead: bool = False, default: Role | None = None) -> list[tuple[str, Role]]:
    return [(d.unit, d.role) for d in parse_duty_clause(text, 0, len(text), first_is_lead, default).duties]


def measures(raw: str) -> list[tuple[str, list[tuple[str, str]]]]:
    _, doc = prepare("t", raw)
    result = get_backend("rules").extract(doc)
    return [(m.title, [(r.unit, r.role.value) for r in m.responsibilities]) for m in result.measures]


TABLE = """某区数字化转型工作任务分工
| 序号 | 工作任务 | 责任单位 |
| 1 | 推进企业上云 | 区经信局、区发改局 |
| 2 | 建设算力中心 | 区科技局等部门 |
| 3 | 培育数据企业 | 区数据局牵头，区财政局配合 |
"""


def test_a_bare_unit_list_in_a_duty_column_is_responsible() -> None:
    assert measures(TABLE) == [
        ("推进企业上云", [("区经信局", "responsible"), ("区发改局", "responsible")]),
        ("建设算力中心", [("区科技局", "responsible")]),
        ("培育数据企业", [("区数据局", "lead"), ("区财政局", "support")]),
    ]


def test_lead_and_support_columns_keep_their_roles() -> None:
    table = ("| 序号 | 工作任务 | 牵头单位 | 配合单位 |\n"
             "| 1 | 推进企业上云 | 区经信局 | 区财政局、区统计局 |\n")
    assert measures(table) == [("推进企业上云", [("区经信局", "lead"), ("区财政局", "support"),
                                                 ("区统计局", "support")])]


@pytest.mark.parametrize("clause,expected", [
    ("责任单位：区经信局、区财政局等部门", [("区经信局", R), ("区财政局", R)]),
    ("责任单位：区经信局、各街道等单位", [("区经信局", R), ("各街道", R)]),
    ("区经信局牵头，区财政局等有关部门配合", [("区经信局", L), ("区财政局", S)]),
    ("区经信局、区商务局分别牵头", [("区经信局", L), ("区商务局", L)]),
    ("各街道负责实施", [("各街道", I)]),
    ("区城管局负责落实", [("区城管局", I)]),
    ("区城管局负责", [("区城管局", R)]),
    ("区城管局指导", [("区城管局", R)]),
    ("区农业农村局协同", [("区农业农村局", S)]),
    ("牵头单位：区发改局；配合单位：区财政局；实施单位：各街道",
     [("区发改局", L), ("区财政局", S), ("各街道", I)]),
    ("主要责任单位：区发改局", [("区发改局", L)]),
    ("区经信局和区科技局牵头", [("区经信局", L), ("区科技局", L)]),
    ("区自然资源和规划局牵头", [("区自然资源和规划局", L)]),
    ("区经信局", []),  # no label, no verb, no column: no role
    ("区经信局、区经信局牵头", [("区经信局", L)]),  # each (unit, role) once
])
def test_clause_forms(clause: str, expected: list[tuple[str, Role]]) -> None:
    assert parse(clause) == expected


def test_a_column_role_applies_to_a_bare_list_only() -> None:
    assert parse("区经信局、区发改局", default=R) == [("区经信局", R), ("区发改局", R)]
    assert parse("区经信局牵头", default=R) == [("区经信局", L)]


def test_first_listed_is_lead_in_each_group() -> None:
    assert parse("责任单位：区发改局、区财政局；实施单位：各街道、各镇", first_is_lead=True) == [
        ("区发改局", L), ("区财政局", R), ("各街道", L), ("各镇", R)]


def test_carried_units_are_those_of_the_xiatong_group_only() -> None:
    text = "责任单位：区发改局；实施单位：各街道，下同"
    note = parse_duty_clause(text, 0, len(text))
    assert [(d.unit, d.role) for d in note.duties] == [("区发改局", R), ("各街道", I)]
    assert [(d.unit, d.role) for d in note.carried] == [("各街道", I)]
    assert parse_duty_clause("责任单位：区发改局", 0, 9).carried == []


def test_units_keep_their_brackets_and_offsets() -> None:
    text = "x（牵头单位：区经信局（金融办）；配合单位：各县（市、区））y"
    (span,) = find_notes(text, 0, len(text))
    note = parse_duty_clause(text, *span)
    assert [(d.unit, d.role) for d in note.duties] == [("区经信局（金融办）", L), ("各县（市、区）", S)]
    assert all(text[d.start : d.end] == d.unit for d in note.duties)


def test_notes_need_a_label_or_a_duty_verb() -> None:
    text = "加快建设（试行）。推进改革（区发改局牵头）。完善机制（含区属国企）。\n责任单位：区财政局"
    found = [text[a:b] for a, b in find_notes(text, 0, len(text))]
    assert found == ["区发改局牵头", "责任单位：区财政局"]


def test_an_unclosed_note_is_not_read() -> None:
    text = "推进改革（区发改局牵头"
    assert find_notes(text, 0, len(text)) == []


def test_latin_letters_in_unit_names_survive_splitting_and_trimming() -> None:
    # Latin letters occur in real names (X光, ABC集团); splitting and trimming must act on
    # the separators only.
    assert parse("牵头单位：X市经信局（X办）、X市财政局；配合单位：X县和X区政府") == [
        ("X市经信局（X办）", L), ("X市财政局", L), ("X县", S), ("X区政府", S)]
    text = "推进改革（X集团牵头，X公司配合）X。"
    assert [text[a:b] for a, b in find_notes(text, 0, len(text))] == ["X集团牵头，X公司配合"]


def test_brackets_nest_in_lists_and_conjunctions() -> None:
    assert parse("责任单位：区经信局（区金融办、区大数据中心）、区财政局") == [
        ("区经信局（区金融办、区大数据中心）", R), ("区财政局", R)]
    assert parse("区委（区政府办和区发改委）和区财政局牵头") == [("区委（区政府办和区发改委）", L), ("区财政局", L)]
    assert parse("责任单位：区经信局【牵头】、区财政局") == [("区经信局【牵头】", R), ("区财政局", R)]
    assert parse("责任单位：区经信局）、区财政局") == [("区经信局）", R), ("区财政局", R)]  # a stray bracket


def test_one_character_names_and_empty_parts_are_dropped() -> None:
    assert parse("责任单位：甲、区财政局、、区统计局；；") == [("区财政局", R), ("区统计局", R)]
    assert parse("责任单位：区财政局。") == [("区财政局", R)]


def test_carry_words_are_skipped_and_reading_goes_on() -> None:
    assert parse("责任单位：区发改局，下同，区财政局") == [("区发改局", R), ("区财政局", R)]
    assert parse("实施单位：各街道，不再列出，区城管局") == [("各街道", I), ("区城管局", I)]
    assert parse("区发改局牵头，说明文字，区财政局配合") == [("区发改局", L), ("区财政局", S)]  # no role: skipped


def test_conjunctions_split_only_between_names() -> None:
    assert parse("区经信局和区科技局与区商务局及区财政局配合") == [
        ("区经信局", S), ("区科技局", S), ("区商务局", S), ("区财政局", S)]
    assert parse("和区经信局牵头") == [("和区经信局", L)]
    assert parse("区局和") == []


def test_notes_are_found_one_after_another() -> None:
    text = "甲（区发改局牵头）乙（区财政局配合；）丙（未闭合"
    assert [text[a:b] for a, b in find_notes(text, 0, len(text))] == ["区发改局牵头", "区财政局配合；"]
    text = "（说明）（区发改局负责）"
    assert [text[a:b] for a, b in find_notes(text, 0, len(text))] == ["区发改局负责"]
    assert find_notes("（区发改局牵头）", 1, 8) == []  # the note must open inside the range


def test_nested_brackets_keep_a_unit_whole() -> None:
    assert parse("市经信局（金融办（外资办）、科技局）、市财政局牵头") == [
        ("市经信局（金融办（外资办）、科技局）", L), ("市财政局", L)]
    assert parse("（（市经信局）、市财政局牵头") == [("（（市经信局）、市财政局", L)]


@pytest.mark.parametrize("clause", [" 市经信局牵头", "  市经信局牵头", "，市经信局牵头", " ，市经信局牵头"])
def test_leading_spaces_and_commas_are_not_part_of_a_unit(clause: str) -> None:
    assert parse(clause) == [("市经信局", L)]


def test_notes_after_an_unclosed_or_unrelated_bracket() -> None:
    text = "推进企业上云（2025年）（市经信局牵头）（（区财政局配合）"  # an unclosed bracket: the one inside it counts
    assert [text[a:b] for a, b in find_notes(text, 0, len(text))] == ["市经信局牵头", "区财政局配合"]
    text = "推进企业上云（市经信局牵头）（区财政局配合）。建设平台（责任单位：市科技局）"
    assert [text[a:b] for a, b in find_notes(text, 0, len(text))] == ["市经信局牵头", "区财政局配合", "责任单位：市科技局"]
