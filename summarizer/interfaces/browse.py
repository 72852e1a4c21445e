"""Browse a results database with Datasette: titled tables, facets, views, canned queries.

`serve(db_path, port)` refreshes the derived unit tables, (re)creates the browsing
views, and starts Datasette on the loopback interface with the project's metadata
(`metadata_for`). Datasette is an optional dependency (`pip install
'policy-summarizer[browse]'`); nothing here imports it until a server is built.

Views (created by `ensure_views`, cheap and idempotent; each covers every
document's latest result, as `store.latest_results` does):

- `latest_documents`: one row per document with its title, issuers and counts;
- `latest_goals`, `latest_measures`, `latest_responsibilities`: the items joined to
  their document's title and (for responsibilities) the canonical unit.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import sqlite_utils

from summarizer.errors import ConfigError, InputError
from summarizer.models import GroundedGoal, GroundedMeasure, Plan, Responsibility
from summarizer.store import db as store
from summarizer.store import units

INSTALL_HINT = "datasette is not installed: pip install 'policy-summarizer[browse]'"

_LATEST = "(select max(rowid) from results group by doc_id)"


def _plan(col: str, alias: str) -> str:
    # A correlated subquery, not a LEFT JOIN: Datasette's array facet (json_each over
    # the view) finds nothing through a left-joined column on SQLite 3.40.
    return f"(select p.{col} from plans p where p.result_id = {alias}.result_id)"


def _title(alias: str) -> str:
    return f"coalesce({_plan('title', alias)}, {alias}.doc_id)"


VIEWS: dict[str, str] = {
    "latest_documents": f"""
select r.doc_id, coalesce((select p.title from plans p where p.result_id = r.id), r.doc_id) as document,
       (select p.issuers from plans p where p.result_id = r.id) as issuers,
       (select p.issued_date from plans p where p.result_id = r.id) as issued_date,
       (select p.period_start from plans p where p.result_id = r.id) as period_start,
       (select p.period_end from plans p where p.result_id = r.id) as period_end,
       (select count(*) from goals g where g.result_id = r.id) as goals,
       (select count(*) from measures m where m.result_id = r.id) as measures,
       (select count(*) from measures m where m.result_id = r.id
          and not exists (select 1 from responsibilities x where x.measure_id = m.id))
          as measures_without_unit,
       (select count(*) from responsibilities x where x.result_id = r.id) as responsibilities,
       r.dropped, r.backend, r.model, r.run_id, r.created_at, r.id as result_id
from results r
where r.rowid in {_LATEST}""",
    "latest_goals": f"""
select g.rowid as goal_rowid, g.id, g.doc_id, {_title('g')} as document, {_plan('issuers', 'g')} as issuers,
       g.seq, g.indicator, g.value, g.value_max, g.unit, g.comparator, g.year, g.quote,
       g.start, g."end", g.result_id
from goals g join results r on r.id = g.result_id
where r.rowid in {_LATEST}""",
    "latest_measures": f"""
select m.rowid as measure_rowid, m.id, m.doc_id, {_title('m')} as document,
       m.seq, m.number, m.title, m.section, m.summary,
       (select json_group_array(distinct um.canonical) from unit_mentions um
          where um.measure_id = m.id) as units,
       (select count(*) from responsibilities x where x.measure_id = m.id) as responsibilities,
       m.quote, m.start, m."end", m.body_end, m.result_id
from measures m join results r on r.id = m.result_id
where r.rowid in {_LATEST}""",
    "latest_responsibilities": f"""
select x.id, x.doc_id, {_title('x')} as document, m.seq as measure_seq,
       m.number as measure_number, m.title as measure, m.section,
       coalesce(um.canonical, x.unit) as unit, um.level, um.kind, x.unit as raw_unit, um.note,
       x.role, x.seq, x.measure_id, x.result_id
