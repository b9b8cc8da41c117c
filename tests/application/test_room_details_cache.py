"""The room details cache: time to live on a fixed clock, single flight, eviction on deletion, zero = off."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.memory.clock import FixedClock
from adapters.memory.video_provider import InMemoryVideoProvider
from application.dto import RoomDetails, RoomMember, RoomSpec
from application.errors import ProviderError
from application.ports import VideoProvider
from application.room_details_cache import RoomDetailsCache
from domain.privileges import Privilege
from tests.builders import T0, make_schedule

TTL = timedelta(seconds=2)


class ObservedProvider(InMemoryVideoProvider):
    """The in-memory provider, counting detail reads; each answer says which read it was, so staleness shows.

    While `gate` is cleared, reads wait: that is how concurrent callers are made to overlap.
    """

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0
        self.gate = asyncio.Event()
        self.gate.set()

    async def room_details(self, room_id: str) -> RoomDetails | None:
        self.reads += 1
        read = self.reads
        await self.gate.wait()
        details = await super().room_details(room_id)
        return None if details is None else RoomDetails(description=f"read {read}", status=details.status)


async def open_room(provider: VideoProvider) -> str:
    member = RoomMember(provider_user_id=await provider.create_user(Privilege.PLUS), privilege=Privilege.PLUS, tools={})
    spec = RoomSpec(members=(member,), schedule=make_schedule(), duration_seconds=None, opens_at=T0)
    return (await provider.create_room(spec)).room_id


def cache_over(provider: ObservedProvider, clock: FixedClock, ttl: timedelta = TTL) -> RoomDetailsCache:
    return RoomDetailsCache(provider=provider, clock=clock, ttl=ttl)


async def description(cache: RoomDetailsCache, room_id: str) -> str:
    details = await cache.room_details(room_id)
    assert details is not None
    assert details.description is not None
    return details.description


async def test_details_are_reused_until_the_time_to_live_has_passed() -> None:
    provider, clock = ObservedProvider(), FixedClock(T0)
    cache = cache_over(provider, clock)
    room_id = await open_room(provider)

    assert await description(cache, room_id) == "read 1"
    clock.advance(TTL - timedelta(microseconds=1))
    assert await description(cache, room_id) == "read 1"
    clock.advance(timedelta(microseconds=1))
    assert await description(cache, room_id) == "read 2"
    assert provider.reads == 2


@given(steps=st.lists(st.integers(min_value=0, max_value=3000), max_size=30), ttl_ms=st.integers(1, 2500))
async def test_the_provider_is_asked_exactly_when_the_last_answer_is_too_old(steps: list[int], ttl_ms: int) -> None:
    provider, clock = ObservedProvider(), FixedClock(T0)
    ttl = timedelta(milliseconds=ttl_ms)
    cache = cache_over(provider, clock, ttl)
    room_id = await open_room(provider)
    fetched_at = clock.now()
    await cache.room_details(room_id)
    expected_reads = 1
    for step_ms in steps:
        now = clock.advance(timedelta(milliseconds=step_ms))
        if now - fetched_at >= ttl:
            expected_reads, fetched_at = expected_reads + 1, now
        await cache.room_details(room_id)
        assert provider.reads == expected_reads


async def test_concurrent_misses_for_one_room_share_one_provider_call() -> None:
    provider, clock = ObservedProvider(), FixedClock(T0)
    cache = cache_over(provider, clock)
    room_id, other_room_id = await open_room(provider), await open_room(provider)
    provider.gate.clear()

    pollers = [asyncio.create_task(description(cache, room_id)) for _ in range(64)]
    other = asyncio.create_task(description(cache, other_room_id))
    await asyncio.sleep(0)
    provider.gate.set()

    assert set(await asyncio.gather(*pollers)) == {"read 1"}
    assert await other == "read 2"
    assert provider.reads == 2


async def test_a_failure_reaches_every_waiter_and_is_not_remembered() -> None:
    provider, clock = ObservedProvider(), FixedClock(T0)
    cache = cache_over(provider, clock)
    room_id = await open_room(provider)
    provider.fail_next("room_details")

    outcomes = await asyncio.gather(*(cache.room_details(room_id) for _ in range(5)), return_exceptions=True)

    assert all(isinstance(outcome, ProviderError) for outcome in outcomes)
    assert await description(cache, room_id) == "read 2"
    assert provider.reads == 2


async def test_a_caller_that_gives_up_does_not_cancel_the_call_for_the_others() -> None:
    provider, clock = ObservedProvider(), FixedClock(T0)
    cache = cache_over(provider, clock)
    room_id = await open_room(provider)
    provider.gate.clear()
    impatient = asyncio.create_task(cache.room_details(room_id))
    patient = asyncio.create_task(description(cache, room_id))
    await asyncio.sleep(0)

    impatient.cancel()
    await asyncio.sleep(0)
    provider.gate.set()

    assert await patient == "read 1"
    assert impatient.cancelled()
    assert await description(cache, room_id) == "read 1"
    assert provider.reads == 1


async def test_a_deleted_room_is_never_served_from_the_cache() -> None:
    provider, clock = ObservedProvider(), FixedClock(T0)
    cache = cache_over(provider, clock)
    room_id = await open_room(provider)
    assert await description(cache, room_id) == "read 1"

    await cache.delete_room(room_id)

    assert await cache.room_details(room_id) is None
    assert provider.reads == 2
    assert provider.deleted_rooms == [room_id]


async def test_an_answer_still_on_its_way_when_the_room_is_deleted_is_not_kept() -> None:
    provider, clock = ObservedProvider(), FixedClock(T0)
    cache = cache_over(provider, clock)
    room_id = await open_room(provider)
    provider.gate.clear()
    early_poll = asyncio.create_task(cache.room_details(room_id))
    await asyncio.sleep(0)

    await cache.delete_room(room_id)
    provider.gate.set()
    await early_poll

    assert await cache.room_details(room_id) is None
    assert provider.reads == 2


async def test_a_failed_deletion_still_evicts_the_room() -> None:
    provider, clock = ObservedProvider(), FixedClock(T0)
    cache = cache_over(provider, clock)
    room_id = await open_room(provider)
    await cache.room_details(room_id)
    provider.fail_next("delete_room")

    with pytest.raises(ProviderError):
        await cache.delete_room(room_id)

    assert await description(cache, room_id) == "read 2"


async def test_a_zero_time_to_live_asks_the_provider_every_time() -> None:
    provider, clock = ObservedProvider(), FixedClock(T0)
    cache = cache_over(provider, clock, timedelta(0))
    room_id = await open_room(provider)

    answers = await asyncio.gather(*(description(cache, room_id) for _ in range(3)))
    answers.append(await description(cache, room_id))

    assert sorted(answers) == ["read 1", "read 2", "read 3", "read 4"]
    assert cache.cached_rooms == 0


async def test_a_clock_that_goes_back_does_not_stretch_an_entry() -> None:
    provider, clock = ObservedProvider(), FixedClock(T0)
    cache = cache_over(provider, clock)
    room_id = await open_room(provider)
    await cache.room_details(room_id)

    clock.advance(-timedelta(hours=1))

    assert await description(cache, room_id) == "read 2"


async def test_rooms_nobody_polls_any_more_are_dropped() -> None:
    provider, clock = ObservedProvider(), FixedClock(T0)
    cache = cache_over(provider, clock)
    rooms = [await open_room(provider) for _ in range(50)]
    for room_id in rooms:
        await cache.room_details(room_id)
    assert cache.cached_rooms == 50

    clock.advance(TTL)
    await cache.room_details(rooms[0])

    assert cache.cached_rooms == 1


async def test_other_operations_go_straight_to_the_provider() -> None:
    provider, clock = ObservedProvider(), FixedClock(T0)
    cache = cache_over(provider, clock)

    room_id = await open_room(cache)

    assert cache.name == provider.name
    assert room_id in provider.rooms


def test_a_negative_time_to_live_is_refused() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        RoomDetailsCache(provider=ObservedProvider(), clock=FixedClock(T0), ttl=timedelta(seconds=-1))
