"""The results database: what makes a document 'unchanged', round trips, exports.

Written for issue 14: skipping unchanged documents while ignoring the prompt
version, and a `jsonl` export that wrote nothing, both passed the suite. Documents
here are written for the test.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from summarizer.backends import CallStats, Identity, PreparedDoc, get_backend, register
from summarizer.models import DocumentResult, Plan
from summarizer.pipeline import run_batch
from summarizer.store import db as store
from summarizer.store.export import export_results

DOC = "某区数字化行动方案\n到2026年，新增数字化车间20个。\n1.推进企业上云。（区经信局牵头，区财政局配合）\n2.建设算力中心。\n"


@register("guard-versioned")
class VersionedRules:
    """The rules under a chosen model name and prompt version: what a model backend's identity looks like."""

    def __init__(self, model: str = "m", prompt_version: str = "p1", **_: object) -> None:
        self.identity = Identity("guard-versioned", model, prompt_version)
        self.stats = CallStats()
        self._rules = get_backend("rules")

    def extract(self, doc: PreparedDoc) -> DocumentResult:
        return self._rules.extract(doc)


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    d = tmp_path / "docs"
    d.mkdir()
    (d / "a.txt").write_text(DOC, "utf-8")
    (d / "b.txt").write_text(DOC.replace("20个", "30个"), "utf-8")
    return d


def statuses(docs: Path, db: Path, **identity: str) -> list[str]:
    return [o.status for o in run_batch([docs], db, get_backend("guard-versioned", **identity)).outcomes]


