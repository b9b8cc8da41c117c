"""Every refused access (401, 403) leaves an `access.refused` event: who was refused, where, under which request.

A wrapper around the Litestar app, inside `observe_requests` (so the request id is known): the handler has read the
requester (application/request_context.current_actor) by the time the answer starts. The event holds the path's
teleconsultation id (when the route has one), never the path, a header or a body.
"""

from __future__ import annotations

import logging

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from application.errors import StoreUnavailable
from application.events import ANONYMOUS_ACTOR, EventType, Journal
from application.request_context import current_actor

logger = logging.getLogger(__name__)

REFUSED = frozenset({401, 403})


def record_refusals(app: ASGIApp, journal: Journal) -> ASGIApp:
    async def recorded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        status = 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        token = current_actor.set(None)
        try:
            await app(scope, receive, watch)
            if status in REFUSED:
                await _record(scope, status, journal)
        finally:
            current_actor.reset(token)

    return recorded


async def _record(scope: Scope, status: int, journal: Journal) -> None:
    path_params = scope.get("path_params") or {}
    teleconsultation_id = path_params.get("roomId")
    event = journal.event(
        EventType.ACCESS_REFUSED,
        teleconsultation_id if isinstance(teleconsultation_id, str) else None,
        outcome=str(status),
        actor=current_actor.get() or ANONYMOUS_ACTOR,
    )
    try:
        await journal.record(event)
    except StoreUnavailable:
        logger.warning("a refused access could not be logged: the store is unavailable")
