"""A creation records its new provider users while its room is created, and stores the teleconsultation only once
both are done: a user that did not get into the user-id map fails the creation, and its room goes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection
from datetime import timedelta

import pytest

from adapters.memory.repository import InMemoryUserIdMap
from adapters.memory.store import InMemoryStore
from adapters.memory.video_provider import InMemoryVideoProvider
from application.create_teleconsultation import CreateTeleconsultationCommand
from application.dto import ProvisionedRoom, RoomSpec, UserMapping
from application.errors import NotFound, StoreUnavailable, UserCreationInProgress
from application.idempotent_creation import IdempotencyKey, IdempotentCreateTeleconsultation
from domain.privileges import Privilege
from tests.application.harness import Harness, create_command, doctor, patient
from tests.application.observed_fakes import issued_ids
from tests.processes import eventually

PAST_THE_RESERVATION = timedelta(seconds=31)  # reservations last 30 seconds by default
FAR_AHEAD = timedelta(days=1)
WAIT = 2.0  # seconds a step may take here before the test gives up


class Gate:
    """Holds whoever passes until opened, and tells when someone is being held."""

    def __init__(self) -> None:
        self.reached = asyncio.Event()
        self.opened = asyncio.Event()

    async def pass_through(self) -> None:
        self.reached.set()
        await self.opened.wait()


class GatedUserIds(InMemoryUserIdMap):
    """Completions wait at a gate; `on_complete_all` runs first (a takeover, a failing store)."""

    def __init__(self) -> None:
        super().__init__()
        self.gate: Gate | None = None
        self.on_complete_all: list[Callable[[], Awaitable[None]]] = []  # run (and dropped) one per completion

    async def complete_all(self, mappings: Collection[UserMapping], owner: str) -> set[str]:
        if self.gate is not None:
            await self.gate.pass_through()
        if self.on_complete_all:
            step = self.on_complete_all.pop(0)
            await step()
        return await super().complete_all(mappings, owner)


class GatedProvider(InMemoryVideoProvider):
    """Room creations wait at a gate."""

    def __init__(self) -> None:
        super().__init__()
        self.gate: Gate | None = None

    async def create_room(self, spec: RoomSpec) -> ProvisionedRoom:
        if self.gate is not None:
            await self.gate.pass_through()
        return await super().create_room(spec)


def gated() -> tuple[Harness, GatedUserIds, GatedProvider, list[str]]:
    """A harness with gated completions and room creations, and the teleconsultation ids it hands out."""
    store = InMemoryStore()
    user_ids = store.user_ids = GatedUserIds()
    provider = GatedProvider()
    h = Harness(store=store, provider=provider)
    return h, user_ids, provider, issued_ids(h.store.teleconsultations)


def taking_over(h: Harness, user_ids: GatedUserIds, winner: str) -> Callable[[], Awaitable[None]]:
    """Our reservation of pat-1 runs out before we record it, and another instance maps its own user `winner`."""

    async def another_creator_takes_over() -> None:
        h.clock.advance(PAST_THE_RESERVATION)
        now = h.clock.now()
        await user_ids.reserve("pat-1", "another-instance", now=now, until=now + timedelta(seconds=30))
        await user_ids.complete(UserMapping("pat-1", winner), "another-instance")

    return another_creator_takes_over


def new_people() -> CreateTeleconsultationCommand:
    return create_command(doctor(), patient())


async def nothing_left(h: Harness, issued: list[str]) -> None:
    """Nothing stored, no room at the provider, no intent open."""
    for teleconsultation_id in issued:
        with pytest.raises(NotFound):
            await h.store.teleconsultations.get(teleconsultation_id)
    assert h.provider.rooms == {}
    assert len(h.provider.deleted_rooms) == 1
    assert await h.store.intents.overdue(h.clock.now() + FAR_AHEAD, 10) == []


async def test_the_room_is_created_while_the_new_users_are_recorded() -> None:
    h, user_ids, provider, issued = gated()
    user_ids.gate, provider.gate = Gate(), Gate()
    creating = asyncio.create_task(h.create.execute(new_people()))

    # Each held at its gate at the same time: neither waits for the other.
    await asyncio.wait_for(asyncio.gather(user_ids.gate.reached.wait(), provider.gate.reached.wait()), WAIT)
    assert issued
    with pytest.raises(NotFound):  # nothing is stored while either runs
        await h.store.teleconsultations.get(issued[0])
    provider.gate.opened.set()
    await eventually(lambda: provider.rooms, what="the room's creation")
    assert not creating.done()  # the room is made; the users are still being recorded
    user_ids.gate.opened.set()
    teleconsultation_id = await asyncio.wait_for(creating, WAIT)

    stored = await h.store.teleconsultations.get(teleconsultation_id)
    mapped = await user_ids.find_many(["doc-1", "pat-1"])
    assert {p.provider_user_id for p in stored.participants} == {m.provider_user_id for m in mapped.values()}
    assert len(mapped) == 2


async def test_a_user_taken_over_while_the_room_was_made_fails_the_creation_and_a_retry_gets_the_winners() -> None:
    h, user_ids, _, issued = gated()
    winner = await h.provider.create_user(Privilege.BASIC)

    user_ids.on_complete_all.append(taking_over(h, user_ids, winner))
    with pytest.raises(UserCreationInProgress):
        await h.create.execute(new_people())
    await nothing_left(h, issued)

    teleconsultation_id = await h.create.execute(new_people())

    stored = await h.store.teleconsultations.get(teleconsultation_id)
    assert stored.participant(["pat-1"]).provider_user_id == winner  # type: ignore[union-attr]
    (room,) = h.provider.rooms.values()
    assert winner in {member.provider_user_id for member in room.members}


async def test_a_store_failure_while_the_users_are_recorded_fails_the_creation_and_its_room_goes() -> None:
    h, user_ids, _, issued = gated()

    async def store_down() -> None:
        raise StoreUnavailable("down")

    user_ids.on_complete_all.append(store_down)
    with pytest.raises(StoreUnavailable):
        await h.create.execute(new_people())
    await nothing_left(h, issued)
    assert await user_ids.find_many(["doc-1", "pat-1"]) == {}

    teleconsultation_id = await h.create.execute(new_people())  # the store is back

    stored = await h.store.teleconsultations.get(teleconsultation_id)
    mapped = await user_ids.find_many(["doc-1", "pat-1"])
    assert {p.provider_user_id for p in stored.participants} == {m.provider_user_id for m in mapped.values()}


async def test_users_made_are_recorded_even_when_the_creation_fails_before_its_room() -> None:
    h, user_ids, provider, _ = gated()

    async def no_id() -> str:
        raise StoreUnavailable("down")

    next_id = h.store.teleconsultations.next_id
    h.store.teleconsultations.next_id = no_id  # type: ignore[method-assign]
    with pytest.raises(StoreUnavailable):
        await h.create.execute(new_people())
    assert len(await user_ids.find_many(["doc-1", "pat-1"])) == 2
    made = dict(provider.users)

    h.store.teleconsultations.next_id = next_id  # type: ignore[method-assign]
    await h.create.execute(new_people())

    assert provider.users == made  # the retry found them: none made twice


async def test_a_taken_over_user_gives_the_idempotency_key_back_for_the_retry() -> None:
    h, user_ids, _, _ = gated()
    winner = await h.provider.create_user(Privilege.BASIC)

    user_ids.on_complete_all.append(taking_over(h, user_ids, winner))
    create = IdempotentCreateTeleconsultation(
        create=h.create, records=h.store.idempotency, clock=h.clock, ttl=timedelta(hours=24), policy=h.policy
    )
    key = IdempotencyKey(value="key-1", scope="", fingerprint="body-1")
    with pytest.raises(UserCreationInProgress):
        await create.execute(new_people(), key)

    created = await create.execute(new_people(), key)

    assert not created.replayed
    stored = await h.store.teleconsultations.get(created.teleconsultation_id)
    assert stored.participant(["pat-1"]).provider_user_id == winner  # type: ignore[union-attr]
