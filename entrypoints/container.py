"""The composition root: the only place that knows which adapter implements which port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from inspect import isawaitable
from typing import Any

import aiohttp
from dependency_injector import containers, providers

from adapters.identity import Auth0ClientDirectory, CrudCustomIdResolver, CustomIdSettings, JwksTokenVerifier
from adapters.jitsi.provider import JitsiVideoProvider
from adapters.jitsi.unsupported import JitsiUnsupportedFeatures
from adapters.kaleyra.client import KaleyraVideoProvider
from adapters.memory.call_features import InMemoryCallFeatures
from adapters.memory.clock import SystemClock
from adapters.memory.video_provider import InMemoryVideoProvider
from application.circuit_breaker import CircuitBreaker
from application.company_settings import SetDefaultBackground, SettingsAdmins, UploadCompanyBackground
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
    Clock,
    CustomIdResolver,
    UserDirectory,
)
from application.provider_users import ProviderUsers
from application.room_details_cache import RoomDetailsCache
from application.rooms import RoomKeeper
from application.roster import RosterBuilder
from application.update_teleconsultation import UpdateTeleconsultation
from domain.duration_policy import DurationPolicy
from domain.privileges import PrivilegePolicy
from entrypoints.gateways import Store, open_http_session, open_store
from entrypoints.http.requester import PathStep, RequesterReader
from entrypoints.metrics import ServiceMetrics
from entrypoints.service_config import ServiceConfig
from entrypoints.settings import IdentitySettings, ReliabilitySettings, Settings
from entrypoints.sweeper import RoomSweeper


def build_circuit_breaker(provider: str, settings: ReliabilitySettings, clock: Clock) -> CircuitBreaker:
    return CircuitBreaker(
        provider,
        clock=clock,
        failure_threshold=settings.circuit_failure_threshold,
        reset_after=timedelta(seconds=settings.circuit_reset_seconds),
    )


def build_directory(identity: IdentitySettings, session: aiohttp.ClientSession) -> UserDirectory | None:
    return None if identity.auth_service is None else Auth0ClientDirectory(session, identity.auth_service)


def build_custom_ids(
    identity: IdentitySettings, config: ServiceConfig, session: aiohttp.ClientSession
) -> CustomIdResolver | None:
    if identity.custom_id_endpoint is None:
        return None
    settings = CustomIdSettings(
        endpoint=identity.custom_id_endpoint, source=config.customUserId.source, target=config.customUserId.target
    )
    return CrudCustomIdResolver(session, settings)


def build_identities(
    privileges: PrivilegePolicy, directory: UserDirectory | None, custom_ids: CustomIdResolver | None
) -> ParticipantIdentities:
    if directory is None:
        return StandaloneIdentities(privileges)
    return DirectoryIdentities(privileges, directory, custom_ids)


def build_requester_reader(
    identity: IdentitySettings, config: ServiceConfig, session: aiohttp.ClientSession
) -> RequesterReader:
    verifier = None if identity.jwt is None else JwksTokenVerifier(session, identity.jwt)
    path = None
    if config.userIdPathInRequest is not None:
        path = [PathStep(step.from_, step.extract) for step in config.userIdPathInRequest]
    return RequesterReader(
        headers=identity.headers,
        user_id_path=path,
        verifier=verifier,
        forwarded=identity.additional_headers_to_proxy,
    )


def links_bound_to_schedule(settings: Settings) -> bool:
    """Signed Jitsi links carry the appointment's window (`nbf`, `exp`); Kaleyra's and the fake's do not."""
    return settings.video_provider == "jitsi" and settings.jitsi.app_secret is not None


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    service_config = providers.Dependency(instance_of=ServiceConfig)

    # Gateways: resources opened at start-up and closed at shutdown.
    http_session = providers.Resource(open_http_session, settings)
    store = providers.Resource(open_store, settings.provided.store, service_config.provided.privilege_policy.call())

    # Adapters.
    clock = providers.Singleton(SystemClock)
    # Only Kaleyra is called over the network; Jitsi links and the memory fake are made in-process.
    circuit_breaker = providers.Singleton(
        build_circuit_breaker, KaleyraVideoProvider.name, settings.provided.reliability, clock
    )
    metrics = providers.Singleton(ServiceMetrics, circuit_breaker=circuit_breaker)
    provider_backend = providers.Selector(
        settings.provided.video_provider,
        kaleyra=providers.Singleton(
            KaleyraVideoProvider,
            session=http_session,
            settings=settings.provided.kaleyra,
            breaker=circuit_breaker,
            observer=metrics,
        ),
        jitsi=providers.Singleton(JitsiVideoProvider, settings=settings.provided.jitsi),
        memory=providers.Singleton(InMemoryVideoProvider),
    )
    # Every use case shares this one instance, so a deletion evicts what the polling reads cached.
    video_provider = providers.Singleton(
        RoomDetailsCache, provider=provider_backend, clock=clock, ttl=settings.provided.room_details_cache
    )

    # Ports of optional features: Jitsi's stand-in refuses every call with ProviderUnsupported.
    jitsi_unsupported = providers.Singleton(JitsiUnsupportedFeatures)
    sdk_credentials = providers.Selector(
        settings.provided.video_provider,
        kaleyra=provider_backend,
        memory=provider_backend,
        jitsi=jitsi_unsupported,
    )
    call_features = providers.Selector(
        settings.provided.video_provider,
        kaleyra=provider_backend,
        memory=providers.Singleton(InMemoryCallFeatures),
        jitsi=jitsi_unsupported,
    )
    directory = providers.Singleton(build_directory, settings.provided.identity, http_session)
    custom_ids = providers.Singleton(build_custom_ids, settings.provided.identity, service_config, http_session)

    # Domain policies.
    privileges = providers.Singleton(lambda config: config.privilege_policy(), service_config)
    durations = providers.Singleton(DurationPolicy, unlimited=settings.provided.unlimited_teleconsultation)

    # Application services and use cases: built once, shared by every request.
    rooms = providers.Singleton(
        RoomKeeper,
        provider=video_provider,
        cleanups=store.provided.cleanups,
        privileges=privileges,
        durations=durations,
        immutable_period=settings.provided.immutable_period,
        clock=clock,
    )
    room_sweeper = providers.Singleton(
        RoomSweeper,
        rooms=rooms,
        interval_seconds=settings.provided.reliability.sweep_interval_seconds,
        on_swept=metrics.provided.pending_cleanups,
    )
    identities = providers.Singleton(build_identities, privileges, directory, custom_ids)
    provider_users = providers.Singleton(
        ProviderUsers, user_ids=store.provided.user_ids, provider=video_provider, clock=clock
    )
    roster = providers.Singleton(RosterBuilder, identities=identities, provider_users=provider_users)
    create_teleconsultation = providers.Singleton(
        CreateTeleconsultation,
        repository=store.provided.teleconsultations,
        roster=roster,
        rooms=rooms,
        durations=durations,
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
        repository=store.provided.teleconsultations,
        roster=roster,
        rooms=rooms,
        durations=durations,
        clock=clock,
        immutable_period=settings.provided.immutable_period,
        links_bound_to_schedule=providers.Callable(links_bound_to_schedule, settings),
    )
    get_teleconsultation_access = providers.Singleton(
        GetTeleconsultationAccess,
        repository=store.provided.teleconsultations,
        provider=video_provider,
        links=provider_backend,
        clock=clock,
        immutable_period=settings.provided.immutable_period,
        background_groups=service_config.provided.background_groups.call(),
    )
    delete_teleconsultation = providers.Singleton(
        DeleteTeleconsultation, repository=store.provided.teleconsultations, rooms=rooms
    )
    issue_credentials = providers.Singleton(
        IssueCredentials,
        directory=directory,
        privileges=privileges,
        user_ids=store.provided.user_ids,
        provider_users=provider_users,
        issuer=sdk_credentials,
    )
    requester_reader = providers.Singleton(
        build_requester_reader, settings.provided.identity, service_config, http_session
    )
    delete_call_uploads = providers.Singleton(
        DeleteCallUploads,
        repository=store.provided.teleconsultations,
        provider=video_provider,
        uploads=call_features,
        enabled=settings.provided.delete_uploads,
    )
    settings_admins = providers.Singleton(SettingsAdmins, service_config.provided.settings_admin_groups.call())
    upload_company_background = providers.Singleton(
        UploadCompanyBackground, admins=settings_admins, provider=video_provider, backgrounds=call_features
    )
    set_default_background = providers.Singleton(
        SetDefaultBackground, admins=settings_admins, provider=video_provider, backgrounds=call_features
    )
    # `python -m entrypoints migrate` (Mongo stores only: the memory store keeps nothing from the original).
    migrate_stored_data = providers.Singleton(MigrateStoredData, migration=store.provided.migration)
    get_transcription = providers.Singleton(
        GetTranscription,
        repository=store.provided.teleconsultations,
        provider=video_provider,
        transcriptions=call_features,
        recording_enabled=settings.provided.records_calls,
        max_bytes=settings.provided.transcription_max_bytes,
    )


