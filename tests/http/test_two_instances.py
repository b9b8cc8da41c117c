"""Two instances of the service on one MongoDB-wire store and one provider, as in a scaled deployment.

The embedded store offers change streams, so each instance hears of the other's writes as they are made; on the
store started as a standalone mongod (which refuses them) the cache's time to live is what bounds staleness.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest

from adapters.memory.clock import FixedClock
from adapters.mongo.embedded import EmbeddedMongoServer
from adapters.mongo.lifecycle import MongoStore, open_mongo_store
from entrypoints.container import Container, resolved
from entrypoints.service_config import DEFAULT_CONFIG
from entrypoints.settings import ReliabilitySettings, Settings, StoreSettings
from entrypoints.sweeper import RoomSweeper
from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.fakes.kaleyra_state import Fault
from tests.http.builders import body, create, doctor, patient
from tests.http.conftest import Client, kaleyra_settings, serve
from tests.processes import eventually

TTL = Settings().room_details_cache  # the default ROOM_DETAILS_CACHE_SECONDS, which the instances run with


@dataclass(frozen=True)
class Instance:
    client: Client
    container: Container

    async def sweeper(self) -> RoomSweeper:
        return await resolved(self.container.room_sweeper)


@asynccontextmanager
async def two_instances(
    fake: FakeKaleyraServer,
    server: EmbeddedMongoServer,
    clock: FixedClock,
    ttl: timedelta = TTL,
    *,
    change_stream: bool = False,
) -> AsyncIterator[tuple[Instance, Instance, MongoStore]]:
    database = f"test_{uuid.uuid4().hex}"
    settings: Settings = kaleyra_settings(
        fake,
        store=StoreSettings(backend="mongo", mongodb_url=server.url, database=database),
        # Sweeps only when a test asks: the one at start-up finds nothing to do.
        reliability=ReliabilitySettings(sweep_interval_seconds=3600),
        room_details_cache=ttl,
        cache_change_stream=change_stream,
    )
    async with AsyncExitStack() as stack:
        instances = []
        for _ in range(2):
            container = Container(settings=settings, service_config=DEFAULT_CONFIG)
            client = await stack.enter_async_context(serve(settings, clock, container=container))
            instances.append(Instance(client, container))
        store = await stack.enter_async_context(
            open_mongo_store(server.url, database, "teleconsultations", "teleconsultations_users")
        )
        yield instances[0], instances[1], store


async def test_participants_new_to_both_instances_get_one_provider_user_each(
    fake_kaleyra: FakeKaleyraServer, embedded_server: EmbeddedMongoServer, clock: FixedClock
) -> None:
    fake_kaleyra.state.latency_seconds = 0.05  # creations overlap across the instances
    async with two_instances(fake_kaleyra, embedded_server, clock) as (a, b, store):
        rosters = [body(doctor("doc-1"), patient(f"pat-{n % 3}")) for n in range(8)]
        answers = await asyncio.gather(
            *(instance.client.post("/teleconsultation", json=r) for r in rosters for instance in (a, b))
        )
        assert {answer.status_code for answer in answers} == {201}
        assert len(fake_kaleyra.state.users) == 4  # doc-1, pat-0, pat-1, pat-2
        for user in ("doc-1", "pat-0", "pat-1", "pat-2"):
            mapping = await store.user_ids.find(user)
            assert mapping is not None
            assert mapping.provider_user_id in fake_kaleyra.state.users


async def test_an_idempotency_key_is_honoured_by_the_other_instance(
    fake_kaleyra: FakeKaleyraServer, embedded_server: EmbeddedMongoServer, clock: FixedClock
) -> None:
    async with two_instances(fake_kaleyra, embedded_server, clock) as (a, b, _):
        headers = {"idempotency-key": "shared-key-1"}
        fake_kaleyra.state.latency_seconds = 0.2
        first = asyncio.create_task(a.client.post("/teleconsultation", json=body(doctor(), patient()), headers=headers))
        await asyncio.sleep(0.1)
        in_flight = await b.client.post("/teleconsultation", json=body(doctor(), patient()), headers=headers)
        assert in_flight.status_code == 409
        created = await first
        fake_kaleyra.state.latency_seconds = 0
        replayed = await b.client.post("/teleconsultation", json=body(doctor(), patient()), headers=headers)
        assert (replayed.status_code, replayed.json()) == (201, created.json())
        assert replayed.headers["idempotent-replayed"] == "true"
        other_body = await b.client.post("/teleconsultation", json=body(doctor(), patient("pat-2")), headers=headers)
        assert other_body.status_code == 422
        assert len(fake_kaleyra.state.rooms) == 1


async def test_two_instances_sweeping_at_once_delete_each_room_once(
    fake_kaleyra: FakeKaleyraServer, embedded_server: EmbeddedMongoServer, clock: FixedClock
) -> None:
    async with two_instances(fake_kaleyra, embedded_server, clock) as (a, b, store):
        for n in range(6):
            room_id = await create(a.client, body(doctor(f"doc-{n}"), patient(f"pat-{n}")))
            fake_kaleyra.state.fail_next("delete_room", Fault.SERVER_ERROR, times=3)  # every attempt of one call
            assert (await a.client.delete(f"/teleconsultation/{room_id}")).status_code == 204
        left = list(fake_kaleyra.state.rooms)
        assert sorted(await store.cleanups.pending(10)) == sorted(left)
        assert len(left) == 6
        before = {room: fake_kaleyra.state.count("DELETE", f"/v2/rooms/{room}") for room in left}

        fake_kaleyra.state.latency_seconds = 0.05  # the two sweeps overlap
        remaining = await asyncio.gather((await a.sweeper()).sweep_once(), (await b.sweeper()).sweep_once())

        assert min(r for r in remaining if r is not None) == 0
        assert fake_kaleyra.state.rooms == {}
        after = {room: fake_kaleyra.state.count("DELETE", f"/v2/rooms/{room}") for room in left}
        assert {room: after[room] - before[room] for room in left} == dict.fromkeys(left, 1)
        assert await store.cleanups.count() == 0


def members(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [member["fullName"] for member in answer.json()["participantsBandyerCall"]]


async def test_without_change_streams_a_change_shows_at_once_where_it_was_made_and_within_the_cache_period_elsewhere(
    fake_kaleyra: FakeKaleyraServer, standalone_server: EmbeddedMongoServer, clock: FixedClock
) -> None:
    async with two_instances(fake_kaleyra, standalone_server, clock, change_stream=True) as (a, b, _):
        room_id = await create(a.client, body(doctor(), patient()))
        path, headers = f"/teleconsultation/{room_id}", {"miauserid": "pat-1"}
        assert members(await a.client.get(path, headers=headers)) == ["Joe Smith", "Jane Doe"]
        assert members(await b.client.get(path, headers=headers)) == ["Joe Smith", "Jane Doe"]
        renamed = {**patient(), "fullName": "Jane Roe"}
        patched = await a.client.patch(path, json={"participants": {"number": 2, "data": [doctor(), renamed]}})
        assert patched.status_code == 204, patched.text

        assert members(await a.client.get(path, headers=headers)) == ["Joe Smith", "Jane Roe"]  # at once
        clock.advance(TTL - timedelta(milliseconds=1))
        assert members(await b.client.get(path, headers=headers)) == ["Joe Smith", "Jane Doe"]  # still cached
        clock.advance(timedelta(milliseconds=1))
        assert members(await b.client.get(path, headers=headers)) == ["Joe Smith", "Jane Roe"]  # within the period


async def test_without_change_streams_a_cancellation_is_404_at_once_where_it_was_made_and_within_the_period_elsewhere(
    fake_kaleyra: FakeKaleyraServer,
    standalone_server: EmbeddedMongoServer,
    clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="entrypoints.change_follower"):
        async with two_instances(fake_kaleyra, standalone_server, clock, change_stream=True) as (a, b, _):
            await cancel_on_b_and_poll_a_until_the_ttl(a, b, clock)
    said = [r.getMessage() for r in caplog.records if r.name == "entrypoints.change_follower"]
    assert (
        said
        == ["the store offers no change streams: other instances' writes show within ROOM_DETAILS_CACHE_SECONDS (2 s)"]
        * 2
    )  # once per instance
    assert live(a) == live(b) == 0


async def cancel_on_b_and_poll_a_until_the_ttl(a: Instance, b: Instance, clock: FixedClock) -> None:
    """A cancellation through B: 404 on B at once, on A once the entry's time to live ran out."""
    room_id = await create(a.client, body(doctor(), patient()))
    path, headers = f"/teleconsultation/{room_id}", {"miauserid": "pat-1"}
    for instance in (a, b):
        assert (await instance.client.get(path, headers=headers)).status_code == 200
    assert (await b.client.delete(path)).status_code == 204

    assert (await b.client.get(path, headers=headers)).status_code == 404  # at once
    clock.advance(TTL - timedelta(milliseconds=1))
    assert (await a.client.get(path, headers=headers)).status_code == 200  # still cached
    clock.advance(timedelta(milliseconds=1))
    answer = await a.client.get(path, headers=headers)
    assert (answer.status_code, answer.json()) == (404, {"error": f"Room with id {room_id} not found on CRUD"})


