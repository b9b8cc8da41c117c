"""A service that cannot start says so in one line: what failed and what to do. The traceback is logged at DEBUG.

uvicorn would log the whole traceback Litestar formats when the app's start-up fails (75 to 120 lines inside one
JSON log line). The app is served behind a thin ASGI wrapper that, on a failed start-up, logs one readable line
instead and keeps the exit code that the README documents for it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from litestar.types import ASGIApp, Receive, Send

from application.errors import StoreUnavailable
from entrypoints.exit_codes import EXIT_FAILED, EXIT_STORE_UNAVAILABLE
from entrypoints.server import run_server
from entrypoints.settings import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StartupFailure:
    line: str
    exit_code: int


def explain(error: BaseException, settings: Settings) -> StartupFailure:
    """What failed and what to do, in one line that quotes no credentials and no exception message of a library."""
    from adapters.mongo.embedded import LOG_FILE, MEMORY, EmbeddedDataDirectoryInUse, EmbeddedServerError

    cause = _root_cause(error)
    store = settings.store
    if isinstance(cause, EmbeddedDataDirectoryInUse):
        return StartupFailure(
            f"the embedded store's data directory {cause.directory} is in use by another process (another instance "
            "of the service?): stop it, or set EMBEDDED_MONGO_DATA_DIR to another directory",
            EXIT_STORE_UNAVAILABLE,
        )
    log = "" if str(store.embedded_data_dir) == MEMORY else f" (see {store.embedded_data_dir / LOG_FILE})"
    if isinstance(cause, EmbeddedServerError):
        return StartupFailure(f"the embedded store did not start: {cause.reason}{log}", EXIT_STORE_UNAVAILABLE)
    if isinstance(cause, StoreUnavailable):
        # The adapter's messages name the hosts at most, never the URL's user or password.
        hint = ": check MONGODB_URL" if store.mongodb_url else log
        return StartupFailure(f"the store is unavailable: {cause}{hint}", EXIT_STORE_UNAVAILABLE)
    return StartupFailure(
        f"the service did not start ({type(cause).__qualname__}): set LOG_LEVEL=DEBUG to see where it failed",
        EXIT_FAILED,
    )


def _root_cause(error: BaseException) -> BaseException:
    """The failure itself, out of the exception groups that Litestar's and anyio's task groups wrap it in."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error


class ReportingStartupFailures:
    """An ASGI app that reports a failed start-up of the app it wraps as one line; requests pass straight through."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self._app = app
        self._settings = settings
        self.started = False
        self.failure: StartupFailure | None = None

    async def __call__(self, scope: Any, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self._app(scope, receive, send)
            return
        failed = False

        async def send_unless_failed(message: Any) -> None:  # a lifespan message
            nonlocal failed
            if message["type"] == "lifespan.startup.failed":
                failed = True  # told once the failure is explained, without the traceback in the message
                return
            self.started = self.started or message["type"] == "lifespan.startup.complete"
            await send(message)

        try:
            await self._app(scope, receive, send_unless_failed)
        except BaseException as error:
            if not failed:
                raise
            self.failure = explain(error, self._settings)
            logger.error(self.failure.line)
            logger.debug("the start-up failure", exc_info=_root_cause(error))
            failure: Any = {"type": "lifespan.startup.failed", "message": ""}
            await send(failure)


def serve_until_stopped(app: ASGIApp, settings: Settings) -> int:
    """Serve `app` until SIGINT/SIGTERM: 0, or the exit code of the start-up failure it has logged in one line."""
    reporting = ReportingStartupFailures(app, settings)
    try:
        run_server(reporting, host=settings.http_host, port=settings.http_port, log_level=settings.log_level)
    except SystemExit:  # how uvicorn gives up when the app or its socket does not start
        if reporting.failure is not None:
            return reporting.failure.exit_code
        if reporting.started:  # the app started, then uvicorn could not listen (it logged the OS error)
            logger.error(
                "cannot listen on %s:%d: stop the process that uses the port, or set HTTP_PORT (or HTTP_HOST)",
                settings.http_host,
                settings.http_port,
            )
            return EXIT_FAILED
        raise
    return 0
