"""The use cases on the MongoDB store over the wire: when its write fails, the new provider room goes too."""

from __future__ import annotations

import asyncio

import pytest

from adapters.memory.clock import FixedClock
from adapters.memory.video_provider import InMemoryVideoProvider
from adapters.mongo.lifecycle import MongoStore
from application.dto import ProvisionedRoom, RoomSpec
from application.errors import ConcurrentUpdate
from application.update_teleconsultation import UpdateTeleconsultationCommand
from tests.application.harness import Harness, create_command, doctor, patient, roster


async def test_a_creation_the_store_refuses_deletes_its_new_room(mongo_store: MongoStore, clock: FixedClock) -> None:
    h = Harness(store=mongo_store, clock=clock)
    taken = await h.create.execute(create_command(doctor(), patient()))

    async def an_id_already_taken() -> str:
        return taken

    h.store.teleconsultations.next_id = an_id_already_taken  # type: ignore[method-assign]
    with pytest.raises(ConcurrentUpdate):  # the unique _id refuses the insert
        await h.create.execute(create_command(doctor("doc-2"), patient("pat-2")))
    stored = await h.store.teleconsultations.get(taken)
    assert set(h.provider.rooms) == {stored.provider_room_id}
    assert len(h.provider.deleted_rooms) == 1


class RoomsCreatedTogether(InMemoryVideoProvider):
    """Once armed, answers no room creation before `parties` of them are under way: changes that create rooms
    have all read the teleconsultation before any of them stores its own (whatever the machine's load)."""

    def __init__(self) -> None:
        super().__init__()
        self.together: asyncio.Barrier | None = None

    async def create_room(self, spec: RoomSpec) -> ProvisionedRoom:
        if self.together is not None:
            async with asyncio.timeout(10):
                await self.together.wait()
        return await super().create_room(spec)


async def test_the_loser_of_concurrent_changes_deletes_its_new_room(mongo_store: MongoStore, clock: FixedClock) -> None:
    provider = RoomsCreatedTogether()
    h = Harness(store=mongo_store, clock=clock, provider=provider)
    teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
    provider.together = asyncio.Barrier(3)
    outcomes = await asyncio.gather(
        *(
            h.update.execute(UpdateTeleconsultationCommand(teleconsultation_id, roster=roster(doctor(), patient(p))))
            for p in ("pat-2", "pat-3", "pat-4")
        ),
        return_exceptions=True,
    )
    assert outcomes.count(None) == 1
    assert all(isinstance(o, ConcurrentUpdate) for o in outcomes if o is not None)
    stored = await h.store.teleconsultations.get(teleconsultation_id)
    assert set(h.provider.rooms) == {stored.provider_room_id}  # the losers' rooms and the replaced one are gone
    assert await h.store.cleanups.count() == 0
