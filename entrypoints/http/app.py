"""Builds the Litestar application around a running set of services."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Request, Response, get
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig

from entrypoints.container import Container
from entrypoints.http import limits
from entrypoints.http.controllers import TeleconsultationController, issue_credentials
from entrypoints.http.errors import EXCEPTION_HANDLERS
from entrypoints.http.features import FEATURE_HANDLERS
from entrypoints.http.observability import observe_requests
from entrypoints.http.openapi import (
    NOT_LIVE,
    NOT_READY,
    ExactJsonRenderPlugin,
    document_optional_bodies,
    document_problem_details,
    with_exact_body_schemas,
)
from entrypoints.http.schemas import Status
from entrypoints.http.service_slot import STATE_KEY, ServiceSlot
from entrypoints.metrics import CONTENT_TYPE, ServiceMetrics


def _probes(slot: ServiceSlot, metrics: ServiceMetrics) -> list[Callable[..., Any]]:
    @get(
        "/-/healthz",
        summary="Liveness probe: the service can still recover by itself",
        include_in_schema=True,
        sync_to_thread=False,
        responses=NOT_LIVE,
    )
    def healthz() -> Response[Status]:
        ok = slot.services.store.recoverable()
        return Response(Status("OK" if ok else "KO"), status_code=200 if ok else 503)

    @get("/-/ready", summary="Readiness probe: the store answers", include_in_schema=True, responses=NOT_READY)
    async def ready() -> Response[Status]:
        ok = await slot.services.store.ping()
        return Response(Status("OK" if ok else "KO"), status_code=200 if ok else 503)

    @get("/-/metrics", summary="Prometheus metrics", include_in_schema=False, sync_to_thread=False)
    def prometheus() -> Response[bytes]:
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    return [healthz, ready, prometheus]


def create_app(container: Container) -> Litestar:
    slot = ServiceSlot()
    metrics: ServiceMetrics = container.metrics()

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        async with slot.running(container):
            yield

    @get("/documentation/json", summary="OpenAPI document", include_in_schema=False, sync_to_thread=False)
    def openapi_document(request: Request[Any, Any, Any]) -> dict[str, Any]:
        return with_exact_body_schemas(request.app.openapi_schema.to_schema())

    app = Litestar(
        route_handlers=[
            TeleconsultationController,
            issue_credentials,
            *FEATURE_HANDLERS,
            openapi_document,
            *_probes(slot, metrics),
        ],
        state=State({STATE_KEY: slot}),
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=[lifespan],
        # Routes that read a body declare their own limit (entrypoints/http/limits.py); all others accept none.
        request_max_body_size=limits.NO_BODY,
        before_request=limits.refuse_declared_oversize,
        openapi_config=OpenAPIConfig(
            title="Teleconsultation Service",
            version="2.1.0",
            description="Schedules video consultations and hands each participant a personal join link.",
            path="/documentation",
            render_plugins=[ExactJsonRenderPlugin()],
        ),
        debug=False,
        logging_config=None,  # logging is set up once by the entry point (JSON lines, see entrypoints/logs.py)
    )
    document_optional_bodies(app)
    document_problem_details(app)
    # Wrapped around Litestar's own handler rather than added as middleware, which Litestar runs only for matched
    # routes: a 404 or a 405 must carry a request id and be counted too. It also mends OPTIONS answers.
    app.asgi_handler = observe_requests(app.asgi_handler, metrics)
    return app
