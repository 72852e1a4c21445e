"""`summarizer bench`: how fast, how much memory, how many model calls, how good.

Parts (any subset):

- ``rules``: the sample corpus replicated to N documents (distinct ids), clean +
  outline + rules + store through `run_batch` into a fresh db, each size and each
  `--jobs` level (default 1 and 2) in its own subprocess (wall time, docs/s, MB of raw
  text/s, ms/doc, peak RSS of the main process and of the largest worker process,
  speed-up of each jobs level over jobs 1 on the same documents).
- ``llm-stub``: the openai backend against a threaded OpenAI-compatible stub that
  answers every request after a fixed latency; wall time vs the ideal
  (calls x latency / jobs) for chunk-level (`LLMSettings.jobs`) and document-level
  (`run_batch(jobs=)`) concurrency, and both at once as `summarizer run --jobs N`
  gives them (mode `cli`), calls and prompt tokens per document, and a second
  identical run that must make 0 calls (the `llm_calls` cache). A warm-up run first
  (not reported) pays the client's one-off start (lazy imports, connection).
- ``local``: the embedded model on the sample docs once (subprocess): time,
  tokens, tokens/s, peak RSS, and eval F1 next to the rules backend.
- ``peer``: LangExtract pointed at the same local model through its
  OpenAI-compatible endpoint, mapped to the gold format and scored the same way.
- ``serve``: `summarizer serve --backend rules` (a subprocess, fresh db per level)
  posted the same distinct documents by 1, 4 and 16 client processes (modes `wait`
  and `submit`, `summarizer.devtools.loadclient`): docs/s and p50/p95 latency per document, next to
  `run_batch` (what `summarizer run` does) on the same documents in a fresh
  process, run just before each level.
- ``scale`` and ``linear`` (`summarizer.devtools.bench_limits`): peak RSS for 500
  vs 5,000 documents and their exports; a 10 MB one-line document vs the same text
  with line breaks; the HTML eval report with 8,000 errors.

Writes ``bench.md``, ``bench.json`` and small PNG plots into the output folder.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from summarizer.devtools import loadclient
from summarizer.devtools.chatstub import ChatStub, Reply

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "eval" / "docs"
GOLD = ROOT / "eval" / "gold"
PARTS = ("rules", "llm-stub", "local", "peer", "scale", "linear", "serve")
_GOAL_NUM = re.compile(r"\d+(?:\.\d+)?")


# ---- machine -------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        m = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())
        mem_gb = round(int(m.group(1)) / 1024 / 1024, 1) if m else None
    except OSError:
        pass
    try:
        nproc = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        nproc = os.cpu_count() or 1
    return {"cpu": cpu or platform.processor(), "nproc": nproc, "memory_gb": mem_gb,
            "python": platform.python_version(), "platform": platform.platform(),
            "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "loadavg_start": [round(x, 2) for x in os.getloadavg()]}


def _maxrss_mb() -> float:
    """This process's peak RSS in MB: VmHWM on Linux, since ru_maxrss of a process started by
    vfork+exec carries its parent's peak."""
    try:
        with open("/proc/self/status") as f:
            kib = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
        return round(kib / 1024, 1)
    except (OSError, StopIteration, ValueError):
        return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


def cpu_ticks() -> dict[str, float] | None:
    """Seconds all cores spent busy, idle and stolen (by the hypervisor from this virtual
    machine) since boot, from Linux's /proc/stat; None where there is none. Between two
    readings: how busy the machine was during a run, and whether its host took CPU away."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    tick = os.sysconf("SC_CLK_TCK")
    user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return {"busy": (user + nice + system + irq + softirq) / tick, "idle": (idle + iowait) / tick,
            "steal": steal / tick}


def _worker(kind: str, args: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
    """Run `kind` in a fresh interpreter (own peak RSS); its JSON answer goes through a file."""
    with tempfile.NamedTemporaryFile("r", suffix=".json", delete=False) as f:
        out = Path(f.name)
    args = {**args, "out": str(out)}
    cmd = [sys.executable, "-m", "summarizer.devtools.bench", "--worker", kind, "--args", json.dumps(args)]
    timed_out = False
    try:
        subprocess.run(cmd, check=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        timed_out = True
    try:
        text = out.read_text()
        data = json.loads(text) if text.strip() else {}
    finally:
        out.unlink(missing_ok=True)
    data["timed_out"] = timed_out
    return data


# ---- part 1: rules at scale -------------------------------------------------------------


def replicate(src: Path, n: int, dest: Path) -> list[Path]:
    files = sorted(p for p in src.iterdir() if p.is_file() and p.suffix in (".txt", ".html", ".htm"))
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        s = files[i % len(files)]
        p = dest / f"{i:05d}_{s.stem}{s.suffix}"
        shutil.copyfile(s, p)
        out.append(p)
    return out


def _rules_worker(args: dict[str, Any]) -> dict[str, Any]:
    from summarizer.backends import get_backend
    from summarizer.pipeline import run_batch

    docs = Path(args["docs"])
    raw_bytes = sum(p.stat().st_size for p in docs.iterdir())
    backend = get_backend("rules")  # imports (about 1 s, the openai client's) stay out of the time
    rss0 = _maxrss_mb()
    load0 = os.getloadavg()[0]
    me0 = resource.getrusage(resource.RUSAGE_SELF)
    ticks0 = cpu_ticks()
    t0 = time.perf_counter()
    summary = run_batch([docs], args["db"], backend, jobs=int(args.get("jobs", 1)), keep_results=False,
                        results=False)  # as the CLI runs it
    wall = time.perf_counter() - t0
    ticks1 = cpu_ticks()
    machine_s = {k: ticks1[k] - ticks0[k] for k in ticks0} if ticks0 and ticks1 else {}
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"docs": summary.documents, "ok": summary.count("ok"), "wall_s": wall, "bytes": raw_bytes,
            "rss_before_mb": rss0, "peak_rss_mb": _maxrss_mb(),
            "worker_peak_rss_mb": round(kids.ru_maxrss / 1024, 1) if int(args.get("jobs", 1)) > 1 else None,
            # CPU seconds: what the run cost whatever else shared the cores.
            "cpu_main_s": (me.ru_utime + me.ru_stime) - (me0.ru_utime + me0.ru_stime),
            "cpu_workers_s": kids.ru_utime + kids.ru_stime,
            "loadavg": [round(load0, 2), round(os.getloadavg()[0], 2)],
            # the whole machine's cores meanwhile (this run and anything else): idle and stolen seconds
            "machine_idle_s": machine_s.get("idle"), "machine_steal_s": machine_s.get("steal")}


def bench_rules(sizes: Iterable[int], work: Path, docs_dir: Path, log: Callable[[str], None],
                jobs: Iterable[int] = (1, 2), repeat: int = 1) -> list[dict]:
    """Every size's jobs levels run one after another, `repeat` times over (rounds): on a
    machine whose speed drifts from minute to minute, one run of each says little, and a
    speed-up compares the runs of one round, made moments apart (`rules_medians`). Rounds
    are the outer loop, so the sizes are compared through the same minutes, not one
    size's runs all before the other's (ms per document, 1,000 against 10,000)."""
    rows = []
    jobs, sizes = tuple(jobs), tuple(sizes)
    for n in sizes:
        replicate(docs_dir, n, work / f"rules_{n}" / "docs")
    for rep in range(max(1, repeat)):
        for n in sizes:
            rows += _rules_round(n, work / f"rules_{n}", jobs, rep, log)
    for n in sizes:
        shutil.rmtree(work / f"rules_{n}" / "docs")
    return rows


def _rules_round(n: int, d: Path, jobs: tuple[int, ...], rep: int, log: Callable[[str], None]) -> list[dict]:
    """One run per jobs level on the replicated documents in `d`; speed-ups against this round's first."""
    rows = []
    base = None
    for j in jobs:
        db = d / f"results_{j}.db"
        r = _worker("rules", {"docs": str(d / "docs"), "db": str(db), "jobs": j})
        for f in d.glob(f"results_{j}.db*"):
            f.unlink()  # 10,000 documents make a 1 GB database: one at a time
        r["size"], r["jobs"], r["round"] = n, j, rep + 1
        r["docs_per_s"] = r["docs"] / r["wall_s"]
        r["mb_per_s"] = r["bytes"] / 1e6 / r["wall_s"]
        r["ms_per_doc"] = 1000 * r["wall_s"] / n
        base = base or r["wall_s"]
        r["speedup"] = base / r["wall_s"]
        r["cpu_ms_per_doc"] = 1000 * (r["cpu_main_s"] + r["cpu_workers_s"]) / n
        # On idle cores the run takes as long as its busiest process: the main one, or the
        # workers' CPU spread over the cores they have (an estimate, not a measurement).
        cores = min(j, os.cpu_count() or 1) if j > 1 else 1
        r["idle_estimate_s"] = max(r["cpu_main_s"], r["cpu_workers_s"] / cores) if j > 1 else r["cpu_main_s"]
        r["idle_mb_per_s"] = r["bytes"] / 1e6 / r["idle_estimate_s"] if r["idle_estimate_s"] else None
        rows.append(r)
        log(f"rules {n:>5} docs jobs {j}: {r['wall_s']:.2f}s, {r['mb_per_s']:.2f} MB/s, "
            f"{r['ms_per_doc']:.1f} ms/doc, x{r['speedup']:.2f}, peak {r['peak_rss_mb']} MB "
            f"(workers {r['worker_peak_rss_mb']} MB), CPU main {r['cpu_main_s']:.1f}s workers "
            f"{r['cpu_workers_s']:.1f}s, load {r['loadavg']}")
    return rows


