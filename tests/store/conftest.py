"""Persistence fixtures: one embedded wire server for the session, a fresh database for every test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from adapters.memory.cleanups import InMemoryPendingRoomCleanups
from adapters.memory.clock import FixedClock
from adapters.memory.idempotency import InMemoryIdempotencyRecords
from adapters.memory.repository import (
    InMemoryRecordedRoomDeletions,
    InMemoryTeleconsultationRepository,
    InMemoryUserIdMap,
)
from adapters.memory.room_intents import InMemoryRoomIntents
from adapters.mongo.embedded import EmbeddedMongoServer
from adapters.mongo.lifecycle import MongoStore, open_mongo_store
from application.dto import UserMapping
from application.ports import (
    IdempotencyRecords,
    PendingRoomCleanups,
    RecordedRoomDeletions,
    RoomIntents,
    TeleconsultationRepository,
    UserIdMap,
)
from domain.teleconsultation import Teleconsultation
from tests.builders import T0, make_teleconsultation

TELECONSULTATIONS = "teleconsultations"
USER_MAP = "teleconsultations_users"

RawDatabase = AsyncDatabase[dict[str, Any]]


@dataclass(frozen=True)
class MongoTarget:
    url: str
    database: str


@pytest.fixture
def mongo_target(embedded_server: EmbeddedMongoServer) -> MongoTarget:
    return MongoTarget(url=embedded_server.url, database=f"test_{uuid.uuid4().hex}")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0 - timedelta(days=1))


def open_test_store(target: MongoTarget, clock: FixedClock) -> AbstractAsyncContextManager[MongoStore]:
    return open_mongo_store(target.url, target.database, TELECONSULTATIONS, USER_MAP, clock=clock)


@pytest.fixture
async def mongo_store(mongo_target: MongoTarget, clock: FixedClock) -> AsyncIterator[MongoStore]:
    async with open_test_store(mongo_target, clock) as store:
        yield store


@pytest.fixture
async def raw_database(mongo_target: MongoTarget) -> AsyncIterator[RawDatabase]:
    """The test's database seen through a bare driver, to check what is really stored."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_target.url, tz_aware=True, tzinfo=UTC)
    try:
        yield client[mongo_target.database]
    finally:
        await client.close()


@dataclass(frozen=True)
class Ports:
    teleconsultations: TeleconsultationRepository
    user_ids: UserIdMap
    cleanups: PendingRoomCleanups
    idempotency: IdempotencyRecords
    intents: RoomIntents
    room_deletions: RecordedRoomDeletions


@pytest.fixture(params=["memory", "mongo"])
async def ports(request: pytest.FixtureRequest, mongo_target: MongoTarget, clock: FixedClock) -> AsyncIterator[Ports]:
    if request.param == "memory":
        teleconsultations = InMemoryTeleconsultationRepository(clock)
        yield Ports(
            teleconsultations,
            InMemoryUserIdMap(),
            InMemoryPendingRoomCleanups(),
            InMemoryIdempotencyRecords(),
            InMemoryRoomIntents(),
            InMemoryRecordedRoomDeletions(teleconsultations),
        )
        return
    async with open_test_store(mongo_target, clock) as store:
        yield Ports(
            store.teleconsultations,
            store.user_ids,
            store.cleanups,
            store.idempotency,
            store.intents,
            store.room_deletions,
        )


async def map_user(user_ids: UserIdMap, mapping: UserMapping) -> None:
    """Store a completed mapping the way ProviderUsers does: reserve the id, then complete the reservation."""
    assert await user_ids.reserve(mapping.received_user_id, "test", now=T0, until=T0 + timedelta(seconds=30)) is None
    await user_ids.complete(mapping, "test")


async def add_one(store: MongoStore) -> Teleconsultation:
    teleconsultation = make_teleconsultation(id=await store.teleconsultations.next_id())
    await store.teleconsultations.add(teleconsultation)
    return teleconsultation
