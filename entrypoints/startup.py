"""A service that cannot start says so in one line: what failed and what to do. The traceback is logged at DEBUG.

uvicorn would log the whole traceback when the app's start-up fails (75 to 120 lines inside one JSON log line).
ServiceApp logs `explain`'s one readable line instead, and the server's exit code is the one the README documents
for the failure.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from application.errors import StoreUnavailable
from entrypoints.exit_codes import EXIT_FAILED, EXIT_STORE_UNAVAILABLE
from entrypoints.server import run_server
from entrypoints.settings import Settings

if TYPE_CHECKING:
    from entrypoints.http.app import ServiceApp

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
    if isinstance(cause, EmbeddedDataDirectoryInUse) and cause.left_by_a_stopped_service is not None:
        return StartupFailure(str(cause), EXIT_STORE_UNAVAILABLE)
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


def serve_until_stopped(app: ServiceApp, settings: Settings) -> int:
    """Serve `app` until SIGINT/SIGTERM: 0, or the exit code of the start-up failure it has logged in one line."""
    try:
        run_server(
            app,
            host=settings.http_host,
            port=settings.http_port,
            log_level=settings.log_level,
            limits=settings.http_server,
        )
    except SystemExit:  # how uvicorn gives up when the app or its socket does not start
        if app.startup_failure is not None:
            return explain(app.startup_failure, settings).exit_code
        if app.started:  # the app started, then uvicorn could not listen (it logged the OS error)
            logger.error(
                "cannot listen on %s:%d: stop the process that uses the port, or set HTTP_PORT (or HTTP_HOST)",
                settings.http_host,
                settings.http_port,
            )
            return EXIT_FAILED
        raise
    return 0
