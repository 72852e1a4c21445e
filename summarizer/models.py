"""The data model: the single source of truth for results, gold files and tables.

The extraction result is a superset of the gold format (`../shared/gold-format.md`):
`DocumentResult.to_gold()` writes a valid gold file. On top of the gold fields,
every goal and measure carries its grounding (offsets into the cleaned text), and
validators refuse a quote that is not exactly the text at those offsets. The
cleaned text reaches the validators through pydantic's validation context
(`{"text": cleaned}`), which is also how instructor passes it when re-asking a model.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from summarizer.extract.numbers import value_in_quote


class Comparator(StrEnum):
    """How a goal's value relates to the target (see the gold format's table)."""

    increase_by = "increase_by"
    decrease_by = "decrease_by"
    at_least = "at_least"
    at_most = "at_most"
    about = "about"
    exactly = "exactly"


class Role(StrEnum):
    """What a unit does for a measure."""

    lead = "lead"
    support = "support"
    implement = "implement"
    responsible = "responsible"


class SummarySource(StrEnum):
    """Who wrote a plan's abstract: the model (its facts all checked) or the fixed template."""

    model = "model"
    template = "template"


class Plan(BaseModel):
    """A document's identity: what it is, who issued it, and the years it covers."""

    title: str | None = Field(None, description="The document's own title, without 《》")
    issuers: list[str] = Field(default_factory=list, description="Issuing bodies, in order")
    issued_date: dt.date | None = Field(None, description="Date of issue as signed")
    period_start: int | None = Field(None, description="First year the plan covers")
    period_end: int | None = Field(None, description="Last year the plan covers")
    summary: str | None = Field(
        None, description="Abstract: 2-4 plain sentences, at most 200 characters, every fact checked against the text")
    summary_source: SummarySource | None = Field(
        None, description="Who wrote the abstract: model (passed the fact check) or template")
    summary_asks: int | None = Field(
        None, description="Model answers fact-checked for the abstract (2 = it needed a re-ask; 0 = not asked)")


class Responsibility(BaseModel):
    """One unit named as responsible for a measure, with its role."""

    unit: str = Field(min_length=1, description="The unit as the text names it")
    role: Role


class Goal(BaseModel):
    """A quantified target: an indicator, a number, and a time."""

    indicator: str = Field(min_length=1, description="What is measured, as the text names it")
    value: float = Field(description="The target figure as written (翻番 -> 2, unit 倍)")
    value_max: float | None = Field(None, description="Upper end of a range, else null")
    unit: str | None = Field(None, description="Unit as written (亿元, %, 家, 个百分点)")
    comparator: Comparator
    year: int | None = Field(None, ge=1949, le=2100, description="Year the target is due")
    quote: str = Field(min_length=1, description="Shortest verbatim span stating the target")


class Measure(BaseModel):
    """A numbered task of the plan."""

    number: str = Field(description="Its number as written, without punctuation")
    title: str = Field(min_length=1, description="Heading phrase, or first clause")
    section: str | None = Field(None, description="Heading of the part it sits in")
    summary: str | None = Field(None, description="What the measure does, one line of at most 40 characters")
    responsibilities: list[Responsibility] = Field(default_factory=list)


class Grounded(BaseModel):
    """Offsets of `quote` in the cleaned text; checked when the text is in context."""

    start: int = Field(ge=0, description="Offset of the quote in the cleaned text")
    end: int = Field(ge=0, description="End offset (exclusive) of the quote")
    quote: str = Field(min_length=1)

    @model_validator(mode="after")
    def _quote_at_offsets(self, info: ValidationInfo) -> Self:
        if self.end - self.start != len(self.quote):
            raise ValueError(
                f"offsets {self.start}-{self.end} span {self.end - self.start} chars "
                f"but the quote has {len(self.quote)}"
            )
        text = (info.context or {}).get("text") if info.context else None
        if text is not None and text[self.start : self.end] != self.quote:
            raise ValueError(
                f"quote {self.quote!r} is not the text at {self.start}-{self.end} "
                f"({text[self.start : self.end]!r})"
            )
        return self


class GroundedGoal(Goal, Grounded):
    """A goal with its place in the cleaned text; its value must be in its quote."""

    @model_validator(mode="after")
    def _value_in_quote(self) -> Self:
        if not value_in_quote(self.value, self.quote):
            raise ValueError(f"value {self.value:g} does not appear in quote {self.quote!r}")
        if self.value_max is not None and self.value_max < self.value:
            raise ValueError(f"value_max {self.value_max:g} is below value {self.value:g}")
        return self


class GroundedMeasure(Measure, Grounded):
    """A measure; its quote is the heading (number and title) as it stands in the text."""

    body_end: int | None = Field(None, description="End offset of the whole item's text")
    summary_start: int | None = Field(None, description="Offset of the summary in the cleaned text, when extractive")
    summary_end: int | None = Field(None, description="End offset of the extractive summary")


class DocumentResult(BaseModel):
    """Everything extracted from one document by one backend."""

    model_config = ConfigDict(extra="forbid")

    doc_id: str
    plan: Plan = Field(default_factory=Plan)
    goals: list[GroundedGoal] = Field(default_factory=list)
    measures: list[GroundedMeasure] = Field(default_factory=list)
    dropped: int = Field(0, description="Items the backend proposed that failed validation")
    notes: list[str] = Field(default_factory=list, description="What the backend noticed")
    faults: list[str] = Field(
        default_factory=list,
        description="Why the model gave no usable answer for part of the text; non-empty means the "
        "result is degraded (rules only there) and a later run retries it",
    )

    def to_gold(self) -> GoldFile:
        """The result in the hand-labeled gold format (extra keys dropped)."""
        return GoldFile.model_validate(
            {
                "doc_id": self.doc_id,
                "plan": self.plan.model_dump(mode="json", exclude={"summary", "summary_source", "summary_asks"}),
                "goals": [g.model_dump(mode="json", include=set(Goal.model_fields)) for g in self.goals],
                "measures": [
                    m.model_dump(mode="json", include=set(Measure.model_fields) - {"summary"})
                    for m in self.measures
                ],
            }
        )


# ---- the gold format -------------------------------------------------------------


class _GoldBase(BaseModel):
    # Reviewers may add keys; the harness ignores what it does not score.
    model_config = ConfigDict(extra="allow")


class GoldPlan(_GoldBase):
    title: str | None = None
    issuers: list[str] = Field(default_factory=list)
    issued_date: dt.date | None = None
    period_start: int | None = None
    period_end: int | None = None


class GoldResponsibility(_GoldBase):
    unit: str = Field(min_length=1)
    role: Role


class GoldGoal(_GoldBase):
    indicator: str = Field(min_length=1)
    value: float
    value_max: float | None = None
    unit: str | None = None
    comparator: Comparator
    year: int | None = None
    quote: str = Field(min_length=1)


class GoldMeasure(_GoldBase):
    number: str
    title: str = Field(min_length=1)
    section: str | None = None
    responsibilities: list[GoldResponsibility] = Field(default_factory=list)


class GoldFile(_GoldBase):
    """One hand-labeled answer key, as `../shared/gold-format.md` defines it."""

    doc_id: str = Field(min_length=1)
    plan: GoldPlan = Field(default_factory=GoldPlan)
    goals: list[GoldGoal] = Field(default_factory=list)
    measures: list[GoldMeasure] = Field(default_factory=list)

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
