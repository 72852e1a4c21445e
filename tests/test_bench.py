"""Smoke test of `summarizer bench`: rules and llm-stub parts on tiny sizes (no model)."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import DOCS

from summarizer.devtools.bench import LatencyStub, run_bench


def test_bench_rules_and_stub_smoke(tmp_path: Path) -> None:
    out = tmp_path / "bench"
    md = run_bench(out, {"rules", "llm-stub"}, sizes=(2, 4), jobs=(1, 2), latency=0.01,
                   scopes=("targets",), log=lambda s: None)
    text = md.read_text(encoding="utf-8")
    assert md == out / "bench.md"
    assert "| documents | jobs | round | wall s | docs/s |" in text
    assert "| scope | mode | jobs | calls |" in text
    assert "nproc" in text and "Python" in text
    for png in ("time_vs_docs.png", "time_vs_jobs.png"):
        data = (out / png).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) < 200_000
    res = json.loads((out / "bench.json").read_text(encoding="utf-8"))
    assert [(r["size"], r["jobs"]) for r in res["rules"]] == [(2, 1), (2, 2), (4, 1), (4, 2)]
    assert all(r["ok"] == r["size"] for r in res["rules"])
    assert all(r["worker_peak_rss_mb"] > 0 for r in res["rules"] if r["jobs"] == 2)  # workers ran
    if Path("/proc/stat").exists():  # the machine's idle and stolen seconds meanwhile (Linux)
        assert all(r["machine_idle_s"] >= 0 and r["machine_steal_s"] >= 0 for r in res["rules"])
    rows = res["llm_stub"]["rows"]
    assert {(r["scope"], r["mode"], r["jobs"]) for r in rows} == {("targets", m, j) for m in ("chunks", "docs", "cli") for j in (1, 2)}
    for r in rows:
        assert r["calls"] > 0 and r["failed"] == 0
        assert r["rerun_calls"] == 0 and r["rerun_cache_hits"] == r["calls"]  # the llm_calls cache


def test_bench_rules_rounds_report_each_run_and_the_medians(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Rounds, their speed-ups and the medians, from runs whose times are given (the runs
    themselves are the smoke test's): the report pairs each round's own runs."""
    from summarizer.devtools import bench

    walls = iter([3.0, 2.0, 2.0, 1.0, 4.0, 1.5])  # round by round: jobs 1, then jobs 2

    def run(kind, args, timeout=None):  # type: ignore[no-untyped-def]
        wall, jobs = next(walls), int(args["jobs"])
        return {"docs": 3, "ok": 3, "wall_s": wall, "bytes": 3000, "rss_before_mb": 50.0, "peak_rss_mb": 60.0 + wall,
                "worker_peak_rss_mb": 40.0 if jobs > 1 else None, "cpu_main_s": wall / jobs,
                "cpu_workers_s": wall if jobs > 1 else 0.0, "loadavg": [0.5, 0.5], "machine_idle_s": 0.1,
                "machine_steal_s": 0.0, "timed_out": False}

    monkeypatch.setattr(bench, "_worker", run)
    out = tmp_path / "bench"
    md = run_bench(out, {"rules"}, sizes=(3,), rules_jobs=(1, 2), rules_repeat=3, log=lambda s: None)
    res = json.loads((out / "bench.json").read_text(encoding="utf-8"))
    assert [(r["round"], r["jobs"]) for r in res["rules"]] == [(k, j) for k in (1, 2, 3) for j in (1, 2)]
    assert [round(r["speedup"], 3) for r in res["rules"] if r["jobs"] == 2] == [1.5, 2.0, 2.667]
    for m in res["rules_medians"]:
        runs = [r for r in res["rules"] if r["jobs"] == m["jobs"]]
        assert m["rounds"] == 3
        assert m["mb_per_s"] == sorted(r["mb_per_s"] for r in runs)[1]
        assert (m["mb_min"], m["mb_max"]) == (min(r["mb_per_s"] for r in runs), max(r["mb_per_s"] for r in runs))
        # a round's speed-up compares its own runs
        pairs = [r for r in res["rules"] if r["jobs"] == 1], [r for r in res["rules"] if r["jobs"] == 2]
        ups = sorted(a["wall_s"] / b["wall_s"] for a, b in zip(*pairs))
        assert m["speedup"] == (1.0 if m["jobs"] == 1 else ups[1])
    assert "Medians over the rounds" in md.read_text(encoding="utf-8")


