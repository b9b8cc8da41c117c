"""Around every HTTP request: its id (taken or made up) for logs, providers and the response; metrics; one log line.

Only the route template, never the path, is logged or used as a label: paths carry teleconsultation ids.
This is the one wrapper around the Litestar app, so it also mends the `Allow` header of OPTIONS answers
(`options.py`): a Litestar `before_send` hook would cost every request another layer of awaits.
"""

from __future__ import annotations

import logging
import random
import re
import time
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

from application.request_context import current_request_id
from entrypoints.http.options import with_correct_allow
from entrypoints.metrics import ServiceMetrics

logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = b"x-request-id"
# Accepted from the caller only when it cannot carry anything but an id (no spaces, no link, bounded length).
_USABLE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:\-]{1,128}")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_PROBES = frozenset({"/-/healthz", "/-/ready", "/-/metrics"})
UNMATCHED = "unmatched"


def observe_requests(app: ASGIApp, metrics: ServiceMetrics) -> ASGIApp:
    async def observed(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        request_id = _request_id(scope["headers"])
        id_header = (REQUEST_ID_HEADER, request_id.encode())
        options = scope["method"] == "OPTIONS"
        token = current_request_id.set(request_id)
        started = time.perf_counter()
        status = 500  # what the server answers if the app ends without a response

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = message.get("headers", ())
                if options:
                    headers = with_correct_allow(headers, scope)
                message["headers"] = [*headers, id_header]
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            _record(scope, status, time.perf_counter() - started, metrics)
            current_request_id.reset(token)

    return observed


def _request_id(headers: Any) -> str:
    for name, value in headers:
        if name == REQUEST_ID_HEADER and _USABLE_REQUEST_ID.fullmatch(value):
            return str(value.decode("ascii"))
    # 128 random bits like a uuid4, from the process's seeded generator (re-seeded in a forked child): an id must
    # be unique, not unguessable, and os.urandom would cost every request a system call.
    return f"{random.getrandbits(128):032x}"


def _record(scope: HTTPScope, status: int, seconds: float, metrics: ServiceMetrics) -> None:
    # The router writes the matched template into the scope; unknown routes and methods have none.
    route = scope.get("path_template") or UNMATCHED
    method = scope["method"] if scope["method"] in _METHODS else "OTHER"
    metrics.http_request(method, route, status, seconds)
    # A line per answered request costs the polling route a sixth of its throughput: successes are DEBUG
    # (LOG_LEVEL=DEBUG shows them), refusals INFO, server errors WARNING.
    if status >= 500:
        level = logging.WARNING
    elif status >= 400 and route not in _PROBES:
        level = logging.INFO
    else:
        level = logging.DEBUG
    if logger.isEnabledFor(level):
        extra = {"method": method, "route": route, "status": status, "duration_ms": round(seconds * 1000, 1)}
        logger.log(level, "request served", extra=extra)