from responsibilities x join measures m on m.id = x.measure_id
join results r on r.id = x.result_id
left join unit_mentions um on um.responsibility_id = x.id
where r.rowid in {_LATEST}""",
}


def ensure_views(db: sqlite_utils.Database) -> None:
    """(Re)create the browsing views; needs the unit tables, which it creates if missing."""
    units.ensure_tables(db)
    have = {r[0]: r[1] for r in db.conn.execute("select name, sql from sqlite_master where type = 'view'")}
    stale = {name: sql.strip() for name, sql in VIEWS.items()
             if have.get(name) != f'CREATE VIEW "{name}" AS {sql.strip()}'}
    if not stale:
        return  # every view already reads as defined here: nothing to write
    with store.write_lock(db):  # IMMEDIATE: another run may be writing this database
        for name, sql in stale.items():
            db.create_view(name, sql, replace=True)


def prepare(db_path: str | Path) -> sqlite_utils.Database:
    """Open an existing results database and bring its derived tables and views up to date."""
    path = Path(db_path)
    if not path.is_file():
        raise InputError(path, "no such results database (run `summarizer run` first)")
    db = store.open_db(path, create=False)
    units.refresh_units(db)
    ensure_views(db)
    return db


# ---- metadata ---------------------------------------------------------------------


_FIELD_DOCS = {
    "comparator": "How the value relates to the target: increase_by | decrease_by | at_least | "
                  "at_most | about | exactly",
    "role": "lead | support | implement | responsible",
}


def _model_docs(model: Any, exclude: set[str] = frozenset()) -> dict[str, str]:  # type: ignore[assignment]
    """Column descriptions from the pydantic models' field descriptions."""
    return {name: f.description or _FIELD_DOCS.get(name) or name.replace("_", " ")
            for name, f in model.model_fields.items() if name not in exclude}


_KEYS = {
    "id": "Row id (a hash of its place in the result)",
    "result_id": "The result (one document, one run) this row belongs to",
    "doc_id": "Document id: the file name's stem",
    "run_id": "The batch run that produced the result",
    "seq": "Order within its result (or its measure)",
    "document": "The document's title, or its id when no title was found",
}
_GROUNDING = {
    "start": "Offset of the quote in the cleaned text",
    "end": "End offset (exclusive) of the quote in the cleaned text",
    "quote": "Verbatim span of the cleaned text",
}

