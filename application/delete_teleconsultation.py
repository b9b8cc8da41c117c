"""DELETE /teleconsultation/{id}: trash the teleconsultation and delete its provider room."""

from __future__ import annotations

from application.ports import TeleconsultationRepository
from application.rooms import RoomKeeper


class DeleteTeleconsultation:
    """Trashes first, then deletes the room: a failed deletion is queued for the sweeper, never lost.

    Raises NotFound for an unknown or already trashed id, ConcurrentUpdate when it changed meanwhile.
    """

    def __init__(self, *, repository: TeleconsultationRepository, rooms: RoomKeeper) -> None:
        self._repository = repository
        self._rooms = rooms

    async def execute(self, teleconsultation_id: str, *, actor_id: str | None = None) -> None:
        """`actor_id`: the requester, recorded as the updater; None when not known."""
        teleconsultation = await self._repository.get(teleconsultation_id)
        room_id = teleconsultation.discard()
        await self._repository.save(teleconsultation, actor_id=actor_id)
        await self._rooms.release(room_id)
