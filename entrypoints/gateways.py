"""The store and the outbound HTTP session: resources opened when the service starts and closed when it stops."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Protocol

import aiohttp

from adapters.memory.store import InMemoryStore
from application.ports import (
    EventLog,
    EventOutbox,
    IdempotencyRecords,
    PendingRoomCleanups,
    RetentionStore,
    RoomIndex,
    TeleconsultationRepository,
    UserIdMap,
    WebhookDeliveries,
)
from domain.privileges import PrivilegePolicy
from entrypoints.settings import Settings, StoreSettings


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
    def events(self) -> EventLog: ...

    @property
    def outbox(self) -> EventOutbox: ...

    @property
    def deliveries(self) -> WebhookDeliveries: ...

    @property
    def rooms(self) -> RoomIndex: ...

    @property
    def retention(self) -> RetentionStore: ...

    async def ping(self) -> bool: ...


@asynccontextmanager
async def _mongo_store(
    settings: StoreSettings, url: str, privileges: PrivilegePolicy | None, audit_retention: timedelta | None = None
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
        audit_retention=audit_retention,
    ) as store:
        yield store


async def open_store(
    settings: StoreSettings, privileges: PrivilegePolicy | None = None, audit_retention_days: int | None = None
) -> AsyncIterator[Store]:
    """The memory store, MongoDB at MONGODB_URL, or the embedded wire-compatible server as a child process.

    `privileges` derives the privilege of participants the original service stored without one;
    `audit_retention_days` (AUDIT_RETENTION_DAYS) is how long MongoDB keeps events (a TTL index).
    """
    audit_retention = None if audit_retention_days is None else timedelta(days=audit_retention_days)
    if settings.backend == "memory":
        yield InMemoryStore()
    elif settings.mongodb_url:
        async with _mongo_store(settings, settings.mongodb_url, privileges, audit_retention) as store:
            yield store
    else:
        from adapters.mongo.embedded import EmbeddedMongoServer

        async with (
            EmbeddedMongoServer(settings.embedded_data_dir) as server,
            _mongo_store(settings, server.url, privileges, audit_retention) as store,
        ):
            yield store


async def open_http_session(settings: Settings) -> AsyncIterator[aiohttp.ClientSession]:
    """One pooled session for every outbound call; each adapter sets its own per-request timeouts."""
    timeout = aiohttp.ClientTimeout(total=settings.provider_timeout_seconds * 4)
    async with aiohttp.ClientSession(timeout=timeout, raise_for_status=False) as session:
        yield session
