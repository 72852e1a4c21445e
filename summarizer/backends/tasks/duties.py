"""Prose duties: a sentence with role verbs outside any note -> (unit, role) pairs."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field, ValidationInfo, model_validator

from summarizer.backends.tasks import Query
from summarizer.extract.doubts import Doubt
from summarizer.models import DocumentResult, Role

# The words that state each role (gold format): a pair needs one in its sentence.
ROLE_WORDS = {
    Role.lead: ("牵头", "会同"),
    Role.support: ("配合", "协同", "参与", "参加", "协助", "会同"),
    Role.implement: ("实施", "落实"),
    Role.responsible: ("负责", "指导", "职责"),
}
_UNIT_END = re.compile(r"(部|局|委|办|厅|府|院|会|组|中心|公司|集团|街道|单位|部门|各地区|机构|企业)$")
_SENTENCES = re.compile(r"[^。；;！？\n]+")


class DutyItem(BaseModel):
    u: str = Field(description="the unit, copied exactly")
    r: Role


class DutyAnswer(BaseModel):
    """d: the units the text names as responsible, each with its role."""

    d: list[DutyItem]

    @model_validator(mode="after")
    def _grounded(self, info: ValidationInfo) -> DutyAnswer:
        data = (info.context or {}).get("data")
        if data is None:
            return self
        errors = []
        for n, item in enumerate(self.d):
            item.u = re.sub(r"(等有关部门|等相关部门|等部门|等单位|等)$", "", item.u.strip())
            sentence = next((s for s in _SENTENCES.findall(data) if item.u and item.u in s), None)
            if sentence is None:
                errors.append(f"d[{n}]: unit {item.u!r} is not written in the text; copy it exactly")
            elif not _UNIT_END.search(item.u) or len(item.u) > 20:
                errors.append(f"d[{n}]: {item.u!r} is not the name of a unit or department")
            elif not any(w in sentence for w in ROLE_WORDS[item.r]):
                errors.append(f"d[{n}]: no word for role {item.r.value} next to {item.u!r}")
        if errors:
            raise ValueError("; ".join(errors))
        return self


class DutiesTask:
    name = "duties"
    prompt = "duties.v1"
    max_tokens = 200
    salvage = True  # keep the valid items of an answer that stays invalid
    Answer = DutyAnswer

    def query(self, doubt: Doubt, text: str, result: DocumentResult) -> Query | None:
        data = "\n".join(text[a:b].strip() for a, b in doubt.spans)
        return Query(data, {"data": data})


TASK = DutiesTask()
