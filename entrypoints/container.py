"""The composition root: the one place the object graph is built, read top to bottom.

Settings and the JSON configuration come in; resources (the outbound HTTP session, the store) are opened at
start-up and closed at shutdown; then come the adapters, the domain's rules, the application's services and use
cases, and last the HTTP routes, each handed exactly the use cases it calls. The service (`python -m entrypoints`),
the `sweep` command, the benchmark, the fault run and the tests all build from this container; tests swap
adapters with its overrides (`container.store.override(...)`), never with a graph of their own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from inspect import isawaitable
from typing import Any, TypeVar

import aiohttp
from dependency_injector import containers, providers

from adapters.identity import Auth0ClientDirectory, CrudCustomIdResolver, CustomIdSettings, JwksTokenVerifier
from adapters.jitsi.provider import JitsiVideoProvider
from adapters.kaleyra.client import KaleyraVideoProvider
from adapters.memory.call_features import InMemoryCallFeatures
from adapters.memory.clock import SystemClock
from adapters.memory.video_provider import InMemoryVideoProvider
from application.circuit_breaker import CircuitBreaker
from application.create_teleconsultation import CreateTeleconsultation
from application.delete_teleconsultation import DeleteTeleconsultation
from application.delete_uploads import DeleteCallUploads
from application.get_teleconsultation import GetTeleconsultationAccess
from application.get_transcription import GetTranscription
from application.idempotent_creation import IdempotentCreateTeleconsultation
from application.identities import DirectoryIdentities, ParticipantIdentities, StandaloneIdentities
from application.issue_credentials import IssueCredentials
from application.migrate_stored_data import MigrateStoredData
from application.ports import (
    CallUploads,
    Clock,
    CompanyBackgrounds,
    CustomIdResolver,
    JoinLinks,
    SdkCredentialIssuer,
    SessionTranscriptions,
    UserDirectory,
    VideoProvider,
)
from application.provider_users import ProviderUsers
from application.room_details_cache import RoomDetailsCache
from application.rooms import RoomKeeper
from application.roster import RosterBuilder
from application.set_default_background import SetDefaultBackground
from application.settings_admins import SettingsAdmins
from application.teleconsultation_cache import CachedTeleconsultations
from application.update_teleconsultation import UpdateTeleconsultation
from application.upload_background import UploadCompanyBackground
from domain.duration_policy import DurationPolicy
from domain.privileges import PrivilegePolicy
from domain.teleconsultation import SchedulingRules
from entrypoints.gateways import open_http_session, open_store
from entrypoints.http.requester import RequesterReader, UserIdPathStep
from entrypoints.http.routes import (
    call_routes,
    credentials_routes,
    probe_routes,
    settings_routes,
    teleconsultation_routes,
)
from entrypoints.metrics import ServiceMetrics
from entrypoints.service_config import ServiceConfig
from entrypoints.settings import IdentitySettings, ReliabilitySettings, Settings
from entrypoints.sweeper import RoomSweeper

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class VideoPorts:
    """The ports the configured video provider offers; a feature it lacks is simply not there (None)."""

    rooms: VideoProvider
    links: JoinLinks
    # Signed Jitsi links carry the appointment's window (`nbf`, `exp`); Kaleyra's and the fake's do not.
    links_bound_to_schedule: bool = False
    sdk_credentials: SdkCredentialIssuer | None = None
    uploads: CallUploads | None = None
    backgrounds: CompanyBackgrounds | None = None
    transcriptions: SessionTranscriptions | None = None


def video_ports(
    settings: Settings, session: aiohttp.ClientSession, breaker: CircuitBreaker, metrics: ServiceMetrics
) -> VideoPorts:
    if settings.video_provider == "kaleyra":
        assert settings.kaleyra is not None  # Settings.from_env requires it for this provider
        kaleyra = KaleyraVideoProvider(session, settings.kaleyra, breaker=breaker, observer=metrics)
        return VideoPorts(kaleyra, kaleyra, False, kaleyra, kaleyra, kaleyra, kaleyra)
    if settings.video_provider == "jitsi":
        # Files, company backgrounds, transcriptions and SDKs live on the Jitsi deployment, out of this service's
        # reach.
        jitsi = JitsiVideoProvider(settings.jitsi)
        return VideoPorts(jitsi, jitsi, links_bound_to_schedule=settings.jitsi.app_secret is not None)
    memory = InMemoryVideoProvider()
    features = InMemoryCallFeatures()
    return VideoPorts(memory, memory, False, memory, features, features, features)


def provider_name_of(ports: VideoPorts) -> str:
    return ports.rooms.name


def circuit_breaker(provider: str, settings: ReliabilitySettings, clock: Clock) -> CircuitBreaker:
    return CircuitBreaker(
        provider,
        clock=clock,
        failure_threshold=settings.circuit_failure_threshold,
        reset_after=timedelta(seconds=settings.circuit_reset_seconds),
    )


def user_directory(identity: IdentitySettings, session: aiohttp.ClientSession) -> UserDirectory | None:
    return None if identity.auth_service is None else Auth0ClientDirectory(session, identity.auth_service)


def custom_id_resolver(
    identity: IdentitySettings, config: ServiceConfig, session: aiohttp.ClientSession
) -> CustomIdResolver | None:
    if identity.custom_id_endpoint is None:
        return None
    settings = CustomIdSettings(
        endpoint=identity.custom_id_endpoint, source=config.customUserId.source, target=config.customUserId.target
    )
    return CrudCustomIdResolver(session, settings)


def participant_identities(
    privileges: PrivilegePolicy, directory: UserDirectory | None, custom_ids: CustomIdResolver | None
) -> ParticipantIdentities:
    if directory is None:
        return StandaloneIdentities(privileges)
    return DirectoryIdentities(privileges, directory, custom_ids)


def requester_reader(
    identity: IdentitySettings, config: ServiceConfig, session: aiohttp.ClientSession
) -> RequesterReader:
    verifier = None if identity.jwt is None else JwksTokenVerifier(session, identity.jwt)
    path = None
    if config.userIdPathInRequest is not None:
        path = [UserIdPathStep(step.from_, step.extract) for step in config.userIdPathInRequest]
    return RequesterReader(
        headers=identity.headers,
        user_id_path=path,
        verifier=verifier,
        forwarded=identity.additional_headers_to_proxy,
    )


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    service_config = providers.Dependency(instance_of=ServiceConfig)
    # Which groups make a participant plus or basic; the store needs it too, for documents the original wrote.
    privileges = providers.Singleton(ServiceConfig.privilege_policy, service_config)

    # Resources, opened at start-up and closed at shutdown.
    http_session = providers.Resource(open_http_session, settings)
    store = providers.Resource(open_store, settings.provided.store, privileges)

    # Adapters.
    clock = providers.Singleton(SystemClock)
    # Only Kaleyra is called over the network; Jitsi links and the memory fake are made in-process.
    circuit_breaker = providers.Singleton(
        circuit_breaker, KaleyraVideoProvider.name, settings.provided.reliability, clock
    )
    metrics = providers.Singleton(ServiceMetrics, circuit_breaker=circuit_breaker)
    video = providers.Singleton(video_ports, settings, http_session, circuit_breaker, metrics)
    # Every use case shares this one instance, so a deletion evicts what the polling read cached.
    rooms_at_provider = providers.Singleton(
        RoomDetailsCache, provider=video.provided.rooms, clock=clock, ttl=settings.provided.room_details_cache
    )
    # Every use case shares this one instance, so this instance's writes are seen by its next read at once.
    teleconsultations = providers.Singleton(
        CachedTeleconsultations,
        repository=store.provided.teleconsultations,
        clock=clock,
        ttl=settings.provided.room_details_cache,
        max_entries=settings.provided.teleconsultation_cache_size,
    )
    provider_name = providers.Callable(provider_name_of, video)
    directory = providers.Singleton(user_directory, settings.provided.identity, http_session)
    custom_ids = providers.Singleton(custom_id_resolver, settings.provided.identity, service_config, http_session)
    requesters = providers.Singleton(requester_reader, settings.provided.identity, service_config, http_session)

    # The domain's rules.
    scheduling_rules = providers.Singleton(
        SchedulingRules,
        durations=providers.Singleton(DurationPolicy, unlimited=settings.provided.unlimited_teleconsultation),
        immutable_period=settings.provided.immutable_period,
        links_bound_to_schedule=video.provided.links_bound_to_schedule,
    )

    # Application services.
    rooms = providers.Singleton(
        RoomKeeper,
        provider=rooms_at_provider,
        cleanups=store.provided.cleanups,
        privileges=privileges,
        rules=scheduling_rules,
        clock=clock,
    )
    room_sweeper = providers.Singleton(
        RoomSweeper,
        rooms=rooms,
        interval_seconds=settings.provided.reliability.sweep_interval_seconds,
        on_swept=metrics.provided.pending_cleanups,
    )
    identities = providers.Singleton(participant_identities, privileges, directory, custom_ids)
    provider_users = providers.Singleton(
        ProviderUsers, user_ids=store.provided.user_ids, provider=rooms_at_provider, clock=clock
    )
    roster = providers.Singleton(RosterBuilder, identities=identities, provider_users=provider_users)
    settings_admins = providers.Singleton(SettingsAdmins, service_config.provided.settings_admin_groups.call())

    # Use cases.
    create_teleconsultation = providers.Singleton(
        CreateTeleconsultation,
        repository=teleconsultations,
        roster=roster,
        rooms=rooms,
        rules=scheduling_rules,
    )
    idempotent_create_teleconsultation = providers.Singleton(
        IdempotentCreateTeleconsultation,
        create=create_teleconsultation,
        records=store.provided.idempotency,
        clock=clock,
        ttl=providers.Factory(timedelta, seconds=settings.provided.reliability.idempotency_key_ttl_seconds),
    )
    update_teleconsultation = providers.Singleton(
        UpdateTeleconsultation,
        repository=teleconsultations,
        roster=roster,
        rooms=rooms,
        rules=scheduling_rules,
        clock=clock,
    )
    get_teleconsultation_access = providers.Singleton(
        GetTeleconsultationAccess,
        repository=teleconsultations,
        provider=rooms_at_provider,
        links=video.provided.links,
        clock=clock,
        rules=scheduling_rules,
        background_groups=service_config.provided.background_groups.call(),
    )
    delete_teleconsultation = providers.Singleton(DeleteTeleconsultation, repository=teleconsultations, rooms=rooms)
    issue_credentials = providers.Singleton(
        IssueCredentials,
        directory=directory,
        privileges=privileges,
        user_ids=store.provided.user_ids,
        provider_users=provider_users,
        issuer=video.provided.sdk_credentials,
        provider_name=provider_name,
    )
    delete_call_uploads = providers.Singleton(
        DeleteCallUploads,
        repository=teleconsultations,
        uploads=video.provided.uploads,
        provider_name=provider_name,
        enabled=settings.provided.delete_uploads,
    )
    upload_company_background = providers.Singleton(
        UploadCompanyBackground,
        admins=settings_admins,
        backgrounds=video.provided.backgrounds,
        provider_name=provider_name,
    )
    set_default_background = providers.Singleton(
        SetDefaultBackground,
        admins=settings_admins,
        backgrounds=video.provided.backgrounds,
        provider_name=provider_name,
    )
    get_transcription = providers.Singleton(
        GetTranscription,
        repository=teleconsultations,
        transcriptions=video.provided.transcriptions,
        provider_name=provider_name,
        recording_enabled=settings.provided.records_calls,
        max_bytes=settings.provided.transcription_max_bytes,
    )

    # `python -m entrypoints migrate` (Mongo stores only: the memory store keeps nothing from the original).
    migrate_stored_data = providers.Singleton(MigrateStoredData, migration=store.provided.migration)

    # The HTTP routes, each handed the use cases it calls.
    routes = providers.List(
        providers.Factory(
            teleconsultation_routes,
            create=idempotent_create_teleconsultation,
            update=update_teleconsultation,
            read=get_teleconsultation_access,
            cancel=delete_teleconsultation,
            requesters=requesters,
        ),
        providers.Factory(credentials_routes, issue=issue_credentials, requesters=requesters),
        providers.Factory(call_routes, delete_uploads=delete_call_uploads, read_transcription=get_transcription),
        providers.Factory(
            settings_routes,
            upload_background=upload_company_background,
            set_default_background=set_default_background,
            requesters=requesters,
        ),
        providers.Factory(probe_routes, store=store, metrics=metrics),
    )


async def resolved(provider: providers.Provider[T]) -> T:
    """The provider's object; those that depend on a resource are awaited."""
    value: Any = provider()
    return await value if isawaitable(value) else value  # type: ignore[no-any-return]


@asynccontextmanager
async def opened_resources(container: Container) -> AsyncIterator[Container]:
    """Open every resource, and close them all on the way out."""
    init = container.init_resources()
    if isawaitable(init):
        await init
    try:
        yield container
    finally:
        shutdown = container.shutdown_resources()
        if isawaitable(shutdown):
            await shutdown
        # The graph holds the resources just closed (the HTTP session, the store): a run started again must
        # build a new one, or its first provider call fails on a closed session.
        container.reset_singletons()
