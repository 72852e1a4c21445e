"""Target sentence -> goals: the residual figures the rules did not read (as the
targets path reads them, with the same response model and grounding)."""

from __future__ import annotations

from summarizer.backends.llm import ChunkGoals
from summarizer.backends.tasks import Query
from summarizer.extract.doubts import Doubt
from summarizer.models import DocumentResult


class GoalsTask:
    name = "goals"
    prompt = "goals.v3"
    max_tokens = 300
    salvage = True  # keep the valid items of an answer that stays invalid
    Answer = ChunkGoals

    def query(self, doubt: Doubt, text: str, result: DocumentResult) -> Query | None:
        data = "\n".join(text[a:b] for a, b in doubt.spans)
        return Query(data, {"text": text, "spans": list(doubt.spans)})


TASK = GoalsTask()
