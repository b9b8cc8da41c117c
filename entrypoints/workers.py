"""Several worker processes (`HTTP_WORKERS` above 1) sharing one socket and one store.

Each worker builds its own graph from the environment (`worker_app`, the factory uvicorn imports in every worker),
so each has its own caches: teleconsultations are cached per process; room details too, but a worker that misses
reads the store's shared record first, so that the workers ask the provider for one room's details at most once per
cache period between them (RoomDetailsCache; the README's Performance section).

The store must be shared: the memory store and the memory provider live inside one process, so Settings refuses
them with several workers. The embedded store is started once, here in the parent, and every worker is pointed
at it through MONGODB_URL; started per worker, the second would find the data directory locked by the first.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

from entrypoints.container import Container
from entrypoints.exit_codes import EXIT_FAILED
from entrypoints.http.app import ServiceApp
from entrypoints.logs import configure_logging
from entrypoints.server import run_workers
from entrypoints.service_config import load_service_config
from entrypoints.settings import Settings
from entrypoints.startup import explain

logger = logging.getLogger("teleconsultation")

FACTORY = f"{__name__}:worker_app"


class _StoreDidNotStart(Exception):
    def __init__(self, exit_code: int) -> None:
        self.exit_code = exit_code


def worker_app() -> ServiceApp:
    """The service of one worker, built from the environment the parent checked and handed down."""
    settings = Settings.from_env(os.environ)
    configure_logging(settings.log_level)
    return ServiceApp(Container(settings=settings, service_config=load_service_config(settings.config_path)))


def serve_workers(settings: Settings) -> int:
    """Serve with `settings.http_workers` processes until SIGINT/SIGTERM: 0, or the exit code of a failed start."""
    try:
        with _shared_store(settings):
            try:
                started = run_workers(
                    FACTORY,
                    workers=settings.http_workers,
                    host=settings.http_host,
                    port=settings.http_port,
                    log_level=settings.log_level,
                )
            except SystemExit:  # uvicorn could not bind the socket (it logged the OS error)
                logger.error(
                    "cannot listen on %s:%d: stop the process that uses the port, or set HTTP_PORT (or HTTP_HOST)",
                    settings.http_host,
                    settings.http_port,
                )
                return EXIT_FAILED
    except _StoreDidNotStart as failure:
        return failure.exit_code
    if not started:
        logger.error("a worker did not start (its line above says why): every worker was stopped")
        return EXIT_FAILED
    return 0


@contextmanager
def _shared_store(settings: Settings) -> Iterator[None]:
    """With the embedded store, start it here once and point the workers at it; otherwise nothing to do."""
    store = settings.store
    if store.backend != "mongo" or store.mongodb_url:
        yield
        return
    from adapters.mongo.embedded import EmbeddedMongoServer

    server = EmbeddedMongoServer(store.embedded_data_dir)
    try:
        # Started from this, the main thread: the store's parent-death signal follows the thread that forked it.
        asyncio.run(server.__aenter__())
    except Exception as error:
        failure = explain(error, settings)
        logger.error(failure.line)
        logger.debug("the start-up failure", exc_info=error)
        raise _StoreDidNotStart(failure.exit_code) from None
    os.environ["MONGODB_URL"] = server.url  # inherited by the workers, which then use it as any MongoDB
    try:
        yield
    finally:
        os.environ.pop("MONGODB_URL", None)
        asyncio.run(server.stop())
