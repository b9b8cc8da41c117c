"""Opening and closing the MongoDB store: one client, beanie initialised on per-store document classes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pymongo
from beanie import init_beanie
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConfigurationError, PyMongoError, ServerSelectionTimeoutError

from adapters.mongo.cleanups import MongoPendingRoomCleanups
from adapters.mongo.documents import BoundDocuments, bind_documents
from adapters.mongo.errors import translate_store_errors
from adapters.mongo.events import (
    DEFAULT_EVENTS_COLLECTION,
    EventDocument,
    MongoEventLog,
    MongoEventOutbox,
    MongoRoomIndex,
    bind_event_documents,
)
from adapters.mongo.idempotency import MongoIdempotencyRecords
from adapters.mongo.migration import MongoLegacyMigration
from adapters.mongo.repository import NO_PRIVILEGES, MongoTeleconsultationRepository
from adapters.mongo.retention import MongoRetention
from adapters.mongo.user_id_index import index_at_start_up
from adapters.mongo.user_ids import MongoUserIdMap
from adapters.mongo.webhooks import (
    DEFAULT_DELIVERIES_COLLECTION,
    DeliveryDocument,
    MongoWebhookDeliveries,
    bind_delivery_documents,
)
from application.errors import StoreUnavailable
from application.ports import Clock
from domain.privileges import PrivilegePolicy

DEFAULT_CLEANUPS_COLLECTION = "teleconsultations_pending_room_cleanups"
DEFAULT_IDEMPOTENCY_COLLECTION = "teleconsultations_idempotency_keys"


@dataclass(frozen=True, slots=True)
class MongoTimeouts:
    """Explicit bounds: the driver's defaults (30 s server selection, no socket timeout) would hang requests."""

    server_selection_ms: int = 5_000
    connect_ms: int = 3_000
    socket_ms: int = 10_000
    ping_seconds: float = 2.0


class MongoStore:
    """The persistence ports backed by one MongoDB database."""

    def __init__(
        self,
        database: AsyncDatabase[Any],
        documents: BoundDocuments,
        clock: Clock,
        ping_seconds: float,
        *,
        privileges: PrivilegePolicy = NO_PRIVILEGES,
        events: type[EventDocument] | None = None,
        deliveries: type[DeliveryDocument] | None = None,
    ):
        self.teleconsultations = MongoTeleconsultationRepository(documents.teleconsultations, clock, privileges)
        # What `python -m entrypoints migrate` runs: the original's documents upgraded in place.
        self.migration = MongoLegacyMigration(documents, clock, privileges)
        self.user_ids = MongoUserIdMap(documents.user_ids, clock)
        self.cleanups = MongoPendingRoomCleanups(documents.cleanups, clock)
        self.idempotency = MongoIdempotencyRecords(documents.idempotency)
        assert events is not None  # always bound by open_mongo_store
        self.events = MongoEventLog(events)
        self.outbox = MongoEventOutbox(documents.teleconsultations)
        self.rooms = MongoRoomIndex(documents.teleconsultations)
        self.retention = MongoRetention(documents.teleconsultations, clock)
        assert deliveries is not None  # always bound by open_mongo_store
        self.deliveries = MongoWebhookDeliveries(deliveries, clock)
        self._database = database
        self._ping_seconds = ping_seconds

    async def ping(self) -> bool:
        """Whether the server answers within the ping timeout; never raises (readiness probe)."""
        try:
            with pymongo.timeout(self._ping_seconds):
                await self._database.command("ping")
        except PyMongoError:
            return False
        return True


@asynccontextmanager
async def open_mongo_store(
    url: str,
    database: str,
    teleconsultations_collection: str,
    user_map_collection: str,
    *,
    cleanups_collection: str = DEFAULT_CLEANUPS_COLLECTION,
    idempotency_collection: str = DEFAULT_IDEMPOTENCY_COLLECTION,
    clock: Clock | None = None,
    timeouts: MongoTimeouts = MongoTimeouts(),
    privileges: PrivilegePolicy = NO_PRIVILEGES,
    events_collection: str = DEFAULT_EVENTS_COLLECTION,
    audit_retention: timedelta | None = None,
    deliveries_collection: str = DEFAULT_DELIVERIES_COLLECTION,
) -> AsyncIterator[MongoStore]:
    """Connect, create the indexes, and close the client on exit; raises StoreUnavailable if unreachable.

    `privileges` gives a participant the original stored without one its privilege (from its groups).
    """
    try:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            url,
            tz_aware=True,
            tzinfo=UTC,
            appname="teleconsultation-service",
            serverSelectionTimeoutMS=timeouts.server_selection_ms,
            connectTimeoutMS=timeouts.connect_ms,
            socketTimeoutMS=timeouts.socket_ms,
        )
    except ConfigurationError as error:
        # The driver's message may quote the URL, credentials included.
        raise StoreUnavailable(f"the MongoDB connection settings are not valid ({type(error).__name__})") from None
    try:
        documents = bind_documents(
            teleconsultations_collection, user_map_collection, cleanups_collection, idempotency_collection
        )
        with translate_store_errors():
            try:
                events = bind_event_documents(events_collection)
                deliveries = bind_delivery_documents(deliveries_collection)
                await init_beanie(database=client[database], document_models=[*documents, events, deliveries])
            except ServerSelectionTimeoutError as error:
                seconds = timeouts.server_selection_ms / 1000
                raise StoreUnavailable(f"MongoDB at {hosts_of(url)} did not answer within {seconds:g} s") from error
        await index_at_start_up(documents.user_ids.get_pymongo_collection())
        store = MongoStore(
            client[database],
            documents,
            clock or _UtcClock(),
            timeouts.ping_seconds,
            privileges=privileges,
            events=events,
            deliveries=deliveries,
        )
        await store.outbox.ensure_index()
        await store.retention.ensure_index()
        await store.events.keep_for(audit_retention)
        yield store
    finally:
        await client.close()


def hosts_of(url: str) -> str:
    """The hosts a MongoDB URL names ("db1:27017,db2:27017"), without its user, password, database or options.

    Split as the driver splits it, which has accepted the URL, so its user info is escaped (no bare "@" or "/").
    """
    _, _, rest = url.partition("://")
    authority = rest.split("/", 1)[0].split("?", 1)[0]
    return authority.rpartition("@")[2] or "(no host)"


class _UtcClock(Clock):
    # Kept local rather than borrowed from adapters.memory: adapters do not depend on each other.
    def now(self) -> datetime:
        return datetime.now(UTC)
