"""The scripted OpenAI-compatible server the LLM tests drive: one reply per request.

Replies: `ok(content)`, `length(content)`, `error(status, headers)`, `slow(seconds, content)`.
"""

from __future__ import annotations

import json
from collections import deque
from typing import Any

from summarizer.devtools.chatstub import ChatStub, Reply


def ok(content: Any) -> Reply:
    return Reply(content=content if isinstance(content, str) else json.dumps(content, ensure_ascii=False))


def length(content: str = '{"g":[{"q":"到20') -> Reply:
    return Reply(content=content, finish_reason="length")


def error(status: int, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status=status, headers=headers or {})


def slow(seconds: float, content: Any = '{"g":[]}') -> Reply:
    r = ok(content)
    r.delay = seconds
    return r


class StubServer(ChatStub):
    """Pops the next scripted reply for each request; an empty queue answers 500."""

    def __init__(self) -> None:
        self.queue: deque[Reply] = deque()
        super().__init__()

    def script(self, *replies: Reply) -> None:
        self.queue.extend(replies)

    def respond(self, body: dict[str, Any]) -> Reply:
        return self.queue.popleft() if self.queue else Reply(status=500, content="queue empty")
