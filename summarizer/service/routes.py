"""The HTTP routes: thin over `intake`, `jobs` and the store, as the CLI is over the library.

Routes that touch SQLite are plain `def` (FastAPI runs them in its thread pool) or
hand their database work to it: the event loop never waits on sqlite3. The upload
body is read here, counted as it streams (413 at the first byte over the cap,
before parsing), because uvicorn has no body limit of its own.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncGenerator
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from summarizer.interfaces.render import result_json
from summarizer.service import intake
from summarizer.service.deps import ServiceState, State, require_token
from summarizer.service.jobs import FINAL
from summarizer.service.responses import (
    DocumentPage,
    DocumentStatus,
    ErrorBody,
    Health,
    RunInfo,
    RunList,
    Status,
    TextDocument,
)
from summarizer.service.settings import MB
from summarizer.store import db as store
from summarizer.store.runstatus import as_listed

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": what} for code, what in {
        401: "missing or wrong bearer token (when SUMMARIZER_API_TOKEN is set)",
        404: "unknown document id",
        413: "request body over --max-bytes",
        415: "not a supported document type (txt, html, docx, pdf)",
        422: "unreadable or empty document, or a bad parameter",
        429: "the queue is full: retry after `Retry-After` seconds",
    }.items()
}

_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {"schema": {
                "type": "object", "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary",
                                        "description": ".txt, .html, .docx or .pdf"},
                               "doc_id": {"type": "string", "description": "id to store it under "
                                                                           "(default: the file stem)"}}}},
            "application/json": {"schema": TextDocument.model_json_schema()},
        },
    }
}

v1 = APIRouter(prefix="/v1", dependencies=[Depends(require_token)], responses={401: ERRORS[401]})
ops = APIRouter()


def _iso(t: float | None) -> str | None:
    return dt.datetime.fromtimestamp(t, dt.UTC).isoformat(timespec="seconds") if t else None


def status_url(doc_id: str) -> str:
    return f"/v1/documents/{quote(doc_id, safe='')}"


def job_view(job: dict[str, Any]) -> dict[str, Any]:
    return {"doc_id": job["doc_id"], "status": job["status"], "error": job.get("error"),
            "status_url": status_url(job["doc_id"]), "attempts": job.get("attempts") or 0,
            "run_id": job.get("run_id"), "submitted_at": _iso(job.get("created")),
            "finished_at": _iso(job.get("finished"))}


def recent(state: ServiceState, job: dict[str, Any]) -> dict[str, Any] | None:
    """This attempt's result as the worker just stored it, if it still holds it."""
    return state.worker.results.get(job["id"], job.get("created")) if state.worker else None


def describe(state: ServiceState, job: dict[str, Any], own: bool = False) -> dict[str, Any]:
    """A job's status and, once it has one, the document's latest result (what `show --json` prints);
    own=True: the result this job's content produced, even if a newer version came since.

    The result the worker just stored is answered from memory (`RecentResults`): always for
    own=True (no database read, so this may run in the event loop), and for the latest result
    when the database says it is this job's (two index lookups; building it again from its rows
    costs about 7 ms)."""
    view = job_view(job)
    if job["status"] in ("ok", "degraded"):
        result = recent(state, job)
        if result is not None and own:  # this job's result, as just stored
            view["result"] = result
            return view
        conn = state.jobs.conn  # type: ignore[union-attr]
        rid = None
        if job.get("run_id") and (own or result is not None):
            got = list(conn.query("select result_id from doc_runs where run_id = ? and doc_id = ? "
                                  "and result_id is not null", [job["run_id"], job["doc_id"]]))
            rid = got[0]["result_id"] if got else None
        latest = store.latest_result_id(conn, job["doc_id"])
        if result is not None and rid is not None and rid == latest:
            view["result"] = result
            return view
        rid = (rid if own else None) or latest
        if rid is not None:
            view["result"] = result_json(store.load_result(conn, rid))
    return view


def _size(n: int) -> str:
    return f"{n / MB:.0f} MB" if n >= 10 * MB else f"{n / MB:.1f} MB" if n >= MB // 10 else f"{n} bytes"


async def read_body(request: Request, cap: int) -> bytes:
    """The whole body, refused (413) as soon as it is over `cap` bytes, declared or streamed."""
    too_big = intake.Rejected(413, f"request too large (the limit is {_size(cap)}, set --max-bytes to change it)")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise too_big
    buf = bytearray()
    async for chunk in request.stream():
        buf += chunk
        if len(buf) > cap:
            raise too_big
    return bytes(buf)


