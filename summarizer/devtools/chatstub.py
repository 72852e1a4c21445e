"""An OpenAI-compatible chat server on 127.0.0.1, for tests and benchmarks.

The real openai client and instructor talk to it over HTTP, so the LLM path is
exercised end to end without a model. Subclasses decide each reply (`respond`): the
test suite replays a scripted queue of good, malformed, slow and failing answers;
the benchmark answers every request after a fixed latency. A reply can also be raw
bytes (an HTML error page, garbage, an empty body), dripped out slowly, or huge, so
the fault tests see what a broken or hostile server really sends.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


@dataclass
class Reply:
    """One answer: an HTTP status, the assistant's content, and how to deliver it."""

    status: int = 200
    content: str = ""
    finish_reason: str = "stop"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    prompt_tokens: int = 100
    completion_tokens: int = 20
    body: bytes | None = None  # sent verbatim instead of a completion
    content_type: str = "application/json"
    drip_s: float = 0.0  # after the headers, send the body one byte per drip_s seconds


def completion_body(reply: Reply, n: int, model: str) -> dict[str, Any]:
    """The JSON body of a chat completion (or of an error) as the OpenAI API sends it."""
    if reply.status != 200:
        return {"error": {"message": f"stub {reply.status}", "type": "stub"}}
    return {
        "id": f"chatcmpl-{n}", "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "finish_reason": reply.finish_reason,
                     "message": {"role": "assistant", "content": reply.content}}],
        "usage": {"prompt_tokens": reply.prompt_tokens, "completion_tokens": reply.completion_tokens,
                  "total_tokens": reply.prompt_tokens + reply.completion_tokens},
    }


class ChatStub:
    """POST /v1/chat/completions on a free loopback port; every request is recorded."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                with stub._lock:
                    stub.requests.append({"path": self.path, "json": body,
                                          "auth": self.headers.get("authorization")})
                    n = len(stub.requests)
                reply = stub.respond(body)
                if reply.delay:
                    time.sleep(reply.delay)
                data = reply.body if reply.body is not None else json.dumps(
                    completion_body(reply, n, body.get("model", "stub-model")), ensure_ascii=False).encode("utf-8")
                try:
                    self.send_response(reply.status)
                    self.send_header("content-type", reply.content_type)
                    self.send_header("content-length", str(len(data)))
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    if reply.drip_s:
                        for i in range(len(data)):
                            self.wfile.write(data[i:i + 1])
                            self.wfile.flush()
                            time.sleep(reply.drip_s)
                    else:
                        self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.request_queue_size = 64
        self.port = self.httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def respond(self, body: dict[str, Any]) -> Reply:
        raise NotImplementedError

    @property
    def calls(self) -> int:
        return len(self.requests)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