def test_unchanged_means_same_text_backend_model_and_prompt_version(docs: Path, tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    assert statuses(docs, db) == ["ok", "ok"]
    assert statuses(docs, db) == ["skipped", "skipped"]
    assert statuses(docs, db, prompt_version="p2") == ["ok", "ok"]
    assert statuses(docs, db, model="m2") == ["ok", "ok"]
    assert [o.status for o in run_batch([docs], db, get_backend("rules")).outcomes] == ["ok", "ok"]
    (docs / "a.txt").write_text(DOC + "3.完善保障。\n", "utf-8")
    assert statuses(docs, db) == ["ok", "skipped"]
    assert [o.status for o in run_batch([docs], db, get_backend("guard-versioned"), force=True).outcomes] == [
        "ok", "ok"]


def test_find_result_matches_every_part_of_the_key(docs: Path, tmp_path: Path) -> None:
    db_path = tmp_path / "r.db"
    run_batch([docs / "a.txt"], db_path, get_backend("guard-versioned"))
    db = store.open_db(db_path)
    sha = db["documents"].get("a")["sha256"]
    rid = store.find_result(db, "a", sha, "guard-versioned", "m", "p1")
    assert rid is not None
    for args in (("b", sha, "guard-versioned", "m", "p1"), ("a", "0" * 64, "guard-versioned", "m", "p1"),
                 ("a", sha, "rules", "m", "p1"), ("a", sha, "guard-versioned", "", "p1"),
                 ("a", sha, "guard-versioned", "m", "p2")):
        assert store.find_result(db, *args) is None


def test_a_stored_result_loads_back_equal(docs: Path, tmp_path: Path) -> None:
    db_path = tmp_path / "r.db"
    summary = run_batch([docs], db_path, get_backend("rules"))
    db = store.open_db(db_path)
    latest = store.latest_results(db)
    assert sorted(latest) == ["a", "b"]
    for outcome in summary.outcomes:
        loaded = store.load_result(db, latest[outcome.doc_id])
        assert loaded == outcome.result
        assert [(r.unit, r.role.value) for r in loaded.measures[0].responsibilities] == [
            ("区经信局", "lead"), ("区财政局", "support")]


def test_latest_results_per_run_and_overall(docs: Path, tmp_path: Path) -> None:
    db_path = tmp_path / "r.db"
    first = run_batch([docs], db_path, get_backend("rules")).run_id
    second = run_batch([docs / "a.txt"], db_path, get_backend("rules"), force=True).run_id
    db = store.open_db(db_path)
    in_first, in_second, newest = (store.latest_results(db, first), store.latest_results(db, second),
                                   store.latest_results(db))
    assert sorted(in_first) == ["a", "b"] and sorted(in_second) == ["a"]
    assert in_first["a"] != in_second["a"] and newest == {"a": in_second["a"], "b": in_first["b"]}
    runs = {r["id"]: r for r in store.iter_runs(db)}
    assert set(runs) == {first, second} and (runs[first]["succeeded"], runs[second]["succeeded"]) == (2, 1)


def test_saving_a_result_again_in_a_run_replaces_it(docs: Path, tmp_path: Path) -> None:
    db_path = tmp_path / "r.db"
    run_id = run_batch([docs / "a.txt"], db_path, get_backend("rules")).run_id
    db = store.open_db(db_path)
    rid = store.latest_results(db)["a"]
    smaller = store.load_result(db, rid).model_copy(update={"goals": [], "measures": []})
    with store.write_lock(db):
        assert store.save_result(db, smaller, run_id, "x", "rules", "", "") == rid
    assert store.load_result(db, rid).goals == [] and db["measures"].count_where("result_id = ?", [rid]) == 0


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_json_exports_hold_every_document(docs: Path, tmp_path: Path, fmt: str) -> None:
    db_path = tmp_path / "r.db"
    run_batch([docs], db_path, get_backend("rules"))
    out = tmp_path / f"export.{fmt}"
    assert export_results(db_path, fmt, out) == [out]
    text = out.read_text("utf-8")
    rows = json.loads(text) if fmt == "json" else [json.loads(line) for line in text.splitlines()]
    assert [r["doc_id"] for r in rows] == ["a", "b"]
    assert [g["value"] for r in rows for g in r["goals"]] == [20, 30]


def test_csv_export_writes_one_table_per_kind(docs: Path, tmp_path: Path) -> None:
    db_path = tmp_path / "r.db"
    run_batch([docs], db_path, get_backend("rules"))
    written = export_results(db_path, "csv", tmp_path / "csv")
    assert sorted(p.name for p in written) == ["goals.csv", "measures.csv", "plans.csv", "responsibilities.csv"]
    with (tmp_path / "csv" / "responsibilities.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert [(r["doc_id"], r["unit"], r["role"]) for r in rows] == [
        ("a", "区经信局", "lead"), ("a", "区财政局", "support"), ("b", "区经信局", "lead"), ("b", "区财政局", "support")]


def test_rows_hold_what_the_result_and_the_document_say(docs: Path, tmp_path: Path) -> None:
    db_path = tmp_path / "r.db"
    run_id = run_batch([docs / "a.txt"], db_path, get_backend("guard-versioned", model="m", prompt_version="p1")).run_id
    db = store.open_db(db_path)
    doc = db["documents"].get("a")
    assert (doc["path"], doc["encoding"], doc["raw_text"], doc["raw_chars"]) == (
        str(docs / "a.txt"), "utf-8", DOC, len(DOC))
    assert doc["clean_text"] == DOC.rstrip("\n") and doc["clean_chars"] == len(DOC) - 1
    assert len(doc["sha256"]) == 64 and doc["added_at"].endswith("+00:00")
    (res,) = db["results"].rows
    assert {k: res[k] for k in ("doc_id", "run_id", "backend", "model", "prompt_version", "sha256", "dropped")} == {
        "doc_id": "a", "run_id": run_id, "backend": "guard-versioned", "model": "m", "prompt_version": "p1",
        "sha256": doc["sha256"], "dropped": 0}
    assert json.loads(res["notes"]) == []
    plan = next(db["plans"].rows)
    assert (plan["title"], json.loads(plan["issuers"]), plan["period_end"]) == ("某区数字化行动方案", [], 2026)
    goal = next(db["goals"].rows)
    assert (goal["seq"], goal["value"], goal["unit"], goal["comparator"], goal["year"], goal["quote"]) == (
        0, 20.0, "个", "increase_by", 2026, "新增数字化车间20个")
    measures = list(db["measures"].rows_where(order_by="seq"))
    assert [(m["seq"], m["number"], m["title"]) for m in measures] == [(0, "1", "推进企业上云"), (1, "2", "建设算力中心")]
    duties = list(db["responsibilities"].rows_where(order_by="seq"))
    assert [(d["measure_id"], d["seq"], d["unit"], d["role"]) for d in duties] == [
        (measures[0]["id"], 0, "区经信局", "lead"), (measures[0]["id"], 1, "区财政局", "support")]
    assert len({m["id"] for m in measures} | {d["id"] for d in duties} | {goal["id"], res["id"]}) == 6
    # Rows sit under their parent's id (so one result's rows share index pages), in order.
    assert goal["id"].startswith(res["id"]) and all(m["id"].startswith(res["id"]) for m in measures)
    assert all(d["id"].startswith(d["measure_id"]) for d in duties)
    assert [m["id"] for m in measures] == sorted(m["id"] for m in measures)
    run = db["runs"].get(run_id)
    assert (run["status"], run["documents"], run["succeeded"], run["goals"], run["measures"],
            run["responsibilities"]) == ("ok", 1, 1, 1, 2, 2)


def test_dropped_counts_and_notes_round_trip(tmp_path: Path) -> None:
    db = store.open_db(tmp_path / "r.db")
    run_batch([], tmp_path / "r.db", get_backend("rules"))
    run_id = next(db["runs"].rows)["id"]
    store.save_document(db, "d", "d.txt", "0" * 64, "gb18030", "原文", "原文")
    result = DocumentResult(doc_id="d", dropped=3, notes=["model: chunk at 0 unusable"])
    with store.write_lock(db):
        rid = store.save_result(db, result, run_id, "0" * 64, "openai", "m", "p")
    back = store.load_result(db, rid)
    assert (back.dropped, back.notes, back.plan.issuers, back.goals, back.measures) == (
        3, ["model: chunk at 0 unusable"], [], [], [])
    assert db["documents"].get("d")["encoding"] == "gb18030"


def test_the_schema_follows_the_models(tmp_path: Path) -> None:
    db = store.open_db(tmp_path / "r.db")
    cols = {t: {c.name: c.type for c in db[t].columns} for t in ("goals", "plans", "responsibilities")}
    assert cols["goals"]["value"] == "REAL" and cols["goals"]["year"] == "INTEGER"
    assert cols["goals"]["start"] == "INTEGER" and cols["goals"]["comparator"] == "TEXT"
    assert cols["goals"]["value_max"] == "REAL" and cols["goals"]["unit"] == "TEXT"
    assert cols["plans"]["issuers"] == "TEXT" and cols["plans"]["period_end"] == "INTEGER"
    assert cols["plans"]["issued_date"] == "TEXT" and cols["responsibilities"]["role"] == "TEXT"
    assert [r["name"] for r in db["_migrations"].rows] == [
        "m001_initial", "m002_degraded_results_and_run_owners", "m003_run_error", "m004_abstracts",
        "m005_responsibilities_by_result", "m006_search_index_in_bulk", "m007_unit_mentions_with_results",
        "m008_search_index_merges_less"]
    assert db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    again = store.open_db(tmp_path / "r.db")  # opening again applies nothing twice
    assert again["_migrations"].count == 8


def test_full_text_search_finds_goals_and_measures_by_a_trigram(docs: Path, tmp_path: Path) -> None:
    db_path = tmp_path / "r.db"
    run_batch([docs], db_path, get_backend("rules"))
    db = store.open_db(db_path)
    assert [r["quote"] for r in db["goals"].search("数字化车间")] == ["新增数字化车间20个", "新增数字化车间30个"]
    assert {r["title"] for r in db["measures"].search("算力中心")} == {"建设算力中心"}


def test_a_run_of_only_failures_lists_no_results(tmp_path: Path) -> None:
    bad = tmp_path / "docs"
    bad.mkdir()
    (bad / "empty.txt").write_text("", "utf-8")
    run_id = run_batch([bad], tmp_path / "r.db", get_backend("rules")).run_id
    db = store.open_db(tmp_path / "r.db")
    assert store.latest_results(db, run_id) == {} and store.latest_results(db) == {}
    assert db["runs"].get(run_id)["status"] == "failed"


def _full_result(doc_id: str = "d") -> DocumentResult:
    """A result with every kind of row and several of each, in an order that is not alphabetical."""
    text = "目标一到2025年达到90%。目标二新增30家。目标三突破5亿元。措施丙推进。措施甲保障。"
    goals = [
        {"indicator": "覆盖率", "value": 90, "unit": "%", "comparator": "at_least", "year": 2025, "quote": "到2025年达到90%",
         "start": text.index("到2025年达到90%")},
        {"indicator": "企业", "value": 30, "unit": "家", "comparator": "increase_by", "quote": "新增30家",
         "start": text.index("新增30家")},
        {"indicator": "产值", "value": 5, "unit": "亿元", "comparator": "at_least", "quote": "突破5亿元",
         "start": text.index("突破5亿元")},
    ]
    measures = [
        {"number": "2", "title": "措施丙推进", "quote": "措施丙推进", "start": text.index("措施丙推进"),
         "responsibilities": [{"unit": "市财政局", "role": "support"}, {"unit": "市发展改革委", "role": "lead"}]},
        {"number": "1", "title": "措施甲保障", "quote": "措施甲保障", "start": text.index("措施甲保障"),
         "responsibilities": [{"unit": "市政府办公厅", "role": "lead"}, {"unit": "市审计局", "role": "support"},
                              {"unit": "区人民政府", "role": "support"}]},
    ]
    for item in goals + measures:
        item["end"] = item["start"] + len(item["quote"])
    return DocumentResult.model_validate({
        "doc_id": doc_id, "dropped": 2, "notes": ["第3条无法定位原文", "模型答复被截断"],
        "faults": ["model: chunk 2 unanswered"],
        "plan": {"title": "某市行动方案", "issuers": ["市政府办公厅", "市发展改革委"], "issued_date": "2024-03-01",
                 "period_start": 2024, "period_end": 2026},
        "goals": goals, "measures": measures,
    })


def _saved(tmp_path: Path, result: DocumentResult) -> tuple[object, str]:
    db = store.open_db(tmp_path / "r.db")
    run_id = run_batch([], tmp_path / "r.db", get_backend("rules")).run_id
    store.save_document(db, result.doc_id, f"{result.doc_id}.txt", "0" * 64, "utf-8", "原文", "原文")
    with store.write_lock(db):
        rid = store.save_result(db, result, run_id, "0" * 64, "openai", "m", "p")
    return db, rid


def test_a_full_result_loads_back_equal_in_its_own_order(tmp_path: Path) -> None:
    result = _full_result()
    db, rid = _saved(tmp_path, result)
    back = store.load_result(db, rid)
    assert back == result
    assert back.plan.issuers == ["市政府办公厅", "市发展改革委"] and back.faults == ["model: chunk 2 unanswered"]
    assert [r.unit for m in back.measures for r in m.responsibilities] == [
        "市财政局", "市发展改革委", "市政府办公厅", "市审计局", "区人民政府"]


def test_loading_follows_the_stored_sequence_not_the_row_order(tmp_path: Path) -> None:
    """Rows copied back in reverse (as a VACUUM INTO, an export/import or a repair may leave them)
    still load in the document's order: the order is the `seq` column, not storage."""
    result = _full_result()
    db, rid = _saved(tmp_path, result)
    with store.write_lock(db):
        db.conn.execute("PRAGMA defer_foreign_keys = ON")  # checked at commit, when every row is back
        for table in ("responsibilities", "goals", "measures"):
            rows = list(db[table].rows_where("result_id = ?", [rid]))
            db.conn.execute(f"delete from [{table}] where result_id = ?", [rid])
            db[table].insert_all(reversed(rows))
    assert [r["seq"] for r in db["goals"].rows_where("result_id = ?", [rid])] == [2, 1, 0]
    assert store.load_result(db, rid) == result


def test_json_columns_keep_chinese_as_written_so_sql_can_search_them(tmp_path: Path) -> None:
    db, rid = _saved(tmp_path, _full_result())
    assert db.execute("select count(*) from results where notes like '%无法定位%'").fetchone()[0] == 1
    assert db.execute("select count(*) from plans where issuers like '%发展改革委%'").fetchone()[0] == 1
    assert "\\u" not in db["results"].get(rid)["notes"] + next(db["plans"].rows)["issuers"]


def test_missing_or_empty_parts_of_a_stored_result_load_as_empty(tmp_path: Path) -> None:
    """A result written by an older version or by hand: no plan row, NULL JSON columns."""
    db, rid = _saved(tmp_path, _full_result())
    with store.write_lock(db):
        db.conn.execute("update plans set issuers = null where result_id = ?", [rid])
        db.conn.execute("update results set notes = null, dropped = null, faults = null where id = ?", [rid])
    back = store.load_result(db, rid)
    assert (back.plan.issuers, back.plan.title, back.notes, back.dropped, back.faults) == (
        [], "某市行动方案", [], 0, [])
    with store.write_lock(db):
        db.conn.execute("delete from plans where result_id = ?", [rid])
    back = store.load_result(db, rid)
    assert back.plan == Plan() and len(back.goals) == 3


def test_saving_again_in_a_run_updates_the_result_row(tmp_path: Path) -> None:
    result = _full_result()
    db, rid = _saved(tmp_path, result)
    run_id = db["results"].get(rid)["run_id"]
    with store.write_lock(db):
        assert store.save_result(db, result.model_copy(update={"dropped": 0, "notes": ["重试成功"]}),
                                 run_id, "1" * 64, "openai", "m2", "p2") == rid
    row = db["results"].get(rid)
    assert (row["dropped"], json.loads(row["notes"]), row["sha256"], row["model"], row["prompt_version"]) == (
        0, ["重试成功"], "1" * 64, "m2", "p2")
    assert db["results"].count == 1 and db["goals"].count == 3 and db["responsibilities"].count == 5


def test_a_changed_file_updates_its_document_row(docs: Path, tmp_path: Path) -> None:
    db_path = tmp_path / "r.db"
    run_batch([docs / "a.txt"], db_path, get_backend("rules"))
    first = store.open_db(db_path)["documents"].get("a")
    changed = DOC + "3.完善保障机制。\n"
    (docs / "a.txt").write_text(changed, "gb18030")
    run_batch([docs / "a.txt"], db_path, get_backend("rules"))
    db = store.open_db(db_path)
    assert db["documents"].count == 1
    doc = db["documents"].get("a")
    assert doc["sha256"] != first["sha256"] and doc["raw_text"] == changed and doc["raw_chars"] == len(changed)
    assert doc["clean_text"].endswith("3.完善保障机制。") and doc["clean_chars"] == len(changed) - 1
    assert doc["encoding"] != "utf-8"
    assert [r["sha256"] for r in db["results"].rows_where(order_by="rowid")] == [first["sha256"], doc["sha256"]]


def test_runs_are_listed_newest_first(docs: Path, tmp_path: Path) -> None:
    db_path = tmp_path / "r.db"
    ids = [run_batch([docs / "a.txt"], db_path, get_backend("rules"), force=True).run_id for _ in range(3)]
    db = store.open_db(db_path)
    for i, run_id in enumerate(ids):  # distinct start times (runs in one second share one)
        db["runs"].update(run_id, {"started_at": f"2026-01-0{i + 1}T00:00:00+00:00"})
    assert [r["id"] for r in store.iter_runs(db)] == ids[::-1]


def test_another_programs_database_is_refused_untouched(tmp_path: Path) -> None:
    import sqlite3

    from summarizer.errors import StoreError

    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("create table invoices (id integer primary key, total real)")
    conn.close()
    with pytest.raises(StoreError, match="another program"):
        store.open_db(path)
    with sqlite3.connect(path) as conn:
        assert [r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")] == ["invoices"]
    conn.close()
