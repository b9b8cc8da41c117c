"""The production ASGI server and its settings, in one place for `python -m entrypoints`, the tests and the benchmark.

uvicorn with httptools and uvloop (`uvicorn[standard]`), one worker: the README's "Performance" section has the
figures behind this choice. The protocol is uvicorn's httptools one with the limits of `entrypoints/guarded_http.py`
(header size and count, slow headers and bodies, open connections); idle keep-alive connections are closed by
uvicorn's own `timeout_keep_alive`. The end-to-end tests serve the app with `server_config`, so they run what ships.
"""

from __future__ import annotations

from typing import Any

import uvicorn

from entrypoints.guarded_http import guarded_protocol
from entrypoints.settings import HttpServerSettings


def server_config(
    app: Any, *, host: str, port: int, log_level: str, limits: HttpServerSettings | None = None
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
    )


def run_server(app: Any, *, host: str, port: int, log_level: str, limits: HttpServerSettings | None = None) -> None:
    """Serve `app` until SIGINT/SIGTERM, running its lifespan around the requests."""
    uvicorn.Server(server_config(app, host=host, port=port, log_level=log_level, limits=limits)).run()
