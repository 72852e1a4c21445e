"""The bench's load clients (`summarizer.devtools.loadclient`) against a real service.

What these pin down: the multipart body they encode by hand is one the service reads
(the file's stem becomes the document id, the bytes arrive intact); in both modes the
client processes share the documents, each is posted once and its answer counted once;
a refused document is reported as a failure with its name and status, not counted.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from conftest import rows
from live_server import live

from summarizer.devtools import loadclient
from summarizer.service.app import create_app
from summarizer.service.settings import Settings


def docs(folder: Path, n: int) -> list[Path]:
    folder.mkdir()
    out = []
    for i in range(n):
        p = folder / f"政策{i}.txt"
        p.write_text(f"{i + 1}、加强组织领导。到2025年，建成{i + 10}个智能工厂。（责任单位：市财政局）\n",
                     encoding="utf-8")
        out.append(p)
    return out


def test_multipart_body_is_read_by_the_service(tmp_path: Path) -> None:
    (f,) = docs(tmp_path / "d", 1)
    body, ctype = loadclient.multipart(f.name, f.read_bytes())
    with live(create_app(Settings(db=tmp_path / "r.db", backend="rules", worker="thread"))) as http:
        r = http.post("/v1/documents", params={"wait": 30}, content=body, headers={"Content-Type": ctype})
    assert r.status_code == 200, r.text
    assert r.json()["doc_id"] == "政策0" and r.json()["status"] == "ok"
    assert rows(tmp_path / "r.db", "select id, sha256 from documents") == [
        ("政策0", hashlib.sha256(f.read_bytes()).hexdigest())]


@pytest.mark.parametrize("mode", ["wait", "submit"])
def test_clients_share_the_documents_each_answered_once(tmp_path: Path, mode: str) -> None:
    files = docs(tmp_path / "d", 7)
    bad = tmp_path / "d" / "notes.xyz"  # not a document type: 415, reported, not counted
    bad.write_bytes(b"x")
    db = tmp_path / "r.db"
    with live(create_app(Settings(db=db, backend="rules", worker="thread"))) as http:
        r = loadclient.post_all(str(http.base_url).rstrip("/"), [*files, bad], clients=3, wait_s=30, mode=mode)
    assert r["ok"] == 7 and r["failed"] == 1, r["failures"]
    assert r["failures"][0].startswith("notes.xyz: 415 ")
    assert r["p50_ms"] <= r["p95_ms"] and r["wall_s"] > 0 and r["client_cpu_ms"] > 0
    assert rows(db, "select doc_id, status from jobs order by doc_id") == [(f"政策{i}", "ok") for i in range(7)]
    assert len(rows(db, "select id from results")) == 7


def test_unknown_mode_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown client mode 'poll'"):
        loadclient.post_all("http://127.0.0.1:9", [], clients=1, mode="poll")


def test_a_client_process_that_dies_is_reported_not_waited_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    monkeypatch.setattr(loadclient, "_client", lambda *args: os._exit(1))  # dies before it reports
    with pytest.raises(RuntimeError, match="1 client process"):
        loadclient.post_all("http://127.0.0.1:9", docs(tmp_path / "d", 1), clients=1)