def rules_medians(rows: list[dict]) -> list[dict]:
    """Per size and jobs level: the median of the rounds' MB/s and speed-ups, and their range."""
    out = []
    for key in dict.fromkeys((r["size"], r.get("jobs", 1)) for r in rows):
        rs = [r for r in rows if (r["size"], r.get("jobs", 1)) == key]
        mb, up = [r["mb_per_s"] for r in rs], [r["speedup"] for r in rs if r.get("speedup")]
        out.append({"size": key[0], "jobs": key[1], "rounds": len(rs), "mb_per_s": statistics.median(mb),
                    "mb_min": min(mb), "mb_max": max(mb), "speedup": statistics.median(up) if up else None,
                    "speedup_min": min(up) if up else None, "speedup_max": max(up) if up else None,
                    "ms_per_doc": statistics.median(r["ms_per_doc"] for r in rs),
                    "cpu_ms_per_doc": statistics.median(r["cpu_ms_per_doc"] for r in rs),
                    "peak_rss_mb": max(r["peak_rss_mb"] for r in rs)})
    return out


# ---- part 2: the openai backend against a latency stub ------------------------------------


class LatencyStub(ChatStub):
    """Answers every request after `latency` seconds.

    It answers one grounded goal (a verbatim clause of the chunk holding a number)
    or {"g":[]}; usage counts characters: prompt_tokens = characters of all messages,
    completion_tokens = characters of the answer.
    """

    def __init__(self, latency: float = 0.2) -> None:
        self.latency = latency
        self.prompt_chars = 0
        super().__init__()

    def respond(self, body: dict[str, Any]) -> Reply:
        msgs = body.get("messages", [])
        chars = sum(len(m.get("content") or "") for m in msgs if isinstance(m.get("content"), str))
        with self._lock:
            self.prompt_chars += chars
        content = json.dumps(self.answer(msgs[-1].get("content", "") if msgs else ""), ensure_ascii=False)
        return Reply(content=content, delay=self.latency, prompt_tokens=chars, completion_tokens=len(content))

    @staticmethod
    def answer(user: str) -> dict[str, Any]:
        data = user.split("<<<DATA", 1)[-1].split("DATA>>>", 1)[0]
        for clause in re.split(r"[，。；;\n|]", data):
            clause = clause.strip()
            for m in _GOAL_NUM.finditer(clause):
                num = m.group(0)
                if len(num) == 4 and num.startswith("20"):
                    continue  # a year
                return {"g": [{"q": clause, "i": clause[: max(1, m.start())][:20] or clause, "v": float(num),
                               "m": None, "u": None, "c": "at_least", "y": None}]}
        return {"g": []}


class StubProcess:
    """The latency stub in a process of its own, as a real server would be: its request
    handling does not take the benchmark's CPU time or interpreter lock."""

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.base_url = ""

    def __enter__(self) -> StubProcess:
        import multiprocessing

        ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve_stub, args=(self.latency, child), daemon=True)
        self._proc.start()
        self.base_url = self._conn.recv()
        return self

    def __exit__(self, *exc: object) -> None:
        self._conn.send("stop")
        self._proc.join(10)
        if self._proc.is_alive():
            self._proc.terminate()


def _serve_stub(latency: float, conn: Any) -> None:
    with LatencyStub(latency) as stub:
        conn.send(stub.base_url)
        conn.recv()  # until the benchmark says stop


