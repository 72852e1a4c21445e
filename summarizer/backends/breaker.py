"""A circuit breaker for the model server: stop calling a server that keeps failing.

Without it a closed port or a server answering 500 is retried in full for every
chunk of every document, so a dead server turns a batch into hours of backoff.
After `threshold` consecutive failed requests (timeouts, refused connections, HTTP
errors; any good answer resets the count) the breaker opens for the rest of the
run: no more calls, each remaining chunk is a fault with the reason, and the
message is logged once.
"""

from __future__ import annotations

import logging
import threading

log = logging.getLogger("summarizer.backends")


class Breaker:
    """Thread-safe count of consecutive server failures; opens once, stays open."""

    def __init__(self, threshold: int, endpoint: str) -> None:
        self.threshold = threshold
        self.endpoint = endpoint
        self._lock = threading.Lock()
        self._consecutive = 0
        self._last = ""
        self.reason: str | None = None  # set when open

    @property
    def open(self) -> bool:
        return self.reason is not None

    def success(self) -> None:
        with self._lock:
            self._consecutive = 0

    def failure(self, what: str) -> None:
        """Count one failed request; open (and say so once) at the threshold."""
        with self._lock:
            self._consecutive += 1
            self._last = what
            if self.reason is None and self._consecutive >= self.threshold:
                self.reason = (f"model server {self.endpoint} given up after {self._consecutive} "
                               f"consecutive failures (last: {what})")
                log.warning("%s; the remaining documents are finished without the model (degraded); "
                            "fix the server and run again", self.reason)
