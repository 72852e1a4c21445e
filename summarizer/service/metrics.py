"""Prometheus metrics of one service: documents by outcome, model usage, queue, time.

Every metric lives in the `CollectorRegistry` given to `create_app` (tests read it
with `get_sample_value`; two apps in one process never share counters). Queue depth
is counted from the `jobs` table at each scrape, so it is true after a restart and
whatever wrote the rows. HTTP requests are labelled by route template
(`/v1/documents/{doc_id}`), never by path: one series per route, not per document.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from summarizer.service.jobs import BatchReport, JobStore

_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)


class QueueCollector(Collector):
    """`summarizer_jobs{status}`: jobs in the table by status, read at scrape time."""

    def __init__(self, jobs: JobStore) -> None:
        self.jobs = jobs

    def collect(self) -> Iterator[GaugeMetricFamily]:
        g = GaugeMetricFamily("summarizer_jobs", "Documents in the service's queue table by status",
                              labels=["status"])
        for status, n in self.jobs.counts().items():
            g.add_metric([status], n)
        yield g


class Metrics:
    """The service's counters and histograms, in one registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.documents = Counter("summarizer_documents", "Documents processed, by outcome",
                                 ["outcome"], registry=registry)
        self.rejected = Counter("summarizer_rejected", "Submissions refused, by HTTP status",
                                ["code"], registry=registry)
        self.model_calls = Counter("summarizer_model_calls", "Model requests made", registry=registry)
        self.cache_hits = Counter("summarizer_model_cache_hits", "Model answers taken from the call cache",
                                  registry=registry)
        self.tokens = Counter("summarizer_model_tokens", "Model tokens, by kind", ["kind"], registry=registry)
        self.job_seconds = Histogram("summarizer_job_seconds",
                                     "Seconds a document spent, by stage (queued: accepted to claimed; "
                                     "processing: its share of the run)", ["stage"], buckets=_SECONDS,
                                     registry=registry)
        self.http = Counter("summarizer_http_requests", "HTTP requests, by method, route template and status",
                            ["method", "route", "code"], registry=registry)
        self.http_seconds = Histogram("summarizer_http_request_seconds", "HTTP request time, by route template",
                                      ["route"], buckets=_SECONDS, registry=registry)
        for outcome in ("ok", "degraded", "failed"):
            self.documents.labels(outcome)  # present at 0 from the start
        for kind in ("prompt", "completion"):
            self.tokens.labels(kind)

    def watch_queue(self, jobs: JobStore) -> None:
        self.registry.register(QueueCollector(jobs))

    def record_batch(self, report: BatchReport) -> None:
        """Called by the worker after each run."""
        for status, queued_s, processing_s in report.outcomes:
            self.documents.labels(status).inc()
            self.job_seconds.labels("queued").observe(queued_s)
            self.job_seconds.labels("processing").observe(processing_s)
        s = report.stats
        self.model_calls.inc(s.calls)
        self.cache_hits.inc(s.cache_hits)
        self.tokens.labels("prompt").inc(s.prompt_tokens)
        self.tokens.labels("completion").inc(s.completion_tokens)


class RequestMetrics:
    """ASGI middleware: count and time every HTTP request by its route template."""

    def __init__(self, app: Callable[..., Any], metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        code = [500]

        async def send_status(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                code[0] = message["status"]
            await send(message)

        t0 = time.perf_counter()
        try:
            await self.app(scope, receive, send_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path_format", None) or getattr(route, "path", None) or "(unmatched)"
            self.metrics.http.labels(scope["method"], template, str(code[0])).inc()
            self.metrics.http_seconds.labels(template).observe(time.perf_counter() - t0)
