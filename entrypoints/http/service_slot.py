"""Where the HTTP handlers find the services of the running app.

Handlers read them from the app's state rather than through Litestar's dependency injection: resolving a
dependency runs a cleanup group and a validation pass on every request, the largest single cost the polling
route's profile showed after the framework itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar.connection import ASGIConnection

from entrypoints.container import Container, Services, running_services

STATE_KEY = "service_slot"


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
        # A restarted app gets the services of its new run, never those of a run that ended.
        async with running_services(container) as services, services.room_sweeper.running():
            self._services = services
            try:
                yield
            finally:
                self._services = None


def services_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Services:
    slot: ServiceSlot = connection.app.state[STATE_KEY]
    return slot.services