TABLES: dict[str, dict[str, Any]] = {
    "documents": {
        "title": "Documents",
        "description": "Each source file once: its text as read and as cleaned.",
        "sort": "id", "label_column": "path",
        "columns": {"id": _KEYS["doc_id"], "path": "Path the file was read from",
                    "sha256": "SHA-256 of the raw bytes", "encoding": "Detected text encoding",
                    "raw_text": "Text as read", "clean_text": "Text after cleaning (offsets refer to it)",
                    "raw_chars": "Length of the raw text", "clean_chars": "Length of the cleaned text",
                    "added_at": "When the document was (last) stored"},
    },
    "runs": {
        "title": "Runs",
        "description": "Each batch run: backend, model, counts, tokens.",
        "sort_desc": "started_at", "facets": ["backend", "status"],
        "columns": {"id": "Run id (start time and a random suffix)", "backend": "rules | local | openai",
                    "model": "Model name (empty for rules)", "prompt_version": "Prompt version used",
                    "started_at": "Start time (UTC)", "finished_at": "End time (UTC)",
                    "status": "running | ok | failed | degraded | interrupted", "documents": "Documents seen",
                    "succeeded": "Documents extracted", "failed": "Documents that failed",
                    "degraded": "Documents stored without (part of) the model's answer",
                    "pid": "Process id of the run", "host": "Machine the run ran on",
                    "heartbeat_at": "Last sign of life of a running run (UTC)",
                    "skipped": "Unchanged documents reused", "goals": "Goals extracted",
                    "measures": "Measures extracted", "responsibilities": "Responsibilities extracted",
                    "llm_calls": "Model calls made", "cache_hits": "Model calls answered from cache",
                    "prompt_tokens": "Prompt tokens used", "completion_tokens": "Completion tokens used",
                    "error": "Why the run failed as a whole (full disk, damaged database); empty otherwise",
                    "dropped": "Items that failed validation", "options": "Run options (JSON)"},
    },
    "doc_runs": {
        "title": "Documents per run",
        "description": "What happened to each input file in each run.",
        "facets": ["status", "run_id"],
        "columns": {"run_id": _KEYS["run_id"], "doc_id": _KEYS["doc_id"], "path": "Input path",
                    "status": "ok | degraded | skipped | failed", "error": "Why it failed or is degraded",
                    "result_id": "The stored result used", "finished_at": "When it finished"},
    },
    "results": {
        "title": "Results",
        "description": "One extraction of one document by one backend.",
        "sort_desc": "created_at", "facets": ["backend", "doc_id"],
        "columns": {"id": "Result id", "doc_id": _KEYS["doc_id"], "run_id": _KEYS["run_id"],
                    "backend": "Backend that extracted it", "model": "Model name",
                    "prompt_version": "Prompt version", "sha256": "SHA-256 of the document extracted",
                    "created_at": "When it was stored",
                    "dropped": "Items the backend proposed that failed validation",
                    "notes": "What the backend noticed (JSON list)",
                    "faults": "Why the model gave no usable answer for part of it (JSON list; degraded)"},
    },
    "plans": {
        "title": "Plans",
        "description": "Each result's document identity: title, issuers, period.",
        "facets": [{"array": "issuers"}, "period_end"],
        "columns": {**{k: _KEYS[k] for k in ("result_id", "doc_id", "run_id")}, **_model_docs(Plan),
                    "issuers": "Issuing bodies, in order (JSON list)"},
    },
    "goals": {
        "title": "Goals (all results)",
        "description": "Quantified targets of every stored result; `latest_goals` has the current ones.",
        "sort_desc": "year", "facets": ["year", "comparator", "unit", "doc_id"],
        "columns": {**{k: _KEYS[k] for k in ("id", "result_id", "doc_id", "run_id", "seq")},
                    **_GROUNDING, **_model_docs(GroundedGoal),
                    "quote": "Shortest verbatim span stating the target"},
    },
    "measures": {
        "title": "Measures (all results)",
        "description": "Numbered tasks of every stored result; `latest_measures` has the current ones.",
        "facets": ["doc_id", "section"],
        "columns": {**{k: _KEYS[k] for k in ("id", "result_id", "doc_id", "run_id", "seq")},
                    **_GROUNDING, **_model_docs(GroundedMeasure, {"responsibilities"}),
                    "quote": "The heading (number and title) as it stands in the text"},
    },
    "responsibilities": {
        "title": "Responsibilities (all results)",
        "description": "Units named for each measure, verbatim; `latest_responsibilities` adds "
                       "the canonical unit.",
        "facets": ["role", "unit", "doc_id"],
        "columns": {**{k: _KEYS[k] for k in ("id", "result_id", "doc_id", "run_id", "seq")},
                    "measure_id": "The measure", **_model_docs(Responsibility),
                    "role": "lead | support | implement | responsible"},
    },
    "units": {
        "title": "Responsible units",
        "description": "One row per canonical unit over each document's latest result "
                       "(rebuilt by refresh_units).",
        "sort_desc": "mentions", "facets": ["level", "kind"], "label_column": "canonical",
        "columns": {"canonical": "One name for the unit (level prefix + canonical stem)",
                    "level": "省 | 市 | 区 | 县 | 新区 | 镇, if known",
                    "kind": "body | group (各县(市、区)) | place (上虞市) | other",
                    "mentions": "Responsibilities naming it in latest results",
                    "documents": "Documents naming it (JSON list)",
                    "aliases": "Raw spellings seen, most used first (JSON list)",
                    "notes": "Parenthesised aliases, e.g. 金融办 in 区经信局(金融办) (JSON list)",
                    "roles": "Mentions per role (JSON object)"},
    },
    "unit_mentions": {
        "title": "Unit mentions",
        "description": "Every responsibility (all results) resolved to its canonical unit.",
        "facets": ["canonical", "level_source", "kind", "role"],
        "columns": {"responsibility_id": "The responsibility", "canonical": "Canonical unit",
                    "level": "The unit's level", "kind": "body | group | place | other",
                    "raw": "The unit exactly as the text names it",
                    "note": "Parenthesised alias split off the raw name",
                    "level_source": "Where the level came from: name | issuer | document",
                    "role": "lead | support | implement | responsible", "measure_id": "The measure",
                    "result_id": _KEYS["result_id"], "doc_id": _KEYS["doc_id"],
                    "latest": "1 when the result is its document's latest"},
    },
    "eval_runs": {
        "title": "Eval runs",
        "description": "Each scoring of a run against the gold files.",
        "sort_desc": "created_at",
        "columns": {"id": "Eval id", "run_id": "The run scored (or 'latest')",
                    "gold_dir": "Gold folder used", "created_at": "When it was scored",
                    "goals_f1": "Goal F1", "measures_f1": "Measure F1",
                    "responsibilities_f1": "Responsibility F1", "plan_accuracy": "Plan field accuracy",
                    "report": "The full report (JSON)"},
    },
    "eval_items": {
        "title": "Eval errors",
        "description": "Each miss, spurious item or wrong field an eval found.",
        "facets": ["kind", "type", "doc_id"],
        "columns": {"eval_id": "The eval", "doc_id": _KEYS["doc_id"],
                    "kind": "missed | spurious | wrong_field", "type": "goal | measure | responsibility | plan",
                    "quote": "The text concerned", "start": "Its offset, when located",
                    "end": "Its end offset, when located", "detail": "The full error (JSON)"},
    },
    "_migrations": {"title": "Schema migrations", "description": "Migrations applied to this database.",
                    "hidden": True, "columns": {"name": "Migration function", "applied_at": "When applied"}},
    "fts_pending": {"title": "Search index queue",
                    "description": "Results stored but not yet in the full-text index (indexed at the end "
                                   "of each run, and every few hundred documents during one).",
                    "hidden": True, "columns": {"result_id": "A stored result waiting to be indexed"}},
}

