"""The production ASGI server and its settings, in one place for `python -m entrypoints` and the benchmark.

uvicorn with httptools and uvloop (`uvicorn[standard]`), one worker by default (`HTTP_WORKERS`): the README's
"Performance" section has the figures behind this choice.
"""

from __future__ import annotations

from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess


def _options(log_level: str) -> dict[str, Any]:
    return {
        "log_level": "critical" if log_level == "SILENT" else log_level.lower(),  # uvicorn has no silent level
        "log_config": None,  # keep the JSON handler that configure_logging installed
        "access_log": False,  # access logs would print teleconsultation ids next to client addresses
        "lifespan": "on",
        "loop": "uvloop",
        "http": "httptools",
    }


def run_server(app: Any, *, host: str, port: int, log_level: str) -> None:
    """Serve `app` until SIGINT/SIGTERM, running its lifespan around the requests."""
    uvicorn.run(app, host=host, port=port, **_options(log_level))


def run_workers(factory: str, *, workers: int, host: str, port: int, log_level: str) -> bool:
    """Serve the app that `factory` ("module:function") builds in each of `workers` processes, on one socket
    bound here, until SIGINT/SIGTERM. False when a worker failed to start (it logged why; the others are stopped).

    Raises SystemExit when the socket cannot be bound (uvicorn logged the OS error).
    """
    config = uvicorn.Config(factory, factory=True, workers=workers, host=host, port=port, **_options(log_level))
    supervisor = Multiprocess(config, sockets=[config.bind_socket()])
    supervisor.run()
    # A worker that fails before serving stops the parent; uvicorn leaves its exit code in place.
    return all(worker.exitcode != STARTUP_FAILURE for worker in supervisor.processes)
