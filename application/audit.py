"""GET /audit/events: the event log, newest first, in pages, for auditors only.

Who may read it is the authorization policy's `READ_AUDIT` rule (application/authorization.py): the groups of the
configuration key `auditorGroups`, nobody when it is unset.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from application.authorization import Action, AuthorizationPolicy
from application.dto import Requester
from application.errors import InvalidRequest
from application.events import Event, EventQuery
from application.ports import EventLog

DEFAULT_PAGE = 50
LARGEST_PAGE = 200


@dataclass(frozen=True, slots=True)
class EventPage:
    events: list[Event]
    next_cursor: str | None  # opaque; None on the last page


class ReadAuditEvents:
    def __init__(self, *, policy: AuthorizationPolicy, log: EventLog) -> None:
        self._policy = policy
        self._log = log

    async def execute(
        self, requester: Requester | None, query: EventQuery, cursor: str | None = None, limit: int = DEFAULT_PAGE
    ) -> EventPage:
        """Raises Unauthorized, Forbidden, or InvalidRequest for a cursor this service did not hand out, a
        page size out of 1 to 200, or a time without its zone."""
        self._policy.authorize(Action.READ_AUDIT, requester)
        if not 1 <= limit <= LARGEST_PAGE:
            raise InvalidRequest(f"limit must be between 1 and {LARGEST_PAGE}")
        for name, moment in (("since", query.since), ("until", query.until)):
            if moment is not None and _is_naive(moment):
                raise InvalidRequest(f"{name} must carry a time zone (e.g. Z)")
        events, position = await self._log.query(query, limit, _position(cursor))
        return EventPage(events, None if position is None else _cursor(position))


def _is_naive(moment: datetime) -> bool:
    return moment.tzinfo is None or moment.utcoffset() is None


_CURSOR_PREFIX = "ev1:"


def _cursor(position: str) -> str:
    return base64.urlsafe_b64encode((_CURSOR_PREFIX + position).encode()).decode().rstrip("=")


def _position(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = ""
    if not decoded.startswith(_CURSOR_PREFIX) or len(decoded) > 200:
        raise InvalidRequest("cursor is not one this service handed out")
    return decoded[len(_CURSOR_PREFIX) :]