_VIEW_META: dict[str, dict[str, Any]] = {
    "latest_documents": {
        "title": "Documents (latest results)",
        "description": "One row per document: title, issuers, period and what was extracted.",
        "sort": "doc_id", "facets": [{"array": "issuers"}, "period_end", "backend"],
        "columns": {**_KEYS, **_model_docs(Plan), "issuers": "Issuing bodies (JSON list)",
                    "goals": "Goals extracted", "measures": "Measures extracted",
                    "measures_without_unit": "Measures that name no responsible unit",
                    "responsibilities": "Responsibilities extracted",
                    "dropped": "Items that failed validation", "backend": "Backend",
                    "model": "Model", "created_at": "When the result was stored"},
    },
    "latest_goals": {
        "title": "Goals",
        "description": "Quantified targets from every document's latest result. Search runs "
                       "over indicator and quote and matches any text of three or more characters "
                       "(trigram index): 总产值, 亿元以上.",
        "sort_desc": "year", "facets": ["year", "comparator", "unit", "document", {"array": "issuers"}],
        "fts_table": "goals_fts", "fts_pk": "goal_rowid",
        "columns": {**TABLES["goals"]["columns"], "document": _KEYS["document"],
                    "issuers": "The document's issuers (JSON list)",
                    "goal_rowid": "The goal's rowid (links search to goals_fts)"},
    },
    "latest_measures": {
        "title": "Measures",
        "description": "Numbered tasks from every document's latest result, with their "
                       "canonical units. Search runs over title, section and quote (three or more "
                       "characters).",
        "sort": "doc_id", "facets": ["document", {"array": "units"}, "section"],
        "fts_table": "measures_fts", "fts_pk": "measure_rowid",
        "columns": {**TABLES["measures"]["columns"], "document": _KEYS["document"],
                    "units": "Canonical units named for it (JSON list)",
                    "responsibilities": "How many units it names",
                    "measure_rowid": "The measure's rowid (links search to measures_fts)"},
    },
    "latest_responsibilities": {
        "title": "Responsibilities",
        "description": "Who does what: each unit named for a measure, by canonical name, "
                       "from every document's latest result.",
        "sort": "doc_id", "facets": ["unit", "role", "level", "document"],
        "columns": {**_KEYS, "measure_seq": "The measure's order in its document",
                    "measure_number": "The measure's number as written",
                    "measure": "The measure's title", "section": "Heading of the part it sits in",
                    "unit": "Canonical unit", "level": "The unit's level",
                    "kind": "body | group | place | other",
                    "raw_unit": "The unit exactly as the text names it",
                    "note": "Parenthesised alias split off the raw name",
                    "role": "lead | support | implement | responsible", "measure_id": "The measure",
                    "seq": "Order within the measure"},
    },
}

