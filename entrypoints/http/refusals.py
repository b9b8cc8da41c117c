"""Every refused access (401, 403) leaves an `access.refused` event: who was refused, where, under which request.

`observe_requests` calls it once the answer is sent, so the request id is known and the handler has read the
requester (application/request_context.current_actor). The event holds the path's
teleconsultation id (when the route has one), never the path, a header or a body.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from litestar.types import Scope

from application.errors import StoreUnavailable
from application.events import ANONYMOUS_ACTOR, EventType, Journal
from application.request_context import current_actor

logger = logging.getLogger(__name__)


def refusal_recorder(journal: Journal) -> Callable[[Scope, int], Awaitable[None]]:
    """What `observe_requests` calls for a 401 or a 403: the refusal, logged as an event."""

    async def record(scope: Scope, status: int) -> None:
        await _record(scope, status, journal)

    return record


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