async def read_submission(request: Request, cap: int) -> tuple[intake.Submission, str]:
    """A multipart upload (field `file`, optional `doc_id`) or JSON text; and its file extension."""
    body = await read_body(request, cap)
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/json":
        try:
            doc = TextDocument.model_validate_json(body)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(x) for x in err["loc"]) or "body"
            raise intake.Rejected(422, f"JSON body: {where}: {err['msg']}") from None
        name = f"{doc.doc_id}.txt" if doc.doc_id else "text"
        return intake.Submission(doc.text.encode("utf-8"), name, doc.doc_id, from_text=True), ".txt"
    if ctype == "multipart/form-data":
        async def chunks() -> AsyncGenerator[bytes, None]:
            yield body

        try:
            form = await MultiPartParser(request.headers, chunks(), max_files=1, max_fields=4).parse()
        except MultiPartException as exc:
            raise intake.Rejected(422, f"multipart body: {exc.message}") from None
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise intake.Rejected(422, "multipart body: send the document as the file field 'file'")
        data = await upload.read()
        name = upload.filename or "upload"
        doc_id = form.get("doc_id")
        ext = intake.extension(name, upload.content_type)
        return intake.Submission(data, name, doc_id if isinstance(doc_id, str) and doc_id else None), ext
    raise intake.Rejected(415, f"content type {ctype or '(none)'}: send multipart/form-data with a file "
                               "field 'file', or application/json with {\"text\": ...}")


async def wait_for(state: ServiceState, job: dict[str, Any], seconds: float) -> dict[str, Any]:
    """The job once finished, or as it stands after `seconds`.

    The worker's thread wakes us when it finishes the job and leaves the finished row
    in memory (`RecentResults`), so the answer needs no database read; once a second
    the database is read as well, in case the row left memory before we looked.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    ev = state.waiters.add(job["id"])
    finished = state.worker.results if state.worker else None
    try:
        while True:
            done = finished.job(job["id"], job.get("created")) if finished else None
            if done is not None:
                return {**job, **done}
            if job["status"] in FINAL or state.stopping or (left := deadline - loop.time()) <= 0:
                return job
            try:
                await asyncio.wait_for(ev.wait(), min(left, 1.0))
                ev.clear()
            except TimeoutError:
                job = await run_in_threadpool(state.jobs.get, job["id"]) or job  # type: ignore[union-attr]
    finally:
        state.waiters.remove(job["id"], ev)


@v1.post("/documents", status_code=202, response_model=DocumentStatus, openapi_extra=_UPLOAD_BODY,
         responses={200: {"model": DocumentStatus, "description": "finished (within `wait`, or earlier)"},
                    **{c: ERRORS[c] for c in (413, 415, 422, 429)}})
async def post_document(
    request: Request, state: State,
    wait: Annotated[float, Query(ge=0, le=600, description="Seconds to wait for the result")] = 0,
) -> JSONResponse:
    """Submit a document: a file upload (`file`, optional `doc_id`) or JSON `{"doc_id": ..., "text": ...}`.

    202 with the status URL; 200 with the result when it is ready (within `wait`
    seconds, or already: the same content posted again does no new work).
    """
    s = state.settings
    sub, ext = await read_submission(request, s.max_bytes)
    try:
        accepted = await run_in_threadpool(intake.accept, state.jobs, s.upload_dir, sub, ext, s.queue)
    except intake.Rejected as exc:
        if exc.status == 429:
            counts = await run_in_threadpool(state.jobs.counts)  # type: ignore[union-attr]
            queued = counts["queued"]
            per_doc = state.worker.seconds_per_doc if state.worker else 1.0
            exc.headers["Retry-After"] = str(max(1, round(queued * per_doc / s.jobs)))
        raise
    if accepted.outcome != "existing" and state.worker is not None:
        state.worker.wake()
    job = accepted.job
    if wait > 0 and job["status"] not in FINAL:
        job = await wait_for(state, job, wait)
    if job["status"] in ("ok", "degraded") and recent(state, job) is None:
        body = await run_in_threadpool(describe, state, job, True)  # read from the database
    else:
        body = describe(state, job, True)  # from memory: no database, no thread
    # `describe` builds the DocumentStatus shape from validated parts (the result is `result_json`):
    # answered as is, without validating the result a second time.
    return JSONResponse(body, status_code=200 if job["status"] in FINAL else 202,
                        headers={"Location": body["status_url"]})


@v1.get("/documents/{doc_id}", response_model=DocumentStatus, responses={404: ERRORS[404]})
async def get_document(
    doc_id: str, state: State,
    wait: Annotated[float, Query(ge=0, le=600, description="Seconds to wait for a queued or running "
                                                           "document to finish (a long poll)")] = 0,
) -> JSONResponse:
    """A document's status and its result, in the JSON `summarizer show --json` prints.

    Documents stored by `summarizer run` have no job here but are found all the same. With
    `wait`, a document still queued or running is answered once it finishes (or when the
    wait is over): a client that posted many documents collects them without polling.
    """
    # Built from validated parts (the result is `result_json`): answered as is, as POST does.
    if wait > 0 and state.jobs is not None:
        view, job = await run_in_threadpool(view_unless_pending, state, doc_id)
        if job is None:
            return JSONResponse(view)
        await wait_for(state, job, wait)
    return JSONResponse(await run_in_threadpool(document_view, state, doc_id))


def view_unless_pending(state: ServiceState, doc_id: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(the document's view, None), or (None, its job) while that is queued or running: a long poll
    for a finished document costs one thread hop and one job lookup, not two."""
    job = state.jobs.latest_for(doc_id)  # type: ignore[union-attr]
    if job is not None and job["status"] not in FINAL:
        return None, job
    return view_of(state, doc_id, job), None


