"""PATCH /teleconsultation/{id}: change schedule or roster, replacing the room when its features change."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from application.dto import CallContext, RosterInput
from application.ports import Clock, TeleconsultationRepository
from application.rooms import RoomKeeper
from application.roster import RosterBuilder
from domain.duration_policy import DurationPolicy, Schedule
from domain.teleconsultation import Teleconsultation


@dataclass(frozen=True, slots=True)
class UpdateTeleconsultationCommand:
    teleconsultation_id: str
    roster: RosterInput | None = None
    start: datetime | None = None
    end: datetime | None = None
    duration_seconds: int | None = None
    context: CallContext = field(default_factory=CallContext)


class UpdateTeleconsultation:
    """Applies a partial update.

    Order matters so that nothing is orphaned: the new room is created first, the change is stored
    (the loser of a concurrent update gets ConcurrentUpdate and its new room is released), and only then
    is the obsolete room released. Moving only the start keeps the appointment's duration, and its room
    unless the provider's links work only inside the appointment's window (`links_bound_to_schedule`).
    """

    def __init__(
        self,
        *,
        repository: TeleconsultationRepository,
        roster: RosterBuilder,
        rooms: RoomKeeper,
        durations: DurationPolicy,
        clock: Clock,
        immutable_period: timedelta,
        links_bound_to_schedule: bool = False,
    ) -> None:
        self._repository = repository
        self._roster = roster
        self._rooms = rooms
        self._durations = durations
        self._clock = clock
        self._immutable_period = immutable_period
        self._links_bound_to_schedule = links_bound_to_schedule

    async def execute(self, command: UpdateTeleconsultationCommand) -> None:
        teleconsultation = await self._repository.get(command.teleconsultation_id)
        now = self._clock.now()
        teleconsultation.ensure_mutable(now, self._immutable_period)
        schedule = self._merged_schedule(teleconsultation, command)
        participants = None if command.roster is None else await self._roster.build(command.roster, command.context)
        change = teleconsultation.revise(
            now=now,
            immutable_period=self._immutable_period,
            schedule=schedule,
            participants_number=None if command.roster is None else command.roster.number,
            participants=participants,
            links_bound_to_schedule=self._links_bound_to_schedule,
        )
        new_room = await self._rooms.open_room(teleconsultation) if change.needs_new_room else None
        try:
            await self._repository.save(teleconsultation)
        except BaseException:
            await self._rooms.release(new_room)
            raise
        await self._rooms.release(change.obsolete_room_id)

    def _merged_schedule(self, current: Teleconsultation, command: UpdateTeleconsultationCommand) -> Schedule | None:
        if command.start is None and command.end is None and command.duration_seconds is None:
            return None
        start = command.start or current.schedule.start
        duration_seconds = command.duration_seconds
        if command.end is None and duration_seconds is None:
            duration_seconds = int(current.schedule.duration.total_seconds())
        return self._durations.schedule(start, end=command.end, duration_seconds=duration_seconds)
