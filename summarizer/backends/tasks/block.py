"""Irregular block -> its measures (number, title) and their units."""

from __future__ import annotations

from pydantic import BaseModel, ValidationInfo, model_validator

from summarizer.backends.structured import validation_context
from summarizer.backends.tasks import Query
from summarizer.extract.doubts import Doubt
from summarizer.models import DocumentResult


class BlockMeasure(BaseModel):
    n: str  # number as written
    t: str  # title: the task's first clause, copied exactly
    u: list[str]  # responsible units, copied exactly


class BlockAnswer(BaseModel):
    """m: the numbered tasks of the block, in order."""

    m: list[BlockMeasure]

    @model_validator(mode="after")
    def _grounded(self, info: ValidationInfo) -> BlockAnswer:
        data = validation_context(info).get("data")
        if data is None:
            return self
        errors = []
        for k, item in enumerate(self.m):
            item.n, item.t = item.n.strip(" .．、()（）"), item.t.strip()
            if not item.t or item.t not in data:
                errors.append(f"m[{k}]: title {item.t!r} is not in the text; copy it exactly")
            if not item.n or item.n not in data:
                errors.append(f"m[{k}]: number {item.n!r} is not in the text")
            errors += [f"m[{k}]: unit {u!r} is not in the text" for u in item.u if u.strip() not in data]
        if errors:
            raise ValueError("; ".join(errors))
        return self


class BlockTask:
    name = "block"
    prompt = "block.v1"
    max_tokens = 400
    salvage = True  # keep the valid items of an answer that stays invalid
    Answer = BlockAnswer

    def query(self, doubt: Doubt, text: str, result: DocumentResult) -> Query | None:
        data = "\n".join(text[a:b] for a, b in doubt.spans)
        return Query(data, {"data": data})


TASK = BlockTask()
