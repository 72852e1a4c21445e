"""Each model task against the scripted server: a good answer, an invalid answer
re-asked with the error and then fixed, and an answer still invalid (dropped)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from openai_stub import StubServer, ok

from summarizer.backends import get_backend
from summarizer.backends.assist import rules_result
from summarizer.backends.tasks import block, duties, goals, keep, plan, year
from summarizer.backends.tasks.runner import run_task
from summarizer.extract.doubts import Doubt, DoubtKind
from summarizer.models import Role
from summarizer.pipeline import prepare

# Made-up text in the genre (not from any sample or corpus document).
TEXT = (
    "某市人民政府关于印发某市绿色工厂培育行动方案的通知\n"
    "各区人民政府，市政府各部门：\n现将《某市绿色工厂培育行动方案》印发给你们，请认真贯彻执行。\n"
    "某市人民政府\n2024年5月6日\n"
    "一、工作目标\n到2026年，全市新培育绿色工厂30家以上。2023年全市建成绿色工厂12家。\n"
    "二、重点任务\n（一）开展诊断服务。由市经信局牵头，市财政局、市生态环境局配合，每年组织诊断服务。\n"
    "（二）落实奖励政策。对新认定的绿色工厂给予50万元奖励。\n"
)


@pytest.fixture
def stub():
    with StubServer() as s:
        yield s


@pytest.fixture
def backend(stub, tmp_path):
    return get_backend("openai", db_path=str(tmp_path / "r.db"), base_url=stub.base_url, model="stub-model",
                       timeout=2, max_attempts=2, backoff_initial=0.01, backoff_max=0.02, reasks=1)


def doc_and_rules():
    _, doc = prepare("t1", TEXT)
    return doc, rules_result(doc)


def reasked_with(stub: StubServer, words: str) -> bool:
    return words in json.dumps(stub.requests[-1]["json"]["messages"], ensure_ascii=False)


# ---- plan ---------------------------------------------------------------------------

PLAN_GOOD = {"t": "某市人民政府关于印发某市绿色工厂培育行动方案的通知", "i": ["某市人民政府"], "d": "2024年5月6日",
             "s": None, "e": 2026}


def plan_query():
    doc, res = doc_and_rules()
    d = Doubt(DoubtKind.plan_field, 0, len(doc.text), "t", 1.0, fields=("issuers",),
              spans=((0, 120), (120, len(doc.text))))
    return plan.TASK.query(d, doc.text, res)


def test_plan_good(stub, backend):
    stub.script(ok(PLAN_GOOD))
    r = run_task(backend, plan.TASK, plan_query())
    assert r.status == "ok" and r.answer.i == ["某市人民政府"] and r.answer.date == dt.date(2024, 5, 6)


def test_plan_invalid_then_fixed(stub, backend):
    stub.script(ok({**PLAN_GOOD, "i": ["某市政府办公厅"], "d": "2024年5月9日"}), ok(PLAN_GOOD))
    r = run_task(backend, plan.TASK, plan_query())
    assert r.status == "ok" and stub.calls == 2 and reasked_with(stub, "not written in the text")


def test_plan_still_invalid_drops_the_bad_fields(stub, backend):
    bad = {**PLAN_GOOD, "t": "某市绿色工厂三年行动计划"}
    stub.script(ok(bad), ok(bad))
    r = run_task(backend, plan.TASK, plan_query())
    assert r.status == "partial" and r.dropped == 1
    assert r.answer.t is None and r.answer.i == ["某市人民政府"]


# ---- keep -----------------------------------------------------------------------------

def keep_query():
    doc, res = doc_and_rules()
    idx = tuple(range(len(res.goals)))
    q = keep.TASK.query(Doubt(DoubtKind.doubtful_goal, 0, 1, "t", 1.0, goals=idx, heading="一、工作目标"),
                        doc.text, res)
    return q, res


def test_keep_good(stub, backend):
    q, res = keep_query()
    assert [g.value for g in res.goals] == [30, 12]
    stub.script(ok({"k": ["target", "past"]}))
    r = run_task(backend, keep.TASK, q)
    assert r.answer.k == [keep.Verdict.target, keep.Verdict.past]
    assert "【一、工作目标】" in stub.requests[0]["json"]["messages"][-1]["content"]


def test_keep_wrong_count_then_fixed(stub, backend):
    q, _ = keep_query()
    stub.script(ok({"k": ["target"]}), ok({"k": ["target", "past"]}))
    r = run_task(backend, keep.TASK, q)
    assert r.status == "ok" and stub.calls == 2 and reasked_with(stub, "give one each")


def test_keep_still_invalid(stub, backend):
    q, _ = keep_query()
    stub.script(ok({"k": ["target", "maybe"]}), ok({"k": ["target", "maybe"]}))
    r = run_task(backend, keep.TASK, q)
    assert r.answer is None and r.dropped == 1


# ---- year -----------------------------------------------------------------------------

def year_query():
    doc, res = doc_and_rules()
    return year.TASK.query(Doubt(DoubtKind.goal_year, 0, 1, "t", 1.0, goals=(1,), heading="一、工作目标"),
                           doc.text, res)


def test_year_good(stub, backend):
    stub.script(ok({"y": [2023]}))
    assert run_task(backend, year.TASK, year_query()).answer.y == [2023]


def test_year_not_in_text_then_fixed(stub, backend):
    stub.script(ok({"y": [2025]}), ok({"y": [None]}))
    r = run_task(backend, year.TASK, year_query())
    assert r.answer.y == [None] and reasked_with(stub, "not written in the text")


def test_year_still_invalid(stub, backend):
    stub.script(ok({"y": [2025, 2026]}), ok({"y": [1999]}))
    r = run_task(backend, year.TASK, year_query())
    assert r.answer is None and r.dropped == 1


# ---- duties ---------------------------------------------------------------------------

def duty_query():
    doc, res = doc_and_rules()
    s = doc.text.index("由市经信局")
    return duties.TASK.query(Doubt(DoubtKind.stray_duty, s, s + 40, "t", 1.0, measure=0, spans=((s, s + 40),)),
                             doc.text, res)


LEAD = {"u": "市经信局", "r": "lead"}
SUPPORT = {"u": "市财政局", "r": "support"}


def test_duties_good(stub, backend):
    stub.script(ok({"d": [LEAD, SUPPORT]}))
    r = run_task(backend, duties.TASK, duty_query())
    assert [(x.u, x.r) for x in r.answer.d] == [("市经信局", Role.lead), ("市财政局", Role.support)]


def test_duties_invented_unit_then_fixed(stub, backend):
    stub.script(ok({"d": [LEAD, {"u": "市发改委", "r": "support"}]}), ok({"d": [LEAD, SUPPORT]}))
    r = run_task(backend, duties.TASK, duty_query())
    assert len(r.answer.d) == 2 and reasked_with(stub, "not written in the text")


def test_duties_role_is_verified_by_the_words_after_the_unit(stub, backend):
    stub.script(ok({"d": [{"u": "市经信局", "r": "responsible"}, {"u": "市财政局", "r": "implement"}]}))
    r = run_task(backend, duties.TASK, duty_query())
    assert [(x.u, x.r) for x in r.answer.d] == [("市经信局", Role.lead), ("市财政局", Role.support)]


def test_duties_still_invalid_keeps_the_valid_pairs(stub, backend):
    bad = {"d": [LEAD, {"u": "各区人民政府", "r": "support"}]}  # in the text, but given no role there
    stub.script(ok(bad), ok(bad))
    r = run_task(backend, duties.TASK, duty_query())
    assert r.status == "partial" and [x.u for x in r.answer.d] == ["市经信局"] and r.dropped == 1


# ---- goals ----------------------------------------------------------------------------

def goals_query():
    doc, res = doc_and_rules()
    s = doc.text.index("到2026年")
    e = doc.text.index("。", s) + 1
    return goals.TASK.query(Doubt(DoubtKind.target_sentence, s, e, "t", 1.0, spans=((s, e),)), doc.text, res)


G = {"q": "新培育绿色工厂30家以上", "i": "绿色工厂", "v": 30, "m": None, "u": "家", "c": "at_least", "y": None}


def test_goals_good(stub, backend):
    stub.script(ok({"g": [G]}))
    r = run_task(backend, goals.TASK, goals_query())
    assert [g.value for g in r.answer._grounded] == [30]


def test_goals_value_not_in_quote_then_fixed(stub, backend):
    stub.script(ok({"g": [{**G, "v": 300}]}), ok({"g": [G]}))
    r = run_task(backend, goals.TASK, goals_query())
    assert r.answer._grounded[0].value == 30 and reasked_with(stub, "does not appear in quote")


def test_goals_still_invalid(stub, backend):
    bad = {"g": [{**G, "q": "新培育绿色工厂40家"}]}
    stub.script(ok(bad), ok(bad))
    r = run_task(backend, goals.TASK, goals_query())
    assert r.answer is None and r.dropped == 1


# ---- block ----------------------------------------------------------------------------

BLOCK = "序号\n工作任务\n推进单位\n1\n建设社区口袋公园10个\n区绿化局、各街道\n2\n改造老旧小区20个\n区房管局\n"


def block_query():
    _, doc = prepare("b1", BLOCK)
    res = rules_result(doc)
    return block.TASK.query(Doubt(DoubtKind.table_block, 0, len(doc.text), "t", 1.0,
                                  spans=((0, len(doc.text)),)), doc.text, res)


M1 = {"n": "1", "t": "建设社区口袋公园10个", "u": ["区绿化局", "各街道"]}
M2 = {"n": "2", "t": "改造老旧小区20个", "u": ["区房管局"]}


def test_block_good(stub, backend):
    stub.script(ok({"m": [M1, M2]}))
    r = run_task(backend, block.TASK, block_query())
    assert [m.t for m in r.answer.m] == ["建设社区口袋公园10个", "改造老旧小区20个"]


def test_block_paraphrased_title_then_fixed(stub, backend):
    stub.script(ok({"m": [{**M1, "t": "建设口袋公园"}, M2]}), ok({"m": [M1, M2]}))
    r = run_task(backend, block.TASK, block_query())
    assert len(r.answer.m) == 2 and reasked_with(stub, "copy it exactly")


def test_block_still_invalid_keeps_valid_rows(stub, backend):
    bad = {"m": [M1, {**M2, "u": ["区建设管理委"]}]}
    stub.script(ok(bad), ok(bad))
    r = run_task(backend, block.TASK, block_query())
    assert [m.n for m in r.answer.m] == ["1"] and r.dropped == 1


def test_answers_are_cached(stub, backend, tmp_path):
    stub.script(ok({"y": [2023]}))
    run_task(backend, year.TASK, year_query())
    again = get_backend("openai", db_path=str(tmp_path / "r.db"), base_url=stub.base_url, model="stub-model")
    r = run_task(again, year.TASK, year_query())
    assert r.status == "cached" and r.answer.y == [2023] and stub.calls == 1
