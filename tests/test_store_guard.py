"""Databases that cannot be ours, and exports that must not be lost.

Each `--db` case gives one line, exits non-zero and leaves the file (and its folder)
exactly as it was; read commands never create a database; a full disk marks the run
failed with the reason; an export cut off by a full disk leaves the previous one.
The full-disk cases use a real small tmpfs (a user+mount namespace, no root needed)
when the machine allows one, and a simulated ENOSPC otherwise.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DOCS, GOLD
from typer.testing import CliRunner

from summarizer.errors import StoreError
from summarizer.interfaces.cli import app
from summarizer.store import atomic, guard
from summarizer.store import db as store

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]
SUMMARIZER = str(Path(sys.executable).with_name("summarizer"))


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under folder and its sha256: 'changes nothing' made checkable."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def one_line_error(res: object) -> str:
    out = res.output.strip()  # type: ignore[attr-defined]
    assert res.exit_code not in (0, None), out  # type: ignore[attr-defined]
    assert out.count("\n") == 0 and out.startswith("error: "), out
    assert "Traceback" not in out
    return out


@pytest.fixture
def results_db(tmp_path_factory: pytest.TempPathFactory, rules_db: Path) -> Path:
    """A private copy of the sample results database (checkpointed: one self-contained file)."""
    conn = sqlite3.connect(rules_db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    dest = tmp_path_factory.mktemp("copy") / "results.db"
    shutil.copyfile(rules_db, dest)
    return dest


# ---- a --db that cannot be ours ------------------------------------------------------------


def _foreign_db(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("create table contacts (name text, phone text)")
    conn.execute("insert into contacts values ('张三', '123')")
    conn.commit()
    conn.close()


def _truncated_db(path: Path, source: Path) -> None:
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 2])


CASES = {
    "a directory": (lambda p, src: p.mkdir(), "is a directory, not a database file"),
    "a text file": (lambda p, src: p.write_text("not a database\n" * 20), "not an SQLite database"),
    "a truncated copy": (_truncated_db, "truncated or damaged SQLite file"),
    "another program's database": (lambda p, src: _foreign_db(p), "an SQLite database of another program "
                                                                  "(tables contacts)"),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("command", ["run", "runs", "show", "export"])
def test_bad_db_gives_one_line_and_changes_nothing(tmp_path: Path, results_db: Path, case: str,
                                                   command: str) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    db = folder / "x.db"
    make, expected = CASES[case]
    make(db, results_db)
    before = snapshot(folder)
    args = {"run": ["run", str(DOCS / "002_7c73268146656236.txt"), "--backend", "rules"], "runs": ["runs"],
            "show": ["show", "002_7c73268146656236"], "export": ["export", "--out", str(tmp_path / "e.json")]}
    res = runner.invoke(app, [*args[command], "--db", str(db)])
    assert expected in one_line_error(res)
    assert snapshot(folder) == before
    assert not (tmp_path / "e.json").exists()


def test_damaged_page_found_late_is_one_line(tmp_path: Path, results_db: Path) -> None:
    data = bytearray(results_db.read_bytes())
    page = 4096
    data[page * 3 : page * 40] = b"\xa5" * (page * 37)  # valid header, garbage b-tree pages
    bad = tmp_path / "bad.db"
    bad.write_bytes(bytes(data))
    res = runner.invoke(app, ["runs", "--db", str(bad)])
    assert "the database is damaged" in one_line_error(res)


def test_empty_sqlite_file_is_adopted_by_run_but_not_by_read_commands(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    sqlite3.connect(db).close()  # 0 bytes: an SQLite database with nothing in it
    res = runner.invoke(app, ["show", "x", "--db", str(db)])
    assert "an empty file, not a results database" in one_line_error(res)
    res = runner.invoke(app, ["run", str(DOCS / "002_7c73268146656236.txt"), "--backend", "rules", "--db", str(db)])
    assert res.exit_code == 0, res.output
    assert "_migrations" in store.open_db(db).table_names()


def test_read_only_file_and_folder(tmp_path: Path, results_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = results_db.parent
    before = snapshot(folder)
    if os.geteuid() == 0:  # root may write anything: report the file (then the folder) as read-only
        real_access = os.access
        denied = {results_db}

        def access(path: object, mode: int, **kw: object) -> bool:
            if mode & os.W_OK and Path(os.fsdecode(path)) in denied:  # type: ignore[arg-type]
                return False
            return real_access(path, mode)  # type: ignore[arg-type]

        monkeypatch.setattr(guard.os, "access", access)
    else:
        results_db.chmod(0o444)
    try:
        res = runner.invoke(app, ["runs", "--db", str(results_db)])
        assert "the database file is read-only" in one_line_error(res)
        if os.geteuid() == 0:
            denied.clear()
            denied.add(folder)
        else:
            results_db.chmod(0o644)
            folder.chmod(0o555)
        res = runner.invoke(app, ["runs", "--db", str(results_db)])
        assert f"folder {folder} is read-only" in one_line_error(res)
        res = runner.invoke(app, ["run", str(DOCS), "--backend", "rules", "--db", str(folder / "new.db")])
        assert "cannot create a database in read-only folder" in one_line_error(res)
    finally:
        folder.chmod(0o755)
        results_db.chmod(0o644)
    assert snapshot(folder) == before


def test_sqlite_errors_are_described_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "ro.db"
    _foreign_db(db)
    conn = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)
    with pytest.raises(sqlite3.Error) as err:
        conn.execute("insert into contacts values ('x', 'y')")
    assert guard.describe(err.value, db) == (f"{db}: the database is read-only "
                                             "(attempt to write a readonly database)")
    assert guard.is_fatal(err.value)


@pytest.mark.parametrize("command", [
    ["show", "x"], ["runs"], ["units"], ["export", "--out", "{tmp}/e.json"], ["eval", "--gold", str(GOLD)],
    ["run", "--retry-failed"], ["browse", "--port", "1"],
])
def test_read_commands_never_create_a_database(tmp_path: Path, command: list[str]) -> None:
    missing = tmp_path / "mistyped.db"
    args = [a.replace("{tmp}", str(tmp_path)) for a in command]
    res = runner.invoke(app, [*args, "--db", str(missing)])
    assert "no such" in one_line_error(res)
    assert list(tmp_path.iterdir()) == []


# ---- a full disk ------------------------------------------------------------------------------


def _namespaces_work() -> bool:
    if not shutil.which("unshare") or sys.platform != "linux":
        return False
    try:
        probe = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                                "mount -t tmpfs -o size=64k tmpfs /mnt 2>/dev/null || "
                                "mount -t tmpfs -o size=64k tmpfs /tmp"], capture_output=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0


TMPFS = _namespaces_work()


def on_small_tmpfs(folder: Path, size: str, script: str) -> subprocess.CompletedProcess[str]:
    """Run a shell script with `folder` mounted as a tmpfs of `size` (private to the script)."""
    folder.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
         f"mount -t tmpfs -o size={size} tmpfs '{folder}' && {script}"],
        capture_output=True, text=True, timeout=240, cwd=ROOT, check=False)


@pytest.mark.skipif(not TMPFS, reason="no user namespaces for a private tmpfs")
def test_full_disk_marks_the_run_failed_with_the_reason(tmp_path: Path) -> None:
    full = tmp_path / "full"
    db = full / "r.db"
    proc = on_small_tmpfs(full, "400k", f"""
        '{SUMMARIZER}' run '{DOCS}' --backend rules --db '{db}' >/dev/null 2>'{tmp_path}/run.err'
        echo "rc=$?"
        '{SUMMARIZER}' runs --db '{db}'
    """)
    err = (tmp_path / "run.err").read_text()
    assert proc.stdout.splitlines()[0] == "rc=2", proc.stdout + proc.stderr + err
    assert err.count("\n") == 1 and err.startswith(f"error: {db}: disk full while writing the database"), err
    run_line, reason = proc.stdout.splitlines()[1:3]
    assert " failed " in run_line and "running" not in run_line
    assert reason.strip().startswith(f"RUN FAILED {db}: disk full")


def test_full_disk_simulated_marks_the_run_failed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a tmpfs: SQLite's own page limit gives the same SQLITE_FULL mid-run."""
    db = tmp_path / "r.db"
    store.open_db(db).close()
    real_open = store._open_db

    def capped(path: object) -> object:
        conn = real_open(path)  # type: ignore[arg-type]
        pages = conn.conn.execute("pragma page_count").fetchone()[0]
        conn.conn.execute(f"pragma max_page_count = {pages + 30}")
        return conn

    monkeypatch.setattr(store, "_open_db", capped)
    res = runner.invoke(app, ["run", str(DOCS), "--backend", "rules", "--db", str(db)])
    assert res.exit_code == 2
    assert res.output.strip().splitlines()[-1].startswith(f"error: {db}: disk full while writing the database")
    monkeypatch.undo()
    (run,) = store.open_db(db)["runs"].rows
    assert run["status"] == "failed" and run["error"].startswith(f"{db}: disk full")


