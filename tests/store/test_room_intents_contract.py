"""Room intents and the rooms teleconsultations list as still to delete: one contract, the in-memory fakes and
MongoDB over the wire."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from application.dto import RecordedRoomDeletion
from tests.builders import T0, make_teleconsultation
from tests.store.conftest import Ports

LEASE = timedelta(minutes=2)
KEPT = timedelta(days=30)
TELECONSULTATION = "0123456789abcdef01234567"
NOW = T0 - timedelta(days=1)  # the store fixtures' clock


async def test_an_intent_is_overdue_only_once_its_lease_has_run_out_and_carries_its_room(ports: Ports) -> None:
    intents = ports.intents
    await intents.open("intent-a", TELECONSULTATION, now=T0, lease_until=T0 + LEASE)
    assert await intents.overdue(T0 + LEASE - timedelta(seconds=1), 10) == []
    await intents.record_room("intent-a", "room-a")
    [due] = await intents.overdue(T0 + LEASE, 10)
    assert (due.intent_id, due.teleconsultation_id, due.room_id) == ("intent-a", TELECONSULTATION, "room-a")
    assert (due.opened_at, due.lease_until) == (T0, T0 + LEASE)


async def test_overdue_intents_come_oldest_first_up_to_the_limit(ports: Ports) -> None:
    intents = ports.intents
    for n in (2, 0, 1):
        opened = T0 + timedelta(seconds=n)
        await intents.open(f"intent-{n}", TELECONSULTATION, now=opened, lease_until=opened + LEASE)
    later = T0 + 2 * LEASE
    assert [i.intent_id for i in await intents.overdue(later, 10)] == ["intent-0", "intent-1", "intent-2"]
    assert [i.intent_id for i in await intents.overdue(later, 2)] == ["intent-0", "intent-1"]
    assert await intents.overdue(later, 0) == []


async def test_a_closed_intent_is_gone_and_closing_it_again_says_so(ports: Ports) -> None:
    intents = ports.intents
    await intents.open("intent-a", TELECONSULTATION, now=T0, lease_until=T0)
    assert await intents.close("intent-a")
    assert not await intents.close("intent-a")
    assert not await intents.claim("intent-a", "sweeper-1", now=T0 + LEASE, until=T0 + 2 * LEASE)
    assert await intents.overdue(T0 + LEASE, 10) == []


async def test_a_claim_waits_for_the_lease_and_of_concurrent_claims_exactly_one_wins(ports: Ports) -> None:
    intents = ports.intents
    await intents.open("intent-a", TELECONSULTATION, now=T0, lease_until=T0 + LEASE)
    assert not await intents.claim("intent-a", "sweeper-1", now=T0, until=T0 + 2 * LEASE)  # its creator's still
    owners = [f"sweeper-{n}" for n in range(6)]
    won = await asyncio.gather(*(intents.claim("intent-a", o, now=T0 + LEASE, until=T0 + 2 * LEASE) for o in owners))
    assert sum(won) == 1
    winner = owners[won.index(True)]
    assert await intents.claim("intent-a", winner, now=T0 + LEASE, until=T0 + 3 * LEASE)  # renewing one's own
    assert await intents.overdue(T0 + 2 * LEASE, 10) == []  # claimed: not overdue until the claim runs out
    assert [i.intent_id for i in await intents.overdue(T0 + 3 * LEASE, 10)] == ["intent-a"]


async def test_an_intent_closed_as_unknown_is_kept_until_it_expires_and_is_never_resolved_again(ports: Ports) -> None:
    intents = ports.intents
    await intents.open("intent-a", TELECONSULTATION, now=T0, lease_until=T0 + LEASE)
    assert await intents.close_unknown("intent-a", now=T0, expires_at=T0 + KEPT)
    assert not await intents.close_unknown("intent-a", now=T0, expires_at=T0 + KEPT)
    assert not await intents.close("intent-a")
    assert await intents.overdue(T0 + LEASE, 10) == []
    assert not await intents.claim("intent-a", "sweeper-1", now=T0 + LEASE, until=T0 + 2 * LEASE)
    assert [i.intent_id for i in await intents.unknown(T0 + KEPT - timedelta(seconds=1), 10)] == ["intent-a"]
    assert await intents.unknown(T0 + KEPT, 10) == []


async def test_rooms_a_change_gave_up_are_listed_live_or_trashed_until_done(ports: Ports) -> None:
    repository, deletions = ports.teleconsultations, ports.room_deletions
    teleconsultation = make_teleconsultation(id=TELECONSULTATION)
    teleconsultation.attach_room("room-1", {})
    await repository.add(teleconsultation)
    assert (await deletions.pending(10, listed_before=NOW), await deletions.count()) == ([], 0)
    teleconsultation.give_up_room("room-1")
    teleconsultation.detach_room()
    await repository.save(teleconsultation)
    teleconsultation.attach_room("room-2", {})
    teleconsultation.discard()  # trashed in the same write that lists room-2
    await repository.save(teleconsultation)
    listed = [RecordedRoomDeletion(TELECONSULTATION, "room-1"), RecordedRoomDeletion(TELECONSULTATION, "room-2")]
    assert (await deletions.pending(10, listed_before=NOW), await deletions.count()) == (listed, 2)
    assert await deletions.pending(1, listed_before=NOW) == listed[:1]
    await deletions.done(listed[0])
    assert (await deletions.pending(10, listed_before=NOW), await deletions.count()) == (listed[1:], 1)


async def test_a_listing_is_pending_only_once_the_write_that_made_it_is_old_enough(ports: Ports) -> None:
    teleconsultation = make_teleconsultation(id=TELECONSULTATION)
    teleconsultation.give_up_room("room-1")
    await ports.teleconsultations.add(teleconsultation)  # written at NOW
    assert await ports.room_deletions.pending(10, listed_before=NOW - timedelta(milliseconds=1)) == []
    assert await ports.room_deletions.pending(10, listed_before=NOW) == [
        RecordedRoomDeletion(TELECONSULTATION, "room-1")
    ]
    assert await ports.room_deletions.count() == 1  # counted all the same


async def test_done_keeps_the_version_so_a_change_read_before_it_is_still_stored(ports: Ports) -> None:
    repository, deletions = ports.teleconsultations, ports.room_deletions
    teleconsultation = make_teleconsultation(id=TELECONSULTATION)
    teleconsultation.give_up_room("room-old")
    await repository.add(teleconsultation)
    read_before = await repository.get(TELECONSULTATION)
    await deletions.done(RecordedRoomDeletion(TELECONSULTATION, "room-old"))
    assert (await repository.get(TELECONSULTATION)).rooms_to_delete == ()
    read_before.give_up_room("room-new")
    await repository.save(read_before)  # no ConcurrentUpdate; the deleted room is merely listed again
    assert set((await repository.get(TELECONSULTATION)).rooms_to_delete) == {"room-old", "room-new"}
