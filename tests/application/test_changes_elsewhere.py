"""Other instances' writes told by the store's change feed: forgotten by the cache at once, the TTL the ceiling.

The use cases are the container's, over the memory store on a fixed clock that only the test moves: whatever shows
before the time to live ran out was told by the feed. A write "by another instance" goes straight to the store.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta

import pytest

from adapters.memory.store import InMemoryStore
from application.dto import Requester
from application.errors import NotFound
from entrypoints.metrics import ServiceMetrics
from tests.application.change_feed import FakeChangeFeed
from tests.application.harness import Harness, create_command, doctor, patient
from tests.application.observed_fakes import GatedRepository

TTL = timedelta(seconds=30)
PATIENT = Requester(("pat-1",))


def harness(feed: FakeChangeFeed | None, *, followed: bool = True) -> tuple[Harness, GatedRepository]:
    store = InMemoryStore()
    store.teleconsultations = gated = GatedRepository()
    store.changes = feed
    options = {"room_details_cache": TTL, "immutable_period": timedelta(minutes=10)}
    return Harness(store=store, cache_change_stream=followed, **options), gated  # type: ignore[arg-type]


@asynccontextmanager
async def following(h: Harness, feed: FakeChangeFeed | None) -> AsyncIterator[None]:
    async with h.container.change_follower().running():
        if feed is not None and feed.supported and feed.opens.is_set():
            await asyncio.wait_for(feed.live.wait(), 1)
        yield


async def rename_elsewhere(store: GatedRepository, teleconsultation_id: str, name: str = "Renamed") -> None:
    elsewhere = await store.get_elsewhere(teleconsultation_id)
    elsewhere.participants = tuple(replace(p, full_name=name) for p in elsewhere.participants)
    await store.save(elsewhere)  # past this instance's cache


async def cancel_elsewhere(store: GatedRepository, teleconsultation_id: str) -> None:
    elsewhere = await store.get_elsewhere(teleconsultation_id)
    elsewhere.discard()
    await store.save(elsewhere)


async def names(h: Harness, teleconsultation_id: str) -> list[str | None]:
    return [member.full_name for member in (await h.get.execute(teleconsultation_id, PATIENT)).members]


def metric(metrics: ServiceMetrics, name: str) -> float | None:
    return metrics.registry.get_sample_value(name)


async def test_without_cache_change_stream_the_feed_is_not_followed_and_the_time_to_live_bounds_changes() -> None:
    feed = FakeChangeFeed()
    h, store = harness(feed, followed=False)
    async with h.container.change_follower().running():
        teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
        assert await names(h, teleconsultation_id) == ["Joe Smith", "Jane Doe"]
        await rename_elsewhere(store, teleconsultation_id)
        await asyncio.sleep(0.01)
        assert feed.follows == 0  # nobody follows the store's feed
        assert not [t for t in asyncio.all_tasks() if t.get_name() == "change-follower"]
        assert await names(h, teleconsultation_id) == ["Joe Smith", "Jane Doe"]
        h.clock.advance(TTL)
        assert await names(h, teleconsultation_id) == ["Renamed", "Renamed"]


async def test_a_change_the_feed_tells_of_shows_on_the_next_poll_long_before_the_time_to_live() -> None:
    feed = FakeChangeFeed()
    h, store = harness(feed)
    async with following(h, feed):
        teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
        assert await names(h, teleconsultation_id) == ["Joe Smith", "Jane Doe"]
        await rename_elsewhere(store, teleconsultation_id)
        assert await names(h, teleconsultation_id) == ["Joe Smith", "Jane Doe"]  # cached: not told yet

        await feed.changed(teleconsultation_id)

        assert await names(h, teleconsultation_id) == ["Renamed", "Renamed"]  # the clock has not moved
        assert metric(h.container.metrics(), "teleconsultation_change_stream_forgotten_total") == 1


async def test_a_cancellation_the_feed_tells_of_is_not_found_on_the_next_poll() -> None:
    feed = FakeChangeFeed()
    h, store = harness(feed)
    async with following(h, feed):
        teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
        await h.get.execute(teleconsultation_id, PATIENT)
        await cancel_elsewhere(store, teleconsultation_id)
        await h.get.execute(teleconsultation_id, PATIENT)  # cached

        await feed.changed(teleconsultation_id)

        with pytest.raises(NotFound):
            await h.get.execute(teleconsultation_id, PATIENT)


async def test_a_read_under_way_when_the_feed_tells_of_a_change_is_not_remembered() -> None:
    feed = FakeChangeFeed()
    h, store = harness(feed)
    async with following(h, feed):
        teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
        store.gate.clear()
        slow_read = asyncio.create_task(h.get.execute(teleconsultation_id, PATIENT))
        await asyncio.sleep(0.01)  # it has read the store and waits at the gate
        await cancel_elsewhere(store, teleconsultation_id)
        await feed.changed(teleconsultation_id)  # told while the slow read is still under way
        store.gate.set()
        await slow_read  # read before the cancellation: it may answer what it read...
        with pytest.raises(NotFound):  # ...but the next poll must not be served it
            await h.get.execute(teleconsultation_id, PATIENT)


async def test_what_was_read_before_the_feed_opened_is_forgotten_when_it_opens() -> None:
    feed = FakeChangeFeed()
    feed.opens.clear()
    h, store = harness(feed)
    async with following(h, feed):
        teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
        assert await names(h, teleconsultation_id) == ["Joe Smith", "Jane Doe"]
        await rename_elsewhere(store, teleconsultation_id)  # between the read and the feed's opening: never told
        assert await names(h, teleconsultation_id) == ["Joe Smith", "Jane Doe"]

        feed.opens.set()
        await asyncio.wait_for(feed.live.wait(), 1)

        assert await names(h, teleconsultation_id) == ["Renamed", "Renamed"]


@pytest.mark.parametrize("feed", [FakeChangeFeed(supported=False), None], ids=["no change streams", "no feed"])
async def test_without_a_feed_other_instances_writes_show_once_the_time_to_live_ran_out(
    feed: FakeChangeFeed | None, caplog: pytest.LogCaptureFixture
) -> None:
    h, store = harness(feed)
    with caplog.at_level(logging.INFO, logger="entrypoints"):
        async with following(h, feed):
            await asyncio.sleep(0.01)  # the follower has started, and stopped
            teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
            await names(h, teleconsultation_id)
            await rename_elsewhere(store, teleconsultation_id)

            h.clock.advance(TTL - timedelta(milliseconds=1))
            assert await names(h, teleconsultation_id) == ["Joe Smith", "Jane Doe"]
            h.clock.advance(timedelta(milliseconds=1))
            assert await names(h, teleconsultation_id) == ["Renamed", "Renamed"]
    told = [r.getMessage() for r in caplog.records if r.name.startswith("entrypoints")]
    if feed is None:  # the memory store: no other instance, nothing to say
        assert told == []
    else:
        assert told == [
            "the store offers no change streams: other instances' writes show within ROOM_DETAILS_CACHE_SECONDS (30 s)"
        ]
        assert feed.follows == 1
    assert metric(h.container.metrics(), "teleconsultation_change_stream_live") == 0


async def test_a_silent_feed_leaves_changes_to_the_time_to_live() -> None:
    feed = FakeChangeFeed()
    h, store = harness(feed)
    async with following(h, feed):
        teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
        await names(h, teleconsultation_id)
        await cancel_elsewhere(store, teleconsultation_id)  # the feed never tells of it
        h.clock.advance(TTL - timedelta(milliseconds=1))
        await h.get.execute(teleconsultation_id, PATIENT)
        h.clock.advance(timedelta(milliseconds=1))
        with pytest.raises(NotFound):
            await h.get.execute(teleconsultation_id, PATIENT)


async def test_after_a_gap_in_the_feed_everything_is_read_again() -> None:
    feed = FakeChangeFeed()
    h, store = harness(feed)
    async with following(h, feed):
        ids = [await h.create.execute(create_command(doctor(f"doc-{n}"), patient())) for n in range(3)]
        for teleconsultation_id in ids:
            await names(h, teleconsultation_id)
        for teleconsultation_id in ids:
            await rename_elsewhere(store, teleconsultation_id)
        reads = store.reads

        await feed.lost_and_not_resumed()

        for teleconsultation_id in ids:
            assert await names(h, teleconsultation_id) == ["Renamed", "Renamed"]
        assert store.reads == reads + 3
        assert metric(h.container.metrics(), "teleconsultation_change_stream_gaps_total") == 2  # opening, the gap


async def test_a_feed_that_crashes_is_started_again_and_the_service_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    feed = FakeChangeFeed()
    h, store = harness(feed)
    metrics = h.container.metrics()
    async with following(h, feed):
        teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
        await names(h, teleconsultation_id)
        with caplog.at_level(logging.ERROR, logger="entrypoints"):
            await feed.crash()
        assert metric(metrics, "teleconsultation_change_stream_live") == 0
        assert metric(metrics, "teleconsultation_change_stream_crashes_total") == 1
        assert [r.getMessage() for r in caplog.records] == [
            "following the store's changes failed unexpectedly; starting again"
        ]
        await rename_elsewhere(store, teleconsultation_id)  # while nothing follows: the reopening covers it
        await asyncio.wait_for(feed.live.wait(), 1)  # started again

        assert feed.follows == 2
        assert metric(metrics, "teleconsultation_change_stream_live") == 1
        assert await names(h, teleconsultation_id) == ["Renamed", "Renamed"]
        await rename_elsewhere(store, teleconsultation_id, "Again")
        await feed.changed(teleconsultation_id)
        assert await names(h, teleconsultation_id) == ["Again", "Again"]


async def test_the_follower_stops_with_the_service() -> None:
    feed = FakeChangeFeed()
    h, _ = harness(feed)
    async with following(h, feed):
        assert [t for t in asyncio.all_tasks() if t.get_name() == "change-follower"]
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "change-follower" and not t.done()]


async def test_a_feed_that_will_not_let_go_does_not_hold_up_the_service_stopping(
    caplog: pytest.LogCaptureFixture,
) -> None:
    feed = FakeChangeFeed(stubborn=True)
    h, _ = harness(feed)
    h.container.change_follower.add_kwargs(stop_seconds=0.1)  # the default (2 s) would only make the test slow
    follower = h.container.change_follower()
    started = asyncio.get_running_loop().time()
    with caplog.at_level(logging.WARNING, logger="entrypoints"):
        async with follower.running():
            await asyncio.wait_for(feed.live.wait(), 1)
    assert asyncio.get_running_loop().time() - started < 1
    assert [r.getMessage() for r in caplog.records] == ["change-follower did not stop within 0.1 s; leaving it"]
    for task in [t for t in asyncio.all_tasks() if t.get_name() == "change-follower"]:
        task.cancel()  # the second cancellation ends it
