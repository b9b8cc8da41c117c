"""The event log's events: who changed what and when, as ids and types only (no names, links, tokens or bodies).

A change to a teleconsultation carries its events into the same store write (the repository's outbox); the
`Journal` then moves them to the event log, idempotently by event id, so that an event exists exactly when its
change does. Events without a stored change of their own (credentials issued, settings changed, a link served, an
access refused) go to the log directly.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from application.errors import StoreUnavailable
from application.ports import Clock, EventLog, EventOutbox
from application.request_context import current_actor, current_request_id

logger = logging.getLogger(__name__)

SERVICE_ACTOR = "service"
ANONYMOUS_ACTOR = "anonymous"


class EventType(StrEnum):
    TELECONSULTATION_CREATED = "teleconsultation.created"
    TELECONSULTATION_CHANGED = "teleconsultation.changed"
    TELECONSULTATION_CANCELLED = "teleconsultation.cancelled"
    TELECONSULTATION_PURGED = "teleconsultation.purged"
    ROOM_CREATED = "room.created"
    ROOM_REPLACED = "room.replaced"
    ROOM_DELETED = "room.deleted"
    LINK_SERVED = "link.served"
    UPLOADS_DELETED = "uploads.deleted"
    CREDENTIALS_ISSUED = "credentials.issued"
    SETTINGS_CHANGED = "settings.changed"
    ACCESS_REFUSED = "access.refused"
    CALL_STARTED = "call.started"
    CALL_ENDED = "call.ended"
    RECORDING_AVAILABLE = "recording.available"
    TRANSCRIPTION_AVAILABLE = "transcription.available"


@dataclass(frozen=True, slots=True)
class Event:
    """One entry of the log. `outcome` is `success`, or for a refused access its status (`401`, `403`)."""

    id: str
    at: datetime
    type: str
    teleconsultation_id: str | None
    actor: str
    outcome: str
    request_id: str | None


@dataclass(frozen=True, slots=True)
class EventQuery:
    teleconsultation_id: str | None = None
    actor: str | None = None
    type: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def derived_id(*parts: str) -> str:
    """An event id that is the same whoever derives it from the same facts: a second report is the same event."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


class Journal:
    """Makes events (actor and request id from the request context) and gets them into the log.

    `on_logged` hears every event recorded (the webhook deliveries are queued there, idempotently by event id).
    """

    def __init__(
        self,
        *,
        clock: Clock,
        log: EventLog,
        outbox: EventOutbox,
        on_logged: Sequence[Callable[[Event], Awaitable[None]]] = (),
    ) -> None:
        self._clock = clock
        self._log = log
        self._outbox = outbox
        self._on_logged = tuple(on_logged)

    def event(
        self,
        event_type: EventType,
        teleconsultation_id: str | None = None,
        *,
        outcome: str = "success",
        event_id: str | None = None,
        actor: str | None = None,
    ) -> Event:
        return Event(
            id=event_id or secrets.token_hex(16),
            at=self._clock.now(),
            type=event_type.value,
            teleconsultation_id=teleconsultation_id,
            actor=actor or current_actor.get() or SERVICE_ACTOR,
            outcome=outcome,
            request_id=current_request_id.get(),
        )

    async def record(self, event: Event) -> bool:
        """Log an event; False when the log already held its id.

        The listeners hear it either way (they must be idempotent by event id): when a first attempt logged the
        event and then failed in a listener, the attempt made again (a relay run again) still reaches them.
        """
        new = await self._log.append(event)
        for listener in self._on_logged:
            await listener(event)
        return new

    async def record_all(self, events: Sequence[Event]) -> set[str]:
        """Log several events in one store write, in their order (see `record`); the ids that were new."""
        new = await self._log.append_all(events)
        for event in events:
            for listener in self._on_logged:
                await listener(event)
        return new

    async def known(self, event_id: str) -> bool:
        return await self._log.contains(event_id)

    async def relay(self, teleconsultation_id: str | None = None, limit: int = 100) -> int:
        """Move outbox entries to the log (one teleconsultation's, or up to `limit` of any); how many moved.

        Appending is idempotent by event id, and entries leave the outbox only once logged: a relay that dies
        half-way is simply done again.
        """
        moved = 0
        for owner, events in await self._outbox.pending(teleconsultation_id, limit):
            await self.record_all(events)
            await self._outbox.remove(owner, [event.id for event in events])
            moved += len(events)
        return moved

    async def relay_quietly(self, teleconsultation_id: str) -> None:
        """After a write that succeeded: a store failure now must not fail the request (the sweeper relays)."""
        try:
            await self.relay(teleconsultation_id)
        except StoreUnavailable:
            logger.warning("events could not be relayed yet; the next sweep relays them")
