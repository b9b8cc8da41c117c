"""The composition root: the only place that knows which adapter implements which port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from inspect import isawaitable
from typing import Any, Protocol

import aiohttp
from dependency_injector import containers, providers

from adapters.identity import Auth0ClientDirectory, CrudCustomIdResolver, CustomIdSettings, JwksTokenVerifier
from adapters.jitsi.provider import JitsiVideoProvider
from adapters.jitsi.unsupported import JitsiUnsupportedFeatures
from adapters.kaleyra.client import KaleyraVideoProvider
from adapters.memory.clock import SystemClock
from adapters.memory.store import InMemoryStore
from adapters.memory.video_provider import InMemoryVideoProvider
from adapters.mongo.embedded import EmbeddedMongoServer
from adapters.mongo.lifecycle import open_mongo_store
from application.create_teleconsultation import CreateTeleconsultation
from application.delete_teleconsultation import DeleteTeleconsultation
from application.get_teleconsultation import GetTeleconsultationAccess
from application.identities import DirectoryIdentities, ParticipantIdentities, StandaloneIdentities
from application.issue_credentials import IssueCredentials
from application.ports import (
    CustomIdResolver,
    PendingRoomCleanups,
    TeleconsultationRepository,
    UserDirectory,
    UserIdMap,
)
from application.provider_users import ProviderUsers
from application.rooms import RoomKeeper
from application.roster import RosterBuilder
from application.update_teleconsultation import UpdateTeleconsultation
from domain.duration_policy import DurationPolicy
from domain.privileges import PrivilegePolicy
from entrypoints.http.requester import PathStep, RequesterReader
from entrypoints.service_config import ServiceConfig
from entrypoints.settings import IdentitySettings, Settings, StoreSettings


class Store(Protocol):
    @property
    def teleconsultations(self) -> TeleconsultationRepository: ...

    @property
    def user_ids(self) -> UserIdMap: ...

    @property
    def cleanups(self) -> PendingRoomCleanups: ...

    async def ping(self) -> bool: ...


@asynccontextmanager
async def _mongo_store(settings: StoreSettings, url: str) -> AsyncIterator[Store]:
    async with open_mongo_store(
        url, settings.database, settings.teleconsultations_collection, settings.user_map_collection
    ) as store:
        yield store


async def open_store(settings: StoreSettings) -> AsyncIterator[Store]:
    """The memory store, MongoDB at MONGODB_URL, or the embedded wire-compatible server as a child process."""
    if settings.backend == "memory":
        yield InMemoryStore()
    elif settings.mongodb_url:
        async with _mongo_store(settings, settings.mongodb_url) as store:
            yield store
    else:
        async with (
            EmbeddedMongoServer(settings.embedded_data_dir) as server,
            _mongo_store(settings, server.url) as store,
        ):
            yield store


async def open_http_session(settings: Settings) -> AsyncIterator[aiohttp.ClientSession]:
    """One pooled session for every outbound call; each adapter sets its own per-request timeouts."""
    timeout = aiohttp.ClientTimeout(total=settings.provider_timeout_seconds * 4)
    async with aiohttp.ClientSession(timeout=timeout, raise_for_status=False) as session:
        yield session


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
    store = providers.Resource(open_store, settings.provided.store)

    # Adapters.
    clock = providers.Singleton(SystemClock)
    video_provider = providers.Selector(
        settings.provided.video_provider,
        kaleyra=providers.Singleton(KaleyraVideoProvider, session=http_session, settings=settings.provided.kaleyra),
        jitsi=providers.Singleton(JitsiVideoProvider, settings=settings.provided.jitsi),
        memory=providers.Singleton(InMemoryVideoProvider),
    )

    sdk_credentials = providers.Selector(
        settings.provided.video_provider,
        kaleyra=video_provider,
        memory=video_provider,
        jitsi=providers.Singleton(JitsiUnsupportedFeatures),
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
    )
    identities = providers.Singleton(build_identities, privileges, directory, custom_ids)
    provider_users = providers.Singleton(ProviderUsers, user_ids=store.provided.user_ids, provider=video_provider)
    roster = providers.Singleton(RosterBuilder, identities=identities, provider_users=provider_users)
    create_teleconsultation = providers.Singleton(
        CreateTeleconsultation,
        repository=store.provided.teleconsultations,
        roster=roster,
        rooms=rooms,
        durations=durations,
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
        clock=clock,
        immutable_period=settings.provided.immutable_period,
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


@dataclass(frozen=True, slots=True)
class Services:
    """Everything the HTTP handlers use, resolved once when the app starts."""

    create_teleconsultation: CreateTeleconsultation
    update_teleconsultation: UpdateTeleconsultation
    get_teleconsultation_access: GetTeleconsultationAccess
    delete_teleconsultation: DeleteTeleconsultation
    issue_credentials: IssueCredentials
    requester_reader: RequesterReader
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
            create_teleconsultation=await _resolve(container.create_teleconsultation),
            update_teleconsultation=await _resolve(container.update_teleconsultation),
            get_teleconsultation_access=await _resolve(container.get_teleconsultation_access),
            delete_teleconsultation=await _resolve(container.delete_teleconsultation),
            issue_credentials=await _resolve(container.issue_credentials),
            requester_reader=await _resolve(container.requester_reader),
            store=await _resolve(container.store),
        )
    finally:
        shutdown = container.shutdown_resources()
        if isawaitable(shutdown):
            await shutdown
        # The graph holds the resources just closed (the HTTP session, the store): an app started again
        # must build a new one, or its first provider call fails on a closed session.
        container.reset_singletons()
