"""Abstracts: the fact checker, the template, and the model path against the scripted server."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from openai_stub import StubServer, error, ok

from summarizer.backends import get_backend
from summarizer.brief.abstract import (
    MAX_CHARS,
    abstract_input,
    add_summaries,
    check_abstract,
    find_docno,
    template_abstract,
)
from summarizer.brief.factcheck import Evidence, facts_in, unsupported
from summarizer.brief.measure_summary import MAX_CHARS as LINE_MAX
from summarizer.models import SummarySource
from summarizer.pipeline import prepare, run_batch
from summarizer.store import db as store

# Made-up text in the genre (not from any sample or corpus document).
TEXT = (
    "某市人民政府关于印发某市绿色工厂培育行动方案的通知\n"
    "某政发〔2024〕7号\n"
    "各区人民政府，市政府各部门：\n现将《某市绿色工厂培育行动方案》印发给你们，请认真贯彻执行。\n"
    "某市人民政府\n2024年5月6日\n"
    "一、工作目标\n到2026年，全市新培育绿色工厂30家以上，单位产值能耗下降12%。\n"
    "二、重点任务\n（一）开展诊断服务。由市经信局牵头，市财政局配合，每年组织诊断服务，覆盖重点行业企业，形成问题清单和改造方案。\n"
    "（二）落实奖励政策。对新认定的绿色工厂给予奖励（责任单位：市财政局）。\n"
)
GOOD = "《某市绿色工厂培育行动方案》由某市人民政府印发（某政发〔2024〕7号）。目标到2026年新培育绿色工厂30家以上，单位产值能耗下降12%。共2项措施，由市经信局牵头。"


@pytest.fixture(scope="module")
def extracted():
    _, doc = prepare("t1", TEXT)
    return doc.text, get_backend("rules").extract(doc)


@pytest.fixture(scope="module")
def ev(extracted):
    text, result = extracted
    return Evidence.of(text, result)


# ---- the fact checker -------------------------------------------------------------


def test_a_correct_abstract_passes(ev) -> None:
    kinds = {f.kind for f in facts_in(GOOD)}
    assert kinds == {"title", "docno", "year", "number", "percent", "unit"}
    assert unsupported(GOOD, ev) == []
    assert check_abstract(GOOD, ev) == []


def test_a_made_up_figure_is_caught(ev) -> None:
    bad = GOOD.replace("30家", "35家")
    assert [str(f) for f in unsupported(bad, ev)] == ["35 (number)"]
    assert [str(f) for f in unsupported(GOOD.replace("12%", "15%"), ev)] == ["15% (percent)"]


def test_a_wrong_year_is_caught(ev) -> None:
    assert [str(f) for f in unsupported(GOOD.replace("到2026年", "到2028年"), ev)] == ["2028 (year)"]


def test_a_unit_not_in_the_text_is_caught(ev) -> None:
    bad = GOOD.replace("由市经信局牵头", "由市商务局牵头")
    assert [str(f) for f in unsupported(bad, ev)] == ["市商务局 (unit)"]


def test_a_title_not_in_the_text_is_caught(ev) -> None:
    bad = GOOD.replace("《某市绿色工厂培育行动方案》", "《某县特色农业实施意见》")
    assert [str(f) for f in unsupported(bad, ev)] == ["某县特色农业实施意见 (title)"]


def test_a_wrong_docno_is_caught(ev) -> None:
    assert [f.kind for f in unsupported(GOOD.replace("某政发〔2024〕7号", "某政发〔2024〕9号"), ev)] == ["docno"]
    assert [f.kind for f in unsupported(GOOD.replace("某政发", "另政发"), ev)] == ["docno"]


def test_counts_of_extracted_items_are_supported_facts(extracted, ev) -> None:
    _, result = extracted
    assert len(result.measures) == 2
    assert unsupported("共2项措施。", ev) == []
    assert [f.kind for f in unsupported("共8项措施。", ev)] == ["number"]


def test_a_docno_code_is_not_read_as_a_unit() -> None:
    assert [f.kind for f in facts_in("国务院办公厅印发（国办发〔2020〕43号）。")] == ["docno", "unit"]


def test_a_decimal_is_not_read_as_a_year() -> None:
    ev = Evidence.of("森林覆盖率达到20.9%，2020年完成。")
    assert 20.9 in ev.percents and ev.years == {2020}


def test_the_text_is_scanned_only_for_facts_the_items_do_not_hold(extracted) -> None:
    text, result = extracted
    ev = Evidence.of(text, result)
    assert unsupported(f"共{len(result.measures)}项措施，由市经信局牵头。", ev) == []
    assert "_scanned" not in ev.__dict__ and "text" not in ev.__dict__  # the items sufficed
    first = next(int(n) for n in re.findall(r"\d+", text) if float(n) not in ev.item_numbers)
    assert unsupported(f"共{first}项。", ev) == []  # in the text only: read from it when needed
    assert "_scanned" in ev.__dict__
    assert [f.text for f in unsupported("共98765项。", ev)] == ["98765"]


def test_numbers_in_quotes_and_a_verbatim_title_are_items_a_model_indicator_is_not(extracted) -> None:
    text, result = extracted
    goal = result.goals[0]
    assert "30" in goal.quote
    odd = result.model_copy(update={"goals": [goal.model_copy(update={"indicator": "绿色工厂4242"})]})
    ev = Evidence.of(text, odd)
    assert 30.0 in ev.item_numbers and 4242.0 not in ev.item_numbers
    assert [f.text for f in unsupported("新培育绿色工厂4242家。", ev)] == ["4242"]  # a model's words are not evidence
    titled = Evidence.of(text + "\n《2077某市行动方案》", result.model_copy(
        update={"plan": result.plan.model_copy(update={"title": "2077某市行动方案"})}))
    assert 2077.0 in titled.item_numbers
    paraphrased = Evidence.of(text, result.model_copy(
        update={"plan": result.plan.model_copy(update={"title": "2088某市行动方案"})}))
    assert 2088.0 not in paraphrased.item_numbers  # a title not in the text lends no numbers


def test_formatting_does_not_count_as_a_new_fact(ev) -> None:
    assert unsupported("到２０２６年，能耗下降１２％。", ev) == []  # full-width digits and ％
    assert [f.kind for f in facts_in("形成新格局，打开新局面，由市经信局办理。")] == ["unit"]


def test_length_and_sentences_are_checked(ev) -> None:
    assert any("characters" in p for p in check_abstract("到2026年。" * 50, ev))
    assert any("sentences" in p for p in check_abstract("由市经信局牵头。" * 5, ev))
    assert check_abstract("由市经信局牵头。", ev) == []  # one sentence is accepted


# ---- the template ------------------------------------------------------------------


def test_template_abstract_states_only_extracted_facts(extracted, ev) -> None:
    text, result = extracted
    a = template_abstract(text, result)
    assert len(a) <= MAX_CHARS and check_abstract(a, ev) == []
    assert "某政发〔2024〕7号" in a and "2026" in a and "市经信局" in a and "共2项措施" in a
    assert find_docno(text) == "某政发〔2024〕7号"


def test_template_abstract_of_every_sample_passes_the_check() -> None:
    backend = get_backend("rules")
    for path in sorted(Path(__file__).resolve().parent.parent.glob("eval/docs/*.txt")):
        text, doc = prepare(path.stem, path.read_text("utf-8-sig"))
        result = add_summaries(backend.extract(doc), text)
        assert result.plan.summary_source == SummarySource.template and result.plan.summary_asks == 0
        ev = Evidence.of(text, result)
        assert check_abstract(result.plan.summary or "", ev) == [], path.name
        assert "_scanned" not in ev.__dict__, path.name  # the items held every fact: the text was not read
        for m in result.measures:
            if m.summary is not None:
                assert len(m.summary) <= LINE_MAX
                assert text[m.summary_start:m.summary_end] == m.summary


def test_measure_lines_are_first_sentences_with_offsets(extracted) -> None:
    text, result = extracted
    lines = [m.summary for m in add_summaries(result, text).measures]
    assert lines[0] == "由市经信局牵头，市财政局配合，每年组织诊断服务，覆盖重点行业企业"  # cut at the last clause within 40
    assert lines[1] == "对新认定的绿色工厂给予奖励"  # the responsibility note left out


# ---- the model path against the scripted server --------------------------------------


@pytest.fixture
def stub():
    with StubServer() as s:
        yield s


def llm(stub: StubServer, tmp_path: Path):  # type: ignore[no-untyped-def]
    return get_backend("openai", db_path=str(tmp_path / "r.db"), base_url=stub.base_url, model="stub-model",
                       timeout=2, max_attempts=2, backoff_initial=0.01, backoff_max=0.02, reasks=1,
                       abstract="model")


def test_model_abstract_reasked_with_the_unsupported_facts(stub, tmp_path, extracted) -> None:
    text, result = extracted
    stub.script(ok({"a": GOOD.replace("到2026年", "到2028年")}), ok({"a": GOOD}))
    got = add_summaries(result, text, llm(stub, tmp_path).ask_abstract)
    assert got.plan.summary == GOOD and got.plan.summary_source == SummarySource.model
    assert got.plan.summary_asks == 2 and stub.calls == 2
    reask = json.dumps(stub.requests[-1]["json"]["messages"], ensure_ascii=False)
    assert "2028 (year)" in reask
    data = stub.requests[0]["json"]["messages"][-1]["content"]
    assert abstract_input(text, result) in data and "覆盖重点行业企业" not in data  # items only, not the text


def test_template_after_invalid_answers(stub, tmp_path, extracted) -> None:
    text, result = extracted
    stub.script(ok({"a": GOOD.replace("30家", "35家")}), ok({"a": GOOD.replace("市经信局", "市商务局")}))
    got = add_summaries(result, text, llm(stub, tmp_path).ask_abstract)
    assert got.plan.summary_source == SummarySource.template and got.plan.summary_asks == 2
    assert got.plan.summary == template_abstract(text, result)
    assert any("template is used" in n and "市商务局 (unit)" in n for n in got.notes)
    assert not got.faults  # the document is not degraded: the template is a valid abstract


def test_a_cut_off_abstract_is_not_asked_again_with_more_tokens(stub, tmp_path, extracted) -> None:
    from openai_stub import length

    text, result = extracted
    stub.script(length('{"a":"《某市绿色工厂'), ok({"a": GOOD}))
    got = add_summaries(result, text, llm(stub, tmp_path).ask_abstract)
    assert stub.calls == 1 and stub.requests[0]["json"]["max_tokens"] == 256
    assert got.plan.summary_source == SummarySource.template


def test_template_when_the_server_fails(stub, tmp_path, extracted) -> None:
    text, result = extracted
    stub.script(error(500), error(500))
    got = add_summaries(result, text, llm(stub, tmp_path).ask_abstract)
    assert got.plan.summary_source == SummarySource.template and got.plan.summary_asks == 0


def test_pipeline_stores_the_abstract_and_its_source(stub, tmp_path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text(TEXT, "utf-8")
    stub.script(ok({"a": GOOD}))
    b = get_backend("openai", db_path=str(tmp_path / "r.db"), base_url=stub.base_url, model="stub-model",
                    scope="off", abstract="model")
    run_batch([tmp_path / "docs"], tmp_path / "r.db", b)
    assert stub.calls == 0  # scope off: no model at all, the template
    b = get_backend("openai", db_path=str(tmp_path / "r.db"), base_url=stub.base_url, model="stub-model",
                    scope="residual", token_budget=0.0, max_doubts=0, abstract="model")
    assert b.identity.prompt_version.endswith("+abstract.v1")
    run_batch([tmp_path / "docs"], tmp_path / "r.db", b)
    db = store.open_db(tmp_path / "r.db")
    rows = list(db.query("select p.summary, p.summary_source, r.backend from plans p join results r "
                         "on r.id = p.result_id order by r.rowid"))
    assert [r["summary_source"] for r in rows] == ["template", "model"]
    assert rows[1]["summary"] == GOOD
    rules = get_backend("rules")
    run_batch([tmp_path / "docs"], tmp_path / "r.db", rules)
    last = next(iter(db.query("select summary_source from plans order by rowid desc limit 1")))
    assert last["summary_source"] == "template"


def test_old_database_gains_the_new_columns(tmp_path) -> None:
    import sqlite3

    path = tmp_path / "old.db"
    db = store.open_db(path)
    for col in ("summary_source", "summary_asks"):
        db.execute(f"alter table plans drop column {col}")
    for col in ("summary_start", "summary_end"):
        db.execute(f"alter table measures drop column {col}")
    db.execute("delete from _migrations where name = 'm004_abstracts'")
    db.conn.commit()
    db.close()
    store.open_db(path).close()
    con = sqlite3.connect(path)
    assert {"summary_source", "summary_asks"} <= {r[1] for r in con.execute("pragma table_info(plans)")}
    assert {"summary_start", "summary_end"} <= {r[1] for r in con.execute("pragma table_info(measures)")}


def test_an_unknown_abstract_writer_is_a_config_error() -> None:
    from summarizer.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown abstract writer 'bogus'"):
        get_backend("rules", abstract="bogus")


def test_a_missing_plan_field_is_left_out_of_the_model_input(extracted) -> None:
    text, result = extracted
    bare = result.model_copy(update={"plan": result.plan.model_copy(update={"title": None, "issuers": []})})
    data = abstract_input(text, bare)
    assert "标题" not in data and "发文机关" not in data and "未识别" not in data
