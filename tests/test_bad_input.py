"""Bad and odd inputs: each gets one clear outcome line naming the file, and the batch goes on.

The big-file case measures peak RSS in a child process and prints it as a benchmark note
(`pytest -s`); it asserts completion only, never a time or memory bound. The 1 MB size
runs always; the 10 MB size only with SUMMARIZER_BENCH=1 (it takes minutes).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from summarizer.backends import get_backend
from summarizer.ingest import load
from summarizer.pipeline import DocOutcome, RunSummary, run_batch

ROOT = Path(__file__).resolve().parents[1]
POLICY = (
    "某市人民政府关于印发数字经济发展实施方案的通知\n"
    "一、重点任务\n"
    "（一）加快数字产业化。培育软件和信息服务业，到2025年产值达到500亿元。（责任单位：市经信局）\n"
    "（二）推进产业数字化。建设10个智能工厂。（市科技局牵头，市财政局配合）\n"
)


def _spam_line() -> str:
    """The first line of a real scraped page in the sample corpus: SEO spam."""
    doc = next((ROOT / "eval" / "docs").glob("003_*.txt"))
    return doc.read_text(encoding="utf-8").splitlines()[0]


def _run(paths: list[Path], tmp_path: Path) -> RunSummary:
    return run_batch(paths, tmp_path / "runs.db", get_backend("rules"))


def _assert_one_line(o: DocOutcome) -> None:
    assert o.status in ("ok", "failed", "skipped")
    assert "\n" not in o.message
    if o.status == "failed":
        assert Path(o.path).name in o.message, o.message


@pytest.fixture
def good(tmp_path: Path) -> Path:
    p = tmp_path / "in" / "good.txt"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(POLICY, encoding="utf-8")
    return p


def _case(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / "in" / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p


@pytest.mark.parametrize(
    "name, data, status, fragment",
    [
        ("empty.txt", b"", "failed", "empty file"),
        ("blank.txt", b" \n\r\n\t \n", "failed", "empty file"),
        ("binary.txt", bytes(range(256)) * 40, "failed", "binary file"),
        ("png.txt", b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(200), "failed", "binary file"),
        ("bad_bom.txt", b"\xef\xbb\xbf" + "数字".encode() + b"\xff\xfe\xfd", "failed", "byte-order mark"),
        ("english.txt", b"Notice on the Digital Economy Plan\nThe city will build ten smart factories.\n",
         "ok", "0 measures"),
        ("no_measures.txt", "关于做好春节期间安全工作的通知\n各单位要高度重视，确保节日平安。\n".encode(),
         "ok", "0 measures"),
        ("noise_only.txt", "首页\n【打印本页】【关闭本页】\n版权所有：某市人民政府\n".encode(),
         "failed", "no document text left"),
    ],
)
def test_bad_file_gets_its_outcome_and_batch_goes_on(
    tmp_path: Path, good: Path, name: str, data: bytes, status: str, fragment: str
) -> None:
    bad = _case(tmp_path, name, data)
    summary = _run([bad, good], tmp_path)
    assert [Path(o.path).name for o in summary.outcomes] == [name, "good.txt"]
    first, second = summary.outcomes
    _assert_one_line(first)
    assert first.status == status and fragment in first.message, first.message
    assert second.status == "ok" and second.result is not None and len(second.result.measures) == 2


def test_spam_only_file(tmp_path: Path, good: Path) -> None:
    spam = _spam_line()
    bad = _case(tmp_path, "spam.txt", ((spam + "\n") * 5).encode("utf-8"))
    summary = _run([bad, good], tmp_path)
    first, second = summary.outcomes
    _assert_one_line(first)
    assert first.status == "failed"
    assert first.message == f"{bad}: no document text left after cleaning (only page noise)"
    assert second.status == "ok"


def test_missing_path_and_directory_argument(tmp_path: Path, good: Path) -> None:
    missing = tmp_path / "in" / "does not exist.txt"
    summary = _run([missing, good], tmp_path)
    first, second = summary.outcomes
    assert first.status == "failed" and first.message == f"{missing}: no such file"
    assert second.status == "ok"


def test_unsupported_file_named_explicitly(tmp_path: Path, good: Path) -> None:
    odd = _case(tmp_path, "plan.doc", b"\xd0\xcf\x11\xe0old word")
    summary = _run([odd, good], tmp_path)
    assert summary.outcomes[0].status == "failed"
    assert summary.outcomes[0].message == f"{odd}: unsupported file type .doc"
    assert summary.outcomes[1].status == "ok"


def test_unknown_extensions_in_a_folder_are_ignored_not_failed(tmp_path: Path, good: Path) -> None:
    _case(tmp_path, "readme.md", b"# notes")
    _case(tmp_path, "image.jpg", b"\xff\xd8\xff\xe0")
    _case(tmp_path, "NOEXT", b"text")
    summary = _run([good.parent], tmp_path)
    assert [o.status for o in summary.outcomes] == ["ok"]
    assert sorted(Path(p).name for p in summary.ignored) == ["NOEXT", "image.jpg", "readme.md"]


@pytest.mark.parametrize("name", ['plan with spaces.txt', 'quote\'s "plan".txt', "中文 文件名（2023）.txt",
                                  "-dash-first.txt", "semi;colon $HOME.txt"])
def test_odd_filenames(tmp_path: Path, name: str) -> None:
    p = _case(tmp_path, name, POLICY.encode("gbk"))
    summary = _run([p], tmp_path)
    (o,) = summary.outcomes
    assert o.status == "ok", o.message
    assert o.path == str(p) and o.doc_id == p.stem
    # and a failing one is named exactly, quotes and all
    bad = _case(tmp_path, "empty " + name, b"")
    (o,) = _run([bad], tmp_path).outcomes
    assert o.status == "failed" and o.message == f"{bad}: empty file"


def test_thousand_small_files(tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(1000):
        body = POLICY if i % 100 else ""  # every 100th is empty: failures in the middle
        (folder / f"doc_{i:04d}.txt").write_text(body, encoding="utf-8")
    t0 = time.perf_counter()
    summary = _run([folder], tmp_path)
    elapsed = time.perf_counter() - t0
    assert len(summary.outcomes) == 1000
    assert summary.count("failed") == 10 and summary.count("ok") == 990
    assert all(o.message.endswith(": empty file") for o in summary.outcomes if o.status == "failed")
    print(f"\n[benchmark] 1000 small files, rules backend: {elapsed:.2f}s")


_BIG_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from summarizer.backends import get_backend
from summarizer.pipeline import run_batch
backend = get_backend("rules")
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
s = run_batch([Path(sys.argv[1])], sys.argv[2], backend)
o = s.outcomes[0]
print(json.dumps({"status": o.status, "message": o.message, "seconds": time.perf_counter() - t0,
                  "measures": len(o.result.measures) if o.result else 0,
                  "base_kib": base, "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


@pytest.mark.parametrize(
    "megabytes",
    [1, pytest.param(10, marks=pytest.mark.skipif(
        not os.environ.get("SUMMARIZER_BENCH"),
        reason="10 MB run takes minutes; set SUMMARIZER_BENCH=1 to run it"))],
)
def test_big_text_file(tmp_path: Path, megabytes: int) -> None:
    """A big plan completes as one ok outcome; peak RSS is printed as a benchmark note, not asserted."""
    para = POLICY.split("\n", 1)[1]
    block = "".join(
        para.replace("（一）", f"（{n}）") for n in ("一", "二", "三", "四", "五", "六", "七", "八", "九", "十")
    )
    reps = (megabytes * 1024 * 1024) // len(block.encode("utf-8")) + 1
    big = _case(tmp_path, "big.txt", (POLICY + block * reps).encode("utf-8"))
    size_mb = big.stat().st_size / 2**20
    assert size_mb >= megabytes
    # A fresh interpreter, so ru_maxrss is this run's peak and not the test session's.
    proc = subprocess.run([sys.executable, "-c", _BIG_CHILD, str(big), str(tmp_path / "big.db")],
                          capture_output=True, text=True, check=False, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["status"] == "ok", out["message"]
    assert out["measures"] > 100 * megabytes
    print(f"\n[benchmark] {size_mb:.1f} MB text file, rules backend: {out['seconds']:.1f}s, "
          f"peak RSS {out['peak_kib'] / 1024:.0f} MiB (interpreter + imports {out['base_kib'] / 1024:.0f} MiB)")


def test_batch_goes_on_when_a_reader_raises_an_unexpected_error(tmp_path: Path, good: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader bug (or a third-party parser raising a non-InputError) must fail one document only."""
    bad = _case(tmp_path, "boom.xyz", b"whatever")

    def broken_reader(path: Path) -> tuple[str, str]:
        raise ValueError("parser exploded")

    monkeypatch.setitem(load.READERS, ".xyz", broken_reader)
    summary = _run([bad, good], tmp_path)
    first, second = summary.outcomes
    assert first.status == "failed" and "boom.xyz" in first.message
    assert second.status == "ok"


def test_same_stem_in_two_folders_does_not_silently_overwrite(tmp_path: Path) -> None:
    a = _case(tmp_path, "a/plan.txt", POLICY.encode("utf-8"))
    b = _case(tmp_path, "b/plan.txt", POLICY.replace("500亿元", "800亿元").encode("utf-8"))
    summary = _run([a.parent, b.parent], tmp_path)
    assert len(summary.outcomes) == 2
    ok_ids = [o.doc_id for o in summary.outcomes if o.status == "ok"]
    assert len(ok_ids) == len(set(ok_ids)), "two documents stored under one id"
    for o in summary.outcomes:
        _assert_one_line(o)
