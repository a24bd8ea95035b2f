"""Prometheus metrics of one API process, in a registry of its own (no global state).

- ``inspector_http_requests_total{method, route, status}`` and
  ``inspector_http_request_duration_seconds{method, route}``: ``route`` is the route template
  (``/api/v1/calls/{call_id}``), never the raw path, so call ids cannot blow up the label count.
- ``inspector_calls{status}``: calls by status, read from the database at scrape time.
- ``inspector_queue_jobs``: jobs waiting in the Redis queue, read at scrape time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from inspector.vocab import CallStatus

log = logging.getLogger("api")

UNMATCHED_ROUTE = "unmatched"


class _LiveCollector(Collector):
    """Gauges computed when Prometheus scrapes: calls by status and queue length."""

    def __init__(self, calls_by_status: Callable[[], dict[str, int]], queue_length: Callable[[], int]) -> None:
        self.calls_by_status = calls_by_status
        self.queue_length = queue_length

    def collect(self) -> Iterator[GaugeMetricFamily]:
        calls = GaugeMetricFamily("inspector_calls", "Calls by processing status", labels=["status"])
        try:
            counts = self.calls_by_status()
        except Exception:  # a scrape must not fail because the database is down; /healthz says so
            log.exception("metrics: counting calls failed")
            counts = None
        if counts is not None:
            for status in CallStatus:
                calls.add_metric([status.value], float(counts.get(status.value, 0)))
        yield calls
        queue = GaugeMetricFamily("inspector_queue_jobs", "Jobs waiting in the Redis queue")
        try:
            queue.add_metric([], float(self.queue_length()))
        except Exception:
            log.exception("metrics: reading the queue length failed")
        yield queue


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "inspector_http_requests",
            "HTTP requests answered, by route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "inspector_http_request_duration_seconds",
            "HTTP request latency by route template",
            ["method", "route"],
            registry=self.registry,
        )

    def watch(self, calls_by_status: Callable[[], dict[str, int]], queue_length: Callable[[], int]) -> None:
        self.registry.register(_LiveCollector(calls_by_status, queue_length))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def route_templates(app: Any) -> dict[Any, str]:
    """Endpoint function → full path template (prefix included) of every route of ``app``."""
    try:  # FastAPI >= 0.16x keeps an included router as one lazy route whose routes lack the prefix
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI copies included routes, prefixed, into app.routes
        routes: Any = app.routes
    else:
        routes = iter_route_contexts(app.routes)
    found: dict[Any, str] = {}
    for route in routes:
        endpoint, path = getattr(route, "endpoint", None), getattr(route, "path", None)
        if endpoint is not None and path:
            found.setdefault(endpoint, path)
    return found


class MetricsMiddleware:
    """Counts and times every HTTP request by its route template (pure ASGI: works with streaming)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self._templates: dict[Any, str] | None = None

    def _template(self, scope: Scope) -> str:
        if self._templates is None and "app" in scope:
            self._templates = route_templates(scope["app"])
        template = (self._templates or {}).get(scope.get("endpoint"))
        if template is None:
            template = getattr(scope.get("route"), "path", None)
        return template or UNMATCHED_ROUTE

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            self.metrics.observe(scope["method"], self._template(scope), status, time.perf_counter() - started)
