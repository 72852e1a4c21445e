"""What instructor is handed for one structured request: a response model prepared once,
and the validation context passed beside instructor rather than through it.

Why not instructor's own `context=`: in instructor it is also a Jinja template context.
Given one, instructor renders every message as a template (`SandboxedEnvironment().
from_string(content).render(**context)`, then `textwrap.dedent`). Our messages carry
document text, so a document holding `{{ text }}` had the whole document pasted into
the request, `{% if 1 %}X{% endif %}` was evaluated, `{# ... #}` vanished, an unclosed
`{{` failed the call, and whitespace-only lines were emptied: what was sent was not the
request the cache key was made of, and the document decided it. Rendering also cost
about 2 ms of CPU per call (a template compiled per message), under the GIL of the
process that runs every model call. So the request goes out with no context, and the
validators read it with `validation_context(info)`, which falls back to the context set
around the call by `validating(...)` (a ContextVar: instructor validates the answer in
the calling thread, inside that block).

Why `prepared(Model)`: instructor wraps a plain response model in a new class for every
call (`openai_schema`, a pydantic `create_model`) and regenerates its JSON schema each
time, about 1.5-2 ms of CPU per call for what is the same for every call of a task (and
in tools mode its per-model schema cache never hits, since each call's class is new).
`prepared` builds instructor's own wrapper once and its schema once; instructor accepts
an already-wrapped model as it is. The request body is unchanged, byte for byte.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

import instructor
from pydantic import BaseModel, ValidationInfo

_CONTEXT: ContextVar[dict[str, Any] | None] = ContextVar("summarizer_validation_context", default=None)


def validation_context(info: ValidationInfo) -> dict[str, Any]:
    """The context a validator checks against: pydantic's own (an explicit `model_validate(...,
    context=)`) first, else the one set around the model call; {} when there is none."""
    ctx = info.context if info.context is not None else _CONTEXT.get()
    return ctx if isinstance(ctx, dict) else {}


@contextlib.contextmanager
def validating(context: dict[str, Any] | None) -> Iterator[None]:
    """Make `context` what the response model's validators see during this block (this
    thread only; the same dict object, so a validator's notes in it reach the caller)."""
    token = _CONTEXT.set(context)
    try:
        yield
    finally:
        _CONTEXT.reset(token)


@functools.cache
def prepared(model: type[BaseModel]) -> type[BaseModel]:
    """`model` as instructor would wrap it for a request, made once, with its JSON schema made once.

    `model_json_schema()` with no arguments (what instructor's request builders call) returns
    a fresh copy of the schema made at preparation (a caller may edit its copy); any other
    arguments generate as pydantic would."""
    wrapped = instructor.openai_schema(model)
    generate = wrapped.model_json_schema
    frozen = json.dumps(generate())

    def model_json_schema(cls: type[BaseModel], *args: Any, **kwargs: Any) -> dict[str, Any]:
        return json.loads(frozen) if not args and not kwargs else generate(*args, **kwargs)

    wrapped.model_json_schema = classmethod(model_json_schema)  # type: ignore[method-assign,assignment]
    return wrapped
