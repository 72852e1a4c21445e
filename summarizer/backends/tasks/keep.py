"""Keep or drop: is a figure the rules took as a target really one, or a past figure,
a threshold, a subsidy, a deadline?"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ValidationInfo, model_validator

from summarizer.backends.structured import validation_context
from summarizer.backends.tasks import Query
from summarizer.extract.doubts import Doubt
from summarizer.models import DocumentResult


class Verdict(StrEnum):
    target = "target"  # a level the plan commits to reach: keep
    past = "past"  # a result already achieved, a past-period figure
    threshold = "threshold"  # who or what qualifies, a grading criterion
    incentive = "incentive"  # a subsidy, reward, price or budget
    deadline = "deadline"  # a time limit for a procedure (N个工作日内)
    other = "other"


DROP = {Verdict.past, Verdict.threshold, Verdict.incentive, Verdict.deadline}


class KeepAnswer(BaseModel):
    """k: one verdict per numbered figure, in order."""

    k: list[Verdict]

    @model_validator(mode="after")
    def _one_per_figure(self, info: ValidationInfo) -> KeepAnswer:
        n = validation_context(info).get("n")
        if n is not None and len(self.k) != n:
            raise ValueError(f"k has {len(self.k)} verdicts but there are {n} numbered figures; give one each")
        return self


def figure_line(text: str, start: int, end: int, lead: int = 18) -> str:
    """The figure's quote with a little of its clause before it."""
    a = start
    while a > max(0, start - lead) and text[a - 1] not in "。；;\n":
        a -= 1
    return text[a:end].replace("\n", " ")


class KeepTask:
    name = "keep"
    prompt = "keep.v1"
    max_tokens = 160
    salvage = False  # keep the valid items of an answer that stays invalid
    Answer = KeepAnswer

    def query(self, doubt: Doubt, text: str, result: DocumentResult) -> Query | None:
        lines = [f"【{doubt.heading}】"] if doubt.heading else []
        for n, i in enumerate(doubt.goals, 1):
            g = result.goals[i]
            lines.append(f"{n}. {figure_line(text, g.start, g.end)}")
        return Query("\n".join(lines), {"n": len(doubt.goals)})


TASK = KeepTask()
