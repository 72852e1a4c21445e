"""The abstract task: the model writes a document's abstract from its extracted items.

Unlike the doubt tasks it runs once per document, after extraction, and reads no
document text at all: the data is `summarizer.brief.abstract.abstract_input` (a short
list), so a call costs a few hundred prompt tokens. The response model checks the
answer with the same rules the template passes (`check_abstract`: length, sentences,
the fact check), so instructor re-asks once with the list of unsupported facts; an
answer that still fails gives no abstract and the caller uses the template.
"""

from __future__ import annotations

from pydantic import BaseModel, ValidationInfo, model_validator

from summarizer.backends.structured import validation_context
from summarizer.backends.tasks import Query
from summarizer.brief.abstract import abstract_input, check_abstract
from summarizer.brief.factcheck import Evidence
from summarizer.models import DocumentResult


class AbstractAnswer(BaseModel):
    """a: the abstract."""

    a: str

    @model_validator(mode="after")
    def _checked(self, info: ValidationInfo) -> AbstractAnswer:
        ctx = validation_context(info)
        ev = ctx.get("evidence")
        if ev is None:
            return self
        ctx["asks"] = int(ctx.get("asks", 0)) + 1  # answers checked: 2 means the first needed a re-ask
        self.a = self.a.strip()
        problems = check_abstract(self.a, ev)
        if problems:
            ctx["problems"] = problems  # the last answer's problems: the note when the template is used
            raise ValueError("; ".join(problems))
        return self


class AbstractTask:
    name = "abstract"
    prompt = "abstract.v1"
    max_tokens = 256
    max_tokens_cap = 256  # cut off at 256 tokens is far past 200 characters: not asked again with more
    salvage = False  # an abstract is one piece: it passes the check or is not used
    Answer = AbstractAnswer

    def query(self, doubt: object, text: str, result: DocumentResult) -> Query:
        """The compact item list as data; the evidence (text + items) as validation context."""
        return Query(abstract_input(text, result), {"evidence": Evidence.of(text, result), "asks": 0})


TASK = AbstractTask()
