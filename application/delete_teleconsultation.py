"""DELETE /teleconsultation/{id}: trash the teleconsultation and delete its provider room."""

from __future__ import annotations

from application.authorization import Action, AuthorizationPolicy
from application.dto import Requester, actor_id_of
from application.events import EventType, Journal
from application.ports import TeleconsultationRepository
from application.rooms import RoomKeeper


class DeleteTeleconsultation:
    """Trashes first, then deletes the room: a failed deletion is queued for the sweeper, never lost.

    The trash state and the room still to delete are one write, so a crash right after it leaves the room listed
    on the trashed teleconsultation, and the sweep deletes it. A retried DELETE then answers 404 (the cancellation
    is stored); the room goes within one sweep interval.

    Raises Unauthorized or Forbidden, before anything is read, when the policy does not let the requester
    schedule; NotFound for an unknown or already trashed id, ConcurrentUpdate when it changed meanwhile.
    """

    def __init__(
        self,
        *,
        repository: TeleconsultationRepository,
        rooms: RoomKeeper,
        policy: AuthorizationPolicy,
        journal: Journal,
    ) -> None:
        self._journal = journal
        self._repository = repository
        self._rooms = rooms
        self._policy = policy

    async def execute(self, teleconsultation_id: str, requester: Requester | None) -> None:
        self._policy.authorize(Action.SCHEDULE, requester)
        teleconsultation = await self._repository.get(teleconsultation_id)
        room_id = teleconsultation.discard()
        events = [self._journal.event(EventType.TELECONSULTATION_CANCELLED, teleconsultation.id)]
        if room_id is not None:
            events.append(self._journal.event(EventType.ROOM_DELETED, teleconsultation.id))
        await self._repository.save(teleconsultation, events, actor_id=actor_id_of(requester))
        await self._journal.relay_quietly(teleconsultation.id)
        await self._rooms.delete_given_up(teleconsultation)
