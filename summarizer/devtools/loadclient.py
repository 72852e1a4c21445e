"""The bench's HTTP clients for `summarizer serve`: cheap, and in processes of their own.

Why not httpx threads in the bench's process: the clients are the bench's code, not
the product's, and a real client sits on another machine. On the bench's two cores
every millisecond a client spends is taken from the server, so the clients should
cost as little as a client can: each is a process of its own (no interpreter lock
shared between 16 clients), holds one keep-alive connection (`http.client`, the
standard library), and posts a multipart body encoded before the clock starts. With
httpx in 16 threads of one process they cost 1.9 to 8.2 ms of CPU per document,
growing with the number of threads.

What is measured is unchanged: mode `wait`: each client posts a document with
`?wait=`, takes the 200 with its result and posts the next (one document in flight
per client); mode `submit`: each posts its share without waiting (202), then collects
every result from its status URL with `?wait=` (a long poll). The clients share the
documents (each takes the next one not taken), and every answer is read and parsed:
a document counts when its status is `ok`.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import queue
import resource
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

MODES = ("wait", "submit")


def multipart(name: str, data: bytes, content_type: str = "text/plain") -> tuple[bytes, str]:
    """A multipart/form-data body with one file field `file`; returns (body, Content-Type)."""
    boundary = uuid.uuid4().hex
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n").encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


class Connection:
    """One keep-alive HTTP/1.1 connection; reconnects once if the server closed it between
    requests (posting the same content twice does no new work on the service)."""

    def __init__(self, base_url: str, timeout: float) -> None:
        u = urlsplit(base_url)
        self.host, self.port, self.timeout = u.hostname or "127.0.0.1", u.port or 80, timeout
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                resp = self.conn.getresponse()
                return resp.status, resp.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                if attempt == 2:
                    raise
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


def _client(base_url: str, bodies: list[tuple[str, bytes, str]], mode: str, wait_s: float, next_doc: Any,
            go: Any, out: Any) -> None:
    """One client (a process): takes documents until none is left; sends back its latencies,
    failures and CPU seconds from the start signal to its last answer."""
    conn = Connection(base_url, wait_s + 30)
    latencies: list[float] = []
    failures: list[str] = []
    posted: list[tuple[str, str, float]] = []

    def done(name: str, status: int, data: bytes, t0: float) -> None:
        dt_s = time.perf_counter() - t0
        try:
            ok = status == 200 and json.loads(data).get("status") == "ok"
        except ValueError:
            ok = False
        if ok:
            latencies.append(dt_s)
        else:
            failures.append(f"{name}: {status} {data[:200].decode('utf-8', 'replace')}")

    go.wait()
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    try:
        while True:
            with next_doc.get_lock():
                i = next_doc.value
                next_doc.value = i + 1
            if i >= len(bodies):
                break
            name, body, ctype = bodies[i]
            t0 = time.perf_counter()
            path = f"/v1/documents?wait={wait_s:g}" if mode == "wait" else "/v1/documents"
            status, data = conn.request("POST", path, body, {"Content-Type": ctype})
            if mode == "wait" or status not in (200, 202):
                done(name, status, data, t0)
            else:
                posted.append((name, json.loads(data)["status_url"], t0))
        for name, url, t0 in posted:  # submit mode: collect, each with a long poll (no polling loop)
            status, data = conn.request("GET", f"{url}?wait={wait_s:g}")
            done(name, status, data, t0)
    except Exception as exc:  # the server went away: what was not answered counts as failed
        failures.append(f"client: {type(exc).__name__}: {exc}")
    finally:
        conn.close()
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime
    out.put((latencies, failures, cpu))


def post_all(base_url: str, files: list[Path], clients: int, wait_s: float = 300.0,
             mode: str = "wait") -> dict[str, Any]:
    """`clients` client processes share the files (see the module's docstring for the modes).

    Returns wall seconds from the first post to the last answer, documents answered `ok`,
    failures (the first five said), p50/p95 latency in ms and the clients' CPU ms per
    document (from the start signal on: the bodies are encoded before the clock starts)."""
    if mode not in MODES:
        raise ValueError(f"unknown client mode {mode!r}; choose from {', '.join(MODES)}")
    bodies = [(f.name, *multipart(f.name, f.read_bytes())) for f in files]
    ctx = multiprocessing.get_context("fork")  # the bodies are inherited, not pickled
    next_doc = ctx.Value("l", 0)
    go = ctx.Event()
    out = ctx.Queue()
    procs = [ctx.Process(target=_client, args=(base_url, bodies, mode, wait_s, next_doc, go, out), daemon=True)
             for _ in range(clients)]
    for p in procs:
        p.start()
    t0 = time.perf_counter()
    go.set()
    got: list[tuple[list[float], list[str], float]] = []
    while len(got) < len(procs):
        try:
            got.append(out.get(timeout=1.0))
        except queue.Empty:
            if not any(p.is_alive() for p in procs):  # all gone: what is left must already be in transit
                try:
                    got.append(out.get(timeout=1.0))
                except queue.Empty:
                    raise RuntimeError(f"{len(procs) - len(got)} client process(es) died without reporting") from None
    wall = time.perf_counter() - t0
    for p in procs:
        p.join()
    lat = sorted(x for latencies, _, _ in got for x in latencies)
    failures = [f for _, fs, _ in got for f in fs]
    cpu = sum(c for _, _, c in got)

    def pct(q: float) -> float | None:
        return 1000 * lat[min(len(lat) - 1, int(q * len(lat)))] if lat else None

    return {"wall_s": wall, "ok": len(lat), "failed": len(failures), "failures": failures[:5],
            "p50_ms": pct(0.50), "p95_ms": pct(0.95), "client_cpu_ms": 1000 * cpu / len(lat) if lat else None}
