"""The service's request and response bodies: the OpenAPI schema at `/docs` comes from these.

A result is the gold-format `GoldFile`, exactly what `summarizer show --json`
prints (`summarizer.interfaces.render.result_json`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from summarizer.models import GoldFile

Status = Literal["queued", "running", "ok", "degraded", "failed"]


class TextDocument(BaseModel):
    """A document posted as JSON text."""

    doc_id: str | None = Field(None, description="Id to store it under (default: from the content)")
    text: str = Field(description="The document's text (stored as a UTF-8 .txt)")


class DocumentStatus(BaseModel):
    """Where a document is: queued, running, ok, degraded (model faults: the rules' reading) or failed."""

    doc_id: str
    status: Status
    error: str | None = Field(None, description="Why it failed or is degraded, in the CLI's words")
    status_url: str
    attempts: int = 0
    run_id: str | None = Field(None, description="The run (`GET /v1/runs`) that processed it")
    submitted_at: str | None = None
    finished_at: str | None = None
    result: GoldFile | None = Field(None, description="The result, as `summarizer show --json` prints it")


class DocumentPage(BaseModel):
    documents: list[DocumentStatus]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page; null at the end")


class RunInfo(BaseModel):
    """One run, as `summarizer runs` lists it (the service's runs have options `serve`)."""

    id: str
    status: str | None = None
    backend: str | None = None
    model: str | None = None
    options: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    documents: int | None = None
    succeeded: int | None = None
    degraded: int | None = None
    skipped: int | None = None
    failed: int | None = None
    llm_calls: int | None = None
    cache_hits: int | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    error: str | None = None


class RunList(BaseModel):
    runs: list[RunInfo]


class Health(BaseModel):
    status: Literal["ok", "degraded"] = Field(description="degraded: the worker thread is not running")
    backend: str
    model: str
    model_loaded: bool | None = Field(description="null for the rules backend (no model)")
    worker_alive: bool
    queue: dict[str, int] = Field(description="jobs by status")


class ErrorBody(BaseModel):
    detail: str = Field(description="One line saying what is wrong")
