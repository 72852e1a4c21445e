"""One model call for one task: prompt, cache, transport retry, validation and re-ask.

The transport policy is llm.py's (its `is_transient`, `retry_after`, `describe`);
this module only adds what differs per task: the prompt, the response model, its
validation context, and the cached answer (stored as the validated answer's JSON and
validated again on a cache hit, so a cached answer passes the same checks).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from instructor.core.hooks import Hooks
from pydantic import BaseModel, ValidationError

from summarizer.backends.llm import Prompt, describe
from summarizer.backends.llm_cache import request_hash
from summarizer.backends.tasks import Query, Task
from summarizer.backends.transport import Cancelled

TASK_REASKS = 1  # one re-ask with the error: a second rarely fixes what the first did not (2 cores)
_PROMPTS: dict[str, Prompt] = {}
_PROMPTS_LOCK = threading.Lock()


def prompt_of(task: Task) -> Prompt:
    with _PROMPTS_LOCK:
        if task.prompt not in _PROMPTS:
            _PROMPTS[task.prompt] = Prompt.load(task.prompt)
        return _PROMPTS[task.prompt]


@dataclass
class TaskResult:
    answer: BaseModel | None  # the validated answer; None: nothing usable
    status: str  # ok | partial | failed | cached
    dropped: int = 0
    prompt_tokens: int = 0
    note: str = ""
    fault: str = ""  # why no usable answer came (transport or output): the document is degraded


def _salvage(task: Task, raw: str | None, ctx: dict[str, Any]) -> tuple[BaseModel | None, int]:
    """Keep the valid items of a list answer that failed as a whole."""
    if not task.salvage:
        return None, 0
    try:
        data = json.loads(raw or "")
    except ValueError:
        return None, 0
    if not isinstance(data, dict):
        return None, 0
    if not any("list" in str(f.annotation) for f in task.Answer.model_fields.values()) or len(
            task.Answer.model_fields) > 1:
        # A record answer (plan): validated leniently, its bad fields dropped.
        try:
            return task.Answer.model_validate(data, context={**ctx, "lenient": True}), 1
        except (ValidationError, ValueError):
            return None, 1
    fields = [k for k, f in task.Answer.model_fields.items() if "list" in str(f.annotation)]
    if len(fields) != 1 or len(task.Answer.model_fields) != 1 or not isinstance(data.get(fields[0]), list):
        return None, 0
    key, kept, dropped = fields[0], [], 0
    for item in data[key]:
        try:
            task.Answer.model_validate({key: [item]}, context=ctx)
            kept.append(item)
        except (ValidationError, ValueError):
            dropped += 1
    if not kept:
        return None, dropped
    return task.Answer.model_validate({key: kept}, context=ctx), dropped


def run_task(backend: Any, task: Task, query: Query) -> TaskResult:
    """Ask the backend's model one task; cached, retried, validated.

    Transport goes through the backend's own guards, as its goal chunks do: the shared
    request slots, the whole-request deadline, the circuit breaker and cancellation.
    A call that gives no usable answer comes back `failed` with the reason in `fault`
    (the document is then degraded); it is logged but never served from the cache."""
    prompt = prompt_of(task)
    messages = prompt.messages(query.data)
    s = backend.settings
    key = request_hash(backend.model_name, prompt.version, messages, s.mode, endpoint=backend.cache_scope)
    hit = backend._cache.get(key)  # failed calls are never served
    if hit is not None:
        with backend._lock:
            backend.stats.cache_hits += 1
        resp = hit["response"] or {}
        if resp.get("answer") is None:
            return TaskResult(None, "cached", int(resp.get("dropped", 0)))
        try:
            return TaskResult(task.Answer.model_validate(resp["answer"], context=query.context), "cached",
                              int(resp.get("dropped", 0)))
        except (ValidationError, ValueError):
            return TaskResult(None, "cached", 1)
    backend.guard.check_cancel()
    if backend.breaker.open:
        return TaskResult(None, "failed", fault=f"model not called: {backend.breaker.reason}")

    hooks, usage = backend.usage_hooks()
    client = backend._ensure_client()
    state = {"max_tokens": task.max_tokens, "attempts": 0}
    cap = getattr(task, "max_tokens_cap", None)  # e.g. an abstract: an answer that long is no abstract
    if cap is not None:
        state["max_tokens_cap"] = cap
    t0 = time.monotonic()
    retrying = backend.retrying(state, t0)
    answer: BaseModel | None = None
    status, dropped, note, fault = "ok", 0, "", ""
    try:
        for attempt in retrying:
            with attempt:
                state["attempts"] = attempt.retry_state.attempt_number
                answer, status, dropped, note = _attempt(backend, client, task, query, messages, hooks, state)
    except Cancelled:
        raise
    except Exception as exc:  # no answer after all attempts
        if backend.guard.cancel.is_set():
            raise Cancelled() from exc
        status, answer, dropped = "failed", None, 0
        n = state["attempts"]
        fault = f"{describe(exc, backend.endpoint_label)} after {n} attempt{'s' if n != 1 else ''}"
    if status == "failed" and not fault:
        fault = f"unusable model output from {backend.endpoint_label}"
    response: dict[str, Any] = {"answer": answer.model_dump(mode="json") if answer is not None else None,
                                "dropped": dropped}
    if fault:
        response["error"] = fault
        note = f"{task.name}: {fault}"
    backend._cache.put(key, model=backend.model_name, prompt_version=prompt.version,
                       prompt_tokens=usage["prompt"], completion_tokens=usage["completion"],
                       latency_s=time.monotonic() - t0, attempts=usage["calls"], status=status, response=response)
    return TaskResult(answer, status, dropped, usage["prompt"], note, fault)


def _attempt(backend: Any, client: Any, task: Task, query: Query, messages: list[dict[str, str]], hooks: Hooks,
             state: dict[str, int]) -> tuple[BaseModel | None, str, int, str]:
    """One attempt: (answer, status, dropped, note); transport errors raise for tenacity."""
    answer, raw, exc = backend.guarded_create(
        client, messages, task.Answer, max_retries=min(backend.settings.reasks, TASK_REASKS),
        context=query.context, hooks=hooks, max_tokens=state["max_tokens"])
    if exc is not None:
        answer, dropped = _salvage(task, raw, query.context)
        return (answer, "partial" if answer is not None else "failed", dropped or 1,
                f"{task.name}: invalid model answer dropped ({describe(exc)[:80]})")
    return answer, "ok", 0, ""
