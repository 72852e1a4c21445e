from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from summarizer.models import GroundedGoal
from summarizer.schemas import SCHEMAS, schema_text

ROOT = Path(__file__).resolve().parent.parent
TEXT = "全部工业增加值突破1000亿元"


def goal(**kw: object) -> dict[str, object]:
    return {"indicator": "全部工业增加值", "value": 1000, "unit": "亿元", "comparator": "at_least",
            "year": 2026, "quote": TEXT, "start": 0, "end": len(TEXT), **kw}


def test_grounded_quote_must_be_the_text_at_its_offsets() -> None:
    GroundedGoal.model_validate(goal(), context={"text": TEXT})
    with pytest.raises(ValidationError, match="is not the text at"):
        GroundedGoal.model_validate(goal(quote="全部工业增加值突破2000亿元"), context={"text": TEXT})
    with pytest.raises(ValidationError, match="span"):
        GroundedGoal.model_validate(goal(end=3))


def test_value_must_appear_in_the_quote() -> None:
    with pytest.raises(ValidationError, match="does not appear"):
        GroundedGoal.model_validate(goal(value=999))
    GroundedGoal.model_validate(goal(value=2, unit="倍", quote="税收实现翻番", end=6))


def test_enums_are_enforced() -> None:
    with pytest.raises(ValidationError):
        GroundedGoal.model_validate(goal(comparator="more_than"))


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_schema_files_match_the_models(name: str) -> None:
    shipped = (ROOT / "schemas" / name).read_text("utf-8")
    assert shipped == schema_text(SCHEMAS[name]), "run `summarizer schema` and commit schemas/"