def _stub_run(stub: Any, docs: list[Path], db: Path, scope: str, chunk_jobs: int, doc_jobs: int,
              per_doc: bool = False) -> dict[str, Any]:
    from summarizer.backends import get_backend
    from summarizer.pipeline import run_batch
    from summarizer.store import db as store

    backend = get_backend("openai", base_url=stub.base_url, model="bench-stub", db_path=str(db),
                          jobs=chunk_jobs, in_flight=max(chunk_jobs, doc_jobs), scope=scope,
                          backoff_initial=0.05, backoff_jitter=0.0)
    docs_rows: list[dict[str, Any]] = []
    last = {"calls": 0, "prompt": 0, "t": time.perf_counter()}

    def on_doc(o: Any) -> None:
        s = backend.stats
        now = time.perf_counter()
        docs_rows.append({"doc_id": o.doc_id, "status": o.status, "calls": s.calls - last["calls"],
                          "prompt_tokens": s.prompt_tokens - last["prompt"], "wall_s": now - last["t"]})
        last.update(calls=s.calls, prompt=s.prompt_tokens, t=now)

    t0 = time.perf_counter()
    last["t"] = t0
    summary = run_batch(docs, db, backend, force=True, jobs=doc_jobs, on_doc=on_doc if per_doc else None)
    wall = time.perf_counter() - t0
    s = backend.stats
    out: dict[str, Any] = {
        "wall_s": wall, "calls": s.calls, "cache_hits": s.cache_hits, "prompt_tokens": s.prompt_tokens,
        "completion_tokens": s.completion_tokens, "failed": summary.count("failed"), "dropped": s.dropped,
    }
    if per_doc:
        conn = store.open_db(db)
        for row in docs_rows:
            doc = next(conn.table("documents").rows_where("id = ?", [row["doc_id"]]), None)
            row["clean_chars"] = len(doc["clean_text"]) if doc else 0
            row["tokens_per_char"] = row["prompt_tokens"] / row["clean_chars"] if row["clean_chars"] else 0.0
        conn.close()
        out["per_doc"] = docs_rows
    close = getattr(backend, "close", None)
    if close:
        close()
    return out


def bench_stub(jobs: Iterable[int], latency: float, work: Path, docs_dir: Path,
               log: Callable[[str], None], scopes: Iterable[str] = ("targets", "residual"),
               stub_docs: int = 0) -> dict[str, Any]:
    """stub_docs > 0 replicates the corpus to that many documents, so that calls
    outnumber jobs and the ideal time (calls x latency / jobs) is reachable at all."""
    docs = sorted(p for p in docs_dir.iterdir() if p.is_file() and p.suffix == ".txt")
    if stub_docs:
        # Copies must differ where the model reads (a figure only the model reads, one the
        # rules read), or the cache would answer them and no request would overlap.
        docs = replicate(docs_dir, stub_docs, work / "stub_docs")
        for i, p in enumerate(docs):
            with p.open("a", encoding="utf-8") as f:
                f.write(f"\n审批时限“最多{i + 1}天”，完成{i + 1}项改造。\n")
    rows, per_doc = [], {}
    with StubProcess(latency) as stub:
        _stub_run(stub, docs[:2], work / "stub_warmup.db", "targets", chunk_jobs=2, doc_jobs=2)  # not reported
        for scope in scopes:
            for mode in ("chunks", "docs", "cli"):
                for j in jobs:
                    db = work / f"stub_{scope}_{mode}_{j}.db"
                    cj = j if mode in ("chunks", "cli") else 1
                    dj = j if mode in ("docs", "cli") else 1
                    first = _stub_run(stub, docs, db, scope, chunk_jobs=cj, doc_jobs=dj,
                                      per_doc=(j == 1 and mode == "chunks"))
                    again = _stub_run(stub, docs, db, scope, chunk_jobs=cj, doc_jobs=dj)
                    ideal = first["calls"] * latency / j
                    row = {"scope": scope, "mode": mode, "jobs": j,
                           **{k: v for k, v in first.items() if k != "per_doc"},
                           "ideal_s": ideal, "ratio": first["wall_s"] / ideal if ideal else None,
                           "of_ideal": ideal / first["wall_s"] if first["wall_s"] else None,
                           "loadavg": round(os.getloadavg()[0], 2),
                           "rerun_calls": again["calls"], "rerun_cache_hits": again["cache_hits"],
                           "rerun_wall_s": again["wall_s"]}
                    rows.append(row)
                    if "per_doc" in first:
                        per_doc[scope] = first["per_doc"]
                    log(f"stub {scope:8} {mode:6} jobs={j}: {first['wall_s']:.2f}s (ideal {ideal:.2f}s), "
                        f"{first['calls']} calls, re-run {again['calls']} calls")
    return {"rows": rows, "per_doc": per_doc if not stub_docs else {}, "latency": latency, "docs": len(docs)}


# ---- part 3: the embedded local model -------------------------------------------------------


def _local_worker(args: dict[str, Any]) -> dict[str, Any]:
    from summarizer.backends import get_backend
    from summarizer.pipeline import run_batch

    rss0 = _maxrss_mb()
    t0 = time.perf_counter()
    backend: Any = get_backend("local", db_path=args["db"])
    backend._ensure_client()  # start the server now, so its load time is reported apart
    startup = time.perf_counter() - t0
    per_doc = []
    last = {"t": time.perf_counter(), "p": 0, "c": 0, "n": 0}

    def on_doc(o: Any) -> None:
        s, now = backend.stats, time.perf_counter()
        per_doc.append({"doc_id": o.doc_id, "status": o.status, "wall_s": now - last["t"], "calls": s.calls - last["n"],
                        "prompt_tokens": s.prompt_tokens - last["p"],
                        "completion_tokens": s.completion_tokens - last["c"]})
        last.update(t=now, p=s.prompt_tokens, c=s.completion_tokens, n=s.calls)

    t1 = time.perf_counter()
    run_batch([Path(args["docs"])], args["db"], backend, on_doc=on_doc)
    wall = time.perf_counter() - t1
    s = backend.stats
    backend.close()
    return {"startup_s": startup, "wall_s": wall, "calls": s.calls, "prompt_tokens": s.prompt_tokens,
            "completion_tokens": s.completion_tokens, "dropped": s.dropped, "per_doc": per_doc,
            "rss_before_mb": rss0, "peak_rss_mb": _maxrss_mb()}


def _f1(db: Path, gold_dir: Path, only: set[str] | None = None) -> dict[str, float]:
    from summarizer.evaluation.gold import load_gold_dir
    from summarizer.evaluation.scoring import score_document, summarize
    from summarizer.store import db as store

    conn = store.open_db(db)
    results = store.latest_results(conn)
    scores = []
    for doc_id, gold in load_gold_dir(gold_dir).items():
        if only is not None and doc_id not in only:
            continue
        rid = results.get(doc_id)
        pred = store.load_result(conn, rid) if rid else None
        scores.append(score_document(gold, pred))
    conn.close()
    o = summarize(scores)["overall"]
    return {k: o[k]["f1"] for k in ("goals", "measures", "responsibilities")}


def bench_local(work: Path, docs_dir: Path, log: Callable[[str], None]) -> dict[str, Any]:
    db = work / "local.db"
    r = _worker("local", {"docs": str(docs_dir), "db": str(db)})
    r["db"] = str(db)
    log(f"local: {r.get('wall_s', 0):.1f}s after {r.get('startup_s', 0):.1f}s startup, {r.get('calls')} calls")
    return r


def rules_db(work: Path, docs_dir: Path) -> Path:
    from summarizer.backends import get_backend
    from summarizer.pipeline import run_batch

    db = work / "rules_quality.db"
    if not db.exists():
        run_batch([docs_dir], db, get_backend("rules"))
    return db


# ---- part 4: LangExtract on the same local model ---------------------------------------------

