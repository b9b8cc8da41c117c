"""RETENTION_DAYS in the store: what is due, and what a purge leaves; the memory fake and MongoDB over the wire."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest

from adapters.memory.clock import FixedClock
from adapters.memory.store import InMemoryStore
from adapters.mongo.lifecycle import open_mongo_store
from application.events import EventQuery, EventType, Journal
from application.ports import EventLog, RetentionStore, TeleconsultationRepository
from tests.builders import make_schedule, make_teleconsultation
from tests.store.conftest import TELECONSULTATIONS, USER_MAP, MongoTarget, open_test_store

DAY = timedelta(days=1)


@dataclass(frozen=True)
class RetentionPorts:
    repository: TeleconsultationRepository
    retention: RetentionStore
    log: EventLog
    journal: Journal


@pytest.fixture(params=["memory", "mongo"])
async def ports(
    request: pytest.FixtureRequest, mongo_target: MongoTarget, clock: FixedClock
) -> AsyncIterator[RetentionPorts]:
    if request.param == "memory":
        memory = InMemoryStore(clock)
        journal = Journal(clock=clock, log=memory.events, outbox=memory.outbox)
        yield RetentionPorts(memory.teleconsultations, memory.retention, memory.events, journal)
        return
    async with open_test_store(mongo_target, clock) as store:
        journal = Journal(clock=clock, log=store.events, outbox=store.outbox)
        yield RetentionPorts(store.teleconsultations, store.retention, store.events, journal)


async def test_live_ones_are_due_once_ended_trashed_ones_once_cancelled(
    ports: RetentionPorts, clock: FixedClock
) -> None:
    now = clock.now()
    ended = make_teleconsultation(id="a" * 24, schedule=make_schedule(now - 2 * DAY))
    upcoming = make_teleconsultation(id="b" * 24, schedule=make_schedule(now + DAY))
    cancelled = make_teleconsultation(id="c" * 24, schedule=make_schedule(now + 10 * DAY))
    for teleconsultation in (ended, upcoming, cancelled):
        await ports.repository.add(teleconsultation)
    cancelled.discard()
    await ports.repository.save(cancelled)

    async def due(cutoff_days: float) -> set[str]:
        cutoff = now - timedelta(days=cutoff_days)
        found = await ports.retention.due_for_purge(ended_before=cutoff, cancelled_before=cutoff, limit=10)
        return {item.teleconsultation_id for item in found}

    assert await due(2) == set()  # ended two days ago less the hour it lasted: not yet two days
    assert await due(1) == {"a" * 24}
    clock.advance(timedelta(minutes=1))
    now = clock.now()
    assert await due(0) == {"a" * 24, "c" * 24}
    assert {
        item.room_id for item in await ports.retention.due_for_purge(ended_before=now, cancelled_before=now, limit=10)
    } == {None}


async def test_a_purge_removes_names_links_and_groups_once_and_leaves_its_event(ports: RetentionPorts) -> None:
    teleconsultation = make_teleconsultation(id="d" * 24)
    teleconsultation.attach_room(
        "room-1", {p.provider_user_id: f"https://video.invalid/{p.user_id}" for p in teleconsultation.participants}
    )
    await ports.repository.add(teleconsultation)
    event = ports.journal.event(EventType.TELECONSULTATION_PURGED, teleconsultation.id)
    assert await ports.retention.purge(teleconsultation.id, event)
    assert not await ports.retention.purge(teleconsultation.id, event)
    stored = await ports.repository.get(teleconsultation.id)
    assert [(p.full_name, p.access_link, p.groups) for p in stored.participants] == [(None, None, ())] * 2
    assert [p.user_id for p in stored.participants] == [p.user_id for p in teleconsultation.participants]
    assert stored.version == 2
    await ports.journal.relay()
    events, _ = await ports.log.query(EventQuery(teleconsultation_id=teleconsultation.id), 10)
    assert [e.type for e in events] == ["teleconsultation.purged"]


async def test_audit_retention_is_a_ttl_index_that_follows_the_setting(mongo_target: MongoTarget) -> None:
    seen = []
    for days in (3, 3, 5, None, 1):
        retention = None if days is None else timedelta(days=days)
        async with open_mongo_store(
            mongo_target.url, mongo_target.database, TELECONSULTATIONS, USER_MAP, audit_retention=retention
        ) as store:
            indexes = await store.events._model.get_pymongo_collection().index_information()
            ttl = indexes.get("at_ttl")
            seen.append(None if ttl is None else (ttl["key"], ttl["expireAfterSeconds"]))
    assert seen == [
        ([("at", 1)], 3 * 86400),
        ([("at", 1)], 3 * 86400),
        ([("at", 1)], 5 * 86400),
        None,
        ([("at", 1)], 86400),
    ]


async def test_a_change_after_a_purge_makes_it_due_again(ports: RetentionPorts, clock: FixedClock) -> None:
    now = clock.now()
    teleconsultation = make_teleconsultation(id="e" * 24, schedule=make_schedule(now - 2 * DAY))
    await ports.repository.add(teleconsultation)
    event = ports.journal.event(EventType.TELECONSULTATION_PURGED, teleconsultation.id)
    assert await ports.retention.purge(teleconsultation.id, event)
    assert await ports.retention.due_for_purge(ended_before=now, cancelled_before=now, limit=10) == []
    await ports.repository.save(await ports.repository.get(teleconsultation.id))
    due = await ports.retention.due_for_purge(ended_before=now, cancelled_before=now, limit=10)
    assert [item.teleconsultation_id for item in due] == ["e" * 24]
