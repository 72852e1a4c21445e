"""Model tasks: one small module per kind of doubt, each a prompt and a response model.

A task turns a `Doubt` (summarizer/extract/doubts.py) into the data the model reads
and the validation context its response model checks against. Every response model
validates against the text in its validators (quotes verbatim, values in their
quotes, units seen in the text, enums), so instructor re-asks the model with the
error; an answer that still fails is dropped and counted. What a valid answer does
to the result is decided in one place: summarizer/backends/merge.py.

| task     | doubt                          | prompt          | answer                              |
|----------|--------------------------------|-----------------|-------------------------------------|
| plan     | plan_field                     | plan.v1         | title, issuers, date, period        |
| keep     | doubtful_goal                  | keep.v1         | one verdict per figure              |
| year     | goal_year                      | year.v1         | one year (or null) per goal         |
| duties   | stray_duty                     | duties.v1       | (unit, role) pairs                  |
| goals    | target_sentence                | goals.v3        | goals, as the targets path reads    |
| block    | table_block, no_measures       | block.v1        | measures with their units           |
| abstract | (every document, after extraction; not a doubt) | abstract.v1 | the abstract, fact-checked |
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel

from summarizer.extract.doubts import Doubt, DoubtKind
from summarizer.models import DocumentResult


@dataclass(frozen=True)
class Query:
    """What one task asks about one doubt: the data sent and the validation context."""

    data: str
    context: dict[str, Any]


class Task(Protocol):
    name: str
    prompt: str  # prompts/<prompt>.md
    max_tokens: int
    salvage: bool  # an answer still invalid keeps its valid items (list answers)
    Answer: type[BaseModel]

    def query(self, doubt: Doubt, text: str, result: DocumentResult) -> Query | None: ...


def task_for(kind: DoubtKind) -> Task:
    from summarizer.backends.tasks import block, duties, goals, keep, plan, year

    return {
        DoubtKind.plan_field: plan.TASK, DoubtKind.doubtful_goal: keep.TASK, DoubtKind.goal_year: year.TASK,
        DoubtKind.stray_duty: duties.TASK, DoubtKind.target_sentence: goals.TASK,
        DoubtKind.table_block: block.TASK, DoubtKind.no_measures: block.TASK,
    }[kind]


def all_tasks() -> list[Task]:
    from summarizer.backends.tasks import block, duties, goals, keep, plan, year

    return [plan.TASK, keep.TASK, year.TASK, duties.TASK, goals.TASK, block.TASK]


def error_text(exc: Exception) -> str:
    from pydantic import ValidationError

    return exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