PEER_PROMPT = """从中国政府政策文件中按原文顺序抽取三类信息，extraction_text 必须是原文的逐字片段，不得改写：
1. goal：量化目标（含数字的指标），属性 indicator（指标名称）、value（数值，只写数字）、
   unit（单位，如 %、亿元、家、个）、
   comparator（increase_by / decrease_by / at_least / at_most / about / exactly 之一）、
   year（目标年份，无则空）。
2. measure：编号的任务措施标题（如“（一）加快产业升级”），属性 number（编号，如 一、1、（二） 去掉标点后的 一、1、二）。
3. responsibility：负责某项措施的单位，属性 unit（单位名称）、
   role（lead 牵头 / support 配合 / implement 实施 / responsible 负责）。
只抽取原文中出现的内容；没有就不抽。"""


def _peer_examples() -> list[Any]:
    import langextract as lx

    text = ("到2025年，全市规模以上工业增加值年均增长8%以上，新增高新技术企业100家。\n"
            "（一）加快数字化转型。推动企业上云用数赋智。（责任单位：市工信局牵头，市科技局配合）")
    return [lx.data.ExampleData(text=text, extractions=[
        lx.data.Extraction(extraction_class="goal", extraction_text="规模以上工业增加值年均增长8%以上",
                           attributes={"indicator": "规模以上工业增加值年均增长", "value": "8", "unit": "%",
                                       "comparator": "at_least", "year": "2025"}),
        lx.data.Extraction(extraction_class="goal", extraction_text="新增高新技术企业100家",
                           attributes={"indicator": "新增高新技术企业", "value": "100", "unit": "家",
                                       "comparator": "exactly", "year": "2025"}),
        lx.data.Extraction(extraction_class="measure", extraction_text="（一）加快数字化转型",
                           attributes={"number": "一"}),
        lx.data.Extraction(extraction_class="responsibility", extraction_text="市工信局",
                           attributes={"unit": "市工信局", "role": "lead"}),
        lx.data.Extraction(extraction_class="responsibility", extraction_text="市科技局",
                           attributes={"unit": "市科技局", "role": "support"}),
    ])]


def peer_to_result(doc_id: str, text: str, extractions: list[Any]) -> Any:
    """LangExtract extractions -> a DocumentResult built without our validators (scored as is)."""
    from summarizer.models import (
        Comparator,
        DocumentResult,
        GroundedGoal,
        GroundedMeasure,
        Plan,
        Responsibility,
        Role,
    )

    def pos(e: Any) -> tuple[int, int]:
        ci = getattr(e, "char_interval", None)
        if ci is not None and ci.start_pos is not None and ci.end_pos is not None:
            return int(ci.start_pos), int(ci.end_pos)
        at = text.find(e.extraction_text)
        return (at, at + len(e.extraction_text)) if at >= 0 else (0, len(e.extraction_text))

    goals, measures = [], []
    for e in sorted(extractions, key=lambda e: pos(e)[0]):
        a = {k: (str(v).strip() if v is not None else "") for k, v in (e.attributes or {}).items()}
        start, end = pos(e)
        quote = e.extraction_text or ""
        if e.extraction_class == "goal":
            m = _GOAL_NUM.search(a.get("value", "")) or _GOAL_NUM.search(quote)
            if not m or not quote:
                continue
            comp = a.get("comparator", "")
            year = a.get("year", "")
            goals.append(GroundedGoal.model_construct(
                indicator=a.get("indicator") or quote, value=float(m.group(0)), value_max=None,
                unit=a.get("unit") or None,
                comparator=Comparator(comp) if comp in Comparator.__members__ else Comparator.exactly,
                year=int(year) if year.isdigit() and 1949 <= int(year) <= 2100 else None,
                quote=quote, start=start, end=end))
        elif e.extraction_class == "measure" and quote:
            number = re.sub(r"[（）()、.．\s]", "", a.get("number", ""))
            title = re.sub(r"^[（(]?[一二三四五六七八九十百\d]+[）)、.．]?\s*", "", quote) or quote
            measures.append(GroundedMeasure.model_construct(
                number=number, title=title, section=None, summary=None, responsibilities=[],
                quote=quote, start=start, end=end, body_end=None))
        elif e.extraction_class == "responsibility" and measures:
            role = a.get("role", "")
            unit = a.get("unit") or quote
            if unit and role in Role.__members__:
                measures[-1].responsibilities.append(Responsibility(unit=unit, role=Role(role)))
    return DocumentResult.model_construct(doc_id=doc_id, plan=Plan(), goals=goals, measures=measures,
                                          dropped=0, notes=[])


def _peer_worker(args: dict[str, Any]) -> dict[str, Any]:
    import langextract as lx
    from langextract.providers.openai import OpenAILanguageModel

    from summarizer.backends import localmodel
    from summarizer.ingest.load import read_document
    from summarizer.pipeline import prepare

    out = Path(args["out"])
    t0 = time.perf_counter()
    mf = localmodel.locate(None)
    server = localmodel.LocalServer(mf)
    startup = time.perf_counter() - t0
    model = OpenAILanguageModel(model_id=mf.name, api_key="no-key", base_url=server.base_url,
                                temperature=0.0, max_workers=1)
    usage = {"calls": 0, "prompt": 0, "completion": 0}
    create = model._client.chat.completions.create

    def counted(*a: Any, **kw: Any) -> Any:
        kw.setdefault("max_tokens", 1024)
        resp = create(*a, **kw)
        usage["calls"] += 1
        if resp.usage is not None:
            usage["prompt"] += resp.usage.prompt_tokens or 0
            usage["completion"] += resp.usage.completion_tokens or 0
        return resp

    model._client.chat.completions.create = counted
    docs = sorted((p for p in Path(args["docs"]).iterdir() if p.suffix == ".txt"), key=lambda p: p.stat().st_size)
    state: dict[str, Any] = {"startup_s": startup, "docs": []}
    for p in docs:
        raw = read_document(p)
        text, _doc = prepare(raw.doc_id, raw.text)
        before = dict(usage)
        t = time.perf_counter()
        err = ""
        extractions: list[Any] = []
        try:
            res = lx.extract(text_or_documents=text, prompt_description=PEER_PROMPT, examples=_peer_examples(),
                             model=model, fence_output=False, use_schema_constraints=False,
                             max_char_buffer=int(args.get("max_char_buffer", 1500)), show_progress=False)
            extractions = list(res.extractions or [])
        except Exception as exc:  # a peer failure is a result, not a crash of the bench
            err = f"{type(exc).__name__}: {str(exc)[:200]}"
        items = []
        for e in extractions:
            ci = getattr(e, "char_interval", None)
            items.append({"extraction_class": e.extraction_class, "extraction_text": e.extraction_text or "",
                          "attributes": dict(e.attributes or {}),
                          "start": ci.start_pos if ci is not None else None,
                          "end": ci.end_pos if ci is not None else None})
        state["docs"].append({
            "doc_id": raw.doc_id, "wall_s": time.perf_counter() - t, "error": err,
            "calls": usage["calls"] - before["calls"], "prompt_tokens": usage["prompt"] - before["prompt"],
            "completion_tokens": usage["completion"] - before["completion"], "clean_chars": len(text),
            "text": text, "extractions": items,
        })
        state["peak_rss_mb"] = _maxrss_mb()
        out.write_text(json.dumps(state, ensure_ascii=False))  # what finished survives a timeout
    server.close()
    return state


