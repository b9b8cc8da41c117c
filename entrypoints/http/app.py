"""The service's ASGI application.

Its lifespan opens the container's resources, resolves the graph and builds a Litestar app from the routes the
container hands over (each with the use cases it calls), then runs the room sweeper beside it. Requests go to the
Litestar app of the current run; before start-up and after shutdown the answer is 503. The same object can be
started again (as test clients and ASGI tools do): each run gets a new graph.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from litestar import Litestar, Request, get
from litestar.datastructures import State
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.router import Router

from application.events import Journal
from entrypoints.container import Container, opened_resources, resolved
from entrypoints.http import limits
from entrypoints.http.bodies import BODY_VALIDATION
from entrypoints.http.errors import EXCEPTION_HANDLERS
from entrypoints.http.observability import observe_requests
from entrypoints.http.openapi import (
    document_json_bodies,
    document_problem_details,
    render_plugins,
    with_exact_body_schemas,
)
from entrypoints.http.refusals import refusal_recorder
from entrypoints.metrics import ServiceMetrics
from entrypoints.startup import explain

logger = logging.getLogger("teleconsultation")

Routes = Sequence[Router | HTTPRouteHandler | Sequence[HTTPRouteHandler]]
# The ASGI interface in its plain form: this class also speaks the lifespan protocol, which Litestar's types omit.
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
_NOT_STARTED = b'{"error":"the service is not running"}'


def build_litestar_app(
    routes: Routes, metrics: ServiceMetrics, body_validation: str, journal: Journal | None = None
) -> Litestar:
    """One run's Litestar app around the routes of a resolved graph, reading bodies in the `body_validation` mode."""

    @get("/documentation/json", summary="OpenAPI document", include_in_schema=False, sync_to_thread=False)
    def openapi_document(request: Request[Any, Any, Any]) -> dict[str, Any]:
        return with_exact_body_schemas(request.app.openapi_schema.to_schema(), body_validation)

    handlers: list[Router | HTTPRouteHandler] = [openapi_document]
    for group in routes:
        handlers.extend(group if isinstance(group, Sequence) else [group])
    app = Litestar(
        route_handlers=handlers,
        # Read by entrypoints/http/bodies.py and the OpenAPI document: one mode for the whole run.
        state=State({BODY_VALIDATION: body_validation}),
        exception_handlers=EXCEPTION_HANDLERS,
        # Routes that read a body declare their own limit (entrypoints/http/limits.py); all others accept none.
        request_max_body_size=limits.NO_BODY,
        before_request=limits.refuse_declared_oversize,
        openapi_config=OpenAPIConfig(
            title="Teleconsultation Service",
            version="2.1.0",
            description="Schedules video consultations and hands each participant a personal join link.",
            path="/documentation",
            render_plugins=render_plugins(),
        ),
        debug=False,
        logging_config=None,  # logging is set up once by the entry point (JSON lines, see entrypoints/logs.py)
    )
    document_json_bodies(app)
    document_problem_details(app)
    # Wrapped around Litestar's own handler rather than added as middleware, which Litestar runs only for matched
    # routes: a 404 or a 405 must carry a request id and be counted too. It also mends OPTIONS answers.
    app.asgi_handler = observe_requests(
        app.asgi_handler, metrics, None if journal is None else refusal_recorder(journal)
    )
    return app


@asynccontextmanager
async def running_app(container: Container) -> AsyncIterator[Litestar]:
    """The resources opened, the graph resolved into a Litestar app, and the room sweeper, the webhook pump and the
    change follower running beside it."""
    async with opened_resources(container):
        routes = await resolved(container.routes)
        sweeper = await resolved(container.room_sweeper)
        pump = await resolved(container.webhook_pump)
        follower = await resolved(container.change_follower)
        app = build_litestar_app(
            routes,
            container.metrics(),
            container.settings().body_validation,
            await resolved(container.journal),  # type: ignore[arg-type]
        )
        async with sweeper.running(), pump.running(), follower.running():
            yield app


class ServiceApp:
    """The ASGI callable handed to the server."""

    def __init__(self, container: Container) -> None:
        self._container = container
        self._app: Litestar | None = None
        self.started = False
        self.startup_failure: BaseException | None = None

    @property
    def litestar(self) -> Litestar:
        """The app of the current run (for tools that inspect it, such as the OpenAPI document's tests)."""
        if self._app is None:
            raise RuntimeError("the service is not running")
        return self._app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        app = self._app
        if app is None:
            await _not_running(scope, send)
            return
        await app(scope, receive, send)  # type: ignore[arg-type]

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        async with AsyncExitStack() as stack:
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    try:
                        self._app = await stack.enter_async_context(running_app(self._container))
                    except Exception as error:  # the server gives up on a failed start-up
                        self.startup_failure = error
                        # One line that says what to do, not the traceback (that is at DEBUG).
                        logger.error(explain(error, self._container.settings()).line)
                        logger.debug("the start-up failure", exc_info=error)
                        await send({"type": "lifespan.startup.failed", "message": ""})
                        return
                    self.started = True
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    self._app = None
                    await stack.aclose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return


async def _not_running(scope: Scope, send: Send) -> None:
    if scope["type"] != "http":
        return
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(_NOT_STARTED)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": _NOT_STARTED})
