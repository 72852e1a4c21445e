"""FastAPI dependencies: the service state, its settings, and the bearer token check.

The token is compared with `secrets.compare_digest` on bytes (constant time; on
`str`s it raises for non-ASCII text). A missing or wrong
token is 401 with `WWW-Authenticate: Bearer`, never 400 or 403, so clients know
to send credentials.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from summarizer.service.jobs import JobStore, Worker
from summarizer.service.metrics import Metrics
from summarizer.service.settings import Settings
from summarizer.service.worker_process import WorkerProcess


@dataclass
class Waiters:
    """Requests waiting (`?wait=`) for a job; the worker's thread wakes them through the loop."""

    loop: asyncio.AbstractEventLoop | None = None
    events: dict[str, set[asyncio.Event]] = field(default_factory=dict)

    def add(self, job_id: str) -> asyncio.Event:
        ev = asyncio.Event()
        self.events.setdefault(job_id, set()).add(ev)
        return ev

    def remove(self, job_id: str, ev: asyncio.Event) -> None:
        waiting = self.events.get(job_id)
        if waiting is not None:
            waiting.discard(ev)
            if not waiting:
                del self.events[job_id]

    def wake(self, job_id: str) -> None:  # in the event loop
        for ev in self.events.get(job_id, ()):
            ev.set()

    def wake_from_thread(self, job_id: str) -> None:
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.wake, job_id)

    def wake_all(self) -> None:
        for waiting in self.events.values():
            for ev in waiting:
                ev.set()


@dataclass
class ServiceState:
    """Everything a request may need, built by the app's lifespan."""

    settings: Settings
    metrics: Metrics
    jobs: JobStore | None = None
    worker: Worker | WorkerProcess | None = None
    backend: Any = None
    waiters: Waiters = field(default_factory=Waiters)
    stopping: bool = False

    def begin_shutdown(self) -> None:
        """Stop taking work and release waiting requests (called in the event loop's thread)."""
        self.stopping = True
        if self.worker is not None:
            self.worker.stop_taking_work()
        self.waiters.wake_all()


async def get_state(request: Request) -> ServiceState:
    return request.app.state.service  # type: ignore[no-any-return]


async def get_settings(request: Request) -> Settings:
    """The settings `create_app` was given (tests swap them with `app.dependency_overrides`)."""
    return request.app.state.service.settings  # type: ignore[no-any-return]


bearer = HTTPBearer(auto_error=False)  # no token configured: no header needed

# The dependencies are `async def` though they do not await: FastAPI runs a plain `def`
# dependency in its thread pool, a thread hop per request each (they only read memory).


async def require_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    settings: Annotated[Settings, Depends(get_settings)],
) -> None:
    expected = settings.token
    if not expected:
        return
    # Starlette decodes header bytes as latin-1: encoding back gives the bytes the client sent,
    # and a UTF-8 token from the environment compares as the bytes a client would send for it.
    given = credentials.credentials.encode("latin-1") if credentials is not None else b""
    if not secrets.compare_digest(given, expected.encode("utf-8")):
        raise HTTPException(401, "missing or wrong bearer token (Authorization: Bearer <SUMMARIZER_API_TOKEN>)",
                            headers={"WWW-Authenticate": "Bearer"})


State = Annotated[ServiceState, Depends(get_state)]