def bench_peer(work: Path, docs_dir: Path, gold_dir: Path, cap_s: float, out_dir: Path,
               log: Callable[[str], None]) -> dict[str, Any]:
    from summarizer.evaluation.gold import load_gold_dir
    from summarizer.evaluation.scoring import score_document, summarize
    from summarizer.models import GoldGoal

    t0 = time.perf_counter()
    r = _worker("peer", {"docs": str(docs_dir)}, timeout=cap_s)
    r["wall_s"] = time.perf_counter() - t0
    golds = load_gold_dir(gold_dir)
    scores, finished = [], []
    peer_dir = out_dir / "peer"
    peer_dir.mkdir(parents=True, exist_ok=True)
    for d in r.get("docs", []):
        if d["doc_id"] not in golds:
            continue
        finished.append(d["doc_id"])
        items = [SimpleNamespace(extraction_class=e["extraction_class"], extraction_text=e["extraction_text"],
                                 attributes=e["attributes"],
                                 char_interval=SimpleNamespace(start_pos=e["start"], end_pos=e["end"]))
                 for e in d.get("extractions", [])]
        pred = peer_to_result(d["doc_id"], d["text"], items)
        scores.append(score_document(golds[d["doc_id"]], pred))
        gold_like = {"doc_id": pred.doc_id, "plan": {},
                     "goals": [g.model_dump(mode="json", include=set(GoldGoal.model_fields), warnings=False)
                               for g in pred.goals],
                     "measures": [{"number": m.number, "title": m.title, "section": m.section,
                                   "responsibilities": [r.model_dump(mode="json") for r in m.responsibilities]}
                                  for m in pred.measures]}
        (peer_dir / f"{d['doc_id']}.json").write_text(json.dumps(gold_like, ensure_ascii=False, indent=1),
                                                      encoding="utf-8")
        d["found"] = {"goals": len(pred.goals), "measures": len(pred.measures),
                      "responsibilities": sum(len(m.responsibilities) for m in pred.measures)}
    r["finished"] = finished
    if scores:
        o = summarize(scores)["overall"]
        r["f1"] = {k: o[k]["f1"] for k in ("goals", "measures", "responsibilities")}
    log(f"peer: {len(finished)} docs finished in {r['wall_s']:.0f}s (timed out: {r.get('timed_out')})")
    return r


# ---- part: the HTTP service against the CLI --------------------------------------------------


def distinct_docs(src: Path, n: int, dest: Path) -> list[Path]:
    """The sample corpus copied to n files whose contents all differ (the service answers a
    repeated content from its store, which would flatter it)."""
    files = replicate(src, n, dest)
    for i, p in enumerate(files):
        with p.open("a", encoding="utf-8") as f:
            f.write(f"\n（本件编号{i + 1}）\n")
    return files


SERVE_MODES = loadclient.MODES


_SERVER_PIDS: dict[str, int] = {}  # base URL -> pid of the `summarizer serve` answering there


def proc_cpu_s(pid: int) -> float | None:
    """CPU seconds (user + system) of a live process and its live descendants (the service's
    worker processes), from Linux's /proc; None where there is no /proc."""
    try:
        tick = os.sysconf("SC_CLK_TCK")
        pids, total = [pid], 0
        for p in pids:  # grows as children are found
            for task in Path(f"/proc/{p}/task").iterdir():
                pids += [int(k) for k in (task / "children").read_text().split()]
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
        return total / tick
    except (OSError, ValueError):
        return None


def child_pids(pid: int) -> list[int]:
    """Live child processes of a process (Linux /proc; empty where there is none)."""
    try:
        return [int(k) for t in Path(f"/proc/{pid}/task").iterdir() for k in (t / "children").read_text().split()]
    except (OSError, ValueError):
        return []


@contextlib.contextmanager
def serve_subprocess(db: Path, *args: str, timeout: float = 60.0) -> Iterator[str]:
    """`summarizer serve` on a free loopback port until the block ends; yields its base URL."""
    import httpx2

    from summarizer.backends.localmodel import free_port

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "summarizer.interfaces.console", "serve", "--db", str(db),
                             "--port", str(port), *args], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx2.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"summarizer serve did not start (exit {proc.poll()})")
            time.sleep(0.1)
        _SERVER_PIDS[base] = proc.pid
        yield base
    finally:
        _SERVER_PIDS.pop(base, None)
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def bench_serve(work: Path, docs_dir: Path, log: Callable[[str], None], clients: Iterable[int] = (1, 4, 16),
                n_docs: int = 200, jobs: Iterable[int] = (1,), modes: Iterable[str] = SERVE_MODES) -> dict[str, Any]:
    """Per level, `run_batch` on the documents and then the service on them (once per client
    mode), back to back: on a shared machine the load drifts over minutes, so each ratio
    compares runs made moments apart. Both get the same `--jobs` (`summarizer run --jobs N`
    and `summarizer serve --jobs N`)."""
    modes = tuple(modes)
    if set(modes) - set(SERVE_MODES):
        raise ValueError(f"unknown serve modes {sorted(set(modes) - set(SERVE_MODES))}; choose from "
                         f"{', '.join(SERVE_MODES)}")
    folder = work / "serve_docs"
    files = distinct_docs(docs_dir, n_docs, folder)
    rows = []
    for j in jobs:
        for c in clients:
            load0 = round(os.getloadavg()[0], 2)
            cli = _worker("rules", {"docs": str(folder), "db": str(work / f"serve_cli_{j}_{c}.db"), "jobs": j})
            cli_rate = cli["docs"] / cli["wall_s"]
            cli_cpu = (cli.get("cpu_main_s") or 0) + (cli.get("cpu_workers_s") or 0)
            for mode in modes:
                with serve_subprocess(work / f"serve_{j}_{c}_{mode}.db", "--backend", "rules", "--jobs", str(j),
                                      "--queue", str(n_docs + 100)) as base:
                    pid = _SERVER_PIDS.get(base)
                    kids = child_pids(pid) if pid else []  # the worker process (the pipeline), if any
                    cpu0 = proc_cpu_s(pid) if pid else None
                    pipe0 = proc_cpu_s(kids[0]) if len(kids) == 1 else None
                    r = loadclient.post_all(base, files, c, mode=mode)
                    cpu1 = proc_cpu_s(pid) if pid else None
                    pipe1 = proc_cpu_s(kids[0]) if len(kids) == 1 else None
                serve_cpu = cpu1 - cpu0 if cpu0 is not None and cpu1 is not None else None
                pipe_cpu = pipe1 - pipe0 if pipe0 is not None and pipe1 is not None else None
                rate = r["ok"] / r["wall_s"] if r["wall_s"] else 0.0
                rows.append({"jobs": j, "clients": c, "mode": mode, "docs": r["ok"], "cli_docs": cli["docs"],
                             "cli_wall_s": cli["wall_s"], "cli_docs_per_s": cli_rate, "wall_s": r["wall_s"],
                             "docs_per_s": rate, "ratio": rate / cli_rate, "p50_ms": r["p50_ms"],
                             "p95_ms": r["p95_ms"], "failed": r["failed"] + cli["docs"] - cli["ok"],
                             "failures": r["failures"], "loadavg": [load0, round(os.getloadavg()[0], 2)],
                             # CPU ms per document: the server process and its workers, from the first post
                             # to the last answer; the clients (this process) apart; `run` whole (its view
                             # refresh included).
                             "serve_cpu_ms": 1000 * serve_cpu / r["ok"] if serve_cpu is not None and r["ok"] else None,
                             "client_cpu_ms": r["client_cpu_ms"],
                             # of which the worker process (the pipeline and its pool); the rest is HTTP
                             "pipeline_cpu_ms": 1000 * pipe_cpu / r["ok"] if pipe_cpu is not None and r["ok"] else None,
                             "cli_cpu_ms": 1000 * cli_cpu / cli["docs"] if cli["docs"] else None})
                log(f"serve: jobs {j}, {c:>2} clients, {mode}: {r['ok']} docs in {r['wall_s']:.2f}s, "
                    f"{rate:.1f} docs/s; summarizer run {cli_rate:.1f} docs/s; ratio {rate / cli_rate:.2f}; "
                    f"p50 {r['p50_ms'] or 0:.0f} ms, p95 {r['p95_ms'] or 0:.0f} ms")
    return {"docs": n_docs, "rows": rows}


