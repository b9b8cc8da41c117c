"""An instance killed at the worst moments of a creation, a change or a cancellation leaves records a sweep of
another instance finishes from: no provider room is left that nothing will delete.

A kill is simulated by ProcessDied, a BaseException: once raised, every later call of the dead instance to the
provider or the store raises it too, so none of its clean-up code runs, exactly as after a SIGKILL. The sweep
then runs in a new instance built on the same store and provider.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest

from adapters.memory.repository import InMemoryRecordedRoomDeletions, InMemoryTeleconsultationRepository
from adapters.memory.store import InMemoryStore
from adapters.memory.video_provider import InMemoryVideoProvider
from application.dto import ProvisionedRoom, RoomSpec
from application.errors import NotFound, ProviderError
from application.events import Event
from application.update_teleconsultation import UpdateTeleconsultationCommand
from domain.teleconsultation import Teleconsultation
from tests.application.harness import Harness, create_command, doctor, patient, roster
from tests.builders import make_teleconsultation

AFTER_THE_INTENT_LEASE = timedelta(minutes=3)  # the default lease is 2 minutes


class ProcessDied(BaseException):
    """The instance was killed: nothing after this runs."""


class Life:
    def __init__(self) -> None:
        self.dead = False
        # "before add", "before save" (the write never reaches the store), "add", "save" (the store took it),
        # "create_room" (the provider made the room; its answer never arrives)
        self.kill_at: str | None = None

    def check(self) -> None:
        if self.dead:
            raise ProcessDied

    def maybe_die(self, moment: str) -> None:
        if self.kill_at == moment:
            self.dead = True
            raise ProcessDied


class MortalProvider(InMemoryVideoProvider):
    def __init__(self, life: Life) -> None:
        super().__init__()
        self.life = life

    async def create_room(self, spec: RoomSpec) -> ProvisionedRoom:
        self.life.check()
        room = await super().create_room(spec)
        self.life.maybe_die("create_room")  # the room exists; its id never reaches the service
        return room

    async def delete_room(self, room_id: str) -> None:
        self.life.check()
        await super().delete_room(room_id)


class MortalRepository(InMemoryTeleconsultationRepository):
    def __init__(self, life: Life) -> None:
        super().__init__()
        self.life = life

    async def add(
        self, teleconsultation: Teleconsultation, events: Sequence[Event] = (), *, actor_id: str | None = None
    ) -> None:
        self.life.check()
        self.life.maybe_die("before add")
        await super().add(teleconsultation, events, actor_id=actor_id)
        self.life.maybe_die("add")

    async def save(
        self, teleconsultation: Teleconsultation, events: Sequence[Event] = (), *, actor_id: str | None = None
    ) -> None:
        self.life.check()
        self.life.maybe_die("before save")
        await super().save(teleconsultation, events, actor_id=actor_id)
        self.life.maybe_die("save")


def mortal_instance() -> tuple[Harness, Life]:
    life = Life()
    store = InMemoryStore()
    store.teleconsultations = MortalRepository(life)
    store.room_deletions = InMemoryRecordedRoomDeletions(store.teleconsultations)
    return Harness(store=store, provider=MortalProvider(life)), life


def restarted(h: Harness, life: Life) -> Harness:
    """Another instance on the same store and provider, once the dead one's intents have run out."""
    life.dead, life.kill_at = False, None
    h.clock.advance(AFTER_THE_INTENT_LEASE)
    return Harness(store=h.store, provider=h.provider, clock=h.clock)


async def one_created(h: Harness) -> tuple[str, str]:
    teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
    room_id = (await h.store.teleconsultations.get(teleconsultation_id)).provider_room_id
    assert room_id is not None
    return teleconsultation_id, room_id


async def test_killed_between_the_providers_answer_and_the_stored_document_the_room_is_deleted() -> None:
    h, life = mortal_instance()
    life.kill_at = "before add"
    with pytest.raises(ProcessDied):
        await h.create.execute(create_command(doctor(), patient()))
    assert len(h.provider.rooms) == 1  # live at the provider, and no document names it
    after = restarted(h, life)
    assert await after.rooms.sweep() == 0
    assert h.provider.rooms == {}
    assert await h.store.intents.overdue(h.clock.now(), 10) == []


async def test_killed_once_the_document_is_stored_the_room_is_kept_and_its_intent_closed() -> None:
    h, life = mortal_instance()
    life.kill_at = "add"
    with pytest.raises(ProcessDied):
        await h.create.execute(create_command(doctor(), patient()))
    [room_id] = h.provider.rooms
    after = restarted(h, life)
    assert await after.rooms.sweep() == 0
    assert list(h.provider.rooms) == [room_id]
    assert await h.store.intents.overdue(h.clock.now(), 10) == []