@dataclass(frozen=True, slots=True)
class Services:
    """Everything the HTTP handlers use, resolved once when the app starts."""

    idempotent_create_teleconsultation: IdempotentCreateTeleconsultation
    update_teleconsultation: UpdateTeleconsultation
    get_teleconsultation_access: GetTeleconsultationAccess
    delete_teleconsultation: DeleteTeleconsultation
    issue_credentials: IssueCredentials
    requester_reader: RequesterReader
    delete_call_uploads: DeleteCallUploads
    upload_company_background: UploadCompanyBackground
    set_default_background: SetDefaultBackground
    get_transcription: GetTranscription
    room_sweeper: RoomSweeper
    store: Store


async def _resolve(provider: Any) -> Any:
    # Providers that depend on an async Resource return awaitables.
    value = provider()
    return await value if isawaitable(value) else value


@asynccontextmanager
async def running_services(container: Container) -> AsyncIterator[Services]:
    """Open every resource, resolve the object graph, and close everything on the way out."""
    init = container.init_resources()
    if isawaitable(init):
        await init
    try:
        yield Services(
            idempotent_create_teleconsultation=await _resolve(container.idempotent_create_teleconsultation),
            update_teleconsultation=await _resolve(container.update_teleconsultation),
            get_teleconsultation_access=await _resolve(container.get_teleconsultation_access),
            delete_teleconsultation=await _resolve(container.delete_teleconsultation),
            issue_credentials=await _resolve(container.issue_credentials),
            requester_reader=await _resolve(container.requester_reader),
            delete_call_uploads=await _resolve(container.delete_call_uploads),
            upload_company_background=await _resolve(container.upload_company_background),
            set_default_background=await _resolve(container.set_default_background),
            get_transcription=await _resolve(container.get_transcription),
            room_sweeper=await _resolve(container.room_sweeper),
            store=await _resolve(container.store),
        )
    finally:
        shutdown = container.shutdown_resources()
        if isawaitable(shutdown):
            await shutdown
        # The graph holds the resources just closed (the HTTP session, the store): an app started again
        # must build a new one, or its first provider call fails on a closed session.
        container.reset_singletons()