# ---- report ---------------------------------------------------------------------------------


def _table(head: list[str], rows: list[list[Any]]) -> str:
    def fmt(v: Any) -> str:
        if v is None:
            return "–"
        if isinstance(v, float):
            return f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"
        return str(v)

    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(fmt(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def _plot(path: Path, title: str, xlabel: str, ylabel: str, series: list[tuple[str, list, list, str]],
          logx: bool = False) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2), dpi=80)
    for label, xs, ys, style in series:
        ax.plot(xs, ys, style, label=label)
    if logx:
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_report(out_dir: Path, res: dict[str, Any]) -> Path:
    m = res["machine"]
    md = ["# Benchmarks", "",
          f"- date: {m['date']}; total bench time {res.get('total_s', 0):.0f} s",
          f"- CPU: {m['cpu']}; nproc {m['nproc']}; memory {m['memory_gb']} GB",
          f"- Python {m['python']} on {m['platform']}",
          f"- load average at start {m['loadavg_start']}, at end {res.get('loadavg_end')} "
          "(the machine is shared: other work ran during the bench, so every time here was taken under load)",
          ""]
    if "rules" in res:
        rows = res["rules"]
        md += ["## rules: clean + outline + rules + store (run_batch, fresh db, one subprocess per size and jobs)", "",
               _table(["documents", "jobs", "round", "wall s", "docs/s", "MB raw text/s", "ms/doc (time/size)",
                       "speed-up vs jobs 1", "peak RSS MB (main)", "peak RSS MB (largest worker)",
                       "CPU s main", "CPU s workers", "CPU ms/doc", "MB/s on idle cores (estimate)",
                       "load avg start/end", "cores idle s", "CPU stolen s"],
                      [[r["size"], r.get("jobs", 1), r.get("round", 1), r["wall_s"], r["docs_per_s"], r["mb_per_s"],
                        r["ms_per_doc"],
                        r.get("speedup"), r["peak_rss_mb"], r.get("worker_peak_rss_mb"), r.get("cpu_main_s"),
                        r.get("cpu_workers_s"), r.get("cpu_ms_per_doc"), r.get("idle_mb_per_s"),
                        "/".join(str(x) for x in r.get("loadavg", [])), r.get("machine_idle_s"),
                        r.get("machine_steal_s")] for r in rows]), "",
               "The measured columns are wall, docs/s, MB/s, ms/doc and speed-up. The CPU columns say what the "
               "run cost whatever else shared the cores; the last estimate is raw MB / the busiest process's "
               "CPU time (the main process, or the workers' CPU time over min(jobs, cores)), i.e. the rate "
               "the same work would reach with the cores to itself. It is an estimate, not a measurement. "
               "`cores idle s` and `CPU stolen s` are the whole machine's during the run (Linux /proc/stat, "
               "all cores): idle time with `--jobs 2` is time the run left a core unused; stolen time is "
               "CPU the virtual machine's host gave to others.", "",
               "The sample corpus (5 documents) copied under distinct ids; MB = raw UTF-8 bytes of the files. "
               "Linear growth shows as a flat ms/doc column. jobs 1 runs everything in one process; jobs N "
               "reads, cleans and runs the rules in min(N, cores) worker processes while the main process "
               "writes (one writer, several documents per transaction). The time excludes importing the "
               "program; the load average (1 min, at start and end of each run) shows how much else ran "
               "on the machine's cores meanwhile.", "",
               "![time vs documents](time_vs_docs.png)", ""]
        med = rules_medians(rows)
        if any(m["rounds"] > 1 for m in med):
            md += ["Medians over the rounds (each round runs every jobs level once, one after another; a "
                   "speed-up compares the runs of one round):", "",
                   _table(["documents", "jobs", "rounds", "MB raw text/s, median", "min", "max",
                           "speed-up, median", "min", "max", "ms/doc, median", "CPU ms/doc, median",
                           "peak RSS MB (main), max"],
                          [[m["size"], m["jobs"], m["rounds"], m["mb_per_s"], m["mb_min"], m["mb_max"],
                            m["speedup"], m["speedup_min"], m["speedup_max"], m["ms_per_doc"], m["cpu_ms_per_doc"],
                            m["peak_rss_mb"]] for m in med]), ""]
        series = []
        for j, style in ((1, "o-"), (2, "s-"), (4, "^-"), (8, "v-")):
            rs = [{"size": m["size"], "wall_s": m["ms_per_doc"] * m["size"] / 1000} for m in med if m["jobs"] == j]
            if rs:
                series.append((f"jobs {j}", [r["size"] for r in rs], [r["wall_s"] for r in rs], style))
        first = [{"size": m["size"], "wall_s": m["ms_per_doc"] * m["size"] / 1000} for m in med
                 if m["jobs"] == rows[0].get("jobs", 1)]
        series.append((f"linear from the smallest (jobs {rows[0].get('jobs', 1)})", [r["size"] for r in first],
                       [first[0]["wall_s"] * r["size"] / first[0]["size"] for r in first], "k--"))
        _plot(out_dir / "time_vs_docs.png", "rules backend: wall time vs documents", "documents", "seconds",
              series, logx=True)
    if "llm_stub" in res:
        st = res["llm_stub"]
        md += [f"## openai backend against a stub with {st['latency']} s latency per request "
               f"({st['docs']} sample docs)",
               "",
               "mode `chunks` = `LLMSettings.jobs` (chunks of one document at once, documents one after another); "
               "mode `docs` = `run_batch(jobs=)` (documents at once, chunks of each one after another); "
               "mode `cli` = both, as `summarizer run --jobs N` sets them (N requests in flight in all). "
               "ideal = calls x latency / jobs; ideal/wall is the fraction of it reached (1 = perfect). "
               "The re-run is an identical run (`--force`) on the same db. The stub runs in a process of its "
               "own (as a real server would be elsewhere); the load average is the machine's at the end of "
               "each row (other work shared the 2 cores).", "",
               _table(["scope", "mode", "jobs", "calls", "wall s", "ideal s", "ideal/wall", "prompt tokens",
                       "re-run calls", "re-run cache hits", "re-run wall s", "failed", "load avg"],
                      [[r["scope"], r["mode"], r["jobs"], r["calls"], r["wall_s"], r["ideal_s"],
                        r.get("of_ideal") or (1 / r["ratio"] if r.get("ratio") else None),
                        r["prompt_tokens"], r["rerun_calls"], r["rerun_cache_hits"], r["rerun_wall_s"], r["failed"],
                        r.get("loadavg")]
                       for r in st["rows"]]), ""]
        for scope, docs in st["per_doc"].items():
            md += [f"Per document, scope `{scope}` (jobs 1; prompt tokens = characters sent, the stub's count):", "",
                   _table(["document", "calls", "prompt tokens", "clean chars", "prompt tokens / clean char"],
                          [[d["doc_id"], d["calls"], d["prompt_tokens"], d["clean_chars"], d["tokens_per_char"]]
                           for d in docs]), ""]
        md += ["![time vs jobs](time_vs_jobs.png)", ""]
        series = []
        for scope, style in (("targets", "o-"), ("residual", "s-")):
            for mode in ("chunks", "docs", "cli"):
                rs = [r for r in st["rows"] if r["scope"] == scope and r["mode"] == mode]
                if rs:
                    series.append((f"{scope}, {mode}", [r["jobs"] for r in rs], [r["wall_s"] for r in rs],
                                   {"docs": style, "chunks": style.replace("-", ":"),
                                    "cli": style.replace("-", "-.")}[mode]))
            rs = [r for r in st["rows"] if r["scope"] == scope and r["mode"] == "docs"]
            if rs:
                series.append((f"{scope}, ideal", [r["jobs"] for r in rs], [r["ideal_s"] for r in rs], "k--"
                               if scope == "targets" else "k-."))
        _plot(out_dir / "time_vs_jobs.png", f"openai backend vs stub ({st['latency']} s/request)", "jobs",
              "seconds", series)
    quality = []
    if "rules_f1" in res:
        quality.append(["rules", res["rules_f1"], None, None, None, None, None])
    if "local" in res:
        lo = res["local"]
        md += ["## local: embedded model (default settings: scope residual), 5 sample docs, one subprocess", "",
               f"Server start-up {lo.get('startup_s', 0):.1f} s (not in the times below); peak RSS "
               f"{lo.get('peak_rss_mb')} MB (model file mapped in), {lo.get('rss_before_mb')} MB before.", "",
               _table(["document", "wall s", "calls", "prompt tokens", "completion tokens", "completion tok/s"],
                      [[d["doc_id"], d["wall_s"], d["calls"], d["prompt_tokens"], d["completion_tokens"],
                        d["completion_tokens"] / d["wall_s"] if d["wall_s"] else None]
                       for d in lo.get("per_doc", [])]
                      + [["**all**", lo.get("wall_s"), lo.get("calls"), lo.get("prompt_tokens"),
                          lo.get("completion_tokens"),
                          (lo.get("completion_tokens") or 0) / lo["wall_s"] if lo.get("wall_s") else None]]), "",
               "tok/s is end to end (completion tokens over wall time, prompt processing and the rules included).",
               ""]
        quality.append(["local", lo.get("f1"), lo.get("wall_s"), lo.get("prompt_tokens"),
                        lo.get("completion_tokens"), lo.get("peak_rss_mb"), lo.get("f1_subset")])
    if "peer" in res:
        pe = res["peer"]
        tot = pe.get("docs", [])
        quality.append(["LangExtract 1.x (same model)", pe.get("f1"), sum(d["wall_s"] for d in tot) or None,
                        sum(d["prompt_tokens"] for d in tot) or None, sum(d["completion_tokens"] for d in tot) or None,
                        pe.get("peak_rss_mb"), pe.get("f1")])
    if quality:
        sub = res.get("peer", {}).get("finished")
        md += ["## quality: eval F1 against eval/gold", "",
               "Goals / measures / responsibilities F1 over the 5 sample docs. The last column scores only the "
               f"documents the peer finished ({', '.join(sub) if sub else 'no peer run'}) so rows compare on "
               "the same documents.", "",
               _table(["backend", "goals F1", "measures F1", "resp. F1", "wall s", "prompt tokens",
                       "completion tokens", "peak RSS MB", "F1 g/m/r on peer's docs"],
                      [[q[0], *((q[1] or {}).get(k) for k in ("goals", "measures", "responsibilities")),
                        q[2], q[3], q[4], q[5],
                        "/".join(f"{q[6][k]:.2f}" for k in ("goals", "measures", "responsibilities")) if q[6] else None]
                       for q in quality]), ""]
        if "rules_f1_subset" in res and sub:
            md += ["rules on the peer's documents: " + "/".join(
                f"{res['rules_f1_subset'][k]:.2f}" for k in ("goals", "measures", "responsibilities")), ""]
        if "peer" in res:
            pe = res["peer"]
            md += [f"Peer run: cap {pe.get('cap_s')} s, timed out: {pe.get('timed_out')}; server start-up "
                   f"{pe.get('startup_s', 0):.1f} s; per document:", "",
                   _table(["document", "wall s", "calls", "prompt tokens", "completion tokens", "error"],
                          [[d["doc_id"], d["wall_s"], d["calls"], d["prompt_tokens"], d["completion_tokens"],
                            d["error"] or ""] for d in pe.get("docs", [])]), ""]
    if "serve" in res:
        sv = res["serve"]
        md += [f"## serve: the HTTP service vs `summarizer run` (rules backend, {sv['docs']} distinct documents)", "",
               "`summarizer serve --backend rules --jobs N` in its own process, a fresh db per level and mode; C "
               "client processes share the documents (multipart uploads, each client a process of its own with "
               "one keep-alive connection, `http.client`, bodies encoded before the clock starts: a real client "
               "is on another machine, here it takes from the server's two cores). Mode **wait**: each client "
               "posts one with `?wait=`, takes the 200 with the result and posts the next (one document in flight per "
               "client; latency = one post to its answer). Mode **submit**: each client posts its share without "
               "waiting (202), then collects each result from its status URL with `?wait=` (a long poll), as a "
               "crawler would (latency = post to result collected). docs/s = documents over the wall time "
               "from the first post to the last result. `summarizer run` = `run_batch` with the same "
               "`--jobs N` on the same files in a fresh process, fresh db, run just before each level (the "
               "machine's load drifts; each ratio "
               "compares runs made moments apart). The service's pipeline (the rules backend) runs in a "
               "worker process of its own, HTTP in the server's process; with jobs N > 1 that worker process "
               "has min(N, cores) processes of its own that read and extract while it writes, as `run` does.",
               "",
               _table(["jobs", "clients", "mode", "serve docs/s", "run docs/s", "serve / run", "p50 ms", "p95 ms",
                       "serve wall s", "run wall s", "serve CPU ms/doc", "of which pipeline", "client CPU ms/doc",
                       "run CPU ms/doc", "documents", "failed", "load avg start/end"],
                      [[r.get("jobs", 1), r["clients"], r.get("mode", "wait"), r["docs_per_s"], r["cli_docs_per_s"],
                        r["ratio"], r["p50_ms"], r["p95_ms"], r["wall_s"], r["cli_wall_s"], r.get("serve_cpu_ms"),
                        r.get("pipeline_cpu_ms"), r.get("client_cpu_ms"), r.get("cli_cpu_ms"), r["docs"], r["failed"],
                        "/".join(str(x) for x in r.get("loadavg", []))]
                       for r in sv["rows"]]), "",
               "CPU ms/doc: what each side cost whatever else shared the cores: the server process and its "
               "worker processes from the first post to the last answer (of which pipeline: the worker process "
               "and its pool; the rest is HTTP, intake and the answers' JSON); the client processes (on the same two "
               "cores, from the first post to their last answer); and the whole `run` (its view refresh "
               "included; the service refreshes when idle, after the clock stops).", "",
               "![service throughput](serve_docs_per_s.png)", ""]
        series = []
        for j, style in zip(sorted({r.get("jobs", 1) for r in sv["rows"]}), ("o", "s", "^", "v")):
            rs = [r for r in sv["rows"] if r.get("jobs", 1) == j]
            for mode, line in (("wait", "-"), ("submit", "-.")):
                ms = [r for r in rs if r.get("mode", "wait") == mode]
                if ms:
                    series.append((f"serve {mode}, jobs {j}", [r["clients"] for r in ms],
                                   [r["docs_per_s"] for r in ms], f"{style}{line}"))
            levels = {r["clients"]: r for r in rs}
            xs = sorted(levels)
            series += [(f"run, jobs {j} (just before)", xs, [levels[x]["cli_docs_per_s"] for x in xs], f"k{style}--"),
                       (f"0.8 x run, jobs {j}", xs, [0.8 * levels[x]["cli_docs_per_s"] for x in xs], "k:")]
        _plot(out_dir / "serve_docs_per_s.png", "rules backend: service vs CLI", "concurrent clients", "docs/s",
              series)
    from summarizer.devtools.bench_limits import report_lines

    md += report_lines(res, _table)
    path = out_dir / "bench.md"
    path.write_text("\n".join(md), encoding="utf-8")
    return path