LONG_TTL = timedelta(seconds=30)
BOUND = 1.0  # seconds: what a poll on A may lag a write through B by, with change streams


def live(instance: Instance) -> float | None:
    return instance.container.metrics().registry.get_sample_value("teleconsultation_change_stream_live")


async def both_following(a: Instance, b: Instance) -> None:
    await eventually(lambda: live(a) == live(b) == 1, seconds=5, what="both instances following the store")


async def lag_until(check: Callable[[], Awaitable[bool]]) -> float:
    """Seconds until `check()` holds (polled every 5 ms), failing past BOUND."""
    started = time.perf_counter()
    while not await check():
        if time.perf_counter() - started > BOUND:
            raise AssertionError(f"not seen within {BOUND:g} s")
        await asyncio.sleep(0.005)
    return time.perf_counter() - started


async def test_with_change_streams_a_cancellation_through_b_is_404_on_a_within_a_second_under_a_long_ttl(
    fake_kaleyra: FakeKaleyraServer, embedded_server: EmbeddedMongoServer, clock: FixedClock
) -> None:
    async with two_instances(fake_kaleyra, embedded_server, clock, ttl=LONG_TTL, change_stream=True) as (a, b, _):
        await both_following(a, b)
        room_id = await create(a.client, body(doctor(), patient()))
        path, headers = f"/teleconsultation/{room_id}", {"miauserid": "pat-1"}
        for instance in (a, b):
            assert (await instance.client.get(path, headers=headers)).status_code == 200
        assert (await b.client.delete(path)).status_code == 204

        async def gone_on_a() -> bool:
            return (await a.client.get(path, headers=headers)).status_code == 404

        await lag_until(gone_on_a)  # the clock never moves: no entry expired
        forgotten = a.container.metrics().registry.get_sample_value("teleconsultation_change_stream_forgotten_total")
        assert (forgotten or 0) >= 1


async def test_with_change_streams_a_roster_change_through_b_shows_on_a_within_a_second_under_a_long_ttl(
    fake_kaleyra: FakeKaleyraServer, embedded_server: EmbeddedMongoServer, clock: FixedClock
) -> None:
    async with two_instances(fake_kaleyra, embedded_server, clock, ttl=LONG_TTL, change_stream=True) as (a, b, _):
        await both_following(a, b)
        room_id = await create(a.client, body(doctor(), patient()))
        path, headers = f"/teleconsultation/{room_id}", {"miauserid": "pat-1"}
        assert members(await a.client.get(path, headers=headers)) == ["Joe Smith", "Jane Doe"]
        renamed = {**patient(), "fullName": "Jane Roe"}
        patched = await b.client.patch(path, json={"participants": {"number": 2, "data": [doctor(), renamed]}})
        assert patched.status_code == 204, patched.text

        async def renamed_on_a() -> bool:
            return members(await a.client.get(path, headers=headers)) == ["Joe Smith", "Jane Roe"]

        await lag_until(renamed_on_a)
