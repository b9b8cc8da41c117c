"""Use cases wired to in-memory adapters, the way the composition root wires the real ones."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from adapters.memory.call_features import InMemoryCallFeatures
from adapters.memory.clock import FixedClock
from adapters.memory.store import InMemoryStore
from adapters.memory.video_provider import InMemoryVideoProvider
from adapters.mongo.lifecycle import MongoStore
from application.company_settings import SetDefaultBackground, SettingsAdmins, UploadCompanyBackground
from application.create_teleconsultation import CreateTeleconsultation, CreateTeleconsultationCommand
from application.delete_teleconsultation import DeleteTeleconsultation
from application.delete_uploads import DeleteCallUploads
from application.dto import ParticipantInput, RosterInput
from application.get_teleconsultation import GetTeleconsultationAccess
from application.get_transcription import GetTranscription
from application.identities import StandaloneIdentities
from application.provider_features import ProviderFeature
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


class FeaturelessProvider(InMemoryVideoProvider):
    """A provider that declares none of the optional features, as Jitsi does."""

    name = "bare"
    features: frozenset[ProviderFeature] = frozenset()


@dataclass
class Harness:
    immutable_period: timedelta = timedelta(0)
    unlimited: bool = True
    links_bound_to_schedule: bool = False
    store: InMemoryStore | MongoStore = field(default_factory=InMemoryStore)
    provider: InMemoryVideoProvider = field(default_factory=InMemoryVideoProvider)
    clock: FixedClock = field(default_factory=lambda: FixedClock(T0 - timedelta(days=1)))
    features: InMemoryCallFeatures = field(default_factory=InMemoryCallFeatures)
    background_groups: frozenset[str] = frozenset()
    admin_groups: frozenset[str] = frozenset({"doctor"})
    delete_uploads_enabled: bool = True
    records_calls: bool = True
    transcription_max_bytes: int = 1000

    def __post_init__(self) -> None:
        durations = DurationPolicy(unlimited=self.unlimited)
        self.rooms = RoomKeeper(
            provider=self.provider,
            cleanups=self.store.cleanups,
            privileges=POLICY,
            durations=durations,
            immutable_period=self.immutable_period,
            clock=self.clock,
        )
        self.provider_users = ProviderUsers(user_ids=self.store.user_ids, provider=self.provider, clock=self.clock)
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
            links=self.provider,
            clock=self.clock,
            immutable_period=self.immutable_period,
            background_groups=self.background_groups,
        )
        self.delete = DeleteTeleconsultation(repository=self.store.teleconsultations, rooms=self.rooms)
        self._wire_call_features()

    def _wire_call_features(self) -> None:
        self.delete_uploads = DeleteCallUploads(
            repository=self.store.teleconsultations,
            provider=self.provider,
            uploads=self.features,
            enabled=self.delete_uploads_enabled,
        )
        admins = SettingsAdmins(self.admin_groups)
        self.upload_background = UploadCompanyBackground(
            admins=admins, provider=self.provider, backgrounds=self.features
        )
        self.set_background = SetDefaultBackground(admins=admins, provider=self.provider, backgrounds=self.features)
        self.transcription = GetTranscription(
            repository=self.store.teleconsultations,
            provider=self.provider,
            transcriptions=self.features,
            recording_enabled=self.records_calls,
            max_bytes=self.transcription_max_bytes,
        )
