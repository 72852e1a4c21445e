"""Prose duties: a sentence with role verbs outside any note -> (unit, role) pairs."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field, ValidationInfo, model_validator

from summarizer.backends.structured import validation_context
from summarizer.backends.tasks import Query
from summarizer.extract.doubts import Doubt
from summarizer.models import DocumentResult, Role

# The words after a unit that state its role (gold format), longest first.
_ROLE_AFTER = (("负责实施", Role.implement), ("负责落实", Role.implement), ("组织实施", Role.implement),
               ("组织落实", Role.implement), ("牵头", Role.lead), ("会同", Role.lead), ("配合", Role.support),
               ("协同", Role.support), ("参与", Role.support), ("参加", Role.support), ("协助", Role.support),
               ("负责", Role.responsible), ("指导", Role.responsible))
_UNIT_END = re.compile(r"(部|局|委|办|厅|府|院|会|组|中心|公司|集团|街道|单位|部门|各地区|机构|企业)$")
_SENTENCES = re.compile(r"[^。；;！？\n]+")


def roles_stated(sentence: str, unit: str) -> list[Role]:
    """The roles the text gives a unit: role words in its clause after it, or 会同 before it."""
    pos = sentence.find(unit)
    before = sentence[max(0, pos - 2) : pos]
    after = re.split(r"[，,。；;：:]", sentence[pos + len(unit) :], maxsplit=1)[0]
    found = [Role.support] if before.endswith("会同") else []
    for word, role in _ROLE_AFTER:
        if word in after and role not in found:
            found.append(role)
            after = after.replace(word, "")
    return found


class DutyItem(BaseModel):
    u: str = Field(description="the unit, copied exactly")
    r: Role


class DutyAnswer(BaseModel):
    """d: the units the text names as responsible, each with its role."""

    d: list[DutyItem]

    @model_validator(mode="after")
    def _grounded(self, info: ValidationInfo) -> DutyAnswer:
        data = validation_context(info).get("data")
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
            else:
                # The rules verify the role: a role the words after the unit do not state is
                # replaced by the one they do (负责 -> responsible); no role word -> no duty.
                stated = roles_stated(sentence, item.u)
                if not stated:
                    errors.append(f"d[{n}]: no role word (牵头/配合/负责…) follows {item.u!r}; it names no duty")
                elif item.r not in stated:
                    item.r = stated[0]
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
