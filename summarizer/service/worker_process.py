"""The worker in a process of its own, so HTTP and the pipeline do not share one GIL.

Why: with a backend that is pure CPU (the rules) the pipeline costs about as much
per document as `summarizer run` spends (17 ms of CPU), and in the server's
process it shared one interpreter lock with the event loop and the intake threads
(another 5 to 6 ms a document, plus the hand-offs): the service could never go
faster than one core's worth of all of it. In a child process the pipeline has its
interpreter to itself and HTTP runs beside it on the other core.

The child runs the very `Worker` a thread would (same claims, same `RunSession`,
same transaction for a job's outcome); the queue is already SQLite, so nothing
about the work crosses between them. What does: one byte a command down a control
pipe (a wake-up per submission, stop, cancel: a single write, no lock, so a signal
handler may send one); each finished job (its row and its result, for the requests
waiting on it: while other documents wait in the pipeline, as the model's JSON, rendered
here so that the busy pipeline's process does not pay for it) and each metrics report
back over a multiprocessing pipe.

Guarantees as with the thread: the child ignores SIGINT and SIGTERM (the server
decides when to stop, and tells it); a stop lets the current work finish for the
grace period, then cancels, then kills, and the server queues again whatever is
still `running`. When the server dies (kill -9) the child reads end-of-file on the
pipe and exits at once: the restart queues again what it held, as for the thread.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from summarizer.backends import Backend
from summarizer.interfaces.render import result_json
from summarizer.models import DocumentResult
from summarizer.service.jobs import BatchReport, JobStore, RecentResults, Worker

log = logging.getLogger("summarizer.service")

PARENT_GONE = 3  # the child's exit status when the server went away without stopping it
WAKE, STOP, CANCEL = b"w", b"s", b"c"  # the server's commands, a byte each


class WorkerProcess:
    """A `Worker` in a child process (fork), with the interface the app uses of a `Worker`."""

    def __init__(self, jobs_store: JobStore, backend: Backend, db_path: str | Path, jobs: int = 1,
                 batch: int = 32, idle_refresh: float = 1.0) -> None:
        self.store = jobs_store
        self.backend = backend
        self._args = (backend, Path(db_path), jobs, batch, idle_refresh)
        self.results = RecentResults()
        self.seconds_per_doc = 0.05  # the child's moving average, for Retry-After
        self.on_finished: list[Callable[[str], None]] = []  # called with a job id (from the pipe's thread)
        self.on_batch: list[Callable[[BatchReport], None]] = []
        self.process: Any = None
        self._conn: Connection | None = None  # the child's messages
        self._control: int | None = None  # write end of the control pipe: one byte a command
        self._reader: threading.Thread | None = None

    def start(self) -> None:
        # fork: the child starts at once with the modules and the backend already loaded.
        ctx = multiprocessing.get_context("fork")
        mine, theirs = ctx.Pipe(duplex=False)
        control_r, control_w = os.pipe()
        self.process = ctx.Process(target=_child_main, args=(theirs, mine, control_r, control_w, *self._args),
                                   name="summarizer-worker")  # not daemonic: it may start its own pool
        # Forked with the collector's objects frozen, as `RunSession` forks its pool: the child never
        # finalizes a SQLite connection it inherited from a thread it does not have (whose lock it
        # could wait on forever).
        gc.freeze()
        try:
            self.process.start()
        finally:
            gc.unfreeze()
        # The child's ends live in the child only: our exit (even kill -9) is its end-of-file.
        theirs.close()
        os.close(control_r)
        os.set_blocking(control_w, False)  # a child that stopped reading never blocks the event loop
        self._conn, self._control = mine, control_w
        self._reader = threading.Thread(target=self._read, name="summarizer-worker-pipe", daemon=True)
        self._reader.start()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.is_alive()

    def wake(self) -> None:
        self._send(WAKE)

    def stop_taking_work(self) -> None:
        self._send(STOP)

    def stop(self, grace: float = 10.0) -> int:
        """As `Worker.stop`: no more claims; the current work has `grace` seconds, then the backend
        is cancelled, then the child is killed. Returns how many documents were queued again."""
        proc = self.process
        if proc is not None:
            self._send(STOP)
            proc.join(grace)
            if proc.is_alive():
                self._send(CANCEL)
                proc.join(2.0)
            if proc.is_alive():
                log.warning("the worker did not stop; killing it")
                proc.kill()
                proc.join(5.0)
        if self._reader is not None:
            self._reader.join(5.0)  # the pipe's last messages: answers for the waiting requests
        if self._conn is not None:
            self._conn.close()
        if self._control is not None:
            os.close(self._control)
            self._control = None
        return self.store.requeue_orphans()

    def _send(self, command: bytes) -> None:
        """One byte down the control pipe: a single write, no lock, so it is safe from a signal
        handler (SIGTERM's `stop_taking_work`) that interrupted a `wake` in the same thread."""
        if self._control is None:
            return
        try:
            os.write(self._control, command)
        except OSError:  # the child is gone (`stop` and `alive` say so), or its pipe is full of wake-ups
            pass

    def _read(self) -> None:
        """The child's messages, until it exits."""
        conn = self._conn
        assert conn is not None
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                return
            if msg[0] == "done":
                _, job_id, row, result, per_doc = msg
                if isinstance(result, str):  # the model's JSON (the child was busy): the answer is built
                    result = result_json(DocumentResult.model_validate_json(result))  # here, on our core
                self.results.put(job_id, row, result)
                self.seconds_per_doc = per_doc
                for fn in self.on_finished:
                    fn(job_id)
            elif msg[0] == "batch":
                for report_to in self.on_batch:
                    report_to(msg[1])


def _child_main(conn: Connection, parent_end: Connection, control: int, control_w: int, backend: Backend,
                db_path: Path, jobs: int, batch: int, idle_refresh: float) -> None:
    parent_end.close()
    os.close(control_w)  # only the server writes: its exit closes the pipe
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C and SIGTERM are the server's to handle
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    worker = Worker(JobStore(db_path), backend, db_path, jobs=jobs, batch=batch, idle_refresh=idle_refresh)
    worker.ship_text = True  # while busy, answers go up the pipe as the model's JSON; the server renders them
    lock = threading.Lock()

    def send(msg: tuple[Any, ...]) -> None:
        with lock:
            conn.send(msg)

    def finished(job_id: str) -> None:
        got = worker.results.entry(job_id)
        if got is not None:
            send(("done", job_id, got[0], got[1], worker.seconds_per_doc))

    worker.on_finished.append(finished)
    worker.on_batch.append(lambda report: send(("batch", report)))

    def listen() -> None:
        while True:
            try:
                commands = os.read(control, 512)
            except OSError:
                commands = b""
            if not commands:
                # The server is gone: its restart queues again what we held. Our pool's processes
                # go with us (they would wait on their queue forever).
                for p in multiprocessing.active_children():
                    p.kill()
                os._exit(PARENT_GONE)
            if STOP in commands:
                worker.stop_taking_work()
            elif WAKE in commands:
                worker.wake()
            if CANCEL in commands:
                cancel = getattr(backend, "cancel", None)
                if cancel is not None:
                    cancel()

    threading.Thread(target=listen, name="summarizer-worker-pipe", daemon=True).start()
    worker.start()
    worker.thread.join()
    close = getattr(backend, "close", None)
    if close is not None:
        close()
