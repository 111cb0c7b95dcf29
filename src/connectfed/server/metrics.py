"""Prometheus metrics at ``/_connectfed/metrics``, with the ``prometheus_client`` library.

Per request (an edge observer, from what the dispatcher noted in the request's
:mod:`~connectfed.request_scope`): ``connectfed_requests_total{service,operation,status}`` and
the latency histogram ``connectfed_request_duration_seconds{service,operation}``;
``connectfed_throttled_requests_total{service,operation}`` for answers of
``ThrottlingException``. Per audit event (the metrics observe the audit trail):
``connectfed_federations_total{outcome}`` (GetFederationToken issued / failed),
``connectfed_signins_total{kind,outcome}`` (``console``: the browser's SAML sign-in;
``instance``: a browser signed in to an instance), ``connectfed_saml_rejections_total{reason}``.

Labels take bounded values only: operations come from the botocore models, ``service`` and
``operation`` are ``other`` for requests no operation was routed to (pages, health, unknown
paths), ``status`` is the HTTP status code. Nothing here is a secret; the endpoint needs no
authentication, like ``/_connectfed/health`` (keep the port private, or scrape through a proxy).

Every server process has its own registry (several servers in one test process never mix their
counts): one ``connectfed serve`` is one process, and a fleet sharing a PostgreSQL database is
scraped per process and summed in Prometheus (``sum by (operation) (...)``). prometheus_client's
multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``) is for pre-forking servers, which this is not.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from connectfed.audit.events import AuditEvent, EventName
from connectfed.request_scope import RequestScope
from connectfed.server.edge import ASGIApp, Receive, Scope, Send

PATH = "/_connectfed/metrics"
OTHER = "other"
THROTTLING_CODES = frozenset({"ThrottlingException", "Throttling", "TooManyRequestsException"})
# Latency buckets (seconds): from a cached read to a slow PostgreSQL write.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The server's metrics, in a registry of its own; observes the audit trail."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._event_children: dict[tuple[Any, ...], Any] = {}
        self.requests = Counter(
            "connectfed_requests",
            "HTTP requests answered, by operation and HTTP status.",
            ("service", "operation", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "connectfed_request_duration_seconds",
            "Time from the request's arrival at the edge to the end of its response.",
            ("service", "operation"),
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.throttled = Counter(
            "connectfed_throttled_requests",
            "Requests refused by a rate limit.",
            ("service", "operation"),
            registry=self.registry,
        )
        self.federations = Counter(
            "connectfed_federations",
            "GetFederationToken calls, by outcome (issued, failed).",
            ("outcome",),
            registry=self.registry,
        )
        self.signins = Counter(
            "connectfed_signins",
            "Browser sign-ins: console (SAML at /saml) or instance "
            "(SignInUrl code or credentials), by outcome.",
            ("kind", "outcome"),
            registry=self.registry,
        )
        self.saml_rejections = Counter(
            "connectfed_saml_rejections",
            "SAML assertions refused, by reason.",
            ("reason",),
            registry=self.registry,
        )

    def observe(self, event: AuditEvent) -> None:
        """Count what an audit event says (an :class:`~connectfed.audit.log.AuditObserver`)."""
        if event.name == EventName.GET_FEDERATION_TOKEN:
            self._child(self.federations, "issued" if event.succeeded else "failed").inc()
        elif event.name in (EventName.CONSOLE_LOGIN, EventName.SIGN_IN):
            kind = "console" if event.name == EventName.CONSOLE_LOGIN else "instance"
            self._child(self.signins, kind, "success" if event.succeeded else "failure").inc()
        if event.saml_rejection is not None:
            self._child(self.saml_rejections, event.saml_rejection).inc()

    def _child(self, metric: Counter, *labels: str) -> Any:
        """``metric.labels(*labels)``, looked up once per label set (see observe_request)."""
        key = (metric, *labels)
        child = self._event_children.get(key)
        if child is None:
            child = self._event_children[key] = metric.labels(*labels)
        return child

    def observe_request(
        self, scope: RequestScope, http: Scope, status: int, seconds: float
    ) -> None:
        """Count and time one answered request (an edge observer)."""
        service = scope.service or OTHER
        operation = scope.operation or OTHER
        key = (service, operation, status)
        children = self._children.get(key)
        if children is None:
            # labels() validates and hashes its arguments on every call: done once per key here
            # (operations and statuses are few, so this stays small).
            children = self._children[key] = (
                self.requests.labels(service, operation, str(status)),
                self.latency.labels(service, operation),
            )
        children[0].inc()
        children[1].observe(seconds)
        if scope.error_code in THROTTLING_CODES:
            self.throttled.labels(service, operation).inc()

    def exposition(self) -> bytes:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry)


def metrics_route(metrics: Metrics) -> ASGIApp:
    """The edge route answering ``GET /_connectfed/metrics``; every other request is measured
    by :meth:`Metrics.observe_request`, an edge observer."""

    async def route(scope: Scope, receive: Receive, send: Send) -> None:
        await _answer(send, scope["method"], metrics)

    return route


async def _answer(send: Send, method: str, metrics: Metrics) -> None:
    if method not in ("GET", "HEAD"):
        await _respond(send, 405, b"text/plain", b"", [(b"allow", b"GET, HEAD")])
        return
    body = metrics.exposition()
    await _respond(send, 200, CONTENT_TYPE_LATEST.encode(), b"" if method == "HEAD" else body)


async def _respond(
    send: Send,
    status: int,
    content_type: bytes,
    body: bytes,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
