"""Guards on every model HTTP request: a slot, a whole-request deadline, a size cap, cancellation.

httpx's timeouts are per socket operation, so a server that sends its headers and
then one byte every 2 s never trips a 5 s read timeout, and nothing bounds how much
a server may send (a 200 MB reply to a 768-token request is read whole, then sent
back in every re-ask). Both are fixed at the one place every byte passes: the
network stream under the HTTP client. Each read waits in short slices and checks
the request's deadline (set when the request starts, on its thread), the bytes
read for that request, and the run's cancel event, so Ctrl-C or SIGTERM abandons a
call within a fraction of a second instead of waiting out a slow model.

The backend's budget of requests in flight (`--jobs`) is held per HTTP request, from
just before it is sent until its response is read and closed, not around a whole
structured call: preparing a request, parsing and validating its answer and building a
re-ask are CPU work in this process, during which the slot serves another request
instead of sitting idle. (Held around the call, a task of an ask and a re-ask kept its
slot for both and for the work between them; against a server answering every request
in 0.5 s, that left slots idle at the end of a run and between rounds.)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpcore2
import httpx2

POLL_S = 0.25  # longest a read blocks before re-checking deadline and cancel


class ResponseTooLarge(Exception):
    """The server sent more than the cap: a broken or hostile endpoint, not worth a retry."""


class Cancelled(BaseException):
    """The run is stopping (Ctrl-C, SIGTERM): abandon this call, record nothing.

    A BaseException so that no `except Exception` on the way up (openai, instructor,
    the pipeline's per-document handler) turns it into a failure.
    """


@dataclass
class Guard:
    """Limits shared by all requests of one backend."""

    deadline_s: float  # whole request: connect, headers, body
    max_bytes: int  # headers plus body of one response
    in_flight: int = 0  # requests at once over all threads (0: no limit)
    cancel: threading.Event = field(default_factory=threading.Event)
    _local: threading.local = field(default_factory=threading.local)
    _slots: threading.BoundedSemaphore | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.in_flight > 0:
            self._slots = threading.BoundedSemaphore(self.in_flight)

    def begin(self, request: httpx2.Request | None = None) -> None:
        """Start the clock for a request on this thread (once it holds its slot)."""
        self._local.deadline = time.monotonic() + self.deadline_s
        self._local.received = 0

    def take_slot(self) -> Callable[[], None]:
        """Wait for a free slot (checking for cancellation meanwhile); returns its release,
        which may be called more than once."""
        slots = self._slots
        if slots is None:
            return lambda: None
        while not slots.acquire(timeout=POLL_S):
            self.check_cancel()
        try:
            self.check_cancel()
        except BaseException:
            slots.release()
            raise
        lock, held = threading.Lock(), [True]

        def release() -> None:
            with lock:
                if held[0]:
                    held[0] = False
                    slots.release()

        return release

    def remaining(self) -> float:
        return getattr(self._local, "deadline", float("inf")) - time.monotonic()

    def count(self, n: int) -> None:
        self._local.received = getattr(self._local, "received", 0) + n
        if self._local.received > self.max_bytes:
            raise ResponseTooLarge(f"response larger than the {self.max_bytes:,} byte cap")

    def check_cancel(self) -> None:
        if self.cancel.is_set():
            raise Cancelled()


class _GuardedStream(httpcore2.NetworkStream):
    def __init__(self, inner: httpcore2.NetworkStream, guard: Guard) -> None:
        self._inner = inner
        self._guard = guard

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        started = time.monotonic()
        while True:
            self._guard.check_cancel()
            left = self._guard.remaining()
            if left <= 0:
                raise httpcore2.ReadTimeout(f"no complete answer within {self._guard.deadline_s:g} s")
            wait = min(POLL_S, left)
            if timeout is not None:
                waited = time.monotonic() - started
                if waited >= timeout:
                    raise httpcore2.ReadTimeout(f"nothing received for {timeout:g} s")
                wait = min(wait, timeout - waited)
            try:
                data = self._inner.read(max_bytes, wait)
            except httpcore2.ReadTimeout:
                continue
            self._guard.count(len(data))
            return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._guard.check_cancel()
        left = self._guard.remaining()
        if left <= 0:
            raise httpcore2.WriteTimeout(f"request not sent within {self._guard.deadline_s:g} s")
        self._inner.write(buffer, left if timeout is None else min(timeout, left))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore2.NetworkStream:
        left = max(0.001, self._guard.remaining())
        inner = self._inner.start_tls(ssl_context, server_hostname, left if timeout is None else min(timeout, left))
        return _GuardedStream(inner, self._guard)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _GuardedBackend(httpcore2.NetworkBackend):
    def __init__(self, inner: httpcore2.NetworkBackend, guard: Guard) -> None:
        self._inner = inner
        self._guard = guard

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore2.NetworkStream:
        self._guard.check_cancel()
        left = max(0.001, self._guard.remaining())
        stream = self._inner.connect_tcp(host, port, left if timeout is None else min(timeout, left),
                                         local_address, socket_options)
        return _GuardedStream(stream, self._guard)

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None) -> httpcore2.NetworkStream:
        return _GuardedStream(self._inner.connect_unix_socket(path, timeout, socket_options), self._guard)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _SlotStream(httpx2.SyncByteStream):
    """A response body that gives its request's slot back when it is closed (read to the end,
    or abandoned: httpx closes a response whose reading failed)."""

    def __init__(self, inner: httpx2.SyncByteStream, release: Callable[[], None]) -> None:
        self._inner = inner
        self._release = release

    def __iter__(self) -> Iterator[bytes]:
        yield from self._inner

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._release()


class _SlottedTransport(httpx2.BaseTransport):
    """Each request holds one of the guard's slots from before it is sent until its response
    is closed; its deadline starts once it holds the slot."""

    def __init__(self, inner: httpx2.BaseTransport, guard: Guard) -> None:
        self._inner = inner
        self._guard = guard

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        release = self._guard.take_slot()
        try:
            self._guard.begin(request)
            response = self._inner.handle_request(request)
        except BaseException:
            release()
            raise
        response.stream = _SlotStream(response.stream, release)  # type: ignore[arg-type]
        return response

    def close(self) -> None:
        self._inner.close()


def guarded_client(guard: Guard, timeout: float, connect_timeout: float = 10.0) -> httpx2.Client:
    """An HTTP client for the openai SDK whose every request and connection goes through `guard`.

    Built like the SDK's own default client (environment proxies included), then each
    transport is wrapped (the slot and the deadline, per request) and each connection
    pool's network backend (deadline, size cap and cancellation, per read). httpx offers
    no public hook at either level; the fault tests (drip-feeding server, huge answer)
    and the slot tests fail loudly if a future httpx version moves them.
    """
    import openai

    client: httpx2.Client = openai.DefaultHttpxClient(
        timeout=httpx2.Timeout(timeout, connect=min(timeout, connect_timeout)),
    )
    transports = [client._transport, *(t for t in client._mounts.values() if t is not None)]
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        if pool is None or not hasattr(pool, "_network_backend"):
            raise RuntimeError("cannot guard the HTTP client: httpx internals changed")
        pool._network_backend = _GuardedBackend(pool._network_backend, guard)
    client._transport = _SlottedTransport(client._transport, guard)
    client._mounts = {pattern: _SlottedTransport(t, guard) if t is not None else None
                      for pattern, t in client._mounts.items()}
    return client
