"""The production ASGI server and its settings, in one place for `python -m entrypoints`, the tests and the benchmark.

uvicorn with httptools and uvloop (`uvicorn[standard]`), one worker by default (`HTTP_WORKERS`): the README's
"Performance" section has the figures behind this choice. The protocol is uvicorn's httptools one with the limits of
`entrypoints/guarded_http.py` (header size and count, slow headers and bodies, open connections); idle keep-alive
connections are closed by uvicorn's own `timeout_keep_alive`. The end-to-end tests serve the app with
`server_config`, so they run what ships.
"""

from __future__ import annotations

from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from entrypoints.guarded_http import WORKER_PROTOCOL, guarded_protocol
from entrypoints.settings import HttpServerSettings


def server_config(
    app: Any, *, host: str, port: int, log_level: str, limits: HttpServerSettings | None = None, **more: Any
) -> uvicorn.Config:
    limits = limits or HttpServerSettings()
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="critical" if log_level == "SILENT" else log_level.lower(),  # uvicorn has no silent level
        log_config=None,  # keep the JSON handler that configure_logging installed
        access_log=False,  # access logs would print teleconsultation ids next to client addresses
        lifespan="on",
        loop="uvloop",
        http=guarded_protocol(limits),
        timeout_keep_alive=limits.keep_alive_timeout_seconds,  # type: ignore[arg-type]  # a float works: call_later
        **more,
    )


def run_server(app: Any, *, host: str, port: int, log_level: str, limits: HttpServerSettings | None = None) -> None:
    """Serve `app` until SIGINT/SIGTERM, running its lifespan around the requests."""
    uvicorn.Server(server_config(app, host=host, port=port, log_level=log_level, limits=limits)).run()


def run_workers(
    factory: str, *, workers: int, host: str, port: int, log_level: str, limits: HttpServerSettings | None = None
) -> bool:
    """Serve the app that `factory` ("module:function") builds in each of `workers` processes, on one socket
    bound here, until SIGINT/SIGTERM. False when a worker failed to start (it logged why; the others are stopped).

    Raises SystemExit when the socket cannot be bound (uvicorn logged the OS error).
    """
    config = server_config(factory, host=host, port=port, log_level=log_level, limits=limits)
    # The workers are spawned processes that get the configuration pickled: they import the protocol by its name,
    # and it reads the same limits from the environment they inherit.
    config.http = WORKER_PROTOCOL
    config.factory, config.workers = True, workers
    supervisor = Multiprocess(config, sockets=[config.bind_socket()])
    supervisor.run()
    # A worker that fails before serving stops the parent; uvicorn leaves its exit code in place.
    return all(worker.exitcode != STARTUP_FAILURE for worker in supervisor.processes)