async def test_killed_before_the_provider_answered_the_intent_is_closed_as_unknown_and_counted() -> None:
    h, life = mortal_instance()
    life.kill_at = "create_room"
    with pytest.raises(ProcessDied):
        await h.create.execute(create_command(doctor(), patient()))
    [spec] = h.provider.rooms.values()
    after = restarted(h, life)
    assert await after.rooms.sweep() == 0
    [unknown] = await h.store.intents.unknown(h.clock.now(), 10)
    assert spec.reference == unknown.intent_id  # the room carries it: the one thing that can tell it apart
    assert b"teleconsultation_room_intents_unknown_total 1.0" in after.container.metrics().render()


async def test_an_intent_still_in_flight_is_left_alone_by_a_sweep() -> None:
    h = Harness()
    opened = await h.rooms.open_room(make_teleconsultation())  # its creator is still at work: nothing stored yet
    assert opened is not None
    assert await h.rooms.sweep() == 0
    assert opened.room_id in h.provider.rooms  # not deleted under its creator
    h.clock.advance(AFTER_THE_INTENT_LEASE)
    assert await h.rooms.sweep() == 0
    assert opened.room_id not in h.provider.rooms  # nothing stored it: deleted once the lease ran out


async def test_a_lost_reply_closes_the_intent_as_unknown_and_an_error_answer_closes_it_plainly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class LostReply(InMemoryVideoProvider):
        async def create_room(self, spec: RoomSpec) -> ProvisionedRoom:
            await super().create_room(spec)
            raise ProviderError(self.name, "create_room", "timed out", outcome_unknown=True)

    lost = Harness(provider=LostReply())
    with pytest.raises(ProviderError):
        await lost.create.execute(create_command(doctor(), patient()))
    unknown_ids = [i.intent_id for i in await lost.store.intents.unknown(lost.clock.now(), 10)]
    assert unknown_ids == [spec.reference for spec in lost.provider.rooms.values()]
    assert b"teleconsultation_room_intents_unknown_total 1.0" in lost.container.metrics().render()
    [logged] = [r for r in caplog.records if "outcome is unknown" in r.getMessage()]
    assert vars(logged)["intent_id"] == unknown_ids[0]  # the intent id, and nothing else of the request
    assert not {"room_id", "teleconsultation_id", "user_id"} & set(vars(logged))

    refused = Harness()
    refused.provider.fail_next("create_room")
    with pytest.raises(ProviderError):
        await refused.create.execute(create_command(doctor(), patient()))
    refused.clock.advance(AFTER_THE_INTENT_LEASE)
    assert await refused.store.intents.overdue(refused.clock.now(), 10) == []
    assert await refused.store.intents.unknown(refused.clock.now(), 10) == []


async def test_killed_right_after_a_cancellation_is_stored_the_sweep_deletes_its_room() -> None:
    h, life = mortal_instance()
    teleconsultation_id, room_id = await one_created(h)
    life.kill_at = "save"
    with pytest.raises(ProcessDied):
        await h.delete.execute(teleconsultation_id, None)
    assert room_id in h.provider.rooms  # the links still work until the sweep
    after = restarted(h, life)
    with pytest.raises(NotFound):  # a retried DELETE: the cancellation is stored, the sweep does the rest
        await after.delete.execute(teleconsultation_id, None)
    assert await after.rooms.sweep() == 0
    assert h.provider.rooms == {}
    assert await h.store.room_deletions.count() == 0


async def test_killed_right_after_a_replacement_is_stored_the_old_room_goes_and_the_new_one_stays() -> None:
    h, life = mortal_instance()
    teleconsultation_id, old_room = await one_created(h)
    life.kill_at = "save"
    with pytest.raises(ProcessDied):
        await h.update.execute(
            UpdateTeleconsultationCommand(teleconsultation_id, roster=roster(doctor(), patient("pat-2")))
        )
    new_room = (await h.store.teleconsultations.get(teleconsultation_id)).provider_room_id
    assert new_room is not None
    assert set(h.provider.rooms) == {old_room, new_room}
    after = restarted(h, life)
    assert await after.rooms.sweep() == 0
    assert list(h.provider.rooms) == [new_room]


async def test_killed_before_a_replacement_is_stored_the_new_room_goes_and_the_old_one_stays() -> None:
    h, life = mortal_instance()
    teleconsultation_id, old_room = await one_created(h)
    life.kill_at = "before save"
    with pytest.raises(ProcessDied):
        await h.update.execute(
            UpdateTeleconsultationCommand(teleconsultation_id, roster=roster(doctor(), patient("pat-2")))
        )
    assert len(h.provider.rooms) == 2
    after = restarted(h, life)
    assert await after.rooms.sweep() == 0
    assert list(h.provider.rooms) == [old_room]
    assert (await h.store.teleconsultations.get(teleconsultation_id)).provider_room_id == old_room
