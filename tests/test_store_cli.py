"""The results database and the CLI over it, on the sample corpus."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from conftest import DOCS, GOLD
from typer.testing import CliRunner

from summarizer.backends import get_backend
from summarizer.interfaces.cli import app
from summarizer.pipeline import run_batch
from summarizer.store import db as store

runner = CliRunner()


def test_all_five_documents_are_stored(rules_db: Path) -> None:
    db = store.open_db(rules_db)
    assert db["documents"].count == 5
    latest = store.latest_results(db)
    r = store.load_result(db, latest["001_edc70f5a27395571"])
    assert len(r.measures) == 20
    assert all(any(x.unit == "各镇街" for x in m.responsibilities) for m in r.measures)
    # grounding survives the round trip
    text = db["documents"].get("001_edc70f5a27395571")["clean_text"]
    assert all(text[g.start : g.end] == g.quote for g in r.goals)


def test_full_text_search_on_goals(rules_db: Path) -> None:
    db = store.open_db(rules_db)
    assert len(list(db["goals"].search("工业增加值"))) >= 3  # trigram FTS: 3+ characters


def test_rerun_skips_unchanged_unless_forced(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    doc = next(DOCS.glob("002_*.txt"))
    assert run_batch([doc], db, get_backend("rules")).count("ok") == 1
    assert run_batch([doc], db, get_backend("rules")).count("skipped") == 1
    assert run_batch([doc], db, get_backend("rules"), force=True).count("ok") == 1
    conn = store.open_db(db)
    assert conn["results"].count == 2 and conn["goals"].count == 2 * len(store.load_result(
        conn, store.latest_results(conn)["002_7c73268146656236"]).goals)


def test_bad_files_fail_alone_and_the_batch_goes_on(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "bin.txt").write_bytes(b"\x00\x01\x02" * 100)
    (tmp_path / "ok.txt").write_text(next(DOCS.glob("002_*.txt")).read_text("utf-8"), "utf-8")
    res = runner.invoke(app, ["run", str(tmp_path), str(tmp_path / "missing.txt"), "--db", str(tmp_path / "r.db"),
                             "--backend", "rules"])
    assert res.exit_code == 1
    out = res.output
    assert f"{tmp_path / 'empty.txt'}: empty file" in out
    assert f"{tmp_path / 'bin.txt'}: binary file" in out
    assert f"{tmp_path / 'missing.txt'}: no such file" in out
    assert "1 ok" in out and "3 failed" in out
    db = store.open_db(tmp_path / "r.db")
    assert db["documents"].count == 1
    assert db["runs"].get(next(iter(db["runs"].rows))["id"])["failed"] == 3


def test_cli_run_show_export_eval(tmp_path: Path) -> None:
    db = str(tmp_path / "r.db")
    res = runner.invoke(app, ["run", str(DOCS), "--db", db, "--backend", "rules"])
    assert res.exit_code == 0, res.output
    assert "5 ok" in res.output
    shown = runner.invoke(app, ["show", "003_28bac5d74b912b57", "--db", db])
    assert "嘉兴市先进制造业集群培育工程推进方案" in shown.output
    as_json = json.loads(runner.invoke(app, ["show", "001_edc70f5a27395571", "--db", db, "--json"]).output)
    assert as_json["doc_id"] == "001_edc70f5a27395571" and len(as_json["measures"]) == 20
    out = tmp_path / "csv"
    assert runner.invoke(app, ["export", "--db", db, "--format", "csv", "--out", str(out)]).exit_code == 0
    with (out / "measures.csv").open(encoding="utf-8-sig") as f:
        assert len(list(csv.DictReader(f))) == 126
    rep = tmp_path / "rep"
    ev = runner.invoke(app, ["eval", "--db", db, "--gold", str(GOLD), "--json", str(rep / "e.json"),
                             "--markdown", str(rep / "e.md"), "--html", str(rep / "e.html")])
    assert ev.exit_code == 0, ev.output
    scores = json.loads((rep / "e.json").read_text("utf-8"))
    assert set(scores["overall"]) >= {"goals", "measures", "responsibilities", "plan"}
    assert set(scores["documents"]) == {p.stem for p in GOLD.glob("*.json")}
    assert "<script" not in (rep / "e.html").read_text("utf-8")
    gate = runner.invoke(app, ["eval", "--db", db, "--gold", str(GOLD), "--min-f1", "1.01"])
    assert gate.exit_code == 1


def test_show_unknown_document_is_one_line_error(tmp_path: Path) -> None:
    store.open_db(tmp_path / "r.db").close()  # an existing results database without that document
    res = runner.invoke(app, ["show", "nope", "--db", str(tmp_path / "r.db")])
    assert res.exit_code == 2 and "no result for document 'nope'" in res.output


def test_gold_check_passes_on_shipped_gold() -> None:
    res = runner.invoke(app, ["gold", "check", str(GOLD), "--docs", str(DOCS)])
    assert res.exit_code == 0, res.output


def test_runs_lists_failures_and_retry_failed_retries_only_those(tmp_path: Path) -> None:
    db = str(tmp_path / "r.db")
    bad = tmp_path / "later.txt"
    bad.write_bytes(b"")
    good = next(DOCS.glob("002_*.txt"))
    assert runner.invoke(app, ["run", str(good), str(bad), "--db", db, "--backend", "rules"]).exit_code == 1
    listed = runner.invoke(app, ["runs", "--db", db]).output
    assert "1 failed" in listed and f"FAIL {bad}: empty file" in listed
    bad.write_text("一、重点任务\n1.推进数字化改造。到2025年完成改造企业100家。", "utf-8")
    retry = runner.invoke(app, ["run", "--retry-failed", "--db", db, "--backend", "rules"])
    assert retry.exit_code == 0, retry.output
    assert "ok   later" in retry.output and "002_" not in retry.output
    assert "no failed or degraded documents" in runner.invoke(app, ["run", "--retry-failed", "--db", db, "--backend", "rules"]).output


def test_progress_bar_mode_still_reports_every_document(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SUMMARIZER_PROGRESS", "1")
    res = runner.invoke(app, ["run", str(DOCS), "--db", str(tmp_path / "r.db"), "--backend", "rules"])
    assert res.exit_code == 0, res.output
    assert all(f"ok   {p.stem}" in res.output for p in DOCS.glob("*.txt"))
    assert "5 ok" in res.output
