"""PATCH /teleconsultation/{id}: change schedule or roster, replacing the room when its features change."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from application.authorization import Action, AuthorizationPolicy
from application.dto import CallContext, Requester, RosterInput, actor_id_of
from application.events import EventType, Journal
from application.ports import Clock, TeleconsultationRepository
from application.rooms import RoomKeeper
from application.roster import RosterBuilder
from domain.teleconsultation import SchedulingRules


@dataclass(frozen=True, slots=True)
class UpdateTeleconsultationCommand:
    teleconsultation_id: str
    roster: RosterInput | None = None
    start: datetime | None = None
    end: datetime | None = None
    duration_seconds: int | None = None
    context: CallContext = field(default_factory=CallContext)
    requester: Requester | None = None  # None: nobody identified


class UpdateTeleconsultation:
    """Applies a partial update; the aggregate decides whether it is allowed and what happens to the room.

    Order matters so that nothing is orphaned: the new room is created first, under an intent; the change is
    stored together with the obsolete room listed as still to delete, in one write (the loser of a concurrent
    update gets ConcurrentUpdate and its new room is released); only then is the obsolete room deleted, and a
    crash before that leaves the listing for the sweep. Raises
    Unauthorized or Forbidden, before anything is read, when the policy does not let the requester schedule.
    """

    def __init__(
        self,
        *,
        repository: TeleconsultationRepository,
        roster: RosterBuilder,
        rooms: RoomKeeper,
        rules: SchedulingRules,
        clock: Clock,
        policy: AuthorizationPolicy,
        journal: Journal,
    ) -> None:
        self._journal = journal
        self._repository = repository
        self._policy = policy
        self._roster = roster
        self._rooms = rooms
        self._rules = rules
        self._clock = clock

    async def execute(self, command: UpdateTeleconsultationCommand) -> None:
        self._policy.authorize(Action.SCHEDULE, command.requester)
        teleconsultation = await self._repository.get(command.teleconsultation_id)
        revision = teleconsultation.revision(
            now=self._clock.now(),
            rules=self._rules,
            start=command.start,
            end=command.end,
            duration_seconds=command.duration_seconds,
        )
        unknown = teleconsultation.participants_to_identify
        if unknown and command.roster is None:
            # Kept participants the original stored without groups (auth mode): learn their true privileges before
            # the roster rules judge them. A new roster is identified anew anyway.
            teleconsultation.identify(await self._roster.privileges_of(unknown, command.context))
        participants = None if command.roster is None else await self._roster.build(command.roster, command.context)
        change = revision.apply(
            participants_number=None if command.roster is None else command.roster.number,
            participants=participants,
        )
        new_room = await self._rooms.open_room(teleconsultation) if change.needs_new_room else None
        events = [self._journal.event(EventType.TELECONSULTATION_CHANGED, teleconsultation.id)]
        room_event = _room_event(had_room=change.obsolete_room_id is not None, has_room=new_room is not None)
        if room_event is not None:
            events.append(self._journal.event(room_event, teleconsultation.id))
        try:
            await self._repository.save(teleconsultation, events, actor_id=actor_id_of(command.requester))
        except BaseException:
            await self._rooms.abandon(new_room)
            raise
        await self._rooms.settle(new_room)
        await self._journal.relay_quietly(teleconsultation.id)
        await self._rooms.delete_given_up(teleconsultation)


def _room_event(*, had_room: bool, has_room: bool) -> EventType | None:
    if had_room and has_room:
        return EventType.ROOM_REPLACED
    if had_room:
        return EventType.ROOM_DELETED
    return EventType.ROOM_CREATED if has_room else None
