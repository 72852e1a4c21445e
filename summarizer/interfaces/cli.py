"""The `summarizer` command: thin wrappers over the library, one-line errors.

Every command parses options, calls a library function, and prints. Library
errors (`SummarizerError`) become one red line and a non-zero exit; set
SUMMARIZER_RAISE_ERRORS=1 to see tracebacks instead.
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from summarizer.errors import SummarizerError
from summarizer.safe_output import terminal_text

app = typer.Typer(help="Structured summaries of Chinese government policy documents.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
gold_app = typer.Typer(help="Gold (hand-labeled answer key) files.", no_args_is_help=True)
app.add_typer(gold_app, name="gold")
model_app = typer.Typer(help="The embedded local model.", no_args_is_help=True)
app.add_typer(model_app, name="model")

F = TypeVar("F", bound=Callable[..., Any])
DbOpt = Annotated[Path, typer.Option("--db", help="Results database (SQLite)")]


def one_line_errors(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except SummarizerError as exc:
            if os.environ.get("SUMMARIZER_RAISE_ERRORS"):
                raise
            typer.secho(f"error: {terminal_text(exc)}", fg=typer.colors.RED, err=True)
            raise typer.Exit(2) from None
        except sqlite3.Error as exc:  # found late (a damaged page, a full disk): one line too
            if os.environ.get("SUMMARIZER_RAISE_ERRORS"):
                raise
            from summarizer.store.guard import describe

            typer.secho(f"error: {describe(exc, kwargs.get('db'))}", fg=typer.colors.RED, err=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


@app.command()
@one_line_errors
def run(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or folders (searched recursively)")] = None,
    db: DbOpt = Path("results.db"),
    backend: Annotated[str, typer.Option(help="local (embedded model) | openai (any server) | rules")] = "local",
    force: Annotated[bool, typer.Option(help="Re-extract unchanged documents")] = False,
    retry_failed: Annotated[bool, typer.Option(
        help="Retry only the files whose last run failed or was degraded")] = False,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible endpoint (openai backend)")] = None,
    model: Annotated[str | None, typer.Option(help="Model name at the endpoint")] = None,
    api_key_env: Annotated[str | None, typer.Option(help="Environment variable holding the API key")] = None,
    mode: Annotated[str | None, typer.Option(help="instructor mode: json_schema | json | tools")] = None,
    model_path: Annotated[Path | None, typer.Option(help="GGUF file for the local backend")] = None,
    jobs: Annotated[int | None, typer.Option(
        help="Worker processes for reading and the rules (up to the cores) and concurrent model requests")] = None,
    shard: Annotated[str | None, typer.Option(
        help="Run only shard i of n (i/n, 1 <= i <= n): a stable subset by document id; "
             "fold the shard databases together with `summarizer merge`")] = None,
    timeout: Annotated[float | None, typer.Option(
        help="Seconds per model request, whole (connect, first byte, body)")] = None,
    max_attempts: Annotated[int | None, typer.Option(help="Attempts per model request")] = None,
    scope: Annotated[str | None, typer.Option(
        help="What the model reads: goals (default: clauses with figures the rules could not read; "
             "it adds goals) | residual (every kind of rule doubt, within a token budget) | "
             "full (every block, the rules verify; a fast server) | off (rules only)"
    )] = None,
    threads: Annotated[int | None, typer.Option(
        help="local: CPU threads for the model (default: all cores; 1 is faster on a machine already busy)")] = None,
    abstract: Annotated[str, typer.Option(
        help="Who writes each document's abstract: template (default) | model (fact-checked, re-asked once, "
             "else the template). The embedded 1.5B model wrote no abstract that passed the fact check on the "
             "samples and costs minutes per document on 2 cores, so model is for a stronger --backend openai server; "
             "the rules backend always uses the template")] = "template",
) -> None:
    """Extract every document under PATHS into the results database."""
    from summarizer.backends import get_backend
    from summarizer.pipeline import DocOutcome, failed_paths, run_batch

    if retry_failed:
        paths = failed_paths(db)
        if not paths:
            typer.echo(f"no failed or degraded documents in {db}")
            return
    if not paths:
        raise SummarizerError("give files or folders to run, or --retry-failed")
    from summarizer.pipeline import in_shard, parse_shard

    try:
        part = parse_shard(shard) if shard else None
    except ValueError as exc:
        raise SummarizerError(str(exc)) from None

    engine = get_backend(
        backend, db_path=str(db), base_url=base_url, model=model, api_key_env=api_key_env, mode=mode,
        model_path=str(model_path) if model_path else None, jobs=jobs, timeout=timeout,
        max_attempts=max_attempts, scope=scope, abstract=abstract, threads=threads,
    )
    marks = {"ok": ("ok", typer.colors.GREEN), "skipped": ("skip", typer.colors.YELLOW),
             "failed": ("FAIL", typer.colors.RED), "degraded": ("DEGR", typer.colors.MAGENTA)}

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from summarizer.ingest.load import find_documents

    # A progress bar on an interactive terminal (stderr); plain lines in logs and pipes.
    console = Console(stderr=True, highlight=False)
    live = console.is_terminal or bool(os.environ.get("SUMMARIZER_PROGRESS"))
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=console, transient=True, disable=not live)
    # The bar's total lists the folders once more: only for a bar someone sees.
    task = progress.add_task("extracting", total=sum(in_shard(p, part) for p in find_documents(paths)[0])
                             if live else None)

    def show(o: DocOutcome) -> None:
        label, colour = marks[o.status]
        problem = o.status in ("failed", "degraded")
        line = f"{label:4} {o.message}" if problem else f"{label:4} {o.doc_id}: {o.message}"
        line = terminal_text(line)  # file names may carry escape sequences
        if live:
            progress.console.print(line, style=colour, markup=False)
        else:
            typer.secho(line, fg=colour, err=problem)
        progress.advance(task)

    from summarizer.pipeline import MAX_DOC_JOBS
    from summarizer.store.runstatus import sigterm_as_interrupt

    if (jobs or 1) > MAX_DOC_JOBS:
        typer.echo(f"note: --jobs {jobs}: {MAX_DOC_JOBS} documents at a time (the database takes one writer), "
                   f"up to {jobs} model requests at once", err=True)
    _show_warnings()
    try:
        with sigterm_as_interrupt(), progress:
            summary = run_batch(paths, db, engine, force=force, on_doc=show, jobs=jobs or 1, keep_results=False,
                                shard=part, results=False)
    except KeyboardInterrupt:
        _report_interrupt(db)
        raise typer.Exit(130) from None
    finally:
        close = getattr(engine, "close", None)
        if close:
            close()
    for p in summary.ignored:
        typer.echo(f"note {p}: not a supported document type, skipped")
    t = summary.totals
    typer.echo(
        f"run {summary.run_id}: {summary.documents} documents, {summary.count('ok')} ok, "
        f"{summary.count('degraded')} degraded, {summary.count('skipped')} unchanged, "
        f"{summary.count('failed')} failed; "
        f"{t['goals']} goals, {t['measures']} measures, {t['responsibilities']} responsibilities -> {terminal_text(db)}"
    )
    if not summary.ok:
        raise typer.Exit(1)


def _show_warnings() -> None:
    """Library warnings (a model server given up) as one plain stderr line each."""
    import logging

    log = logging.getLogger("summarizer")
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("warning: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.WARNING)


def _report_interrupt(db: Path) -> None:
    """Ctrl-C or SIGTERM: say what the stopped run kept."""
    from summarizer.store import db as store
    from summarizer.store.runstatus import this_process_run

    r = this_process_run(store.open_db(db))
    if r is None:
        typer.secho("interrupted before the run started; nothing stored", fg=typer.colors.YELLOW, err=True)
        return
    kept = (r["succeeded"] or 0) + (r["degraded"] or 0) + (r["failed"] or 0) + (r["skipped"] or 0)
    typer.secho(
        f"interrupted: run {r['id']} kept {kept} of {r['documents'] or 0} documents "
        f"({r['succeeded'] or 0} ok, {r['degraded'] or 0} degraded, {r['failed'] or 0} failed, "
        f"{r['skipped'] or 0} unchanged) in {db}; run again to do the rest (stored documents are skipped)",
        fg=typer.colors.YELLOW, err=True)


@app.command()
@one_line_errors
def runs(db: DbOpt = Path("results.db")) -> None:
    """List runs with status, counts, and each failed or degraded document's reason."""
    from summarizer.store import db as store
    from summarizer.store.runstatus import as_listed

    conn = store.open_db(db, create=False)
    for r in map(lambda run: as_listed(conn, run), store.iter_runs(conn)):
        typer.echo(
            f"{r['id']}  {r['status'] or '?':11} {r['backend']:6} {r['model'] or '-':24} "
            f"docs {r['documents'] or 0}: {r['succeeded'] or 0} ok, {r.get('degraded') or 0} degraded, "
            f"{r['skipped'] or 0} unchanged, "
            f"{r['failed'] or 0} failed; calls {r['llm_calls'] or 0}, cache hits {r['cache_hits'] or 0}, "
            f"tokens {r['prompt_tokens'] or 0}+{r['completion_tokens'] or 0}"
        )
        if r.get("error"):
            typer.echo(f"    RUN FAILED {r['error']}")
        for f in conn.table("doc_runs").rows_where("run_id = ? and status in ('failed', 'degraded')", [r["id"]],
                                                   order_by="rowid"):
            typer.echo(f"    {'FAIL' if f['status'] == 'failed' else 'DEGR'} {f['error']}")


