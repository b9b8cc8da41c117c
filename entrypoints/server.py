"""The production ASGI server and its settings, in one place for `python -m entrypoints` and the benchmark.

uvicorn with httptools and uvloop (`uvicorn[standard]`), one worker: the README's "Performance" section has the
figures behind this choice.
"""

from __future__ import annotations

from typing import Any

import uvicorn


def run_server(app: Any, *, host: str, port: int, log_level: str) -> None:
    """Serve `app` until SIGINT/SIGTERM, running its lifespan around the requests."""
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="critical" if log_level == "SILENT" else log_level.lower(),  # uvicorn has no silent level
        log_config=None,  # keep the JSON handler that configure_logging installed
        access_log=False,  # access logs would print teleconsultation ids next to client addresses
        lifespan="on",
        loop="uvloop",
        http="httptools",
    )
