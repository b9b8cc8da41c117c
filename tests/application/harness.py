"""The use cases as the composition root wires them, with the in-memory adapters swapped in by its overrides."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import msgspec
from dependency_injector import providers

from adapters.identity import JwtSettings
from adapters.memory.call_features import InMemoryCallFeatures
from adapters.memory.clock import FixedClock
from adapters.memory.store import InMemoryStore
from adapters.memory.video_provider import InMemoryVideoProvider
from adapters.mongo.lifecycle import MongoStore
from application.create_teleconsultation import CreateTeleconsultationCommand
from application.dto import ParticipantInput, Requester, RosterInput
from domain.privileges import PrivilegePolicy
from entrypoints.container import Container, VideoPorts
from entrypoints.service_config import DEFAULT_CONFIG, PrivilegeConfig, PrivilegesConfig
from entrypoints.settings import EventSettings, IdentitySettings, Settings, StoreSettings
from tests.builders import T0

POLICY = PrivilegePolicy(
    basic_groups=frozenset({"patient"}),
    plus_groups=frozenset({"doctor"}),
    basic_tools={"chat": True},
    plus_tools={"chat": True, "whiteboard": True},
)
CONFIG = msgspec.structs.replace(
    DEFAULT_CONFIG,
    privileges=PrivilegesConfig(
        basic=PrivilegeConfig(groups=["patient"], tools={"chat": True}),
        plus=PrivilegeConfig(groups=["doctor"], tools={"chat": True, "whiteboard": True}),
    ),
)


# The participants of `doctor()` and `patient()` as requesters.
DOCTOR = Requester(("doc-1",), groups=("doctor",))
PATIENT = Requester(("pat-1",), groups=("patient",))


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
    """A provider that offers none of the optional feature ports, as Jitsi does."""

    name = "bare"


@dataclass
class Harness:
    """The container's graph on the memory store, the memory provider and a fixed clock; no network at all."""

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
    # The room details cache is part of the graph, off by default so that each read sees the provider's state.
    room_details_cache: timedelta = timedelta(0)
    # How requesters are identified and who may schedule: by default the original's (headers, the gateway decides).
    auth_mode: str = "headers"
    scheduling_groups: frozenset[str] | None = None
    scheduling_scope: str | None = None
    retention_days: int | None = None
    # The teleconsultation cache lives as long as room details (so it is off by default too), for this many ids.
    teleconsultation_cache_size: int = 10_000
    cache_change_stream: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.store, InMemoryStore):
            self.store.date_writes(self.clock)
        settings = Settings(
            video_provider="memory",
            store=StoreSettings(backend="memory"),
            unlimited_teleconsultation=self.unlimited,
            immutable_period=self.immutable_period,
            room_details_cache=self.room_details_cache,
            teleconsultation_cache_size=self.teleconsultation_cache_size,
            cache_change_stream=self.cache_change_stream,
            delete_uploads=self.delete_uploads_enabled,
            recording_type="manual" if self.records_calls else "none",
            transcription_max_bytes=self.transcription_max_bytes,
            identity=self._identity(),
            events=EventSettings(retention_days=self.retention_days),
        )
        config = msgspec.structs.replace(
            CONFIG,
            groupsWithBackgroundList=sorted(self.background_groups),
            settingsAdminGroups=sorted(self.admin_groups),
            schedulingGroups=None if self.scheduling_groups is None else sorted(self.scheduling_groups),
        )
        self.container = container = Container(settings=settings, service_config=config)
        container.clock.override(providers.Object(self.clock))
        container.store.override(providers.Object(self.store))
        container.http_session.override(providers.Object(None))  # nothing here may call out
        container.video.override(providers.Object(self._video_ports()))
        self.policy = container.authorization()
        self.rooms = container.rooms()
        self.provider_users = container.provider_users()
        self.roster = container.roster()
        self.create = container.create_teleconsultation()
        self.update = container.update_teleconsultation()
        self.get = container.get_teleconsultation_access()
        self.delete = container.delete_teleconsultation()
        self.delete_uploads = container.delete_call_uploads()
        self.upload_background = container.upload_company_background()
        self.set_background = container.set_default_background()
        self.transcription = container.get_transcription()

    def _identity(self) -> IdentitySettings:
        if self.auth_mode != "jwt":
            return IdentitySettings(auth_mode=self.auth_mode)
        # Nothing here verifies a token: the use cases get requesters as a verified token would give them.
        jwt = JwtSettings(jwks_url="https://idp.invalid/jwks", issuer="https://idp.invalid/", audience="service")
        return IdentitySettings(auth_mode="jwt", jwt=jwt, scheduling_scope=self.scheduling_scope)

    def _video_ports(self) -> VideoPorts:
        if isinstance(self.provider, FeaturelessProvider):
            return VideoPorts(self.provider, self.provider, self.links_bound_to_schedule)
        features: Any = self.features
        return VideoPorts(
            self.provider, self.provider, self.links_bound_to_schedule, self.provider, features, features, features
        )
