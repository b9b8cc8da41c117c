"""The composition root: the one place the object graph is built, read top to bottom.

Settings and the JSON configuration come in; resources (the outbound HTTP session, the store) are opened at
start-up and closed at shutdown; then come the adapters, the domain's rules, the application's services and use
cases, and last the HTTP routes, each handed exactly the use cases it calls. The service (`python -m entrypoints`),
the `sweep` command, the benchmark, the fault run and the tests all build from this container; tests swap
adapters with its overrides (`container.store.override(...)`), never with a graph of their own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
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
from adapters.webhooks.sender import StandardWebhookSender
from application.audit import ReadAuditEvents
from application.circuit_breaker import CircuitBreaker
from application.create_teleconsultation import CreateTeleconsultation
from application.delete_teleconsultation import DeleteTeleconsultation
from application.delete_uploads import DeleteCallUploads
from application.events import Journal
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
    TeleconsultationChanges,
    UserDirectory,
    VideoProvider,
    WebhookDeliveries,
)
from application.provider_events import ReceiveProviderEvent
from application.provider_users import ProviderUsers
from application.retention import ApplyRetention
from application.room_details_cache import RoomDetailsCache
from application.rooms import RoomKeeper
from application.roster import RosterBuilder
from application.set_default_background import SetDefaultBackground
from application.teleconsultation_cache import CachedTeleconsultations
from application.update_teleconsultation import UpdateTeleconsultation
from application.upload_background import UploadCompanyBackground
from application.webhooks import WebhookDeliverer, WebhookOutbox
from domain.duration_policy import DurationPolicy
from domain.privileges import PrivilegePolicy
from domain.teleconsultation import SchedulingRules
from entrypoints.authorization import authorization_policy
from entrypoints.change_follower import ChangeFollower
from entrypoints.gateways import Store, open_http_session, open_store
from entrypoints.http.requester import RequesterReader, UserIdPathStep
from entrypoints.http.routes import (
    audit_routes,
    call_routes,
    credentials_routes,
    probe_routes,
    provider_webhook_routes,
    settings_routes,
    teleconsultation_routes,
)
from entrypoints.metrics import ServiceMetrics
from entrypoints.service_config import ServiceConfig
from entrypoints.settings import EventSettings, IdentitySettings, ReliabilitySettings, Settings
from entrypoints.sweeper import Chore, RoomSweeper
from entrypoints.webhook_pump import WebhookPump

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


def webhook_deliverer(
    events: EventSettings, deliveries: WebhookDeliveries, session: aiohttp.ClientSession, clock: Clock
) -> WebhookDeliverer | None:
    """None without WEBHOOK_URL; Settings.from_env requires WEBHOOK_SECRET with it."""
    if not events.webhook_urls or events.webhook_secret is None:
        return None
    sender = StandardWebhookSender(session, events.webhook_secret, clock, events.webhook_timeout_seconds)
    return WebhookDeliverer(
        deliveries=deliveries,
        sender=sender,
        clock=clock,
        max_attempts=events.webhook_max_attempts,
        retry_base=timedelta(seconds=events.webhook_retry_base_seconds),
    )


def provider_webhook_secret(settings: Settings) -> str | None:
    """Kaleyra signs its webhooks with the company API key; other providers send none."""
    return settings.kaleyra.api_key if settings.kaleyra is not None else None


def retention_period(events: EventSettings) -> timedelta | None:
    return None if events.retention_days is None else timedelta(days=events.retention_days)


def followed_changes(settings: Settings, store: Store) -> TeleconsultationChanges | None:
    """The store's change feed when CACHE_CHANGE_STREAM asks for it (and the store has one), else none."""
    return store.changes if settings.cache_change_stream else None


def sweep_chore(name: str, work: Callable[[], Awaitable[object]]) -> Chore:
    return (name, work)


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    service_config = providers.Dependency(instance_of=ServiceConfig)
    # Which groups make a participant plus or basic; the store needs it too, for documents the original wrote.
    privileges = providers.Singleton(ServiceConfig.privilege_policy, service_config)

    clock = providers.Singleton(SystemClock)

    # Resources, opened at start-up and closed at shutdown.
    http_session = providers.Resource(open_http_session, settings)
    # The store dates its writes by the service's clock, which the sweep compares them with.
    store = providers.Resource(
        open_store, settings.provided.store, privileges, clock, settings.provided.events.audit_retention_days
    )

    # Adapters.
    # Only Kaleyra is called over the network; Jitsi links and the memory fake are made in-process.
    circuit_breaker = providers.Singleton(
        circuit_breaker, KaleyraVideoProvider.name, settings.provided.reliability, clock
    )
    metrics = providers.Singleton(ServiceMetrics, circuit_breaker=circuit_breaker)
    video = providers.Singleton(video_ports, settings, http_session, circuit_breaker, metrics)
    # Every use case shares this one instance, so a deletion evicts what the polling read cached; through the
    # store's shared record, every worker and instance asks the provider once per period between them.
    rooms_at_provider = providers.Singleton(
        RoomDetailsCache,
        provider=video.provided.rooms,
        clock=clock,
        ttl=settings.provided.room_details_cache,
        shared=store.provided.room_details,
        claim_for=providers.Factory(timedelta, seconds=settings.provided.provider_timeout_seconds),
        on_store_failure=metrics.provided.room_details_store_fallback,
    )
    # Every use case shares this one instance, so this instance's writes are seen by its next read at once.
    teleconsultations = providers.Singleton(
        CachedTeleconsultations,
        repository=store.provided.teleconsultations,
        clock=clock,
        ttl=settings.provided.room_details_cache,
        max_entries=settings.provided.teleconsultation_cache_size,
    )
    # Other instances' writes leave that cache as soon as the store tells of them (change streams), which the
    # memory store, alone in its process, has no need of (None).
    change_follower = providers.Singleton(
        ChangeFollower,
        changes=providers.Callable(followed_changes, settings, store),
        cache=teleconsultations,
        ttl=settings.provided.room_details_cache,
        observer=metrics,
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
    room_lease = providers.Factory(timedelta, seconds=settings.provided.reliability.room_lease_seconds)
    rooms = providers.Singleton(
        RoomKeeper,
        provider=rooms_at_provider,
        cleanups=store.provided.cleanups,
        intents=store.provided.intents,
        deletions=store.provided.room_deletions,
        teleconsultations=store.provided.teleconsultations,
        privileges=privileges,
        rules=scheduling_rules,
        clock=clock,
        lease=room_lease,
        intent_lease=room_lease,
        on_outcome_unknown=metrics.provided.room_intent_unknown,
    )
    # The event log: events stored with their changes (the outbox) and relayed into it; each new event is queued
    # for the outbound webhooks, which the pump delivers beside the sweeper.
    webhook_outbox = providers.Singleton(
        WebhookOutbox, deliveries=store.provided.deliveries, targets=settings.provided.events.webhook_urls
    )
    journal = providers.Singleton(
        Journal,
        clock=clock,
        log=store.provided.events,
        outbox=store.provided.outbox,
        on_logged=providers.List(webhook_outbox),
    )
    webhook_pump = providers.Singleton(
        WebhookPump,
        deliverer=providers.Singleton(
            webhook_deliverer, settings.provided.events, store.provided.deliveries, http_session, clock
        ),
        outbox=webhook_outbox,
        poll_seconds=settings.provided.events.webhook_poll_seconds,
        on_counted=metrics.provided.webhook_deliveries,
    )
    identities = providers.Singleton(participant_identities, privileges, directory, custom_ids)
    provider_users = providers.Singleton(
        ProviderUsers, user_ids=store.provided.user_ids, provider=rooms_at_provider, clock=clock
    )
    roster = providers.Singleton(RosterBuilder, identities=identities, provider_users=provider_users)
    # Who may do what: every use case below that acts for a requester asks this one policy.
    authorization = providers.Singleton(authorization_policy, settings.provided.identity, service_config)

    # Use cases.
    create_teleconsultation = providers.Singleton(
        CreateTeleconsultation,
        repository=teleconsultations,
        roster=roster,
        rooms=rooms,
        rules=scheduling_rules,
        policy=authorization,
        journal=journal,
    )
    idempotent_create_teleconsultation = providers.Singleton(
        IdempotentCreateTeleconsultation,
        create=create_teleconsultation,
        records=store.provided.idempotency,
        clock=clock,
        ttl=providers.Factory(timedelta, seconds=settings.provided.reliability.idempotency_key_ttl_seconds),
        policy=authorization,
    )
    update_teleconsultation = providers.Singleton(
        UpdateTeleconsultation,
        repository=teleconsultations,
        roster=roster,
        rooms=rooms,
        rules=scheduling_rules,
        clock=clock,
        policy=authorization,
        journal=journal,
    )
    get_teleconsultation_access = providers.Singleton(
        GetTeleconsultationAccess,
        repository=teleconsultations,
        provider=rooms_at_provider,
        links=video.provided.links,
        clock=clock,
        rules=scheduling_rules,
        policy=authorization,
        background_groups=service_config.provided.background_groups.call(),
        journal=journal,
    )
    delete_teleconsultation = providers.Singleton(
        DeleteTeleconsultation,
        repository=teleconsultations,
        rooms=rooms,
        policy=authorization,
        journal=journal,
    )
    issue_credentials = providers.Singleton(
        IssueCredentials,
        directory=directory,
        privileges=privileges,
        user_ids=store.provided.user_ids,
        provider_users=provider_users,
        issuer=video.provided.sdk_credentials,
        provider_name=provider_name,
        policy=authorization,
        journal=journal,
    )
    delete_call_uploads = providers.Singleton(
        DeleteCallUploads,
        repository=teleconsultations,
        uploads=video.provided.uploads,
        provider_name=provider_name,
        enabled=settings.provided.delete_uploads,
        policy=authorization,
        journal=journal,
    )
    upload_company_background = providers.Singleton(
        UploadCompanyBackground,
        policy=authorization,
        backgrounds=video.provided.backgrounds,
        provider_name=provider_name,
        journal=journal,
    )
    set_default_background = providers.Singleton(
        SetDefaultBackground,
        policy=authorization,
        backgrounds=video.provided.backgrounds,
        provider_name=provider_name,
        journal=journal,
    )
    get_transcription = providers.Singleton(
        GetTranscription,
        repository=teleconsultations,
        transcriptions=video.provided.transcriptions,
        provider_name=provider_name,
        recording_enabled=settings.provided.records_calls,
        max_bytes=settings.provided.transcription_max_bytes,
        policy=authorization,
    )

    # GET /audit/events: the policy's READ_AUDIT rule (auditorGroups) says who may.
    read_audit_events = providers.Singleton(ReadAuditEvents, policy=authorization, log=store.provided.events)

    # POST /webhooks/kaleyra.
    receive_provider_event = providers.Singleton(
        ReceiveProviderEvent, journal=journal, rooms=store.provided.rooms, delete_uploads=delete_call_uploads
    )

    # RETENTION_DAYS, applied by every sweep.
    apply_retention = providers.Singleton(
        ApplyRetention,
        store=store.provided.retention,
        uploads=video.provided.uploads,
        journal=journal,
        clock=clock,
        retention=providers.Callable(retention_period, settings.provided.events),
    )

    # The background sweeps: queued room deletions, then the outbox relay and retention.
    room_sweeper = providers.Singleton(
        RoomSweeper,
        rooms=rooms,
        interval_seconds=settings.provided.reliability.sweep_interval_seconds,
        on_swept=metrics.provided.pending_cleanups,
        chores=providers.List(
            providers.Callable(sweep_chore, "relaying the event outbox", journal.provided.relay),
            providers.Callable(sweep_chore, "applying retention", apply_retention.provided.execute),
        ),
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
        providers.Factory(
            call_routes,
            delete_uploads=delete_call_uploads,
            read_transcription=get_transcription,
            requesters=requesters,
        ),
        providers.Factory(
            settings_routes,
            upload_background=upload_company_background,
            set_default_background=set_default_background,
            requesters=requesters,
        ),
        providers.Factory(probe_routes, store=store, metrics=metrics),
        providers.Factory(audit_routes, read=read_audit_events, requesters=requesters),
        providers.Factory(
            provider_webhook_routes,
            receive=receive_provider_event,
            secret=providers.Callable(provider_webhook_secret, settings),
        ),
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
