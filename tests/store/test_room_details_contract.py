"""Shared room details, one contract for the in-memory records and MongoDB over the wire."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from adapters.memory.clock import FixedClock
from adapters.memory.room_details import InMemorySharedRoomDetails
from adapters.mongo.room_details import DEFAULT_ROOM_DETAILS_COLLECTION, RECORDS_KEPT_SECONDS, TTL_INDEX
from application.dto import RoomDetails
from application.errors import StoreUnavailable
from application.ports import SharedRoomDetails
from tests.builders import T0
from tests.store.conftest import MongoTarget, RawDatabase, open_test_store

PERIOD = timedelta(seconds=2)
CLAIM = timedelta(seconds=10)
DETAILS = RoomDetails(
    recording="manual",
    recording_status="stopped",
    call_type="audio_video",
    description="room 1",
    status="active",
    disabled=False,
    creation_date="2030-02-22T15:30:00.000Z",
    duration_in_seconds=3600,
    duration_used_in_seconds=0,
    live=True,
)


@pytest.fixture(params=["memory", "mongo"])
async def shared(
    request: pytest.FixtureRequest, mongo_target: MongoTarget, clock: FixedClock
) -> AsyncIterator[SharedRoomDetails]:
    if request.param == "memory":
        yield InMemorySharedRoomDetails()
        return
    async with open_test_store(mongo_target, clock) as store:
        yield store.room_details


async def claim(shared: SharedRoomDetails, owner: str, at: datetime = T0, room_id: str = "room-1") -> bool:
    return await shared.claim(room_id, owner, now=at, until=at + CLAIM, fresh_for=PERIOD)


async def test_a_room_without_a_record_is_claimed_by_one_owner_until_its_claim_runs_out(
    shared: SharedRoomDetails,
) -> None:
    assert await shared.read("room-1") is None
    assert await claim(shared, "worker-a")

    record = await shared.read("room-1")
    assert record is not None
    assert (record.details, record.fetched_at, record.claimed_by, record.claimed_until) == (
        None,
        None,
        "worker-a",
        T0 + CLAIM,
    )
    assert not await claim(shared, "worker-b", T0 + CLAIM - timedelta(milliseconds=1))
    assert await claim(shared, "worker-a", T0 + timedelta(seconds=1))  # its own claim: taken again
    assert await claim(shared, "worker-b", T0 + timedelta(seconds=1) + CLAIM)  # ran out: anyone's


async def test_published_details_are_read_by_all_and_keep_the_room_from_being_claimed_while_fresh(
    shared: SharedRoomDetails,
) -> None:
    assert await claim(shared, "worker-a")
    assert await shared.publish("room-1", "worker-a", DETAILS, fetched_at=T0)

    record = await shared.read("room-1")
    assert record is not None
    assert (record.details, record.fetched_at, record.claimed_by, record.claimed_until) == (DETAILS, T0, None, None)
    assert record.fresh_at(T0 + PERIOD - timedelta(milliseconds=1), PERIOD)
    assert not await claim(shared, "worker-b", T0 + PERIOD - timedelta(milliseconds=1))
    assert not await claim(shared, "worker-a", T0)  # fresh for its own fetcher too
    assert await claim(shared, "worker-b", T0 + PERIOD)
    stale = await shared.read("room-1")
    assert stale is not None
    assert (stale.details, stale.fetched_at, stale.claimed_by) == (DETAILS, T0, "worker-b")


async def test_details_fetched_up_to_a_period_after_now_are_fresh_and_further_ahead_stale(
    shared: SharedRoomDetails,
) -> None:
    # Up to a period: another process asked the provider after this one read its clock (or runs a little ahead).
    assert await claim(shared, "worker-a")
    assert await shared.publish("room-1", "worker-a", DETAILS, fetched_at=T0)

    assert not await claim(shared, "worker-b", T0 - PERIOD)
    assert await claim(shared, "worker-b", T0 - PERIOD - timedelta(milliseconds=1))  # a clock that went back


async def test_a_provider_without_details_is_published_as_such(shared: SharedRoomDetails) -> None:
    assert await claim(shared, "worker-a")
    assert await shared.publish("room-1", "worker-a", None, fetched_at=T0)

    record = await shared.read("room-1")
    assert record is not None
    assert (record.details, record.fetched_at) == (None, T0)
    assert not await claim(shared, "worker-b", T0 + timedelta(seconds=1))


async def test_only_the_holder_of_the_claim_publishes(shared: SharedRoomDetails) -> None:
    assert not await shared.publish("room-1", "worker-a", DETAILS, fetched_at=T0)  # no record, no claim
    assert await shared.read("room-1") is None

    assert await claim(shared, "worker-a")
    assert not await shared.publish("room-1", "worker-b", DETAILS, fetched_at=T0)
    assert await claim(shared, "worker-b", T0 + CLAIM)  # worker-a's claim ran out: worker-b took over
    assert not await shared.publish("room-1", "worker-a", DETAILS, fetched_at=T0)
    record = await shared.read("room-1")
    assert record is not None
    assert (record.details, record.claimed_by) == (None, "worker-b")


async def test_a_released_claim_keeps_the_details_and_frees_the_room_at_once(shared: SharedRoomDetails) -> None:
    assert await claim(shared, "worker-a")
    assert await shared.publish("room-1", "worker-a", DETAILS, fetched_at=T0)
    assert await claim(shared, "worker-a", T0 + PERIOD)

    await shared.release("room-1", "worker-b")  # not its claim: nothing happens
    assert not await claim(shared, "worker-b", T0 + PERIOD)
    await shared.release("room-1", "worker-a")

    record = await shared.read("room-1")
    assert record is not None
    assert (record.details, record.fetched_at, record.claimed_by, record.claimed_until) == (DETAILS, T0, None, None)
    assert await claim(shared, "worker-b", T0 + PERIOD)


async def test_a_forgotten_room_has_no_record_and_its_claimant_cannot_bring_it_back(
    shared: SharedRoomDetails,
) -> None:
    assert await claim(shared, "worker-a")
    assert await claim(shared, "worker-a", room_id="room-2")

    await shared.forget("room-1")
    await shared.forget("room-3")  # none: nothing happens

    assert await shared.read("room-1") is None
    assert not await shared.publish("room-1", "worker-a", DETAILS, fetched_at=T0)
    assert await shared.read("room-1") is None
    assert await shared.publish("room-2", "worker-a", DETAILS, fetched_at=T0)  # other rooms are untouched


async def test_of_concurrent_claims_exactly_one_wins(shared: SharedRoomDetails) -> None:
    for round_at in (T0, T0 + CLAIM):  # on no record, then on a record whose claim ran out
        outcomes = await asyncio.gather(*(claim(shared, f"worker-{n}", round_at) for n in range(6)))
        assert outcomes.count(True) == 1


async def test_mongo_keeps_the_records_in_their_collection_under_a_ttl_index(
    mongo_target: MongoTarget, clock: FixedClock, raw_database: RawDatabase
) -> None:
    async with open_test_store(mongo_target, clock) as store:
        assert await claim(store.room_details, "worker-a")
        assert await store.room_details.publish("room-1", "worker-a", DETAILS, fetched_at=T0)

    collection = raw_database[DEFAULT_ROOM_DETAILS_COLLECTION]
    document = await collection.find_one({"_id": "room-1"})
    assert document is not None
    assert document["writtenAt"] == T0
    assert document["details"]["description"] == "room 1"
    indexes = await collection.index_information()
    assert indexes[TTL_INDEX]["expireAfterSeconds"] == RECORDS_KEPT_SECONDS
    assert indexes[TTL_INDEX]["key"] == [("writtenAt", 1)]


async def test_mongo_refuses_a_record_of_another_shape_as_a_store_failure(
    mongo_target: MongoTarget, clock: FixedClock, raw_database: RawDatabase
) -> None:
    await raw_database[DEFAULT_ROOM_DETAILS_COLLECTION].insert_one({"_id": "room-1", "details": {"live": "yes"}})
    async with open_test_store(mongo_target, clock) as store:
        with pytest.raises(StoreUnavailable, match="does not have the expected shape"):
            await store.room_details.read("room-1")


async def test_memory_drops_records_nobody_wrote_for_ten_minutes() -> None:
    shared = InMemorySharedRoomDetails()
    for n in range(50):
        assert await claim(shared, "worker-a", room_id=f"room-{n}")
    assert await claim(shared, "worker-a", T0 + timedelta(minutes=5), room_id="room-late")
    assert len(shared) == 51

    assert await claim(shared, "worker-a", T0 + timedelta(minutes=10), room_id="room-new")

    assert len(shared) == 2
    assert await shared.read("room-0") is None
    assert await shared.read("room-late") is not None
