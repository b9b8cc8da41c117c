"""POST /webhooks/kaleyra: what the provider reports about a call becomes one of our events.

Idempotent by the provider's event id (the provider retries until it gets a 200): an event already logged is
acknowledged and nothing is done again. A call that ended has its uploads deleted first (with
TELECONSULTATION_DELETE_UPLOADS=true), so that a failed deletion is answered with an error and the provider's retry
tries again; the event is logged only once that work is done.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from application.delete_uploads import DeleteCallUploads
from application.errors import NotFound, ProviderError
from application.events import EventType, Journal, derived_id
from application.ports import RoomIndex

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ProviderEvent:
    provider: str
    event_id: str  # the provider's, or a digest of the delivery when it sends none
    kind: EventType | None  # None: an event we do not map (acknowledged, ignored)
    room_id: str | None


@dataclass(frozen=True, slots=True)
class ProviderEventOutcome:
    teleconsultation_id: str | None
    recorded: bool  # False: a repeat, an unmapped event, or a room no teleconsultation has
    uploads_deleted: int | None = None


class ReceiveProviderEvent:
    def __init__(self, *, journal: Journal, rooms: RoomIndex, delete_uploads: DeleteCallUploads) -> None:
        self._journal = journal
        self._rooms = rooms
        self._delete_uploads = delete_uploads

    async def execute(self, event: ProviderEvent) -> ProviderEventOutcome:
        if event.kind is None or event.room_id is None:
            return ProviderEventOutcome(None, recorded=False)
        teleconsultation_id = await self._rooms.teleconsultation_of_room(event.room_id)
        if teleconsultation_id is None:
            logger.info("a provider event names a room no teleconsultation has", extra={"room_id": event.room_id})
            return ProviderEventOutcome(None, recorded=False)
        event_id = derived_id(event.provider, event.event_id)
        if await self._journal.known(event_id):
            return ProviderEventOutcome(teleconsultation_id, recorded=False)
        deleted = None
        if event.kind is EventType.CALL_ENDED:
            deleted = await self._purge_uploads(teleconsultation_id)
        recorded = await self._journal.record(self._journal.event(event.kind, teleconsultation_id, event_id=event_id))
        return ProviderEventOutcome(teleconsultation_id, recorded=recorded, uploads_deleted=deleted)

    async def _purge_uploads(self, teleconsultation_id: str) -> int | None:
        try:
            outcome = await self._delete_uploads.after_the_call(teleconsultation_id)
        except NotFound:  # cancelled meanwhile: its room, and with it the call, is gone
            return None
        if outcome is None:
            return None
        if outcome.deleted < outcome.total:
            # Not logged yet: the provider's retry of this event tries the rest.
            raise ProviderError("kaleyra", "delete_upload", "some of the call's uploads could not be deleted")
        return outcome.deleted
