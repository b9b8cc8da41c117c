"""The pending-cleanup leases, one contract for the in-memory fake and MongoDB over the wire."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from tests.builders import T0
from tests.store.conftest import Ports

LEASE = timedelta(minutes=2)


async def test_a_claimed_room_is_refused_to_others_until_its_lease_runs_out(ports: Ports) -> None:
    cleanups = ports.cleanups
    await cleanups.add("room-a")
    assert await cleanups.claim("room-a", "sweeper-1", now=T0, until=T0 + LEASE)
    assert not await cleanups.claim("room-a", "sweeper-2", now=T0 + LEASE - timedelta(seconds=1), until=T0 + LEASE)
    assert await cleanups.claim("room-a", "sweeper-1", now=T0, until=T0 + 2 * LEASE)  # renewing one's own
    assert not await cleanups.claim("room-a", "sweeper-2", now=T0 + LEASE, until=T0 + 3 * LEASE)
    assert await cleanups.claim("room-a", "sweeper-2", now=T0 + 2 * LEASE, until=T0 + 3 * LEASE)
    assert await cleanups.pending(10) == ["room-a"]  # leased rooms are still pending


async def test_a_released_room_can_be_claimed_at_once_but_only_its_owner_releases_it(ports: Ports) -> None:
    cleanups = ports.cleanups
    await cleanups.add("room-a")
    assert await cleanups.claim("room-a", "sweeper-1", now=T0, until=T0 + LEASE)
    await cleanups.release("room-a", "sweeper-2")
    assert not await cleanups.claim("room-a", "sweeper-2", now=T0, until=T0 + LEASE)
    await cleanups.release("room-a", "sweeper-1")
    assert await cleanups.claim("room-a", "sweeper-2", now=T0, until=T0 + LEASE)


async def test_only_pending_rooms_can_be_claimed_and_queueing_again_keeps_the_lease(ports: Ports) -> None:
    cleanups = ports.cleanups
    assert not await cleanups.claim("never-queued", "sweeper-1", now=T0, until=T0 + LEASE)
    await cleanups.add("room-a")
    assert await cleanups.claim("room-a", "sweeper-1", now=T0, until=T0 + LEASE)
    await cleanups.add("room-a")
    assert not await cleanups.claim("room-a", "sweeper-2", now=T0, until=T0 + LEASE)
    await cleanups.remove("room-a")
    assert not await cleanups.claim("room-a", "sweeper-1", now=T0, until=T0 + LEASE)


async def test_of_concurrent_claims_exactly_one_wins(ports: Ports) -> None:
    cleanups = ports.cleanups
    await cleanups.add("room-a")
    owners = [f"sweeper-{n}" for n in range(6)]
    won = await asyncio.gather(*(cleanups.claim("room-a", o, now=T0, until=T0 + LEASE) for o in owners))
    assert sum(won) == 1


async def test_count_follows_the_queue(ports: Ports) -> None:
    cleanups = ports.cleanups
    assert await cleanups.count() == 0
    for room in ("room-a", "room-b", "room-a"):
        await cleanups.add(room)
    assert await cleanups.count() == 2
    await cleanups.remove("room-b")
    assert await cleanups.count() == 1
    assert await cleanups.pending(0) == []
