"""The event log and the outbox, one contract for the in-memory fakes and MongoDB over the wire."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import timedelta

import pytest

from adapters.memory.clock import FixedClock
from adapters.memory.store import InMemoryStore
from application.errors import ConcurrentUpdate
from application.events import Event, EventQuery, EventType, Journal
from application.ports import EventLog, EventOutbox, TeleconsultationRepository
from tests.builders import T0, make_teleconsultation
from tests.store.conftest import MongoTarget, open_test_store


@dataclass(frozen=True)
class EventPorts:
    repository: TeleconsultationRepository
    log: EventLog
    outbox: EventOutbox
    journal: Journal


@pytest.fixture(params=["memory", "mongo"])
async def event_ports(
    request: pytest.FixtureRequest, mongo_target: MongoTarget, clock: FixedClock
) -> AsyncIterator[EventPorts]:
    if request.param == "memory":
        memory = InMemoryStore()
        yield EventPorts(
            memory.teleconsultations,
            memory.events,
            memory.outbox,
            Journal(clock=clock, log=memory.events, outbox=memory.outbox),
        )
        return
    async with open_test_store(mongo_target, clock) as store:
        yield EventPorts(
            store.teleconsultations,
            store.events,
            store.outbox,
            Journal(clock=clock, log=store.events, outbox=store.outbox),
        )


def event(
    number: int, *, kind: str = "teleconsultation.changed", tc: str | None = "a" * 24, actor: str = "doc-1"
) -> Event:
    return Event(f"event-{number:03d}", T0 + timedelta(seconds=number), kind, tc, actor, "success", f"req-{number}")


async def test_an_event_is_logged_once_per_id_and_read_back_whole(event_ports: EventPorts) -> None:
    log = event_ports.log
    assert await log.append(event(1))
    assert not await log.append(event(1))
    assert await log.contains("event-001")
    assert not await log.contains("event-002")
    events, cursor = await log.query(EventQuery(), 10)
    assert events == [event(1)]
    assert cursor is None


async def test_events_logged_together_keep_their_order_and_leave_those_logged_before_as_they_were(
    event_ports: EventPorts,
) -> None:
    log = event_ports.log
    assert await log.append_all([]) == set()
    first = event(1)
    assert await log.append(first)
    same_moment = [replace(event(n), at=T0 + timedelta(seconds=2)) for n in (2, 3, 4)]
    again = replace(first, actor="someone-else")  # the same id: the log keeps what it holds
    assert await log.append_all([same_moment[0], again, *same_moment[1:]]) == {"event-002", "event-003", "event-004"}
    assert await log.append_all(same_moment) == set()
    events, _ = await log.query(EventQuery(), 10)
    assert [e.id for e in events] == ["event-004", "event-003", "event-002", "event-001"]
    assert events[-1] == first


async def test_pages_come_newest_first_and_follow_each_other_without_gaps(event_ports: EventPorts) -> None:
    log = event_ports.log
    for number in range(7):
        await log.append(event(number))
    seen: list[str] = []
    cursor = None
    for _ in range(4):
        page, cursor = await log.query(EventQuery(), 3, cursor)
        seen.extend(e.id for e in page)
        if cursor is None:
            break
    assert seen == [f"event-{n:03d}" for n in reversed(range(7))]


async def test_filters_narrow_by_teleconsultation_actor_type_and_time(event_ports: EventPorts) -> None:
    log = event_ports.log
    await log.append(event(1, tc="b" * 24))
    await log.append(event(2, actor="pat-1"))
    await log.append(event(3, kind="link.served"))
    await log.append(event(4, tc=None))

    async def ids(query: EventQuery) -> list[str]:
        return [e.id for e in (await log.query(query, 10))[0]]

    assert await ids(EventQuery(teleconsultation_id="b" * 24)) == ["event-001"]
    assert await ids(EventQuery(actor="pat-1")) == ["event-002"]
    assert await ids(EventQuery(type="link.served")) == ["event-003"]
    assert await ids(EventQuery(since=T0 + timedelta(seconds=2), until=T0 + timedelta(seconds=4))) == [
        "event-003",
        "event-002",
    ]


async def test_a_write_carries_its_events_and_the_relay_moves_them_once(event_ports: EventPorts) -> None:
    repository, journal = event_ports.repository, event_ports.journal
    teleconsultation = make_teleconsultation(id="c" * 24)
    created = journal.event(EventType.TELECONSULTATION_CREATED, teleconsultation.id)
    await repository.add(teleconsultation, [created])
    assert not await event_ports.log.contains(created.id)  # waiting in the outbox
    changed = journal.event(EventType.TELECONSULTATION_CHANGED, teleconsultation.id)
    await repository.save(teleconsultation, [changed])
    assert await journal.relay() == 2
    assert await journal.relay() == 0
    events, _ = await event_ports.log.query(EventQuery(teleconsultation_id=teleconsultation.id), 10)
    assert [e.type for e in events] == ["teleconsultation.changed", "teleconsultation.created"]
    assert events[1] == created


async def test_a_refused_write_leaves_no_event(event_ports: EventPorts) -> None:
    repository, journal = event_ports.repository, event_ports.journal
    teleconsultation = make_teleconsultation(id="d" * 24)
    await repository.add(teleconsultation)
    stale = await repository.get(teleconsultation.id)
    await repository.save(teleconsultation, [journal.event(EventType.TELECONSULTATION_CHANGED, teleconsultation.id)])
    with pytest.raises(ConcurrentUpdate):
        await repository.save(stale, [journal.event(EventType.TELECONSULTATION_CANCELLED, teleconsultation.id)])
    await journal.relay()
    events, _ = await event_ports.log.query(EventQuery(), 10)
    assert [e.type for e in events] == ["teleconsultation.changed"]


async def test_a_relay_that_died_half_way_is_done_again_without_duplicates(event_ports: EventPorts) -> None:
    repository, journal = event_ports.repository, event_ports.journal
    teleconsultation = make_teleconsultation(id="e" * 24)
    created = journal.event(EventType.TELECONSULTATION_CREATED, teleconsultation.id)
    await repository.add(teleconsultation, [created])
    await event_ports.log.append(created)  # logged, but the relay died before emptying the outbox
    await asyncio.gather(journal.relay(), journal.relay())
    assert len((await event_ports.log.query(EventQuery(), 10))[0]) == 1
    assert await event_ports.outbox.pending(None, 10) == []
