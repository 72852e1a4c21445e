"""Goal year: which year each goal is due, from the scope around it."""

from __future__ import annotations

from pydantic import BaseModel, ValidationInfo, model_validator

from summarizer.backends.structured import validation_context
from summarizer.backends.tasks import Query
from summarizer.backends.tasks.keep import figure_line
from summarizer.extract.doubts import Doubt
from summarizer.models import DocumentResult


class YearAnswer(BaseModel):
    """y: one year (or null) per numbered goal, in order."""

    y: list[int | None]

    @model_validator(mode="after")
    def _years_in_text(self, info: ValidationInfo) -> YearAnswer:
        ctx = validation_context(info)
        n, data = ctx.get("n"), ctx.get("data", "")
        if n is not None and len(self.y) != n:
            raise ValueError(f"y has {len(self.y)} years but there are {n} numbered goals; give one each")
        bad = [y for y in self.y if y is not None and (not 2000 <= y <= 2100 or f"{y}年" not in data)]
        if bad:
            raise ValueError(f"years {bad} are not written in the text as YYYY年; use a year stated there or null")
        return self


class YearTask:
    name = "year"
    prompt = "year.v1"
    max_tokens = 120
    salvage = False  # keep the valid items of an answer that stays invalid
    Answer = YearAnswer

    def query(self, doubt: Doubt, text: str, result: DocumentResult) -> Query | None:
        lines = []
        if result.plan.title:
            lines.append(f"《{result.plan.title}》")
        if doubt.heading:
            lines.append(f"【{doubt.heading}】")
        for n, i in enumerate(doubt.goals, 1):
            g = result.goals[i]
            lines.append(f"{n}. {figure_line(text, g.start, g.end, lead=30)}")
        data = "\n".join(lines)
        return Query(data, {"n": len(doubt.goals), "data": data})


TASK = YearTask()