QUERIES: dict[str, dict[str, Any]] = {
    "goals_due_by": {
        "title": "Goals due by a year",
        "description": "Every goal, across documents, whose target year is the given year or earlier.",
        "sql": "select year, document, indicator, value, value_max, unit, comparator, quote, doc_id\n"
               "from latest_goals where year is not null and year <= cast(:year as integer)\n"
               "order by year, doc_id, seq",
    },
    "unit_measures": {
        "title": "Measures of a unit",
        "description": "Every measure a unit leads, supports, implements or is responsible for. "
                       "Give the canonical name (see Responsible units) or a raw spelling.",
        "sql": "select unit, role, document, measure_number, measure, section, raw_unit, doc_id\n"
               "from latest_responsibilities where unit = :unit or raw_unit = :unit\n"
               "order by doc_id, measure_seq, seq",
    },
    "measures_without_units": {
        "title": "Documents with measures that name no unit",
        "description": "Documents whose measures lack any responsible unit, with how many do.",
        "sql": "select doc_id, document, measures, measures_without_unit, responsibilities\n"
               "from latest_documents where measures_without_unit > 0\n"
               "order by measures_without_unit = measures desc, measures_without_unit desc, doc_id",
    },
    "goal_problems": {
        "title": "Goals that failed validation or lack a unit",
        "description": "Results whose backend dropped items that failed validation, and goals "
                       "with no unit.",
        "sql": "select doc_id, document, 'dropped' as problem,\n"
               "  dropped || ' proposed items failed validation' as detail, null as quote\n"
               "from latest_documents where dropped > 0\n"
               "union all\n"
               "select doc_id, document, 'no unit' as problem,\n"
               "  indicator || ': ' || value as detail, quote\n"
               "from latest_goals where unit is null or unit = ''\n"
               "order by doc_id, problem",
    },
}

EVAL_MISSES = {
    "title": "Misses of the latest eval",
    "description": "Gold items the latest scored run did not find.",
    "sql": "select i.doc_id, coalesce(d.document, i.doc_id) as document, i.type, i.quote,\n"
           "  i.detail, e.id as eval_id, e.run_id, e.created_at\n"
           "from eval_items i join eval_runs e on e.id = i.eval_id\n"
           "left join latest_documents d on d.doc_id = i.doc_id\n"
           "where i.kind = 'missed'\n"
           "  and i.eval_id = (select id from eval_runs order by created_at desc, rowid desc limit 1)\n"
           "order by i.doc_id, i.type",
}


def metadata_for(db: sqlite_utils.Database, name: str) -> dict[str, Any]:
    """Datasette metadata for the database served as `name` (its file stem)."""
    tables = {**TABLES, **_VIEW_META}
    queries = dict(QUERIES)
    present = set(db.table_names())
    if {"eval_items", "eval_runs"} <= present:
        queries["latest_eval_misses"] = EVAL_MISSES
    for fts in (t for t in present if "_fts" in t):
        tables.setdefault(fts, {"hidden": True})
    return {
        "title": "Policy summaries",
        "description": "Goals, measures and responsible units extracted from Chinese government "
                       "policy documents. Start with Goals, Measures or Responsibilities; the "
                       "canned queries at the bottom of the database page answer common questions.",
        "databases": {name: {"title": "Policy summaries", "tables": tables, "queries": queries}},
    }


