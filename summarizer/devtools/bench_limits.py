"""Bench parts for bounded memory and linear time (`summarizer bench --parts scale,linear`).

- ``scale``: the sample corpus replicated to N documents (default 500 and 5,000),
  run through `run_batch` (rules) and then exported as JSON, JSONL and CSV, each
  step in a fresh interpreter: wall time and peak RSS (VmHWM). Memory should follow
  the largest document, not the batch: target peak RSS at 5,000 within 1.5x of 500.
- ``linear``: a 10 MB document stored as one long line vs the same text with its
  line breaks (target: the one-line run within 2x of the other), and the HTML eval
  report with 8,000 errors (once quadratic: 6.5 s).

These sizes are for the bench only; the test suite runs them at toy sizes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from summarizer.devtools.bench import _maxrss_mb, _worker, replicate

EXPORT_FORMATS = ("json", "jsonl", "csv")


def worker(args: dict[str, Any]) -> dict[str, Any]:
    """One measured step in a fresh interpreter: `run` a folder or file, or `export` a db."""
    rss0 = _maxrss_mb()
    t0 = time.perf_counter()
    if args["step"] == "run":
        from summarizer.backends import get_backend
        from summarizer.pipeline import run_batch

        summary = run_batch([Path(args["docs"])], args["db"], get_backend("rules"), keep_results=False,
                            results=False)
        out = {"docs": len(summary.outcomes), "ok": summary.count("ok")}
    else:
        from summarizer.store.export import export_results

        paths = export_results(args["db"], args["format"], Path(args["target"]))
        out = {"bytes": sum(p.stat().st_size for p in paths)}
    return {**out, "wall_s": time.perf_counter() - t0, "rss_before_mb": rss0, "peak_rss_mb": _maxrss_mb()}


def bench_scale(sizes: Iterable[int], work: Path, docs_dir: Path, log: Callable[[str], None]) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    for n in sizes:
        d = work / f"scale_{n}"
        replicate(docs_dir, n, d / "docs")
        db = d / "results.db"
        r = _worker("scale", {"step": "run", "docs": str(d / "docs"), "db": str(db)})
        rows.append({"step": "run", "size": n, **r})
        log(f"scale run {n:>5} docs: {r['wall_s']:.1f}s, peak RSS {r['peak_rss_mb']} MB")
        for fmt in EXPORT_FORMATS:
            out = d / ("export" if fmt == "csv" else f"export.{fmt}")
            e = _worker("scale", {"step": "export", "db": str(db), "format": fmt, "target": str(out)})
            rows.append({"step": f"export {fmt}", "size": n, **e})
            log(f"scale export {fmt:5} {n:>5} docs: {e['wall_s']:.1f}s, peak RSS {e['peak_rss_mb']} MB")
    sizes = sorted({r["size"] for r in rows})
    ratios = {}
    if len(sizes) > 1:
        lo, hi = sizes[0], sizes[-1]
        for step in ("run", *(f"export {f}" for f in EXPORT_FORMATS)):
            a = next(r for r in rows if r["step"] == step and r["size"] == lo)
            b = next(r for r in rows if r["step"] == step and r["size"] == hi)
            ratios[step] = b["peak_rss_mb"] / a["peak_rss_mb"]
    return {"rows": rows, "ratios": ratios, "sizes": sizes}


def long_text(docs_dir: Path, megabytes: float) -> str:
    """The sample corpus repeated to `megabytes` of UTF-8, with its line breaks."""
    corpus = "\n".join(p.read_text("utf-8-sig") for p in sorted(docs_dir.glob("*.txt")))
    reps = int(megabytes * 2**20 / len(corpus.encode("utf-8"))) + 1
    return corpus * reps


def bench_linear(megabytes: float, work: Path, docs_dir: Path, log: Callable[[str], None],
                 errors: int = 8000) -> dict[str, Any]:
    text = long_text(docs_dir, megabytes)
    rows = []
    for shape, body in (("with line breaks", text), ("one line", text.replace("\n", ""))):
        d = work / f"linear_{shape.replace(' ', '_')}"
        d.mkdir(parents=True, exist_ok=True)
        doc = d / "long.txt"
        doc.write_text(body, "utf-8")
        r = _worker("scale", {"step": "run", "docs": str(doc), "db": str(d / "results.db")})
        rows.append({"shape": shape, "mb": doc.stat().st_size / 2**20, "lines": body.count("\n") + 1, **r})
        log(f"linear {shape}: {r['wall_s']:.1f}s, peak RSS {r['peak_rss_mb']} MB")
    ratio = rows[1]["wall_s"] / rows[0]["wall_s"]
    return {"rows": rows, "ratio": ratio, "eval_html": eval_html_seconds(errors)}


def eval_html_seconds(errors: int) -> dict[str, Any]:
    """Time to render the HTML eval report for one document with `errors` errors."""
    from summarizer.evaluation.report import html_report

    text = "到2025年产值达到500亿元。" * errors
    metric = {"precision": 0.0, "recall": 0.0, "f1": 0.0, "lenient": {"f1": 0.0}}
    block: dict[str, Any] = {k: metric for k in ("goals", "measures", "responsibilities")}
    block.update(plan={"accuracy": None}, grounding={"share": None},
                 errors=[{"kind": "spurious", "type": "goal", "start": i * 16, "end": i * 16 + 10, "quote": "x"}
                         for i in range(errors)])
    t0 = time.perf_counter()
    html = html_report({"documents": {"d": block}, "overall": block}, {"d": text})
    return {"errors": errors, "wall_s": time.perf_counter() - t0, "bytes": len(html.encode("utf-8"))}


def report_lines(res: dict[str, Any], table: Callable[[list[str], list[list[Any]]], str]) -> list[str]:
    """The Markdown sections for bench.md."""
    md: list[str] = []
    if "scale" in res:
        sc = res["scale"]
        md += ["## scale: memory vs batch size (rules backend; each step in a fresh process)", "",
               table(["step", "documents", "wall s", "peak RSS MB", "RSS before MB", "output MB"],
                     [[r["step"], r["size"], r["wall_s"], r["peak_rss_mb"], r["rss_before_mb"],
                       r["bytes"] / 2**20 if "bytes" in r else None] for r in sc["rows"]]), ""]
        if sc["ratios"]:
            lo, hi = sc["sizes"][0], sc["sizes"][-1]
            md += [f"Peak RSS at {hi} documents over {lo} (target <= 1.5): "
                   + ", ".join(f"{k} {v:.2f}" for k, v in sc["ratios"].items()), ""]
    if "linear" in res:
        li = res["linear"]
        md += ["## linear: one long line vs the same text with line breaks (rules backend, fresh process)", "",
               table(["shape", "MB", "lines", "wall s", "peak RSS MB"],
                     [[r["shape"], r["mb"], r["lines"], r["wall_s"], r["peak_rss_mb"]] for r in li["rows"]]), "",
               f"One line / with line breaks: {li['ratio']:.2f}x (target <= 2). "
               f"HTML eval report with {li['eval_html']['errors']} errors: {li['eval_html']['wall_s']:.2f} s.", ""]
    return md