# ---- exports --------------------------------------------------------------------------------


def test_export_on_a_full_disk_leaves_the_old_export(tmp_path: Path, results_db: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Simulated: the disk fills when the new export is flushed."""
    out = tmp_path / "e.json"
    out.write_text("previous good export", "utf-8")
    folder = tmp_path / "csv"
    assert runner.invoke(app, ["export", "--db", str(results_db), "--format", "csv", "--out", str(folder)]
                         ).exit_code == 0
    csv_before = snapshot(folder)

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic.os, "fsync", full)
    for fmt, target in (("json", out), ("jsonl", out), ("csv", folder)):
        res = runner.invoke(app, ["export", "--db", str(results_db), "--format", fmt, "--out", str(target)])
        assert "No space left on device" in one_line_error(res)
        assert "previous export there is unchanged" in res.output
    assert out.read_text("utf-8") == "previous good export"
    assert snapshot(folder) == csv_before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["csv", "e.json"]  # no temp files left


@pytest.mark.skipif(not TMPFS, reason="no user namespaces for a private tmpfs")
def test_export_on_a_real_full_tmpfs_leaves_the_old_export(tmp_path: Path, results_db: Path) -> None:
    full = tmp_path / "full"
    out = full / "e.json"
    proc = on_small_tmpfs(full, "300k", f"""
        '{SUMMARIZER}' export --db '{results_db}' --out '{out}' >/dev/null || exit 7
        sha256sum '{out}' > '{tmp_path}/before'
        dd if=/dev/zero of='{full}/filler' bs=4k count=1000 2>/dev/null
        '{SUMMARIZER}' export --db '{results_db}' --out '{out}'; echo "rc=$?"
        sha256sum -c '{tmp_path}/before' && echo $(ls -A '{full}')
    """)
    lines = proc.stdout.splitlines()
    assert "rc=2" in lines, proc.stdout + proc.stderr
    assert f"{out}: OK" in lines, proc.stdout
    assert lines[-1] == "e.json filler"  # the old export and no temp file
    assert proc.stderr.strip().startswith(f"error: {out}: cannot write the export (No space left on device)")


def test_export_bad_paths_are_one_line(tmp_path: Path, results_db: Path) -> None:
    (tmp_path / "afile").write_text("x")
    cases = [("json", tmp_path, "is a directory; give a file path"),
             ("csv", tmp_path / "afile", "is a file; --format csv writes a folder"),
             ("json", tmp_path / "afile" / "sub" / "e.json", "cannot write the export"),
             ("xml", tmp_path / "e.xml", "unknown export format 'xml'")]
    for fmt, out, expected in cases:
        res = runner.invoke(app, ["export", "--db", str(results_db), "--format", fmt, "--out", str(out)])
        assert expected in one_line_error(res), (fmt, out)


def test_json_export_streams_the_same_document(tmp_path: Path, results_db: Path) -> None:
    out = tmp_path / "e.json"
    assert runner.invoke(app, ["export", "--db", str(results_db), "--out", str(out)]).exit_code == 0
    data = json.loads(out.read_text("utf-8"))
    assert len(data) == 5 and out.read_text("utf-8") == json.dumps(data, ensure_ascii=False, indent=2)
    assert oct(out.stat().st_mode & 0o777) != oct(0o600)  # a temp file's mode does not leak


def test_check_database_accepts_our_own_and_a_cache_only_file(tmp_path: Path) -> None:
    from summarizer.backends.llm_cache import CallCache

    CallCache(tmp_path / "c.db").db.close()  # the openai backend opens the file first
    guard.check_database(tmp_path / "c.db")
    store.open_db(tmp_path / "c.db").close()
    guard.check_database(tmp_path / "c.db", create=False)
    with pytest.raises(StoreError, match="another program"):
        _foreign_db(tmp_path / "f.db")
        CallCache(tmp_path / "f.db")