class BriefPlugin:
    """Datasette hooks: `/-/brief/DB/DOC_ID` serves a document's brief; document ids link to it.

    The brief is the same page `summarizer brief --html` writes (summarizer/interfaces/brief.py),
    rendered from the served database on each request.
    """

    @staticmethod
    def register_routes(datasette: Any) -> list[tuple[str, Any]]:
        async def brief_page(request: Any, datasette: Any) -> Any:
            from datasette.utils.asgi import Response

            from summarizer.errors import SummarizerError
            from summarizer.interfaces.brief import brief_html, load_brief

            name, doc_id = request.url_vars["database"], request.url_vars["doc_id"]
            try:
                path = datasette.get_database(name).path
            except KeyError:
                return Response.text(f"no database {name!r}", status=404)
            try:
                db = store.open_db(path, create=False)
                try:
                    return Response.html(brief_html(load_brief(db, doc_id)))
                finally:
                    db.close()
            except SummarizerError as exc:
                return Response.text(str(exc), status=404)

        return [(r"^/-/brief/(?P<database>[^/]+)/(?P<doc_id>[^/]+)$", brief_page)]

    @staticmethod
    def render_cell(value: Any, column: str, table: str | None, database: str, datasette: Any) -> Any:
        if column != "doc_id" or table not in BRIEF_LINKED or not isinstance(value, str):
            return None
        from urllib.parse import quote

        from markupsafe import Markup, escape

        href = f"/-/brief/{quote(database, safe='')}/{quote(value, safe='')}"
        return Markup(f'<a href="{escape(href)}" title="brief">{escape(value)}</a>')


BRIEF_LINKED = ("latest_documents", "plans")


def _register_brief_plugin() -> None:
    from datasette import hookimpl
    from datasette.plugins import pm

    if pm.has_plugin("summarizer-brief"):
        return

    hooks = type("summarizer_brief", (), {  # a class, not an instance: Datasette lists plugins by __name__
        "register_routes": staticmethod(hookimpl(BriefPlugin.register_routes)),
        "render_cell": staticmethod(hookimpl(BriefPlugin.render_cell)),
    })
    pm.register(hooks, name="summarizer-brief")


def build(db_path: str | Path) -> Any:
    """A Datasette instance for the database, prepared and described; document ids link to briefs."""
    try:
        from datasette.app import Datasette
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    _register_brief_plugin()
    path = Path(db_path)
    db = prepare(path)
    meta = metadata_for(db, path.stem)
    db.close()
    return Datasette([str(path)], metadata=meta,
                     settings={"sql_time_limit_ms": 5000, "facet_time_limit_ms": 500})


def serve(db_path: str | Path, port: int = 8001, host: str = "127.0.0.1") -> None:
    """Serve the database with Datasette until interrupted (Ctrl-C)."""
    try:
        import uvicorn
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    ds = build(db_path)
    port = usable_port(host, port)
    print(f"serving {db_path} at http://{host}:{port}/{Path(db_path).stem}", flush=True)
    uvicorn.run(ds.app(), host=host, port=port, log_level="warning", lifespan="on", workers=1)


def usable_port(host: str, port: int) -> int:
    """A port that can be served and printed: 1-65535 and free; 0 means "pick a free one".

    Checked before Datasette starts, so a bad or busy port is one line, and port 0
    prints the port actually used rather than an unusable `:0` URL.
    """
    import socket

    if not 0 <= port <= 65535:
        raise ConfigError(f"--port {port}: a port is 1-65535 (or 0 for any free port)")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError as exc:
            raise ConfigError(f"--port {port}: cannot listen on {host}:{port} ({exc.strerror or exc})") from None
        return int(s.getsockname()[1])


def main(argv: list[str] | None = None) -> None:
    """`python -m summarizer.interfaces.browse DB [--port N] [--host H]` (the CLI wraps `serve`)."""
    import argparse

    p = argparse.ArgumentParser(prog="python -m summarizer.interfaces.browse")
    p.add_argument("db")
    p.add_argument("--port", type=int, default=8001)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--print-metadata", action="store_true", help="print the metadata JSON and exit")
    a = p.parse_args(argv)
    if a.print_metadata:
        db = prepare(a.db)
        json.dump(metadata_for(db, Path(a.db).stem), sys.stdout, ensure_ascii=False, indent=2)
        return
    serve(a.db, a.port, a.host)


if __name__ == "__main__":  # pragma: no cover
    main()
