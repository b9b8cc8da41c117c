"""Queued room deletions: retried by sweeps, each room by one sweeper at a time, never lost."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest

from adapters.memory.video_provider import InMemoryVideoProvider
from application.errors import ProviderUnavailable, StoreUnavailable
from application.rooms import RoomKeeper
from domain.teleconsultation import SchedulingRules
from tests.application.harness import POLICY, Harness, create_command, doctor, patient


class SlowDeletions(InMemoryVideoProvider):
    """Deletions take a moment, so that concurrent sweeps really overlap; every attempt is counted."""

    def __init__(self) -> None:
        super().__init__()
        self.attempts: Counter[str] = Counter()

    async def delete_room(self, room_id: str) -> None:
        self.attempts[room_id] += 1
        await asyncio.sleep(0.01)
        await super().delete_room(room_id)


class PausedDeletions(InMemoryVideoProvider):
    """While `paused`, deletions fail as they do behind an open circuit breaker."""

    def __init__(self) -> None:
        super().__init__()
        self.paused = False
        self.refused = 0

    async def delete_room(self, room_id: str) -> None:
        if self.paused:
            self.refused += 1
            raise ProviderUnavailable(self.name, "delete_room", retry_after_seconds=30)
        await super().delete_room(room_id)


async def queued_rooms(h: Harness, count: int) -> list[str]:
    """`count` teleconsultations deleted while the provider failed: their rooms wait in the queue."""
    rooms = []
    for n in range(count):
        teleconsultation_id = await h.create.execute(create_command(doctor(f"doc-{n}"), patient(f"pat-{n}")))
        rooms.append((await h.store.teleconsultations.get(teleconsultation_id)).provider_room_id)
        h.provider.fail_next("delete_room")
        await h.delete.execute(teleconsultation_id, None)
    assert await h.store.cleanups.pending(100) == rooms
    return [room for room in rooms if room is not None]


def keeper(h: Harness, sweeper_id: str) -> RoomKeeper:
    """Another instance's keeper on the same store and provider."""
    return RoomKeeper(
        provider=h.provider,
        cleanups=h.store.cleanups,
        intents=h.store.intents,
        deletions=h.store.room_deletions,
        teleconsultations=h.store.teleconsultations,
        privileges=POLICY,
        rules=SchedulingRules(),
        clock=h.clock,
        sweeper_id=sweeper_id,
    )


async def test_two_sweepers_at_once_delete_each_room_exactly_once() -> None:
    h = Harness(provider=SlowDeletions())
    rooms = await queued_rooms(h, 6)
    provider = h.provider
    assert isinstance(provider, SlowDeletions)
    provider.attempts.clear()
    remaining = await asyncio.gather(keeper(h, "instance-a").sweep(), keeper(h, "instance-b").sweep())
    assert min(remaining) == 0  # whichever finished last saw an empty queue
    assert provider.attempts == Counter(dict.fromkeys(rooms, 1))
    assert await h.store.cleanups.count() == 0
    assert not provider.rooms


async def test_a_room_leased_by_a_sweeper_that_died_is_swept_once_the_lease_runs_out() -> None:
    h = Harness()
    [room] = await queued_rooms(h, 1)
    assert await h.store.cleanups.claim(room, "dead-instance", now=h.clock.now(), until=h.clock.now() + timedelta(1))
    assert await h.rooms.sweep() == 1
    assert room in h.provider.rooms
    h.clock.advance(timedelta(days=1))
    assert await h.rooms.sweep() == 0
    assert room in h.provider.deleted_rooms


async def test_a_failed_retry_stays_queued_and_the_next_sweep_tries_again() -> None:
    h = Harness()
    [room] = await queued_rooms(h, 1)
    h.provider.fail_next("delete_room")
    assert await h.rooms.sweep() == 1
    assert await keeper(h, "another-instance").sweep() == 0  # the failed lease was given back
    assert room in h.provider.deleted_rooms


async def test_a_sweep_stops_at_the_first_sign_of_an_open_circuit() -> None:
    h = Harness(provider=PausedDeletions())
    rooms = await queued_rooms(h, 3)
    provider = h.provider
    assert isinstance(provider, PausedDeletions)
    provider.paused = True
    assert await h.rooms.sweep() == 3
    assert provider.refused == 1  # the other two were not even tried
    provider.paused = False
    assert await h.rooms.sweep() == 0
    assert set(rooms) <= set(provider.deleted_rooms)


async def test_a_room_that_cannot_even_be_queued_does_not_fail_the_finished_request(
    caplog: pytest.LogCaptureFixture,
) -> None:
    h = Harness()
    teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
    room = (await h.store.teleconsultations.get(teleconsultation_id)).provider_room_id

    async def store_down(_: str) -> None:
        raise StoreUnavailable("down")

    h.store.cleanups.add = store_down  # type: ignore[method-assign,assignment]
    h.provider.fail_next("delete_room")
    await h.delete.execute(teleconsultation_id, None)
    assert room in h.provider.rooms
    [record] = [r for r in caplog.records if r.levelname == "ERROR"]
    assert record.room_id == room  # type: ignore[attr-defined]
    assert "by hand" in record.getMessage()
