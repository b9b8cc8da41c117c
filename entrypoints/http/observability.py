"""Around every HTTP request: its id (taken or made up) for logs, providers and the response; metrics; one log line.

Only the route template, never the path, is logged or used as a label: paths carry teleconsultation ids.
This is the one wrapper around the Litestar app, so it also mends the `Allow` header of OPTIONS answers
(`options.py`): a Litestar `before_send` hook would cost every request another layer of awaits. And it ends the
connection after any answer given before the request's body was read to its end (a 413, a 404 for a body sent to an
unknown route, a bodiless route refusing a chunked body): otherwise the server would read and throw away the rest of
the body, however large, to keep the connection alive. Before that answer it reads past a little more of the body
(at most DRAIN_BYTES, for at most DRAIN_SECONDS): a client still sending a body slightly over a limit then finishes
and reads its 413 on a connection that stays open, instead of a reset that would swallow the answer.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPScope, Message, Receive, ReceiveMessage, Scope, Send

from application.request_context import current_actor, current_request_id
from entrypoints.http.options import with_correct_allow
from entrypoints.metrics import ServiceMetrics

logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = b"x-request-id"
_BODY_HEADERS = (b"content-length", b"transfer-encoding")
_CLOSE = (b"connection", b"close")
DRAIN_BYTES = 256 * 1024
DRAIN_SECONDS = 0.5
# Accepted from the caller only when it cannot carry anything but an id (no spaces, no link, bounded length).
_USABLE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:\-]{1,128}")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_PROBES = frozenset({"/-/healthz", "/-/ready", "/-/metrics"})
UNMATCHED = "unmatched"
REFUSED = frozenset({401, 403})
OnRefused = Callable[[Scope, int], Awaitable[None]]


def observe_requests(app: ASGIApp, metrics: ServiceMetrics, on_refused: OnRefused | None = None) -> ASGIApp:
    """`on_refused` hears every 401 and 403 once the answer is sent (the audit trail's refused accesses)."""

    async def observed(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        request_id, body_pending, drain = _request_id_and_body(scope["headers"])
        id_header = (REQUEST_ID_HEADER, request_id.encode())
        options = scope["method"] == "OPTIONS"
        token = current_request_id.set(request_id)
        actor = current_actor.set(None)  # the requester reader names it, for this request only
        started = time.perf_counter()
        status = 500  # what the server answers if the app ends without a response

        async def receive_to_the_end() -> ReceiveMessage:
            nonlocal body_pending
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_pending = False
            return message

        async def send_with_id(message: Message) -> None:
            nonlocal status, body_pending
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = message.get("headers", ())
                if options:
                    headers = with_correct_allow(headers, scope)
                if body_pending and drain:
                    body_pending = await _read_past_the_rest(receive)
                message["headers"] = [*headers, id_header, _CLOSE] if body_pending else [*headers, id_header]
            await send(message)

        try:
            # Requests without a body (every poll) keep the server's own receive: no extra await per message.
            await app(scope, receive_to_the_end if body_pending else receive, send_with_id)
            if on_refused is not None and status in REFUSED:
                await on_refused(scope, status)
        finally:
            _record(scope, status, time.perf_counter() - started, metrics)
            current_actor.reset(actor)
            current_request_id.reset(token)

    return observed


def _request_id_and_body(headers: Any) -> tuple[str, bool, bool]:
    """The request's id; whether it announces a body (a non-zero Content-Length, or a Transfer-Encoding); and
    whether an unread rest of it may be read past (not when the client waits for `100 Continue` before sending it:
    asking for the body would invite it)."""
    request_id = None
    body = False
    drain = True
    for name, value in headers:
        if name == REQUEST_ID_HEADER:
            if request_id is None and _USABLE_REQUEST_ID.fullmatch(value):
                request_id = str(value.decode("ascii"))
        elif name in _BODY_HEADERS and (name != b"content-length" or value.strip(b" \t0")):
            body = True
        elif name == b"expect":
            drain = False
    # 128 random bits like a uuid4, from the process's seeded generator (re-seeded in a forked child): an id must
    # be unique, not unguessable, and os.urandom would cost every request a system call.
    return request_id or f"{random.getrandbits(128):032x}", body, drain


async def _read_past_the_rest(receive: Receive) -> bool:
    """Reads and drops what is left of the body, within DRAIN_BYTES and DRAIN_SECONDS; True if some is still left."""
    read = 0
    try:
        async with asyncio.timeout(DRAIN_SECONDS):
            while read <= DRAIN_BYTES:
                message = await receive()
                if message["type"] != "http.request":
                    return True  # the client went away
                read += len(message.get("body", b""))
                if not message.get("more_body", False):
                    return False
    except TimeoutError:
        pass
    return True


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
