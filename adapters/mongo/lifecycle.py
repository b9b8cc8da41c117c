"""Opening and closing the MongoDB store: one client, beanie initialised on per-store document classes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import pymongo
from beanie import init_beanie
from pymongo import AsyncMongoClient, WriteConcern
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConfigurationError, PyMongoError, ServerSelectionTimeoutError

from adapters.mongo.changes import MongoTeleconsultationChanges
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
from adapters.mongo.room_deletions import MongoRecordedRoomDeletions
from adapters.mongo.room_details import MongoSharedRoomDetails
from adapters.mongo.room_intents import MongoRoomIntents
from adapters.mongo.user_id_index import index_at_start_up
from adapters.mongo.user_ids import MongoUserIdMap
from adapters.mongo.webhooks import (
    DEFAULT_DELIVERIES_COLLECTION,
    DeliveryDocument,
    MongoWebhookDeliveries,
    bind_delivery_documents,
)
from adapters.mongo.write_concern import MAJORITY, resolve_write_concern
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
    # Closing ends the server sessions, which waits for a server: bounded, since the store may be down by then.
    close_seconds: float = 1.0


class ServerWatch(Protocol):
    """What the owner of the server process knows about it (the embedded store's supervisor)."""

    @property
    def serving(self) -> bool:
        """The server process is up (a restarted one too)."""
        ...

    @property
    def recoverable(self) -> bool:
        """False once the server is down for good: nothing will start it again."""
        ...


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
        watch: ServerWatch | None = None,
        events: type[EventDocument] | None = None,
        deliveries: type[DeliveryDocument] | None = None,
        unique_user_index: bool = False,
    ):
        self.teleconsultations = MongoTeleconsultationRepository(documents.teleconsultations, clock, privileges)
        # Every instance's writes to them, where the server offers change streams (a replica set, mongos).
        self.changes = MongoTeleconsultationChanges(documents.teleconsultations.get_pymongo_collection())
        # What `python -m entrypoints migrate` runs: the original's documents upgraded in place.
        self.migration = MongoLegacyMigration(documents, clock, privileges)
        # Without the unique index (the original's duplicates not resolved yet), reservations are checked after insert.
        self.user_ids = MongoUserIdMap(documents.user_ids, clock, unique_index=unique_user_index)
        self.cleanups = MongoPendingRoomCleanups(documents.cleanups, clock)
        self.idempotency = MongoIdempotencyRecords(documents.idempotency)
        self.intents = MongoRoomIntents(documents.intents)
        self.room_deletions = MongoRecordedRoomDeletions(documents.teleconsultations)
        assert events is not None  # always bound by open_mongo_store
        self.events = MongoEventLog(events)
        self.outbox = MongoEventOutbox(documents.teleconsultations)
        self.rooms = MongoRoomIndex(documents.teleconsultations)
        self.retention = MongoRetention(documents.teleconsultations, clock)
        assert deliveries is not None  # always bound by open_mongo_store
        self.deliveries = MongoWebhookDeliveries(deliveries, clock)
        self.room_details = MongoSharedRoomDetails(database)
        self._database = database
        self._ping_seconds = ping_seconds
        self._watch = watch

    @property
    def write_concern(self) -> WriteConcern:
        """The write concern every write of the store is sent with."""
        return self._database.write_concern

    def recoverable(self) -> bool:
        """False only when the store cannot come back by itself (liveness probe): an external MongoDB is
        reconnected to by the driver whenever it returns; the embedded one is as long as its supervisor
        restarts it."""
        return self._watch is None or self._watch.recoverable

    async def ping(self) -> bool:
        """Whether the server answers within the ping timeout; never raises (readiness probe)."""
        if self._watch is not None and not self._watch.serving:
            return False
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
    write_concern: str = MAJORITY,
    watch: ServerWatch | None = None,
    events_collection: str = DEFAULT_EVENTS_COLLECTION,
    audit_retention: timedelta | None = None,
    deliveries_collection: str = DEFAULT_DELIVERIES_COLLECTION,
) -> AsyncIterator[MongoStore]:
    """Connect, create the indexes, and close the client on exit; raises StoreUnavailable if unreachable.

    `privileges` gives a participant the original stored without one its privilege (from its groups).
    Every write goes out with the `write_concern` chosen (see adapters.mongo.write_concern), set once on the
    database, which every collection inherits; it wins over `w` and `journal` options in the URL.
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
                concern = await resolve_write_concern(client, write_concern)
                durable_database = client.get_database(database, write_concern=concern)
                events = bind_event_documents(events_collection)
                deliveries = bind_delivery_documents(deliveries_collection)
                await init_beanie(database=durable_database, document_models=[*documents, events, deliveries])
            except ServerSelectionTimeoutError as error:
                seconds = timeouts.server_selection_ms / 1000
                raise StoreUnavailable(f"MongoDB at {hosts_of(url)} did not answer within {seconds:g} s") from error
        unique_user_index = await index_at_start_up(documents.user_ids.get_pymongo_collection())
        store = MongoStore(
            durable_database,
            documents,
            clock or _UtcClock(),
            timeouts.ping_seconds,
            privileges=privileges,
            watch=watch,
            events=events,
            deliveries=deliveries,
            unique_user_index=unique_user_index,
        )
        await store.outbox.ensure_index()
        await store.retention.ensure_index()
        await store.room_details.ensure_index()
        await store.events.keep_for(audit_retention)
        yield store
    finally:
        with pymongo.timeout(timeouts.close_seconds):
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
