"""DELETE /teleconsultation/{id}: trash the teleconsultation and delete its provider room."""

from __future__ import annotations

from application.ports import TeleconsultationRepository
from application.rooms import RoomKeeper


class DeleteTeleconsultation:
    """Trashes first, then deletes the room: a failed deletion is queued for the sweeper, never lost.

    The trash state and the room still to delete are one write, so a crash right after it leaves the room listed
    on the trashed teleconsultation, and the sweep deletes it. A retried DELETE then answers 404 (the cancellation
    is stored); the room goes within one sweep interval.

    Raises NotFound for an unknown or already trashed id, ConcurrentUpdate when it changed meanwhile.
    """

    def __init__(self, *, repository: TeleconsultationRepository, rooms: RoomKeeper) -> None:
        self._repository = repository
        self._rooms = rooms

    async def execute(self, teleconsultation_id: str) -> None:
        teleconsultation = await self._repository.get(teleconsultation_id)
        teleconsultation.discard()
        await self._repository.save(teleconsultation)
        await self._rooms.delete_given_up(teleconsultation)
