"""POST /teleconsultation: plan a teleconsultation and open its room once the roster is complete."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from application.dto import CallContext, RosterInput
from application.ports import TeleconsultationRepository
from application.rooms import RoomKeeper
from application.roster import RosterBuilder
from domain.teleconsultation import SchedulingRules, Teleconsultation


@dataclass(frozen=True, slots=True)
class CreateTeleconsultationCommand:
    roster: RosterInput
    start: datetime
    end: datetime | None = None
    duration_seconds: int | None = None
    context: CallContext = field(default_factory=CallContext)
    actor_id: str | None = None  # the requester, recorded as the creator; None when not known


class CreateTeleconsultation:
    """Validates schedule and roster, creates provider users and (if complete) the room, then stores it.

    If storing fails after the room was created, the room is released so nothing is left behind.
    """

    def __init__(
        self,
        *,
        repository: TeleconsultationRepository,
        roster: RosterBuilder,
        rooms: RoomKeeper,
        rules: SchedulingRules,
    ) -> None:
        self._repository = repository
        self._roster = roster
        self._rooms = rooms
        self._rules = rules

    async def execute(self, command: CreateTeleconsultationCommand) -> str:
        schedule = self._rules.schedule(command.start, end=command.end, duration_seconds=command.duration_seconds)
        participants = await self._roster.build(command.roster, command.context)
        teleconsultation = Teleconsultation.plan(
            id=await self._repository.next_id(),
            participants_number=command.roster.number,
            participants=participants,
            schedule=schedule,
        )
        new_room = await self._rooms.open_room(teleconsultation)
        try:
            await self._repository.add(teleconsultation, actor_id=command.actor_id)
        except BaseException:
            await self._rooms.release(new_room)
            raise
        return teleconsultation.id
