"""The room details cache: time to live on a fixed clock, single flight, eviction on deletion, zero = off; and
several workers over one shared record (two caches over one InMemorySharedRoomDetails are two worker processes)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.memory.clock import FixedClock
from adapters.memory.room_details import InMemorySharedRoomDetails
from adapters.memory.video_provider import InMemoryVideoProvider
from application.dto import RoomDetails, RoomMember, RoomSpec, SharedRoomDetailsRecord
from application.errors import ProviderError, StoreUnavailable
from application.ports import SharedRoomDetails, VideoProvider
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


# ------------------------------------------------------------------ several workers over one shared record


class FlakyShared(InMemorySharedRoomDetails):
    """The in-memory shared records, whose operations named in `failing` fail as a store that is down does."""

    def __init__(self) -> None:
        super().__init__()
        self.failing: set[str] = set()

    def _check(self, operation: str) -> None:
        if operation in self.failing:
            raise StoreUnavailable("MongoDB is unavailable (AutoReconnect)")

    async def read(self, room_id: str) -> SharedRoomDetailsRecord | None:
        self._check("read")
        return await super().read(room_id)

    async def claim(self, room_id: str, owner: str, *, now: datetime, until: datetime, fresh_for: timedelta) -> bool:
        self._check("claim")
        return await super().claim(room_id, owner, now=now, until=until, fresh_for=fresh_for)

    async def publish(self, room_id: str, owner: str, details: RoomDetails | None, *, fetched_at: datetime) -> bool:
        self._check("publish")
        return await super().publish(room_id, owner, details, fetched_at=fetched_at)

    async def release(self, room_id: str, owner: str) -> None:
        self._check("release")
        await super().release(room_id, owner)

    async def forget(self, room_id: str) -> None:
        self._check("forget")
        await super().forget(room_id)


@dataclass
class Workers:
    """Worker processes of one instance: each its own cache, all over one provider, one clock, one shared store."""

    provider: ObservedProvider = field(default_factory=ObservedProvider)
    clock: FixedClock = field(default_factory=lambda: FixedClock(T0))
    shared: FlakyShared = field(default_factory=FlakyShared)
    claim_for: timedelta = timedelta(seconds=10)
    store_failures: int = 0

    def worker(self, shared: SharedRoomDetails | None = None) -> RoomDetailsCache:
        return RoomDetailsCache(
            provider=self.provider,
            clock=self.clock,
            ttl=TTL,
            shared=self.shared if shared is None else shared,
            claim_for=self.claim_for,
            on_store_failure=self._count_failure,
        )

    def _count_failure(self) -> None:
        self.store_failures += 1


@given(steps=st.lists(st.tuples(st.integers(0, 3000), st.integers(0, 2)), max_size=30))
async def test_workers_together_ask_the_provider_exactly_when_the_last_answer_is_too_old(
    steps: list[tuple[int, int]],
) -> None:
    setup = Workers()
    workers = [setup.worker() for _ in range(3)]
    room_id = await open_room(setup.provider)
    fetched_at = setup.clock.now()
    await workers[0].room_details(room_id)
    expected_reads = 1
    for step_ms, worker in steps:
        now = setup.clock.advance(timedelta(milliseconds=step_ms))
        if now - fetched_at >= TTL:
            expected_reads, fetched_at = expected_reads + 1, now
        assert await description(workers[worker], room_id) == f"read {expected_reads}"
        assert setup.provider.reads == expected_reads
    assert setup.store_failures == 0


async def test_a_worker_keeps_details_it_read_from_the_store_no_longer_than_the_store_does() -> None:
    setup = Workers()
    a, b = setup.worker(), setup.worker()
    room_id = await open_room(setup.provider)
    assert await description(a, room_id) == "read 1"
    setup.clock.advance(TTL / 2)
    assert await description(b, room_id) == "read 1"  # from the shared record, fetched at T0

    setup.clock.advance(TTL / 2)

    assert await description(b, room_id) == "read 2"  # not kept until T0 + TTL / 2 + TTL
    assert await description(a, room_id) == "read 2"
    assert setup.provider.reads == 2


class ReadWhileAnotherWorkerFetches(InMemorySharedRoomDetails):
    """A shared record whose first read, by a worker that has just looked at its clock, lets a moment pass and
    another worker fetch and publish before answering: the record then says "fetched after now"."""

    def __init__(self, clock: FixedClock) -> None:
        super().__init__()
        self.clock = clock
        self.other_worker: RoomDetailsCache | None = None

    async def read(self, room_id: str) -> SharedRoomDetailsRecord | None:
        other, self.other_worker = self.other_worker, None
        if other is not None:
            self.clock.advance(timedelta(milliseconds=3))
            await other.room_details(room_id)
        return await super().read(room_id)


async def test_details_another_worker_fetched_after_this_one_read_its_clock_are_used_not_fetched_again() -> None:
    # Two workers under load on the embedded store were seen asking the provider 9 ms apart: the second took the
    # first's fresh publication, dated a few ms after its own clock reading, for a clock that went back.
    setup = Workers()
    shared = ReadWhileAnotherWorkerFetches(setup.clock)
    a, b = setup.worker(shared), setup.worker(shared)
    room_id = await open_room(setup.provider)
    shared.other_worker = b

    assert await description(a, room_id) == "read 1"
    assert setup.provider.reads == 1
    setup.clock.advance(TTL - timedelta(milliseconds=3))  # b's period, started 3 ms after a looked: still fresh
    assert await description(a, room_id) == "read 1"
    setup.clock.advance(timedelta(milliseconds=3))
    assert await description(a, room_id) == "read 2"


async def test_concurrent_misses_in_two_workers_share_one_provider_call() -> None:
    setup = Workers()
    a, b = setup.worker(), setup.worker()
    room_id = await open_room(setup.provider)
    setup.provider.gate.clear()

    pollers = [asyncio.create_task(description(worker, room_id)) for _ in range(10) for worker in (a, b)]
    await asyncio.sleep(0.02)  # both workers are under way: one calls the provider, the other waits for it
    setup.provider.gate.set()

    assert set(await asyncio.gather(*pollers)) == {"read 1"}
    assert setup.provider.reads == 1


async def test_a_worker_that_waited_in_vain_for_a_publication_asks_the_provider_itself() -> None:
    setup = Workers(claim_for=timedelta(milliseconds=50))
    room_id = await open_room(setup.provider)
    # A worker claimed the room and never published (it hangs): the clock stands still, so its claim runs.
    assert await setup.shared.claim(room_id, "hung-worker", now=T0, until=T0 + timedelta(hours=1), fresh_for=TTL)

    assert await asyncio.wait_for(description(setup.worker(), room_id), timeout=5) == "read 1"

    assert setup.provider.reads == 1
    record = await setup.shared.read(room_id)
    assert record is not None
    assert record.claimed_by == "hung-worker"  # its claim is not this worker's to take or publish under


async def test_a_claim_left_by_a_dead_worker_is_taken_over_once_it_runs_out() -> None:
    setup = Workers()
    room_id = await open_room(setup.provider)
    assert await setup.shared.claim(room_id, "dead-worker", now=T0, until=T0 + setup.claim_for, fresh_for=TTL)
    setup.clock.advance(setup.claim_for)

    assert await description(setup.worker(), room_id) == "read 1"
    assert await description(setup.worker(), room_id) == "read 1"

    assert setup.provider.reads == 1
    record = await setup.shared.read(room_id)
    assert record is not None
    assert (record.fetched_at, record.claimed_by) == (setup.clock.now(), None)


async def test_a_failed_provider_call_is_not_published_and_lets_another_worker_ask_at_once() -> None:
    setup = Workers()  # a claim lasts 10 s: the second worker must not wait for it
    a, b = setup.worker(), setup.worker()
    room_id = await open_room(setup.provider)
    setup.provider.fail_next("room_details")

    with pytest.raises(ProviderError):
        await a.room_details(room_id)

    record = await setup.shared.read(room_id)
    assert record is not None
    assert (record.details, record.fetched_at, record.claimed_by) == (None, None, None)
    assert await asyncio.wait_for(description(b, room_id), timeout=1) == "read 2"
    assert await description(a, room_id) == "read 2"


EVERY_OPERATION = {"read", "claim", "publish", "release", "forget"}


@pytest.mark.parametrize("failing", [{"read"}, {"claim"}, {"publish"}, EVERY_OPERATION])
async def test_a_failing_store_sends_the_read_to_the_provider_and_is_counted(failing: set[str]) -> None:
    setup = Workers()
    worker = setup.worker()
    room_id = await open_room(setup.provider)
    setup.shared.failing = failing

    assert await description(worker, room_id) == "read 1"
    assert await description(worker, room_id) == "read 1"  # remembered by this worker all the same

    assert setup.store_failures == 1
    assert setup.provider.reads == 1


async def test_a_failing_store_neither_fails_nor_stops_a_deletion() -> None:
    setup = Workers()
    worker = setup.worker()
    room_id = await open_room(setup.provider)
    await worker.room_details(room_id)
    setup.shared.failing = {"forget"}

    await worker.delete_room(room_id)

    assert setup.provider.deleted_rooms == [room_id]
    assert setup.store_failures == 2  # the record is forgotten before the deletion and again after it


async def test_a_claimant_whose_release_fails_still_reports_the_provider_failure() -> None:
    setup = Workers()
    worker = setup.worker()
    room_id = await open_room(setup.provider)
    setup.provider.fail_next("room_details")
    setup.shared.failing = {"release"}

    with pytest.raises(ProviderError):
        await worker.room_details(room_id)

    assert setup.store_failures == 1


async def test_a_deleted_room_is_forgotten_by_every_worker_through_the_store() -> None:
    setup = Workers()
    a, b = setup.worker(), setup.worker()
    room_id = await open_room(setup.provider)
    assert await description(a, room_id) == "read 1"

    await a.delete_room(room_id)

    assert await setup.shared.read(room_id) is None
    assert await b.room_details(room_id) is None  # asked the provider, which no longer has the room
    assert setup.provider.reads == 2


async def test_an_answer_on_its_way_when_another_worker_deletes_the_room_is_not_shared() -> None:
    setup = Workers()
    a, b = setup.worker(), setup.worker()
    room_id = await open_room(setup.provider)
    setup.provider.gate.clear()
    early_poll = asyncio.create_task(a.room_details(room_id))
    await asyncio.sleep(0.01)  # a holds the claim and waits for the provider

    await b.delete_room(room_id)
    setup.provider.gate.set()
    await early_poll

    assert await setup.shared.read(room_id) is None


def test_a_claim_of_no_time_is_refused() -> None:
    with pytest.raises(ValueError, match="positive time"):
        RoomDetailsCache(provider=ObservedProvider(), clock=FixedClock(T0), ttl=TTL, claim_for=timedelta(0))


class SlowClaims(InMemorySharedRoomDetails):
    """Claims that take `delay` on `clock`, as a store syncing every write to disk under load does."""

    def __init__(self, clock: FixedClock, delay: timedelta) -> None:
        super().__init__()
        self._clock, self._delay = clock, delay

    async def claim(self, room_id: str, owner: str, *, now: datetime, until: datetime, fresh_for: timedelta) -> bool:
        claimed = await super().claim(room_id, owner, now=now, until=until, fresh_for=fresh_for)
        self._clock.advance(self._delay)
        return claimed


async def test_the_period_starts_when_the_provider_is_asked_not_when_the_claim_was_taken() -> None:
    setup = Workers()
    slow = SlowClaims(setup.clock, TTL / 4)
    a, b = setup.worker(slow), setup.worker(slow)
    room_id = await open_room(setup.provider)
    assert await description(a, room_id) == "read 1"  # claimed at T0, asked at T0 + TTL / 4
    setup.clock.set(T0 + TTL)

    assert await description(b, room_id) == "read 1"  # TTL after the claim, but not after the provider call
    setup.clock.set(T0 + TTL / 4 + TTL)
    assert await description(b, room_id) == "read 2"
    assert setup.provider.reads == 2
