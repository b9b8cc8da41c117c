"""POST /teleconsultation: plan a teleconsultation and open its room once the roster is complete."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from application.authorization import Action, AuthorizationPolicy
from application.dto import CallContext, Requester, RosterInput, actor_id_of
from application.events import EventType, Journal
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
    requester: Requester | None = None  # None: nobody identified


class CreateTeleconsultation:
    """Validates schedule and roster, creates provider users and (if complete) the room, then stores it.

    The room is covered by an intent from before it is created until the teleconsultation is stored (see
    RoomKeeper); if storing fails, the room is released so nothing is left behind. Raises Unauthorized or
    Forbidden when the policy does not let the requester schedule.
    """

    def __init__(
        self,
        *,
        repository: TeleconsultationRepository,
        roster: RosterBuilder,
        rooms: RoomKeeper,
        rules: SchedulingRules,
        policy: AuthorizationPolicy,
        journal: Journal,
    ) -> None:
        self._journal = journal
        self._repository = repository
        self._policy = policy
        self._roster = roster
        self._rooms = rooms
        self._rules = rules

    async def execute(self, command: CreateTeleconsultationCommand) -> str:
        self._policy.authorize(Action.SCHEDULE, command.requester)
        schedule = self._rules.schedule(command.start, end=command.end, duration_seconds=command.duration_seconds)
        participants = await self._roster.build(command.roster, command.context)
        teleconsultation = Teleconsultation.plan(
            id=await self._repository.next_id(),
            participants_number=command.roster.number,
            participants=participants,
            schedule=schedule,
        )
        new_room = await self._rooms.open_room(teleconsultation)
        events = [self._journal.event(EventType.TELECONSULTATION_CREATED, teleconsultation.id)]
        if new_room is not None:
            events.append(self._journal.event(EventType.ROOM_CREATED, teleconsultation.id))
        try:
            await self._repository.add(teleconsultation, events, actor_id=actor_id_of(command.requester))
        except BaseException:
            await self._rooms.abandon(new_room)
            raise
        await self._rooms.settle(new_room)
        await self._journal.relay_quietly(teleconsultation.id)
        return teleconsultation.id
