"""Responsibility clauses in the forms plans use."""

from __future__ import annotations

import pytest

from summarizer.extract.duty import find_notes, parse_duty_clause
from summarizer.models import Role

L, S, I, R = Role.lead, Role.support, Role.implement, Role.responsible


def parse(text: str, first_is_lead: bool = False) -> list[tuple[str, Role]]:
    return [(d.unit, d.role) for d in parse_duty_clause(text, 0, len(text), first_is_lead).duties]


@pytest.mark.parametrize("clause,expected", [
    ("责任单位:区经信局、新区经发局", [("区经信局", R), ("新区经发局", R)]),
    ("责任单位：新区经发局、区发改局；实施单位：各镇街，下同，不再列出",
     [("新区经发局", R), ("区发改局", R), ("各镇街", I)]),
    ("市经贸委牵头,市财政局等部门配合", [("市经贸委", L), ("市财政局", S)]),
    ("市发改委、科技局分别牵头,市经贸委等部门配合", [("市发改委", L), ("科技局", L), ("市经贸委", S)]),
    ("市经贸委牵头,各县(市、区)及市直开发区(新区)负责实施",
     [("市经贸委", L), ("各县(市、区)", I), ("市直开发区(新区)", I)]),
    ("牵头单位：市发展改革委；配合单位：市财政局、市自然资源和规划局",
     [("市发展改革委", L), ("市财政局", S), ("市自然资源和规划局", S)]),
    ("市二环线转型办和搬迁办牵头", [("市二环线转型办", L), ("搬迁办", L)]),
    ("区经信局(金融办)", []),
    ("各区县政府按职责分工负责", [("各区县政府", R)]),
])
def test_clause_forms(clause: str, expected: list[tuple[str, Role]]) -> None:
    assert parse(clause) == expected


def test_first_listed_is_lead_rule() -> None:
    assert parse("市发改委、市财政局、市经信局", first_is_lead=False) == []
    assert parse("责任单位：市发改委、市财政局、市经信局", first_is_lead=True) == [
        ("市发改委", L), ("市财政局", R), ("市经信局", R)]


def test_xiatong_units_are_carried() -> None:
    text = "责任单位：区发改局；实施单位：各镇街，下同，不再列出"
    note = parse_duty_clause(text, 0, len(text))
    assert [(d.unit, d.role) for d in note.carried] == [("各镇街", I)]


def test_notes_are_found_with_nested_brackets() -> None:
    text = "加强政策保障。(责任单位:区经信局(金融办)、区科技局)下一句(参照执行)。"
    spans = find_notes(text, 0, len(text))
    assert [text[a:b] for a, b in spans] == ["责任单位:区经信局(金融办)、区科技局"]


def test_offsets_point_at_units() -> None:
    text = "（牵头单位：市经信局；配合单位：市财政局）"
    for d in parse_duty_clause(text, 1, len(text) - 1).duties:
        assert text[d.start : d.end] == d.unit
