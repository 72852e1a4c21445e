"""A real OpenAI-compatible HTTP server on 127.0.0.1 that replays a scripted queue.

Each POST /v1/chat/completions pops the next reply; every request body is recorded.
Replies: `ok(content)`, `length(content)`, `error(status, headers)`, `slow(seconds, content)`.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    content: str = ""
    finish_reason: str = "stop"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    prompt_tokens: int = 100
    completion_tokens: int = 20


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


class StubServer:
    def __init__(self) -> None:
        self.queue: deque[Reply] = deque()
        self.requests: list[dict[str, Any]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                stub.requests.append({"path": self.path, "json": json.loads(body or b"{}"),
                                      "auth": self.headers.get("authorization")})
                reply = stub.queue.popleft() if stub.queue else Reply(status=500, content="queue empty")
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.status != 200:
                    payload = json.dumps({"error": {"message": f"stub {reply.status}", "type": "stub"}})
                else:
                    payload = json.dumps({
                        "id": f"chatcmpl-{len(stub.requests)}", "object": "chat.completion",
                        "created": int(time.time()), "model": "stub-model",
                        "choices": [{"index": 0, "finish_reason": reply.finish_reason,
                                     "message": {"role": "assistant", "content": reply.content}}],
                        "usage": {"prompt_tokens": reply.prompt_tokens,
                                  "completion_tokens": reply.completion_tokens,
                                  "total_tokens": reply.prompt_tokens + reply.completion_tokens},
                    }, ensure_ascii=False)
                data = payload.encode("utf-8")
                try:
                    self.send_response(reply.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def script(self, *replies: Reply) -> None:
        self.queue.extend(replies)

    @property
    def calls(self) -> int:
        return len(self.requests)

    def __enter__(self) -> StubServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
