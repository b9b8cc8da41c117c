"""POST /teleconsultation: plan a teleconsultation and open its room once the roster is complete."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from application.authorization import Action, AuthorizationPolicy
from application.dto import CallContext, Requester, RosterInput, actor_id_of
from application.events import EventType, Journal
from application.ports import TeleconsultationRepository
from application.rooms import RoomKeeper
from application.roster import RosterBuilder
from domain.teleconsultation import SchedulingRules, Teleconsultation

T = TypeVar("T")


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

    The room is created while the provider users just made are recorded in the user-id map; the teleconsultation
    is stored once both are done. The room is covered by an intent from before it is created until then (see
    RoomKeeper); if recording a user or storing fails, the room is released so nothing is left behind. A user
    whose reservation was taken over meanwhile is someone else's (UserCreationInProgress: a retry gets theirs).
    Raises Unauthorized or Forbidden when the policy does not let the requester schedule.
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
        async with self._roster.made(command.roster, command.context) as roster:
            teleconsultation = Teleconsultation.plan(
                id=await self._repository.next_id(),
                participants_number=command.roster.number,
                participants=roster.participants,
                schedule=schedule,
            )
            # The room needs the provider users, not their record in the user-id map: both at once.
            opening, recording = await asyncio.gather(
                self._rooms.open_room(teleconsultation), roster.recorded(), return_exceptions=True
            )
        new_room = _outcome(opening)
        events = [self._journal.event(EventType.TELECONSULTATION_CREATED, teleconsultation.id)]
        if new_room is not None:
            events.append(self._journal.event(EventType.ROOM_CREATED, teleconsultation.id))
        try:
            _outcome(recording)  # the stored teleconsultation must name only users the map has
            await self._repository.add(teleconsultation, events, actor_id=actor_id_of(command.requester))
        except BaseException:
            await self._rooms.abandon(new_room)
            raise
        await self._rooms.settle(new_room)
        await self._journal.relay_quietly(teleconsultation.id)
        return teleconsultation.id


def _outcome(outcome: T | BaseException) -> T:
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome
