"""The store and the outbound HTTP session: resources opened when the service starts and closed when it stops."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

import aiohttp

from adapters.memory.store import InMemoryStore
from application.ports import (
    Clock,
    EventLog,
    EventOutbox,
    IdempotencyRecords,
    PendingRoomCleanups,
    RecordedRoomDeletions,
    RetentionStore,
    RoomIndex,
    RoomIntents,
    SharedRoomDetails,
    TeleconsultationChanges,
    TeleconsultationRepository,
    UserIdMap,
    WebhookDeliveries,
)
from domain.privileges import PrivilegePolicy
from entrypoints.settings import Settings, StoreSettings

if TYPE_CHECKING:
    from adapters.mongo.lifecycle import ServerWatch


class Store(Protocol):
    @property
    def teleconsultations(self) -> TeleconsultationRepository: ...

    @property
    def user_ids(self) -> UserIdMap: ...

    @property
    def cleanups(self) -> PendingRoomCleanups: ...

    @property
    def idempotency(self) -> IdempotencyRecords: ...

    @property
    def intents(self) -> RoomIntents: ...

    @property
    def room_deletions(self) -> RecordedRoomDeletions: ...

    @property
    def events(self) -> EventLog: ...

    @property
    def outbox(self) -> EventOutbox: ...

    @property
    def deliveries(self) -> WebhookDeliveries: ...

    @property
    def rooms(self) -> RoomIndex: ...

    @property
    def retention(self) -> RetentionStore: ...

    @property
    def room_details(self) -> SharedRoomDetails: ...

    @property
    def changes(self) -> TeleconsultationChanges | None:
        """Every instance's writes to teleconsultations, where the store can tell of them."""
        ...

    async def ping(self) -> bool: ...

    def recoverable(self) -> bool: ...


@asynccontextmanager
async def _mongo_store(
    settings: StoreSettings,
    url: str,
    privileges: PrivilegePolicy | None,
    clock: Clock | None,
    *,
    watch: ServerWatch | None = None,
    audit_retention: timedelta | None = None,
) -> AsyncIterator[Store]:
    # Imported here: beanie and pymongo take a third of the start-up time, which the memory store can skip.
    from adapters.mongo.lifecycle import open_mongo_store
    from adapters.mongo.repository import NO_PRIVILEGES

    async with open_mongo_store(
        url,
        settings.database,
        settings.teleconsultations_collection,
        settings.user_map_collection,
        privileges=privileges or NO_PRIVILEGES,
        write_concern=settings.write_concern,
        watch=watch,
        clock=clock,
        audit_retention=audit_retention,
    ) as store:
        yield store


async def open_store(
    settings: StoreSettings,
    privileges: PrivilegePolicy | None = None,
    clock: Clock | None = None,
    audit_retention_days: int | None = None,
) -> AsyncIterator[Store]:
    """The memory store, MongoDB at MONGODB_URL, or the embedded wire-compatible server as a child process.

    `privileges` derives the privilege of participants the original service stored without one; `clock` dates the
    writes (the system's UTC clock when None); `audit_retention_days` (AUDIT_RETENTION_DAYS) is how long MongoDB
    keeps events (a TTL index).
    """
    audit_retention = None if audit_retention_days is None else timedelta(days=audit_retention_days)
    if settings.backend == "memory":
        yield InMemoryStore(clock)
    elif settings.mongodb_url:
        async with _mongo_store(
            settings, settings.mongodb_url, privileges, clock, audit_retention=audit_retention
        ) as store:
            yield store
    else:
        from adapters.mongo.supervisor import RestartPolicy, SupervisedEmbeddedServer

        async with (
            SupervisedEmbeddedServer(
                settings.embedded_data_dir,
                RestartPolicy(settings.embedded_max_restarts, settings.embedded_restart_window_seconds),
                sync_on_commit=settings.write_concern != "acknowledged",
            ) as server,
            _mongo_store(
                settings, server.url, privileges, clock, watch=server, audit_retention=audit_retention
            ) as store,
        ):
            yield store


async def open_http_session(settings: Settings) -> AsyncIterator[aiohttp.ClientSession]:
    """One pooled session for every outbound call; each adapter sets its own per-request timeouts."""
    timeout = aiohttp.ClientTimeout(total=settings.provider_timeout_seconds * 4)
    async with aiohttp.ClientSession(timeout=timeout, raise_for_status=False) as session:
        yield session
