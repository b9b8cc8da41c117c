"""Prometheus metrics of one running service, in a registry of its own; no label ever carries an id."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from application.circuit_breaker import CircuitBreaker, CircuitState

# The exposition format's media type without its charset parameter: Litestar adds "; charset=utf-8" to every
# text/* media type it is given, so passing CONTENT_TYPE_LATEST as it is would name the charset twice.
CONTENT_TYPE = "; ".join(part for part in CONTENT_TYPE_LATEST.split("; ") if not part.startswith("charset="))
# Provider calls take from milliseconds (a 404) to the timeout plus retries.
PROVIDER_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class ServiceMetrics:
    """HTTP requests by route template, provider calls, the circuit breaker, and the rooms waiting for deletion."""

    def __init__(self, circuit_breaker: CircuitBreaker | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._request_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._provider_children: dict[tuple[str, str, str], Any] = {}
        self._requests = Counter(
            "teleconsultation_http_requests",
            "HTTP requests served, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self._request_seconds = Histogram(
            "teleconsultation_http_request_duration_seconds",
            "Time to serve an HTTP request, by method and route template.",
            ["method", "route"],
            registry=self.registry,
        )
        self._provider_seconds = Histogram(
            "teleconsultation_provider_call_duration_seconds",
            "Video-provider calls (retries included) by operation and outcome: 2xx..5xx for an answer, failed when "
            "none came, short_circuited when the open circuit refused the call.",
            ["provider", "operation", "outcome"],
            buckets=PROVIDER_BUCKETS,
            registry=self.registry,
        )
        self._circuit_open = Gauge(
            "teleconsultation_provider_circuit_open",
            "1 while the circuit breaker keeps calls away from the video provider (open or half-open), else 0.",
            ["provider"],
            registry=self.registry,
        )
        self._pending_cleanups = Gauge(
            "teleconsultation_pending_room_cleanups",
            "Provider rooms still to delete, as of the last sweep: queued after a failed deletion, listed by a "
            "cancellation or a replacement not yet finished, or left by a creation that did not finish.",
            registry=self.registry,
        )
        self._intents_unknown = Counter(
            "teleconsultation_room_intents_unknown",
            "Room creations whose outcome is unknown (no usable answer came, or the instance died before one): a "
            "provider room may exist that nothing refers to. Its intent id is logged and is the room's description.",
            registry=self.registry,
        )
        self._room_details_fallbacks = Counter(
            "teleconsultation_room_details_store_fallbacks",
            "Room-details reads and evictions that could not use the store's shared record (the store failed): "
            "reads went to the video provider on their own.",
            registry=self.registry,
        )
        self._webhook_deliveries = Gauge(
            "teleconsultation_webhook_deliveries",
            "Outbound webhook deliveries still to be made (pending) and given up after the last attempt (dead), as "
            "of the deliverer's last pass.",
            ["state"],
            registry=self.registry,
        )
        self._change_stream_live = Gauge(
            "teleconsultation_change_stream_live",
            "1 while this process follows the store's change stream of teleconsultations, so that other instances' "
            "writes leave its cache at once; 0 before it opens, while it is resumed, and without change streams.",
            registry=self.registry,
        )
        self._change_stream_forgotten = Counter(
            "teleconsultation_change_stream_forgotten",
            "Teleconsultation ids the store's change stream told of (written by any instance), each forgotten by "
            "this process's cache.",
            registry=self.registry,
        )
        self._change_stream_gaps = Counter(
            "teleconsultation_change_stream_gaps",
            "Times the change stream was opened afresh (at start-up, or when it could not be resumed), each time "
            "forgetting this process's whole cache.",
            registry=self.registry,
        )
        self._change_stream_crashes = Counter(
            "teleconsultation_change_stream_crashes",
            "Times following the change stream failed unexpectedly and was started again (the error is logged).",
            registry=self.registry,
        )
        if circuit_breaker is not None:
            breaker = circuit_breaker
            self._circuit_open.labels(breaker.provider).set_function(
                lambda: float(breaker.state is not CircuitState.CLOSED)
            )

    def http_request(self, method: str, route: str, status: int, seconds: float) -> None:
        # The labelled children are looked up once per (method, route, status): `labels()` on every request
        # showed in the polling route's profile. Routes are templates, so the set stays small.
        key = (method, route, status)
        children = self._request_children.get(key)
        if children is None:
            children = (self._requests.labels(method, route, str(status)), self._request_seconds.labels(method, route))
            self._request_children[key] = children
        requests, durations = children
        requests.inc()
        durations.observe(seconds)

    def provider_call(self, provider: str, operation: str, outcome: str, seconds: float) -> None:
        # Looked up once per label set, as for requests: a cache-off poll makes one provider call.
        key = (provider, operation, outcome)
        child = self._provider_children.get(key)
        if child is None:
            child = self._provider_children[key] = self._provider_seconds.labels(provider, operation, outcome)
        child.observe(seconds)

    def pending_cleanups(self, count: int) -> None:
        self._pending_cleanups.set(count)

    def room_intent_unknown(self) -> None:
        self._intents_unknown.inc()

    def room_details_store_fallback(self) -> None:
        self._room_details_fallbacks.inc()

    def webhook_deliveries(self, counts: dict[str, int]) -> None:
        for state in ("pending", "dead"):
            self._webhook_deliveries.labels(state).set(counts.get(state, 0))

    def change_stream_live(self, live: bool) -> None:
        self._change_stream_live.set(float(live))

    def change_stream_forgot(self) -> None:
        self._change_stream_forgotten.inc()

    def change_stream_gap(self) -> None:
        self._change_stream_gaps.inc()

    def change_stream_crash(self) -> None:
        self._change_stream_crashes.inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
