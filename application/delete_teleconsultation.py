"""DELETE /teleconsultation/{id}: trash the teleconsultation and delete its provider room."""

from __future__ import annotations

from application.events import EventType, Journal
from application.ports import TeleconsultationRepository
from application.rooms import RoomKeeper


class DeleteTeleconsultation:
    """Trashes first, then deletes the room: a failed deletion is queued for the sweeper, never lost.

    Raises NotFound for an unknown or already trashed id, ConcurrentUpdate when it changed meanwhile.
    """

    def __init__(self, *, repository: TeleconsultationRepository, rooms: RoomKeeper, journal: Journal) -> None:
        self._journal = journal
        self._repository = repository
        self._rooms = rooms

    async def execute(self, teleconsultation_id: str) -> None:
        teleconsultation = await self._repository.get(teleconsultation_id)
        room_id = teleconsultation.discard()
        events = [self._journal.event(EventType.TELECONSULTATION_CANCELLED, teleconsultation.id)]
        if room_id is not None:
            events.append(self._journal.event(EventType.ROOM_DELETED, teleconsultation.id))
        await self._repository.save(teleconsultation, events)
        await self._journal.relay_quietly(teleconsultation.id)
        await self._rooms.release(room_id)
