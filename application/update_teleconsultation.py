"""PATCH /teleconsultation/{id}: change schedule or roster, replacing the room when its features change."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from application.dto import CallContext, RosterInput
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
    actor_id: str | None = None  # the requester, recorded as the updater; None when not known


class UpdateTeleconsultation:
    """Applies a partial update; the aggregate decides whether it is allowed and what happens to the room.

    Order matters so that nothing is orphaned: the new room is created first, the change is stored
    (the loser of a concurrent update gets ConcurrentUpdate and its new room is released), and only then
    is the obsolete room released.
    """

    def __init__(
        self,
        *,
        repository: TeleconsultationRepository,
        roster: RosterBuilder,
        rooms: RoomKeeper,
        rules: SchedulingRules,
        clock: Clock,
    ) -> None:
        self._repository = repository
        self._roster = roster
        self._rooms = rooms
        self._rules = rules
        self._clock = clock

    async def execute(self, command: UpdateTeleconsultationCommand) -> None:
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
        try:
            await self._repository.save(teleconsultation, actor_id=command.actor_id)
        except BaseException:
            await self._rooms.release(new_room)
            raise
        await self._rooms.release(change.obsolete_room_id)
