"""`create_app(settings)`: the FastAPI application of `summarizer serve`.

The lifespan opens the database, queues again what a stopped or killed server left
running, and starts the worker; at shutdown it stops taking work, lets the current
run finish (or cancels it and requeues its documents) and closes the backend.
Errors are JSON `{"detail": "<one line>"}` with the status the issue names, the
ingest errors in the CLI's own words.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry

from summarizer.service import routes
from summarizer.service.deps import ServiceState
from summarizer.service.intake import Rejected
from summarizer.service.jobs import JobStore, Worker
from summarizer.service.metrics import Metrics, RequestMetrics
from summarizer.service.settings import Settings
from summarizer.service.worker_process import WorkerProcess

log = logging.getLogger("summarizer.service")


def create_app(settings: Settings, registry: CollectorRegistry | None = None, backend: Any = None) -> FastAPI:
    """The service app. `backend` defaults to `get_backend(settings.backend, ...)` at start-up;
    metrics go to `registry` (a fresh one by default)."""
    metrics = Metrics(registry or CollectorRegistry())
    state = ServiceState(settings=settings, metrics=metrics, backend=backend)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state.waiters.loop = asyncio.get_running_loop()
        if state.backend is None:
            from summarizer.backends import get_backend

            state.backend = get_backend(settings.backend, **settings.backend_options())
        state.jobs = JobStore(settings.db)
        requeued = state.jobs.requeue_orphans()
        if requeued:
            log.warning("queued again %d documents a stopped server left unfinished", requeued)
        metrics.watch_queue(state.jobs)
        state.worker = _worker_for(settings, state.jobs, state.backend)
        state.worker.on_finished.append(state.waiters.wake_from_thread)
        state.worker.on_batch.append(metrics.record_batch)
        state.worker.start()
        try:
            yield
        finally:
            state.begin_shutdown()
            left = await asyncio.to_thread(state.worker.stop, settings.stop_grace)
            if left:
                log.warning("queued again %d documents still running at shutdown", left)
            close = getattr(state.backend, "close", None)
            if close is not None:
                close()

    app = FastAPI(
        title="policy-summarizer",
        summary="Typed, grounded summaries of Chinese government policy documents",
        description="Post a document (txt, html, docx, pdf, or JSON text); get its plan, goals, measures "
                    "and responsibilities in the gold format `summarizer show --json` prints.",
        version="1",
        lifespan=lifespan,
    )
    app.state.service = state
    app.include_router(routes.v1)
    app.include_router(routes.ops)
    app.add_middleware(RequestMetrics, metrics=metrics)

    @app.exception_handler(Rejected)
    async def rejected(request: Request, exc: Rejected) -> JSONResponse:
        metrics.rejected.labels(str(exc.status)).inc()
        return JSONResponse({"detail": exc.message}, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"detail": str(exc.detail)}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def bad_parameter(request: Request, exc: RequestValidationError) -> JSONResponse:
        err = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = " ".join(str(x) for x in err.get("loc", ()))
        return JSONResponse({"detail": f"{where}: {err.get('msg')}".strip(": ")}, status_code=422)

    return app


def _worker_for(settings: Settings, jobs: JobStore, backend: Any) -> Worker | WorkerProcess:
    """The pipeline in a process of its own for a backend that is pure CPU (`worker=auto`): it then
    has an interpreter lock of its own, and HTTP runs beside it. A model backend stays in a thread:
    its time goes to waiting on the model, and `/healthz` reads its state (a model loaded)."""
    use_process = settings.worker == "process" or (
        settings.worker == "auto" and bool(getattr(backend, "cpu_only", False)))
    kind = WorkerProcess if use_process else Worker
    return kind(jobs, backend, settings.db, jobs=settings.jobs, batch=settings.batch)


def serve(settings: Settings, access_log: bool = False) -> None:
    """Run the app under uvicorn, one process (the queue's ON_START requeue assumes one).

    The backend and the database are opened first, so a bad `--backend` option or a
    `--db` that is not ours fails in one line before anything listens.
    """
    import uvicorn

    from summarizer.backends import get_backend
    from summarizer.store import db as store

    store.open_db(settings.db).close()
    backend = get_backend(settings.backend, **settings.backend_options())
    app = create_app(settings, backend=backend)
    state: ServiceState = app.state.service
    log.setLevel(logging.INFO)

    class Server(uvicorn.Server):
        """uvicorn, plus: the moment SIGTERM or Ctrl-C arrives the worker takes no new
        documents and requests waiting on `?wait=` answer at once (202 and the status URL),
        instead of holding the graceful shutdown until they are cut off."""

        def handle_exit(self, sig: int, frame: Any) -> None:
            state.begin_shutdown()
            super().handle_exit(sig, frame)

    config = uvicorn.Config(app, host=settings.host, port=settings.port, workers=1, access_log=access_log,
                            timeout_graceful_shutdown=5, log_level="info")
    Server(config).run()