def test_bench_rules_rounds_run_every_size_in_turn(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Rounds are the outer loop: the sizes are compared through the same minutes."""
    from summarizer.devtools import bench

    calls: list[tuple[int, int]] = []

    def one_round(n, d, jobs, rep, log):  # type: ignore[no-untyped-def]
        assert len(list((d / "docs").iterdir())) == n  # each size's documents replicated once, up front
        calls.append((rep, n))
        return []

    monkeypatch.setattr(bench, "_rules_round", one_round)
    bench.bench_rules((3, 2), tmp_path, DOCS, lambda s: None, (1, 2), repeat=3)
    assert calls == [(k, n) for k in range(3) for n in (3, 2)]
    assert not any(tmp_path.glob("rules_*/docs"))  # removed after the last round


def test_stub_answer_is_grounded_in_the_chunk() -> None:
    ans = LatencyStub.answer("读下面的数据\n<<<DATA\n到2025年，新增企业100家。\nDATA>>>")
    (g,) = ans["g"]
    assert g["q"] == "新增企业100家" and g["v"] == 100.0
    assert LatencyStub.answer("<<<DATA\n无数字\nDATA>>>") == {"g": []}


def test_bench_scale_and_linear_smoke(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The memory and linear-time parts at toy sizes (the real ones, 5,000 docs and 10 MB, are bench-only);
    steps run in this process instead of a fresh one each, to keep the suite fast."""
    from summarizer.devtools import bench_limits

    monkeypatch.setattr(bench_limits, "_worker", lambda kind, args, timeout=None: bench_limits.worker(args))
    out = tmp_path / "bench"
    md = run_bench(out, {"scale", "linear"}, scale_sizes=(2, 4), linear_mb=0.05, log=lambda s: None)
    text = md.read_text(encoding="utf-8")
    assert "## scale: memory vs batch size" in text and "Peak RSS at 4 documents over 2" in text
    assert "## linear: one long line" in text and "HTML eval report with 8000 errors" in text
    res = json.loads((out / "bench.json").read_text(encoding="utf-8"))
    assert [(r["step"], r["size"]) for r in res["scale"]["rows"]] == [
        (s, n) for n in (2, 4) for s in ("run", "export json", "export jsonl", "export csv")]
    assert all(r["peak_rss_mb"] > 0 for r in res["scale"]["rows"])
    one_line, lines = res["linear"]["rows"][1], res["linear"]["rows"][0]
    assert one_line["lines"] == 1 and lines["lines"] > 100 and one_line["ok"] == lines["ok"] == 1


def test_bench_serve_smoke(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The serve part at toy size: 2 clients, 4 distinct documents. To keep the suite fast the
    service runs on uvicorn in this process, and the CLI side too (the bench itself starts
    `summarizer serve` and a fresh interpreter; tests/test_service.py covers the former)."""
    from live_server import live

    from summarizer.devtools import bench
    from summarizer.service.app import create_app
    from summarizer.service.settings import Settings

    @contextlib.contextmanager
    def in_process(db: Path, *args: str, timeout: float = 60.0) -> Iterator[str]:
        assert args[:2] == ("--backend", "rules") and args[2] == "--jobs"
        seen_jobs.append(int(args[3]))
        with live(create_app(Settings(db=db, backend="rules", jobs=int(args[3])))) as client:
            yield str(client.base_url).rstrip("/")

    seen_jobs: list[int] = []
    cli_jobs: list[int] = []

    def cli_worker(kind: str, args: dict, timeout: float | None = None) -> dict:
        cli_jobs.append(args["jobs"])
        return bench._rules_worker(args)

    monkeypatch.setattr(bench, "serve_subprocess", in_process)
    monkeypatch.setattr(bench, "_worker", cli_worker)
    out = tmp_path / "bench"
    md = run_bench(out, {"serve"}, clients=(2,), serve_docs=4, log=lambda s: None)
    text = md.read_text(encoding="utf-8")
    assert "| jobs | clients | mode | serve docs/s | run docs/s | serve / run | p50 ms | p95 ms |" in text
    # the service and `run` get the same --jobs; one `run` per level, one server per client mode
    assert seen_jobs == [1, 1] and cli_jobs == [1]
    rows = json.loads((out / "bench.json").read_text(encoding="utf-8"))["serve"]["rows"]
    assert [(r["jobs"], r["clients"], r["mode"], r["docs"], r["cli_docs"], r["failed"]) for r in rows] == [
        (1, 2, "wait", 4, 4, 0), (1, 2, "submit", 4, 4, 0)]
    for r in rows:
        assert r["p50_ms"] <= r["p95_ms"] and r["docs_per_s"] > 0
        assert r["ratio"] == r["docs_per_s"] / r["cli_docs_per_s"]
        assert r["cli_cpu_ms"] > 0 and r["serve_cpu_ms"] is None  # no server process here to read
        assert r["client_cpu_ms"] > 0 and r["pipeline_cpu_ms"] is None
    assert (out / "serve_docs_per_s.png").read_bytes().startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="unknown serve modes"):
        run_bench(out, {"serve"}, clients=(2,), serve_docs=4, serve_modes=("poll",), log=lambda s: None)


def test_proc_cpu_counts_a_process_and_its_children() -> None:
    import os
    import subprocess
    import sys

    from summarizer.devtools.bench import proc_cpu_s

    child = subprocess.Popen([sys.executable, "-c", "import time\nt = time.process_time()\n"
                              "while time.process_time() - t < 0.3: pass\ntime.sleep(30)"])
    try:
        mine = proc_cpu_s(os.getpid())
        assert mine is not None and mine > 0
        for _ in range(300):  # the child burns 0.3 s of CPU, then sleeps: counted while it lives
            total = proc_cpu_s(os.getpid())
            if total is not None and total - mine >= 0.2:
                break
            time.sleep(0.02)
        assert total is not None and total - mine >= 0.2
    finally:
        child.kill()
        child.wait()
