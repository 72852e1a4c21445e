"""Plan header: the title, issuers, date of issue and years, from the head and tail."""

from __future__ import annotations

import datetime as dt
import re

from pydantic import BaseModel, PrivateAttr, ValidationInfo, model_validator

from summarizer.backends.structured import validation_context
from summarizer.backends.tasks import Query
from summarizer.extract.doubts import Doubt
from summarizer.extract.numbers import cn_to_number
from summarizer.models import DocumentResult

_CN_DIGIT = {"〇": "0", "○": "0", "零": "0", "一": "1", "二": "2", "三": "3", "四": "4", "五": "5",
             "六": "6", "七": "7", "八": "8", "九": "9"}


def parse_date(s: str) -> dt.date | None:
    """`2020年11月1日`, `2020-11-01` or `二○○五年十二月三日` as a date; None if not one."""
    s = s.strip()
    m = re.fullmatch(r"(\d{4})\s*[年\-./]\s*(\d{1,2})\s*[月\-./]\s*(\d{1,2})\s*日?", s)
    try:
        if m:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        cn = "[一二三四五六七八九十]{1,3}"
        m = re.fullmatch(rf"([〇○零一二三四五六七八九]{{4}})年({cn})月({cn})日", s)
        if m:
            month, day = cn_to_number(m.group(2)), cn_to_number(m.group(3))
            if month and day:
                return dt.date(int("".join(_CN_DIGIT[c] for c in m.group(1))), month, day)
    except ValueError:
        return None
    return None


_GENRE = re.compile(r"(通知|意见|方案|规划|纲要|办法|决定|报告|计划|要点|措施|细则|条例|预案|规定)"
                    r"(?:[(（][^)）]{0,16}[)）])?$")


def _is_title(title: str, data: str) -> bool:
    """A title starts a line of the text and ends in a genre word (…的通知, …实施方案（2023—2025年）)."""
    return bool(_GENRE.search(title)) and len(title) <= 100 and any(
        line.strip().strip("《").startswith(title) for line in data.split("\n"))


class PlanAnswer(BaseModel):
    """t: title as written; i: issuing bodies; d: date of issue as written; s/e: years covered."""

    t: str | None
    i: list[str]
    d: str | None
    s: int | None
    e: int | None
    _date: dt.date | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _in_text(self, info: ValidationInfo) -> PlanAnswer:
        ctx = validation_context(info)
        data = ctx.get("data")
        if data is None:
            return self
        lenient = bool(ctx.get("lenient"))  # the final answer: drop bad fields, keep good
        errors = []
        if self.t is not None:
            self.t = self.t.strip().strip("《》")
            if not self.t or "\n" in self.t or not _is_title(self.t, data):
                errors.append(f"t {self.t!r} is not a line of the text; copy the title exactly or use null")
                self.t = None
        self.i = [u.strip() for u in self.i if u.strip()]
        bad = [u for u in self.i if u not in data or len(u) > 30]
        errors += [f"issuer {u!r} is not written in the text; copy each body's name exactly" for u in bad]
        if bad:
            self.i = []
        if self.d is not None:
            self._date = parse_date(self.d)
            if self._date is None or self.d.strip() not in data:
                errors.append(f"d {self.d!r} is not a date written in the text (like 2021年3月5日) or null")
                self.d, self._date = None, None
        for name in ("s", "e"):
            y = getattr(self, name)
            if y is not None and (not 1949 <= y <= 2100 or str(y) not in data):
                errors.append(f"{name} {y} is not a year written in the text")
                setattr(self, name, None)
        if errors and not lenient:
            raise ValueError("; ".join(errors))
        return self

    @property
    def date(self) -> dt.date | None:
        return self._date


class PlanTask:
    name = "plan"
    prompt = "plan.v1"
    max_tokens = 200
    salvage = True  # keep the valid items of an answer that stays invalid
    Answer = PlanAnswer

    def query(self, doubt: Doubt, text: str, result: DocumentResult) -> Query | None:
        data = "\n……\n".join(text[a:b] for a, b in doubt.spans)
        return Query(data, {"data": data})


TASK = PlanTask()
