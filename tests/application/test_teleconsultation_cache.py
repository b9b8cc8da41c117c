"""Teleconsultations cached per instance: hits, own writes seen at once, the time to live, the bound, the copies.

The use cases are the container's, over the memory store on a fixed clock; a write "by another instance" is a
write made straight to the store, past this instance's cache.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from adapters.memory.clock import FixedClock
from adapters.memory.repository import InMemoryTeleconsultationRepository
from adapters.memory.store import InMemoryStore
from application.dto import Requester
from application.errors import NotFound
from application.teleconsultation_cache import CachedTeleconsultations
from application.update_teleconsultation import UpdateTeleconsultationCommand
from tests.application.harness import Harness, create_command, doctor, patient, roster
from tests.application.observed_fakes import GatedRepository
from tests.builders import T0

TTL = timedelta(seconds=2)
PATIENT = Requester(("pat-1",))


def harness(**overrides: object) -> tuple[Harness, GatedRepository]:
    store = InMemoryStore()
    store.teleconsultations = counted = GatedRepository()
    options: dict[str, object] = {"room_details_cache": TTL, "immutable_period": timedelta(minutes=10)}
    return Harness(store=store, **{**options, **overrides}), counted  # type: ignore[arg-type]


async def test_polls_within_the_time_to_live_read_the_store_once() -> None:
    h, store = harness()
    teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
    reads = store.reads
    for _ in range(5):
        await h.get.execute(teleconsultation_id, PATIENT)
        h.clock.advance(TTL / 10)
    assert store.reads == reads + 1


async def test_another_instances_change_shows_once_the_time_to_live_ran_out() -> None:
    h, store = harness()
    teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
    await h.get.execute(teleconsultation_id, PATIENT)
    elsewhere = await store.get(teleconsultation_id)
    elsewhere.participants = tuple(replace(p, full_name="Renamed") for p in elsewhere.participants)
    await store.save(elsewhere)  # past this instance's cache

    h.clock.advance(TTL - timedelta(milliseconds=1))
    stale = await h.get.execute(teleconsultation_id, PATIENT)
    assert "Renamed" not in [m.full_name for m in stale.members]
    h.clock.advance(timedelta(milliseconds=1))
    fresh = await h.get.execute(teleconsultation_id, PATIENT)
    assert [m.full_name for m in fresh.members] == ["Renamed", "Renamed"]


async def test_another_instances_cancellation_is_not_found_once_the_time_to_live_ran_out() -> None:
    h, store = harness()
    teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
    await h.get.execute(teleconsultation_id, PATIENT)
    elsewhere = await store.get(teleconsultation_id)
    elsewhere.discard()
    await store.save(elsewhere)
    h.clock.advance(TTL)
    with pytest.raises(NotFound):
        await h.get.execute(teleconsultation_id, PATIENT)


async def test_this_instances_cancellation_is_not_found_on_the_next_poll() -> None:
    h, _ = harness()
    teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
    await h.get.execute(teleconsultation_id, PATIENT)
    await h.delete.execute(teleconsultation_id, None)
    with pytest.raises(NotFound):
        await h.get.execute(teleconsultation_id, PATIENT)


async def test_this_instances_change_shows_on_the_next_poll() -> None:
    h, _ = harness()
    teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
    before = await h.get.execute(teleconsultation_id, PATIENT)
    await h.update.execute(
        UpdateTeleconsultationCommand(teleconsultation_id, roster=roster(doctor("doc-2"), patient()))
    )
    after = await h.get.execute(teleconsultation_id, PATIENT)
    assert after.members[0].provider_user_id != before.members[0].provider_user_id
    # Twice in a row: the read that follows a change is fresh, and the change needs no second try (the version
    # the use case read is the stored one).
    await h.update.execute(UpdateTeleconsultationCommand(teleconsultation_id, start=T0 + timedelta(hours=1)))
    await h.update.execute(UpdateTeleconsultationCommand(teleconsultation_id, start=T0 + timedelta(hours=2)))
    assert (await h.store.teleconsultations.get(teleconsultation_id)).schedule.start == T0 + timedelta(hours=2)


async def test_pollers_that_miss_together_share_one_store_read_and_it_is_remembered() -> None:
    # Under steady load the misses of an expired entry overlap: each must not start a read of its own (the last
    # one would disown the others' and none would be remembered while the load lasts).
    h, store = harness()
    teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
    await h.get.execute(teleconsultation_id, PATIENT)
    h.clock.advance(TTL)
    reads = store.reads
    store.gate.clear()
    pollers = [asyncio.create_task(h.get.execute(teleconsultation_id, PATIENT)) for _ in range(20)]
    await asyncio.sleep(0.01)
    late = asyncio.create_task(h.get.execute(teleconsultation_id, PATIENT))  # arrives while the read is under way
    await asyncio.sleep(0.01)
    store.gate.set()
    answers = await asyncio.gather(*pollers, late)
    assert store.reads == reads + 1
    assert {answer.provider_user_id for answer in answers} == {answers[0].provider_user_id}
    await h.get.execute(teleconsultation_id, PATIENT)
    assert store.reads == reads + 1


async def test_a_poller_that_hangs_up_does_not_cancel_the_read_the_others_wait_for() -> None:
    h, store = harness()
    cache = h.container.teleconsultations()
    teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
    h.clock.advance(TTL)
    reads = store.reads
    store.gate.clear()
    leaving = asyncio.create_task(cache.get(teleconsultation_id))
    staying = asyncio.create_task(cache.get(teleconsultation_id))
    await asyncio.sleep(0.01)
    leaving.cancel()
    store.gate.set()
    first = await staying
    with pytest.raises(asyncio.CancelledError):
        await leaving
    first.participants = ()  # each waiter holds a copy of its own
    assert len((await cache.get(teleconsultation_id)).participants) == 2
    assert store.reads == reads + 1


async def test_a_read_under_way_when_this_instance_writes_is_not_remembered() -> None:
    h, store = harness()
    cache = h.container.teleconsultations()
    teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
    change = await cache.get(teleconsultation_id)
    h.clock.advance(TTL)  # the next read asks the store
    store.gate.clear()
    slow_read = asyncio.create_task(cache.get(teleconsultation_id))
    await asyncio.sleep(0.01)  # it has read the store and waits at the gate
    change.discard()
    await cache.save(change)  # meanwhile
    store.gate.set()
    assert not (await slow_read).discarded  # read before the cancellation: it may answer what it read...
    with pytest.raises(NotFound):  # ...but the next poll must not be served it
        await h.get.execute(teleconsultation_id, PATIENT)


async def test_a_use_case_that_changes_what_it_read_changes_no_one_elses_copy() -> None:
    clock = FixedClock(T0)
    store = InMemoryTeleconsultationRepository()
    cache = CachedTeleconsultations(repository=store, clock=clock, ttl=TTL, max_entries=10)
    h, _ = harness()
    teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
    await store.add(await h.store.teleconsultations.get(teleconsultation_id))

    first = await cache.get(teleconsultation_id)  # a miss: the store's answer
    first.participants = ()
    first.provider_room_id = None
    second = await cache.get(teleconsultation_id)  # a hit
    assert len(second.participants) == 2
    assert second.provider_room_id is not None
    second.participants = ()
    second.version = 99
    third = await cache.get(teleconsultation_id)
    assert len(third.participants) == 2
    assert third.version == 1
    assert third is not second


async def test_the_cache_holds_at_most_its_size_and_drops_the_least_recently_used() -> None:
    h, store = harness(teleconsultation_cache_size=2)
    ids = [await h.create.execute(create_command(doctor(), patient(f"pat-{n}"))) for n in range(3)]
    cache = h.container.teleconsultations()
    for n, teleconsultation_id in enumerate(ids[:2]):
        await h.get.execute(teleconsultation_id, Requester((f"pat-{n}",)))
    await h.get.execute(ids[0], Requester(("pat-0",)))  # ids[1] is now the least recently used
    await h.get.execute(ids[2], Requester(("pat-2",)))
    assert cache.cached == 2
    reads = store.reads
    await h.get.execute(ids[0], Requester(("pat-0",)))
    await h.get.execute(ids[2], Requester(("pat-2",)))
    assert store.reads == reads
    await h.get.execute(ids[1], Requester(("pat-1",)))
    assert store.reads == reads + 1


async def test_unknown_ids_and_other_spellings_of_an_id_always_ask_the_store() -> None:
    h, store = harness()
    teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
    reads = store.reads
    for _ in range(2):
        with pytest.raises(NotFound):
            await h.get.execute("0" * 24, PATIENT)
        await h.get.execute(teleconsultation_id.upper(), PATIENT)
    assert store.reads == reads + 4


@pytest.mark.parametrize("settings", [{"room_details_cache": timedelta(0)}, {"teleconsultation_cache_size": 0}])
async def test_a_zero_time_to_live_or_size_turns_the_cache_off(settings: dict[str, object]) -> None:
    h, store = harness(**settings)
    teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
    reads = store.reads
    for _ in range(3):
        await h.get.execute(teleconsultation_id, PATIENT)
    assert store.reads == reads + 3
