"""Liveness, readiness and the metrics: what an orchestrator and a Prometheus server ask."""

from __future__ import annotations

from litestar import Response, get
from litestar.handlers import HTTPRouteHandler

from entrypoints.gateways import Store
from entrypoints.http.openapi import NOT_LIVE, NOT_READY
from entrypoints.http.schemas import Status
from entrypoints.metrics import CONTENT_TYPE, ServiceMetrics


def probe_routes(*, store: Store, metrics: ServiceMetrics) -> list[HTTPRouteHandler]:
    @get(
        "/-/healthz",
        summary="Liveness probe: the service can still recover by itself",
        include_in_schema=True,
        sync_to_thread=False,
        responses=NOT_LIVE,
    )
    def healthz() -> Response[Status]:
        ok = store.recoverable()
        return Response(Status("OK" if ok else "KO"), status_code=200 if ok else 503)

    @get("/-/ready", summary="Readiness probe: the store answers", include_in_schema=True, responses=NOT_READY)
    async def ready() -> Response[Status]:
        ok = await store.ping()
        return Response(Status("OK" if ok else "KO"), status_code=200 if ok else 503)

    @get("/-/metrics", summary="Prometheus metrics", include_in_schema=False, sync_to_thread=False)
    def prometheus() -> Response[bytes]:
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    # The lc39 convention of the original (Mia's `/-/check-up`): the same check as readiness.
    check_up = get("/-/check-up", summary="Check-up probe (lc39): the store answers", responses=NOT_READY)(ready.fn)

    return [healthz, ready, check_up, prometheus]
