"""What instructor is handed (summarizer/backends/structured.py), against the real HTTP stub:
document text is sent verbatim (no Jinja rendering), validators still get their context,
and a prepared response model gives the very request instructor builds from the plain one."""

from __future__ import annotations

import json

import instructor
import openai
import pytest
from openai_stub import StubServer, ok
from pydantic import BaseModel, ValidationInfo, model_validator

from summarizer.backends import get_backend
from summarizer.backends.llm import MODES, Chunk, ChunkGoals, Prompt
from summarizer.backends.structured import prepared, validating, validation_context
from summarizer.backends.tasks import Query, all_tasks, year
from summarizer.backends.tasks.abstract import TASK as ABSTRACT
from summarizer.backends.tasks.runner import prompt_of, run_task

# Template syntax a document may hold: with instructor's context= these were rendered
# ({{ text }} pasted the whole text in, the if was evaluated, the comment vanished,
# an unclosed {{ failed the call, the whitespace-only line was emptied).
JINJA = "{{ text }} {% if 1 %}X{% endif %} {# note #}\n   \n到2025年，新建项目{{ 12个。"
TEXT = f"到2025年，全县工业总产值突破1000亿元。\n{JINJA}\n"
G1 = {"q": "工业总产值突破1000亿元", "i": "工业总产值", "v": 1000, "m": None, "u": "亿元", "c": "at_least", "y": 2025}


@pytest.fixture
def stub():
    with StubServer() as s:
        yield s


def make(stub: StubServer, **kw: object):
    settings = dict(base_url=stub.base_url, model="stub-model", timeout=2, scope="targets", max_attempts=1,
                    backoff_initial=0.01, reasks=1)
    settings.update(kw)
    return get_backend("openai", **settings)


def sent_user(stub: StubServer, n: int = 0) -> str:
    return stub.requests[n]["json"]["messages"][1]["content"]


def test_goal_chunk_with_template_syntax_is_sent_verbatim(stub):
    stub.script(ok({"g": [G1]}))
    b = make(stub)
    ans = b._ask(Chunk([(0, len(TEXT))], TEXT), TEXT)
    assert ans.ok and [g.value for g in ans.goals] == [1000]
    assert sent_user(stub) == Prompt.load("goals.v3").messages(TEXT)[1]["content"]
    assert JINJA in sent_user(stub)


def test_task_data_with_template_syntax_is_sent_verbatim_and_validated(stub):
    data = f"1. {JINJA}"
    stub.script(ok({"y": [2024]}), ok({"y": [2025]}))  # 2024年 is not in the data: re-asked
    got = run_task(make(stub), year.TASK, Query(data, {"n": 1, "data": data}))
    assert got.status == "ok" and got.answer.y == [2025]
    assert stub.calls == 2 and sent_user(stub) == prompt_of(year.TASK).messages(data)[1]["content"]
    assert "not written in the text" in json.dumps(stub.requests[1]["json"]["messages"], ensure_ascii=False)


def test_validators_see_the_context_only_inside_the_call():
    class Needs(BaseModel):
        x: str

        @model_validator(mode="after")
        def _in(self, info: ValidationInfo) -> Needs:
            if self.x not in validation_context(info).get("data", self.x):
                raise ValueError("not in data")
            return self

    assert Needs.model_validate({"x": "a"}).x == "a"  # no context: nothing to check against
    with validating({"data": "abc"}):
        assert Needs.model_validate({"x": "b"}).x == "b"
        with pytest.raises(ValueError, match="not in data"):
            Needs.model_validate({"x": "z"})
        # an explicit context wins over the one around the call
        assert Needs.model_validate({"x": "z"}, context={"data": "xyz"}).x == "z"
    assert Needs.model_validate({"x": "z"}).x == "z"


def test_a_validator_note_in_the_context_reaches_the_caller():
    # The abstract's validator counts its checks in the context dict: the caller's own dict must arrive.
    class Counts(BaseModel):
        a: str

        @model_validator(mode="after")
        def _count(self, info: ValidationInfo) -> Counts:
            ctx = validation_context(info)
            ctx["asks"] = ctx.get("asks", 0) + 1
            return self

    ctx = {"asks": 0}
    with validating(ctx):
        Counts.model_validate({"a": "x"})
        Counts.model_validate_json('{"a": "y"}')
    assert ctx == {"asks": 2}


@pytest.mark.parametrize("model", [ChunkGoals, ABSTRACT.Answer, *(t.Answer for t in all_tasks())],
                         ids=lambda m: m.__name__)
def test_prepared_schema_is_instructors_and_a_fresh_copy(model):
    p = prepared(model)
    assert p is prepared(model) and issubclass(p, model) and p.__name__ == model.__name__
    expected = instructor.openai_schema(model).model_json_schema()
    first = p.model_json_schema()
    assert first == expected
    first["properties"] = {}  # a caller editing its copy changes nothing for the next call
    assert p.model_json_schema() == expected
    assert p.model_json_schema(mode="serialization") == instructor.openai_schema(model).model_json_schema(
        mode="serialization")


@pytest.mark.parametrize("mode", sorted(MODES))
def test_request_body_is_what_instructor_builds_from_the_plain_model(stub, mode):
    text = "到2025年，全县工业总产值突破1000亿元。"
    messages = Prompt.load("goals.v3").messages(text)
    answer = ok({"g": [G1]})
    stub.script(answer, answer)
    plain = instructor.from_openai(openai.OpenAI(base_url=stub.base_url, api_key="no-key", max_retries=0),
                                   mode=MODES[mode])
    try:
        plain.chat.completions.create(model="stub-model", messages=messages, response_model=ChunkGoals,
                                      max_retries=0, temperature=0.0, max_tokens=768)
    except Exception:  # tools mode: the stub answers text, not a tool call; only the request matters
        pass
    b = make(stub, mode=mode)
    hooks, _ = b.usage_hooks()
    b.guarded_create(b._ensure_client(), messages, ChunkGoals, max_retries=0, context={"text": text, "spans": []},
                     hooks=hooks, max_tokens=768)
    assert stub.calls == 2
    assert stub.requests[1]["json"] == stub.requests[0]["json"]