# ---- entry ------------------------------------------------------------------------------------


def run_bench(out_dir: Path, parts: set[str], sizes: Iterable[int] = (1000, 10000),
              jobs: Iterable[int] = (1, 2, 4, 8), latency: float = 0.2, docs_dir: Path = DOCS,
              gold_dir: Path = GOLD, peer_cap_s: float = 360.0, scopes: Iterable[str] = ("targets", "residual"),
              stub_docs: int = 0, scale_sizes: Iterable[int] = (500, 5000), linear_mb: float = 10.0,
              clients: Iterable[int] = (1, 4, 16), serve_docs: int = 200, serve_jobs: Iterable[int] = (1,),
              serve_modes: Iterable[str] = SERVE_MODES, rules_jobs: Iterable[int] = (1, 2), rules_repeat: int = 1,
              log: Callable[[str], None] = lambda s: print(s, file=sys.stderr, flush=True)) -> Path:
    unknown = set(parts) - set(PARTS)
    if unknown:
        raise ValueError(f"unknown bench parts {sorted(unknown)}; choose from {', '.join(PARTS)}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    res: dict[str, Any] = {"machine": machine()}
    with tempfile.TemporaryDirectory(prefix="summarizer-bench-") as tmp:
        work = Path(tmp)
        if "rules" in parts:
            res["rules"] = bench_rules(sizes, work, docs_dir, log, rules_jobs, rules_repeat)
            res["rules_medians"] = rules_medians(res["rules"])
        if "llm-stub" in parts:
            res["llm_stub"] = bench_stub(list(jobs), latency, work, docs_dir, log, tuple(scopes), stub_docs)
        if parts & {"local", "peer"}:
            res["rules_f1"] = _f1(rules_db(work, docs_dir), gold_dir)
        if "local" in parts:
            lo = bench_local(work, docs_dir, log)
            if Path(lo["db"]).exists() and lo.get("wall_s"):
                lo["f1"] = _f1(Path(lo["db"]), gold_dir)
            res["local"] = lo
        if "peer" in parts:
            pe = bench_peer(work, docs_dir, gold_dir, peer_cap_s, out_dir, log)
            pe["cap_s"] = peer_cap_s
            res["peer"] = pe
            sub = set(pe.get("finished", []))
            if sub:
                res["rules_f1_subset"] = _f1(rules_db(work, docs_dir), gold_dir, sub)
                if "local" in res and res["local"].get("wall_s"):
                    res["local"]["f1_subset"] = _f1(Path(res["local"]["db"]), gold_dir, sub)
            for d in pe.get("docs", []):
                d.pop("text", None)
                d.pop("extractions", None)
        if "serve" in parts:
            res["serve"] = bench_serve(work, docs_dir, log, tuple(clients), serve_docs, tuple(serve_jobs),
                                       tuple(serve_modes))
        if parts & {"scale", "linear"}:
            from summarizer.devtools import bench_limits

            if "scale" in parts:
                res["scale"] = bench_limits.bench_scale(scale_sizes, work, docs_dir, log)
            if "linear" in parts:
                res["linear"] = bench_limits.bench_linear(linear_mb, work, docs_dir, log)
        res["total_s"] = time.perf_counter() - t0
        res["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
        path = write_report(out_dir, res)
    (out_dir / "bench.json").write_text(json.dumps(res, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m summarizer.devtools.bench", description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("results/bench"))
    ap.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated: {','.join(PARTS)}")
    ap.add_argument("--sizes", default="1000,10000")
    ap.add_argument("--jobs", default="1,2,4,8")
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--peer-cap", type=float, default=360.0, help="seconds for the whole peer part")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--args", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.worker:
        args = json.loads(a.args)
        from summarizer.devtools.bench_limits import worker as limits_worker

        fn = {"rules": _rules_worker, "local": _local_worker, "peer": _peer_worker, "scale": limits_worker}[a.worker]
        data = fn(args)
        Path(args["out"]).write_text(json.dumps(data, ensure_ascii=False, default=str))
        return 0
    parts = {p.strip() for p in a.parts.split(",") if p.strip()}
    path = run_bench(a.out, parts, tuple(int(x) for x in a.sizes.split(",")), tuple(int(x) for x in a.jobs.split(",")),
                     a.latency, peer_cap_s=a.peer_cap)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