def document_view(state: ServiceState, doc_id: str) -> dict[str, Any]:
    return view_of(state, doc_id, state.jobs.latest_for(doc_id))  # type: ignore[union-attr]


def view_of(state: ServiceState, doc_id: str, job: dict[str, Any] | None) -> dict[str, Any]:
    """A document's view, given its latest job (None: the service has none; `summarizer run` may have
    stored it)."""
    if job is not None:
        return describe(state, job)
    conn = state.jobs.conn  # type: ignore[union-attr]
    rid = store.latest_result_id(conn, doc_id)
    if rid is None:
        raise intake.Rejected(404, f"no result for document {doc_id!r}")
    result = store.load_result(conn, rid)
    return {"doc_id": doc_id, "status": "degraded" if result.faults else "ok",
            "error": "; ".join(result.faults) or None, "status_url": status_url(doc_id),
            "result": result_json(result)}


@v1.get("/documents", response_model=DocumentPage)
def list_documents(
    state: State,
    status: Annotated[Status | None, Query(description="Only documents with this status")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page")] = None,
) -> dict[str, Any]:
    """The documents this service accepted, oldest first, a page at a time (no results: follow `status_url`)."""
    after = 0
    if cursor:
        if not cursor.isdigit():
            raise intake.Rejected(422, f"cursor {cursor[:40]!r}: pass next_cursor from the previous page")
        after = int(cursor)
    rows = state.jobs.page(status, limit + 1, after)  # type: ignore[union-attr]
    more = len(rows) > limit
    rows = rows[:limit]
    return {"documents": [job_view(r) for r in rows], "next_cursor": str(rows[-1]["seq"]) if more else None}


@v1.get("/runs", response_model=RunList)
def list_runs(state: State, limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> dict[str, Any]:
    """Runs, newest first: the service's (options `serve`, one per busy period) and the CLI's."""
    conn = state.jobs.conn  # type: ignore[union-attr]
    runs = []
    for r in store.iter_runs(conn):
        r = as_listed(conn, r)
        runs.append({k: r.get(k) for k in RunInfo.model_fields})
        if len(runs) >= limit:
            break
    return {"runs": runs}


@ops.get("/healthz", response_model=Health)
def healthz(state: State) -> dict[str, Any]:
    """Is the worker running, is the model loaded, how deep is the queue. No token needed."""
    backend = state.backend
    ident = backend.identity
    loaded = getattr(backend, "loaded", None)
    alive = state.worker is not None and state.worker.alive
    return {"status": "ok" if alive else "degraded", "backend": ident.backend, "model": ident.model,
            "model_loaded": loaded, "worker_alive": alive,
            "queue": state.jobs.counts() if state.jobs else {}}


@ops.get("/metrics", response_class=Response)
def metrics(state: State) -> Response:
    """Prometheus text format. No token needed."""
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
