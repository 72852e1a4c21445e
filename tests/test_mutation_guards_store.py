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
from summarizer.models import DocumentResult
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
        "m001_initial", "m002_degraded_results_and_run_owners", "m003_run_error",
        "m004_responsibilities_by_result"]
    assert db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    again = store.open_db(tmp_path / "r.db")  # opening again applies nothing twice
    assert again["_migrations"].count == 4


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
