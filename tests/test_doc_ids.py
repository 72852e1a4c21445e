"""Document ids: readable stems, and a second different file with the same stem never replaces the first."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from summarizer.backends import get_backend
from summarizer.interfaces.cli import app
from summarizer.pipeline import run_batch
from summarizer.store import db as store

A = "一、重点任务\n1.推进数字化改造。到2025年完成改造企业100家。（责任单位：市经信局）\n"
B = "一、主要目标\n1.扩大有效投资。到2026年，固定资产投资增长8%。（责任单位：市发改委）\n"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return path


def _quotes_match(db_path: Path) -> None:
    db = store.open_db(db_path)
    for doc_id, rid in store.latest_results(db).items():
        text = db["documents"].get(doc_id)["clean_text"]
        for g in store.load_result(db, rid).goals:
            assert text[g.start:g.end] == g.quote


def test_same_stem_in_two_runs_both_survive_with_distinct_ids(tmp_path):
    a = _write(tmp_path / "a" / "plan.txt", A)
    b = _write(tmp_path / "b" / "plan.txt", B)
    db = tmp_path / "r.db"
    runner = CliRunner()
    first = runner.invoke(app, ["run", str(a.parent), "--db", str(db), "--backend", "rules"])
    assert first.exit_code == 0 and "ok   plan: " in first.output
    second = runner.invoke(app, ["run", str(b.parent), "--db", str(db), "--backend", "rules"])
    assert second.exit_code == 0, second.output
    conn = store.open_db(db)
    docs = {r["id"]: r["path"] for r in conn["documents"].rows}
    assert docs["plan"] == str(a)  # the first keeps the plain stem (gold files are named by it)
    other = next(i for i in docs if i != "plan")
    assert other.startswith("plan-") and docs[other] == str(b)
    assert f"ok   {other}: " in second.output and "'plan' is already" in second.output
    _quotes_match(db)
    # each file finds its own id again on a re-run: nothing re-extracted, nothing replaced
    again = runner.invoke(app, ["run", str(a), str(b), "--db", str(db), "--backend", "rules"])
    assert "2 unchanged" in again.output
    assert {r["id"] for r in conn["documents"].rows} == {"plan", other}


def test_same_stem_twice_in_one_run(tmp_path):
    a = _write(tmp_path / "a" / "index.txt", A)
    b = _write(tmp_path / "b" / "index.txt", B)
    summary = run_batch([tmp_path], tmp_path / "r.db", get_backend("rules"))
    assert summary.ok
    assert summary.outcomes[0].doc_id == "index"
    assert summary.outcomes[1].doc_id.startswith("index-")
    assert {o.path for o in summary.outcomes} == {str(a), str(b)}
    _quotes_match(tmp_path / "r.db")


def test_identical_copy_is_the_same_document(tmp_path):
    a = _write(tmp_path / "a" / "1.txt", A)
    _write(tmp_path / "b" / "1.txt", A)
    summary = run_batch([tmp_path], tmp_path / "r.db", get_backend("rules"))
    assert [o.status for o in summary.outcomes] == ["ok", "skipped"]
    assert f"same file as {a}" in summary.outcomes[1].message
    assert store.open_db(tmp_path / "r.db")["documents"].count == 1


def test_an_edited_file_keeps_its_id(tmp_path):
    p = _write(tmp_path / "plan.txt", A)
    db = tmp_path / "r.db"
    run_batch([p], db, get_backend("rules"))
    p.write_text(B, "utf-8")
    summary = run_batch([p], db, get_backend("rules"))
    assert summary.outcomes[0].doc_id == "plan" and summary.outcomes[0].status == "ok"
