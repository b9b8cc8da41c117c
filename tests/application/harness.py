"""Use cases wired to in-memory adapters, the way the composition root wires the real ones."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from adapters.memory.clock import FixedClock
from adapters.memory.store import InMemoryStore
from adapters.memory.video_provider import InMemoryVideoProvider
from application.create_teleconsultation import CreateTeleconsultation, CreateTeleconsultationCommand
from application.delete_teleconsultation import DeleteTeleconsultation
from application.dto import ParticipantInput, RosterInput
from application.get_teleconsultation import GetTeleconsultationAccess
from application.identities import StandaloneIdentities
from application.provider_users import ProviderUsers
from application.rooms import RoomKeeper
from application.roster import RosterBuilder
from application.update_teleconsultation import UpdateTeleconsultation
from domain.duration_policy import DurationPolicy
from domain.privileges import PrivilegePolicy
from tests.builders import T0

POLICY = PrivilegePolicy(
    basic_groups=frozenset({"patient"}),
    plus_groups=frozenset({"doctor"}),
    basic_tools={"chat": True},
    plus_tools={"chat": True, "whiteboard": True},
)


def doctor(user_id: str = "doc-1", language: str | None = "it") -> ParticipantInput:
    return ParticipantInput(user_id=user_id, groups=("doctor",), full_name="Joe Smith", language=language)


def patient(user_id: str = "pat-1") -> ParticipantInput:
    return ParticipantInput(user_id=user_id, groups=("patient",), full_name="Jane Doe", language="it")


def roster(*participants: ParticipantInput, number: int | None = None) -> RosterInput:
    return RosterInput(number=len(participants) if number is None else number, data=participants)


def create_command(
    *participants: ParticipantInput, number: int | None = None, start: datetime = T0
) -> CreateTeleconsultationCommand:
    return CreateTeleconsultationCommand(
        roster=roster(*participants, number=number), start=start, duration_seconds=3600
    )


@dataclass
class Harness:
    immutable_period: timedelta = timedelta(0)
    unlimited: bool = True
    links_bound_to_schedule: bool = False
    store: InMemoryStore = field(default_factory=InMemoryStore)
    provider: InMemoryVideoProvider = field(default_factory=InMemoryVideoProvider)
    clock: FixedClock = field(default_factory=lambda: FixedClock(T0 - timedelta(days=1)))

    def __post_init__(self) -> None:
        durations = DurationPolicy(unlimited=self.unlimited)
        self.rooms = RoomKeeper(
            provider=self.provider,
            cleanups=self.store.cleanups,
            privileges=POLICY,
            durations=durations,
            immutable_period=self.immutable_period,
        )
        self.provider_users = ProviderUsers(user_ids=self.store.user_ids, provider=self.provider)
        self.roster = RosterBuilder(identities=StandaloneIdentities(POLICY), provider_users=self.provider_users)
        self.create = CreateTeleconsultation(
            repository=self.store.teleconsultations, roster=self.roster, rooms=self.rooms, durations=durations
        )
        self.update = UpdateTeleconsultation(
            repository=self.store.teleconsultations,
            roster=self.roster,
            rooms=self.rooms,
            durations=durations,
            clock=self.clock,
            immutable_period=self.immutable_period,
            links_bound_to_schedule=self.links_bound_to_schedule,
        )
        self.get = GetTeleconsultationAccess(
            repository=self.store.teleconsultations,
            provider=self.provider,
            clock=self.clock,
            immutable_period=self.immutable_period,
        )
        self.delete = DeleteTeleconsultation(repository=self.store.teleconsultations, rooms=self.rooms)
