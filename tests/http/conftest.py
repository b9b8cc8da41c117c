"""The whole service over HTTP: the Litestar app wired by the real container, Kaleyra faked on a local socket."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from dependency_injector import providers

from adapters.identity import AuthServiceSettings
from adapters.kaleyra import KaleyraSettings
from adapters.memory.clock import FixedClock
from entrypoints.container import Container
from entrypoints.http.app import ServiceApp
from entrypoints.logs import OWN_LOGGERS, JsonFormatter
from entrypoints.server import server_config
from entrypoints.service_config import DEFAULT_CONFIG, ServiceConfig
from entrypoints.settings import HttpServerSettings, IdentitySettings, Settings, StoreSettings
from tests.builders import T0
from tests.fakes.auth0_client import FakeAuth0Client
from tests.fakes.kaleyra_server import FakeKaleyraServer

API_KEY = "e2e-secret-api-key"
Client = httpx.AsyncClient


def kaleyra_settings(fake: FakeKaleyraServer, **overrides: Any) -> Settings:
    fields: dict[str, Any] = {
        "video_provider": "kaleyra",
        "kaleyra": KaleyraSettings(
            base_url=fake.base_url,
            api_key=API_KEY,
            connect_timeout_seconds=2.0,
            total_timeout_seconds=2.0,
            retry_backoff_base_seconds=0.01,
            retry_backoff_max_seconds=0.02,
        ),
        "store": StoreSettings(backend="memory"),
    }
    fields.update(overrides)
    return Settings(**fields)


@pytest.fixture
async def fake_kaleyra() -> AsyncIterator[FakeKaleyraServer]:
    async with FakeKaleyraServer(api_key=API_KEY) as server:
        yield server


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0 - timedelta(days=1))


@asynccontextmanager
async def serve(
    settings: Settings,
    clock: FixedClock,
    config: ServiceConfig = DEFAULT_CONFIG,
    *,
    container: Container | None = None,
) -> AsyncIterator[Client]:
    """Run the real app under uvicorn on a free loopback port, in the test's own event loop.

    Pass a `container` built from the same settings to reach its services while the app runs.
    """
    container = container or Container(settings=settings, service_config=config)
    container.clock.override(providers.Object(clock))
    async with serve_app(ServiceApp(container), settings.http_server) as client:
        yield client


@asynccontextmanager
async def serve_app(app: ServiceApp, limits: HttpServerSettings | None = None) -> AsyncIterator[Client]:
    """Run an app on a free loopback port, in the test's own event loop, under the server as it ships."""
    server = uvicorn.Server(server_config(app, host="127.0.0.1", port=0, log_level="warning", limits=limits))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("the service stopped during start-up")
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            yield client
    finally:
        server.should_exit = True
        await task


ClientFactory = Callable[..., Any]


@pytest.fixture
async def client(fake_kaleyra: FakeKaleyraServer, clock: FixedClock) -> AsyncIterator[Client]:
    async with serve(kaleyra_settings(fake_kaleyra), clock) as test_client:
        yield test_client


def with_store(settings: Settings, **store: Any) -> Settings:
    return replace(settings, store=replace(settings.store, **store))


@pytest.fixture
async def auth0() -> AsyncIterator[FakeAuth0Client]:
    async with FakeAuth0Client() as fake:
        fake.state.add_user("auth0|doc", name="Joe Smith", groups=["doctor"])
        fake.state.add_user("auth0|pat", name="Jane Doe", groups=["patient"])
        fake.state.add_user("auth0|both", name="Dr Patient", groups=["patient", "doctor"])
        fake.state.add_user("auth0|nurse", name="Nina", groups=["nurse"])
        yield fake


def auth_settings(kaleyra: FakeKaleyraServer, auth0: FakeAuth0Client, **identity: Any) -> Settings:
    base = kaleyra_settings(kaleyra)
    fields: dict[str, Any] = {
        "auth_service": AuthServiceSettings(base_url=auth0.base_url, client_type="default-app"),
        "additional_headers_to_proxy": ("cookie",),
    }
    fields.update(identity)
    return replace(base, identity=IdentitySettings(**fields))


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """What the service logs, formatted as in production and with its own loggers at DEBUG."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    saved = root.level, {name: logging.getLogger(name).level for name in OWN_LOGGERS}
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(saved[0])
        for name, level in saved[1].items():
            logging.getLogger(name).setLevel(level)
