"""Run status stays true: killed runs read interrupted, counts equal what was committed."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from conftest import DOCS, ROOT
from typer.testing import CliRunner

from summarizer.interfaces.cli import app
from summarizer.store import db as store
from summarizer.store import runstatus

CLI = [sys.executable, "-m", "summarizer.interfaces.cli"]


# Enough documents that a run cannot finish between its first commits and the signal,
# however fast the machine and however late a loaded machine delivers the signal (a batch
# commits up to 64 documents at once; 200 documents, about 2 s of work, were once not enough).
COPIES = 200
N_DOCS = 5 * COPIES


def _corpus(tmp_path: Path, copies: int) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    for src in sorted(DOCS.glob("*.txt")):
        for i in range(copies):  # distinct documents: identical copies in one run are skipped
            text = src.read_text("utf-8")
            (folder / f"{src.stem}_{i:03d}.txt").write_text(f"{text}\n（第{i}份）\n", "utf-8")
    return folder


def _start(folder: Path, db: Path, *extra: str, backend: tuple[str, ...] = ("--backend", "rules")
           ) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([*CLI, "run", str(folder), "--db", str(db), *backend, *extra],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _wait_for_results(db: Path, n: int, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(3000):  # a safety net against a hang (5 min on a loaded machine), not a time bound
        ended = proc.poll() is not None
        if db.exists():
            try:
                if store.open_db(db)["results"].count >= n:
                    return
            except Exception:
                pass
        if ended:  # it ended before storing n: say how, rather than wait out the net
            raise AssertionError(f"the run exited ({proc.returncode}) before storing {n} results:\n"
                                 + proc.communicate()[0].decode()[-3000:])
        time.sleep(0.1)
    raise AssertionError("the run stored nothing")


def _assert_counts_are_committed(db: Path, run: dict) -> None:
    conn = store.open_db(db)
    committed = {s: conn["doc_runs"].count_where("run_id = ? and status = ?", [run["id"], s])
                 for s in ("ok", "degraded", "failed", "skipped")}
    assert (run["succeeded"], run["degraded"], run["failed"], run["skipped"]) == (
        committed["ok"], committed["degraded"], committed["failed"], committed["skipped"])
    assert run["succeeded"] == conn["results"].count_where("run_id = ?", [run["id"]])
    assert run["goals"] == conn["goals"].count_where("run_id = ?", [run["id"]])


def test_kill_9_leaves_a_run_that_later_reads_interrupted(tmp_path):
    folder = _corpus(tmp_path, COPIES)
    db = tmp_path / "r.db"
    proc = _start(folder, db)
    _wait_for_results(db, 3, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    listed = CliRunner().invoke(app, ["runs", "--db", str(db)]).output  # any command opening the db
    assert "interrupted" in listed and "running" not in listed
    run = next(store.open_db(db)["runs"].rows)
    assert run["status"] == "interrupted"
    _assert_counts_are_committed(db, run)


def test_sigterm_stops_like_ctrl_c_and_says_what_was_kept(tmp_path):
    folder = _corpus(tmp_path, COPIES)
    db = tmp_path / "r.db"
    proc = _start(folder, db, "--jobs", "4")
    _wait_for_results(db, 3, proc)
    proc.send_signal(signal.SIGTERM)
    out = proc.communicate(timeout=120)[0].decode()
    assert proc.returncode == 130, out
    run = next(store.open_db(db)["runs"].rows)
    assert run["status"] == "interrupted", (run, out[-3000:])
    _assert_counts_are_committed(db, run)
    kept = run["succeeded"] + run["failed"] + run["degraded"] + run["skipped"]
    assert f"interrupted: run {run['id']} kept {kept} of {N_DOCS} documents" in out, (run, out[-3000:])


def test_ctrl_c_with_jobs_records_exactly_what_was_committed(tmp_path):
    folder = _corpus(tmp_path, COPIES)
    db = tmp_path / "r.db"
    proc = _start(folder, db, "--jobs", "4")
    _wait_for_results(db, 5, proc)
    proc.send_signal(signal.SIGINT)
    out = proc.communicate(timeout=120)[0].decode()
    assert proc.returncode == 130, out
    run = next(store.open_db(db)["runs"].rows)
    assert run["status"] == "interrupted" and 0 < run["succeeded"] < N_DOCS
    _assert_counts_are_committed(db, run)


def test_lease_decides_for_runs_of_other_machines(tmp_path):
    db_path = tmp_path / "r.db"
    db = store.open_db(db_path)
    old = "2000-01-01T00:00:00+00:00"
    fresh = runstatus.owner()["heartbeat_at"]
    for rid, beat in (("stale", old), ("alive", fresh)):
        db["runs"].insert({"id": rid, "backend": "rules", "status": "running", "started_at": old,
                           "pid": 1, "host": "elsewhere", "heartbeat_at": beat})
    db["runs"].insert({"id": "mine-dead", "backend": "rules", "status": "running", "started_at": fresh,
                       "pid": 2 ** 22 + 1, "host": socket.gethostname(), "heartbeat_at": fresh})
    statuses = {r["id"]: r["status"] for r in store.open_db(db_path)["runs"].rows}
    assert statuses == {"stale": "interrupted", "alive": "running", "mine-dead": "interrupted"}


def test_jobs_1000_on_1000_files_loses_nothing(tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(1000):
        (folder / f"doc_{i:04d}.txt").write_text(
            f"一、重点任务\n1.推进数字化改造。到2025年完成改造企业{i + 1}家。（责任单位：市经信局）\n", "utf-8")
    db = tmp_path / "r.db"
    res = CliRunner().invoke(app, ["run", str(folder), "--db", str(db), "--backend", "rules", "--jobs", "1000"])
    assert res.exit_code == 0, res.output[-2000:]
    assert "1000 documents, 1000 ok" in res.output and "documents at a time" in res.output
    conn = store.open_db(db)
    assert conn["documents"].count == 1000 and conn["results"].count == 1000
    run = next(conn["runs"].rows)
    assert run["status"] == "ok" and run["succeeded"] == 1000


def test_ctrl_c_abandons_model_calls_in_flight(tmp_path):
    """A model answer that would take a minute does not hold the stop: calls in flight
    are cancelled, the documents under way are not recorded, the run says what it kept."""
    from openai_stub import StubServer, slow

    folder = _corpus(tmp_path, 1)
    db = tmp_path / "r.db"
    with StubServer() as stub:
        stub.script(*[slow(60)] * 20)
        proc = _start(folder, db, "--jobs", "2", backend=(
            "--backend", "openai", "--base-url", stub.base_url, "--model", "m", "--scope", "targets"))
        for _ in range(600):
            if stub.calls >= 2:
                break
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        out = proc.communicate(timeout=45)[0].decode()  # a hang guard: the replies would take 60 s
    assert proc.returncode == 130, out
    assert "interrupted: run" in out
    run = next(store.open_db(db)["runs"].rows)
    assert run["status"] == "interrupted"
    _assert_counts_are_committed(db, run)
