"""Builds the Litestar application around a running set of services."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Request, Response, get
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig

from entrypoints.container import Container, Services, running_services
from entrypoints.http.controllers import TeleconsultationController, issue_credentials
from entrypoints.http.errors import EXCEPTION_HANDLERS
from entrypoints.http.openapi import (
    NOT_READY,
    ExactJsonRenderPlugin,
    document_optional_bodies,
    document_problem_details,
    with_exact_body_schemas,
)
from entrypoints.http.options import correct_allow_header
from entrypoints.http.schemas import Status

# JSON bodies of this API are small; the limit keeps a client from making the service buffer megabytes.
MAX_JSON_BODY_BYTES = 64 * 1024


class ServiceSlot:
    """Holds the services between start-up and shutdown so that handlers can reach them."""

    def __init__(self) -> None:
        self._services: Services | None = None

    @property
    def services(self) -> Services:
        if self._services is None:
            raise RuntimeError("the application has not started")
        return self._services

    @asynccontextmanager
    async def running(self, container: Container) -> AsyncIterator[None]:
        async with running_services(container) as services:
            self._services = services
            try:
                yield
            finally:
                self._services = None


def _dependencies(slot: ServiceSlot) -> dict[str, Provide]:
    def provider(name: str) -> Provide:
        def provide() -> Any:
            return getattr(slot.services, name)

        # Not cached by Litestar: the services belong to one run of the app, and a restarted app has new ones.
        return Provide(provide, sync_to_thread=False)

    names = (
        "create_teleconsultation",
        "update_teleconsultation",
        "get_teleconsultation_access",
        "delete_teleconsultation",
        "issue_credentials",
        "requester_reader",
    )
    return {name: provider(name) for name in names}


def _probes(slot: ServiceSlot) -> list[Callable[..., Any]]:
    @get("/-/healthz", summary="Liveness probe", include_in_schema=True, sync_to_thread=False)
    def healthz() -> Status:
        return Status("OK")

    @get("/-/ready", summary="Readiness probe: the store answers", include_in_schema=True, responses=NOT_READY)
    async def ready() -> Response[Status]:
        ok = await slot.services.store.ping()
        return Response(Status("OK" if ok else "KO"), status_code=200 if ok else 503)

    return [healthz, ready]


def create_app(container: Container) -> Litestar:
    slot = ServiceSlot()

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        async with slot.running(container):
            yield

    @get("/documentation/json", summary="OpenAPI document", include_in_schema=False, sync_to_thread=False)
    def openapi_document(request: Request[Any, Any, Any]) -> dict[str, Any]:
        return with_exact_body_schemas(request.app.openapi_schema.to_schema())

    app = Litestar(
        route_handlers=[TeleconsultationController, issue_credentials, openapi_document, *_probes(slot)],
        dependencies=_dependencies(slot),
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=[lifespan],
        request_max_body_size=MAX_JSON_BODY_BYTES,
        openapi_config=OpenAPIConfig(
            title="Teleconsultation Service",
            version="2.1.0",
            description="Schedules video consultations and hands each participant a personal join link.",
            path="/documentation",
            render_plugins=[ExactJsonRenderPlugin()],
        ),
        before_send=[correct_allow_header],
        debug=False,
    )
    document_optional_bodies(app)
    document_problem_details(app)
    return app