@app.command()
@one_line_errors
def show(
    doc_id: str,
    db: DbOpt = Path("results.db"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the gold-format JSON")] = False,
) -> None:
    """Print one document's latest result."""
    from summarizer.interfaces.render import render_text, result_json
    from summarizer.store import db as store

    conn = store.open_db(db, create=False)
    rid = store.latest_result_id(conn, doc_id)
    if rid is None:
        raise SummarizerError(f"{db}: no result for document {doc_id!r}")
    result = store.load_result(conn, rid)
    if as_json:
        typer.echo(json.dumps(result_json(result), ensure_ascii=False, indent=2))
    else:
        typer.echo(render_text(result))


@app.command()
@one_line_errors
def export(
    db: DbOpt = Path("results.db"),
    fmt: Annotated[str, typer.Option("--format", help="json | jsonl | csv | briefs")] = "json",
    out: Annotated[Path, typer.Option("--out", help="Output file (csv, briefs: a folder)")] = Path("export.json"),
) -> None:
    """Export every document's latest result."""
    from summarizer.store.export import export_results

    written = export_results(db, fmt, out)
    if fmt == "briefs":
        typer.echo(f"wrote {written[0]} and {len(written) - 1} briefs in {out}")
    else:
        typer.echo(f"wrote {', '.join(str(p) for p in written)}")


@app.command()
@one_line_errors
def brief(
    doc_id: str,
    db: DbOpt = Path("results.db"),
    html_out: Annotated[Path | None, typer.Option("--html", help="Write the brief as one HTML file")] = None,
    md_out: Annotated[Path | None, typer.Option("--markdown", help="Write the brief as Markdown")] = None,
) -> None:
    """One page for one document: abstract, targets by year, measures, units, provenance."""
    from summarizer.evaluation.report import write_report
    from summarizer.interfaces.brief import brief_html, brief_markdown, load_brief
    from summarizer.store import db as store

    b = load_brief(store.open_db(db, create=False), doc_id)
    if html_out:
        typer.echo(f"wrote {write_report(html_out, brief_html(b))}")
    if md_out:
        typer.echo(f"wrote {write_report(md_out, brief_markdown(b))}")
    if not (html_out or md_out):
        typer.echo(terminal_text(brief_markdown(b)))


@app.command()
@one_line_errors
def schema(out: Annotated[Path, typer.Option(help="Folder for the JSON Schema files")] = Path("schemas")) -> None:
    """Write the JSON Schema files derived from the models."""
    from summarizer.schemas import write_schemas

    for p in write_schemas(out):
        typer.echo(f"wrote {p}")


@app.command("eval")
@one_line_errors
def eval_cmd(
    db: DbOpt = Path("results.db"),
    gold: Annotated[Path, typer.Option(help="Folder of gold files")] = Path("eval/gold"),
    run_id: Annotated[str | None, typer.Option("--run", help="Run to score (default: latest per document)")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the scores as JSON")] = None,
    md_out: Annotated[Path | None, typer.Option("--markdown", help="Write a Markdown report")] = None,
    html_out: Annotated[Path | None, typer.Option("--html", help="Write a self-contained HTML report")] = None,
    min_f1: Annotated[float | None, typer.Option(
        help="Exit 1 if any F1 (goals, measures, responsibilities strict and lenient) is below")] = None,
    min_field: Annotated[float | None, typer.Option(
        help="Exit 1 if any field accuracy (comparator, year, unit, indicator, value_max, section, role) is below")
    ] = None,
    compare_runs: Annotated[tuple[str, str] | None, typer.Option("--compare", help="RUN_A RUN_B")] = None,
) -> None:
    """Score results against gold files and write reports."""
    from summarizer.evaluation.evaluate import compare, evaluate
    from summarizer.evaluation.floors import F1_METRICS, FIELD_METRICS, below, metrics
    from summarizer.evaluation.report import HEADERS, _row, html_report, markdown_report, write_report

    if compare_runs:
        diff = compare(db, gold, *compare_runs)
        for k, d in diff["f1_delta"].items():
            typer.echo(f"{k:17} F1 {diff['a'][k]:.3f} -> {diff['b'][k]:.3f} ({d:+.3f})")
        typer.echo(f"fixed ({len(diff['fixed'])}):")
        for x in diff["fixed"]:
            typer.echo(f"  + {x}")
        typer.echo(f"broken ({len(diff['broken'])}):")
        for x in diff["broken"]:
            typer.echo(f"  - {x}")
        return
    out = evaluate(db, gold, run_id)
    rep = out.report
    widths = [24, 22, 22, 22, 8, 9, 9]
    typer.echo("  ".join(h[:w].ljust(w) for h, w in zip(HEADERS, widths)))
    for name, block in [*rep["documents"].items(), ("overall", rep["overall"])]:
        typer.echo("  ".join(c[:w].ljust(w) for c, w in zip(_row(name, block), widths)))
    if rep.get("abstracts"):
        from summarizer.evaluation.abstracts import abstract_line

        typer.echo(abstract_line(rep["abstracts"]))
    if rep["missing_documents"]:
        typer.echo(f"gold documents missing from the results (all missed): {', '.join(rep['missing_documents'])}")
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(rep, ensure_ascii=False, indent=2), "utf-8")
        typer.echo(f"wrote {json_out}")
    if md_out:
        typer.echo(f"wrote {write_report(md_out, markdown_report(rep))}")
    if html_out:
        typer.echo(f"wrote {write_report(html_out, html_report(rep, out.texts, out.spans))}")
    values = metrics(rep["overall"])
    low = below(values, {k: min_f1 for k in F1_METRICS} if min_f1 is not None else {})
    low += below(values, {k: min_field for k in FIELD_METRICS} if min_field is not None else {})
    if low:
        typer.secho(f"below the threshold: {'; '.join(low)}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)


@app.command()
@one_line_errors
def ablate(
    runs: Annotated[list[str], typer.Argument(help="NAME=DB[@RUN_ID] per run, baseline first (rules=r.db local=l.db)")],
    gold: Annotated[Path, typer.Option(help="Folder of gold files")] = Path("eval/gold"),
    manifest: Annotated[Path | None, typer.Option(help="Corpus MANIFEST.md with form categories")] = None,
    md_out: Annotated[Path | None, typer.Option("--markdown", help="Write the tables here")] = None,
) -> None:
    """What the model fixed and broke against the rules: per metric, per form category."""
    from summarizer.evaluation.ablation import ablate as run_ablation
    from summarizer.evaluation.ablation import markdown, parse_run

    if len(runs) < 2:
        raise SummarizerError("give a baseline run and at least one model run")
    try:
        specs = [parse_run(r) for r in runs]
    except ValueError as exc:
        raise SummarizerError(str(exc)) from None
    text = markdown(run_ablation(gold, {n: (db, rid) for n, db, rid in specs}, manifest))
    typer.echo(text)
    if md_out:
        md_out.parent.mkdir(parents=True, exist_ok=True)
        md_out.write_text(text + "\n", "utf-8")
        typer.echo(f"wrote {md_out}")


@app.command()
@one_line_errors
def merge(
    out: Annotated[Path, typer.Argument(help="The database to fold the shards into (created if missing)")],
    shards: Annotated[list[Path], typer.Argument(help="Shard databases (from `run --shard i/n`)")],
) -> None:
    """Fold shard databases into one; merging the same shard again changes nothing."""
    from summarizer.store.merge import merge_databases

    for line in merge_databases(out, shards):
        typer.echo(line)


@app.command()
@one_line_errors
def units(db: DbOpt = Path("results.db")) -> None:
    """One name per responsible unit: canonical, level, kind, mentions, documents, raw spellings."""
    from summarizer.store import db as store
    from summarizer.store.units import format_units, list_units, refresh_units

    conn = store.open_db(db, create=False)
    refresh_units(conn)
    for line in format_units(list_units(conn)):
        typer.echo(line)


@app.command()
@one_line_errors
def browse(
    db: DbOpt = Path("results.db"),
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1")] = 8001,
) -> None:
    """Browse the results database in Datasette (on 127.0.0.1)."""
    from summarizer.interfaces.browse import serve

    serve(db, port)


@app.command()
@one_line_errors
def bench(
    out: Annotated[Path, typer.Option(help="Folder for bench.md, bench.json and the plots")] = Path("results/bench"),
    parts: Annotated[str, typer.Option(help="Comma list of rules, llm-stub, local, peer, scale, linear, serve")] = (
        "rules,llm-stub,local,scale,linear,serve"),
    sizes: Annotated[str, typer.Option(help="Corpus sizes for the rules part")] = "1000,10000",
    rules_jobs: Annotated[str, typer.Option(help="--jobs levels for the rules part")] = "1,2",
    rules_repeat: Annotated[int, typer.Option(help="Rounds of the rules part (each runs every jobs level once); "
                                                   "the report adds the medians")] = 1,
    jobs: Annotated[str, typer.Option(help="Concurrency levels for the stub part")] = "1,2,4,8",
    latency: Annotated[float, typer.Option(help="Simulated seconds per stub request")] = 0.2,
    peer_cap: Annotated[float, typer.Option(help="Seconds allowed for the LangExtract peer")] = 360.0,
    stub_docs: Annotated[int, typer.Option(help="Replicate the corpus to N documents for the stub part")] = 0,
    clients: Annotated[str, typer.Option(help="Concurrent clients for the serve part")] = "1,4,16",
    serve_docs: Annotated[int, typer.Option(help="Distinct documents for the serve part")] = 200,
    serve_jobs: Annotated[str, typer.Option(help="--jobs levels for the serve part (given to both "
                                                 "`serve` and `run`)")] = "1",
    serve_modes: Annotated[str, typer.Option(help="Client modes for the serve part: wait (post with ?wait=, "
                                                  "one in flight per client), submit (post all, then collect)")
                           ] = "wait,submit",
) -> None:
    """Speed, cost and scale: Markdown tables and PNG plots (not a test)."""
    from summarizer.devtools.bench import run_bench

    path = run_bench(out, {p.strip() for p in parts.split(",") if p.strip()},
                     tuple(int(x) for x in sizes.split(",")), tuple(int(x) for x in jobs.split(",")),
                     latency, peer_cap_s=peer_cap, stub_docs=stub_docs,
                     clients=tuple(int(x) for x in clients.split(",")), serve_docs=serve_docs,
                     serve_jobs=tuple(int(x) for x in serve_jobs.split(",")),
                     serve_modes=tuple(x.strip() for x in serve_modes.split(",") if x.strip()),
                     rules_jobs=tuple(int(x) for x in rules_jobs.split(",")), rules_repeat=rules_repeat)
    typer.echo(f"wrote {path}")


@app.command()
@one_line_errors
def serve(
    db: DbOpt = Path("results.db"),
    host: Annotated[str | None, typer.Option(
        help="Address to listen on (default 127.0.0.1; anything else needs SUMMARIZER_API_TOKEN)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000)")] = None,
    backend: Annotated[str | None, typer.Option(help="local | openai | rules (default local)")] = None,
    jobs: Annotated[int | None, typer.Option(help="Documents processed at once (default 1)")] = None,
    queue: Annotated[int | None, typer.Option(help="Queued documents past which POST answers 429 (default 1000)")
                     ] = None,
    max_bytes: Annotated[int | None, typer.Option(help="Largest request body in bytes (default 20 MB)")] = None,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible endpoint (openai backend)")] = None,
    model: Annotated[str | None, typer.Option(help="Model name at the endpoint")] = None,
    api_key_env: Annotated[str | None, typer.Option(help="Environment variable holding the API key")] = None,
    mode: Annotated[str | None, typer.Option(help="instructor mode: json_schema | json | tools")] = None,
    model_path: Annotated[Path | None, typer.Option(help="GGUF file for the local backend")] = None,
    timeout: Annotated[float | None, typer.Option(help="Seconds per model request, whole")] = None,
    max_attempts: Annotated[int | None, typer.Option(help="Attempts per model request")] = None,
    scope: Annotated[str | None, typer.Option(help="What the model reads, as for `run`")] = None,
    access_log: Annotated[bool, typer.Option(help="Log every request")] = False,
) -> None:
    """An HTTP API on the same database: POST documents, GET typed results (docs at /docs)."""
    from pydantic import ValidationError

    from summarizer.service.settings import Settings

    given = {"db": db, "host": host, "port": port, "backend": backend, "jobs": jobs, "queue": queue,
             "max_bytes": max_bytes, "base_url": base_url, "model": model, "api_key_env": api_key_env,
             "mode": mode, "model_path": str(model_path) if model_path else None, "timeout": timeout,
             "max_attempts": max_attempts, "scope": scope}
    try:
        settings = Settings(**{k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise SummarizerError(f"{where + ': ' if where else ''}{err['msg'].removeprefix('Value error, ')}") from None
    from summarizer.service.app import serve as run_server

    _show_warnings()
    run_server(settings, access_log=access_log)


@model_app.command("info")
@one_line_errors
def model_info_cmd(
    model_path: Annotated[Path | None, typer.Option(help="GGUF file (default: the packaged model)")] = None,
    verify: Annotated[bool, typer.Option(help="Recompute the sha256")] = False,
) -> None:
    """Which model file the local backend uses: path, size, sha256, source."""
    from summarizer.backends.localmodel import model_info

    info = model_info(str(model_path) if model_path else None, verify=verify)
    for k, v in (info.items() if isinstance(info, dict) else vars(info).items()):
        typer.echo(f"{k:10} {v}")
    if info.get("problem"):
        raise typer.Exit(1)


@gold_app.command("check")
@one_line_errors
def gold_check(
    gold_dir: Path,
    docs: Annotated[Path | None, typer.Option(help="Folder of source documents")] = None,
) -> None:
    """Validate every gold file in GOLD_DIR (and its quotes against the documents)."""
    from summarizer.evaluation.gold import check_gold_dir

    problems, count = check_gold_dir(gold_dir, docs)
    for p in problems:
        typer.secho(p, fg=typer.colors.RED, err=True)
    typer.echo(f"{count} gold files, {len(problems)} problems")
    if problems:
        raise typer.Exit(1)


@gold_app.command("text")
@one_line_errors
def gold_text(path: Path) -> None:
    """Print a document's cleaned text: the text gold quotes and titles are checked against."""
    from summarizer.ingest.load import read_document
    from summarizer.pipeline import prepare

    text, _ = prepare(path.stem, read_document(path).text)
    typer.echo(text)


if __name__ == "__main__":  # pragma: no cover
    from summarizer.interfaces.console import main

    main()
