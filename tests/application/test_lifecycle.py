"""The teleconsultation use cases on in-memory adapters."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from application.dto import ParticipantInput, Requester
from application.errors import ConcurrentUpdate, InvalidRequest, NotFound, ProviderError, StoreUnavailable, Unauthorized
from application.update_teleconsultation import UpdateTeleconsultationCommand
from domain.errors import NoConfiguredGroup, NoPlusUser, TeleconsultationLocked
from domain.privileges import Privilege
from tests.application.harness import Harness, create_command, doctor, patient, roster
from tests.application.observed_fakes import issued_ids
from tests.builders import T0


async def test_a_complete_roster_gets_a_room_with_one_link_each() -> None:
    h = Harness()
    teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
    stored = await h.store.teleconsultations.get(teleconsultation_id)
    assert stored.provider_room_id in h.provider.rooms
    spec = h.provider.rooms[stored.provider_room_id]
    assert {(m.privilege, m.tools is not None) for m in spec.members} == {
        (Privilege.PLUS, True),
        (Privilege.BASIC, True),
    }
    assert spec.duration_seconds is None  # unlimited by default
    assert all(p.access_link for p in stored.participants)
    assert len({p.access_link for p in stored.participants}) == 2


async def test_limited_rooms_carry_the_duration() -> None:
    h = Harness(unlimited=False)
    teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
    stored = await h.store.teleconsultations.get(teleconsultation_id)
    assert stored.provider_room_id is not None
    assert h.provider.rooms[stored.provider_room_id].duration_seconds == 3600


async def test_an_incomplete_roster_creates_provider_users_but_no_room() -> None:
    h = Harness()
    teleconsultation_id = await h.create.execute(create_command(doctor(), number=3))
    stored = await h.store.teleconsultations.get(teleconsultation_id)
    assert stored.provider_room_id is None
    assert not h.provider.rooms
    assert (await h.store.user_ids.find("doc-1")) is not None


async def test_a_provider_user_is_created_once_per_external_id_even_concurrently() -> None:
    h = Harness()
    await asyncio.gather(*(h.create.execute(create_command(doctor(), patient())) for _ in range(5)))
    assert len(h.provider.users) == 2


async def test_no_plus_user_is_refused_before_anything_is_created() -> None:
    h = Harness()
    with pytest.raises(NoPlusUser):
        await h.create.execute(create_command(patient("p1"), patient("p2")))
    assert not h.provider.users
    assert not h.provider.rooms


async def test_a_participant_without_a_configured_group_is_named() -> None:
    h = Harness()
    nurse = ParticipantInput(user_id="nurse-7", groups=("nurse",), full_name="N")
    with pytest.raises(NoConfiguredGroup, match="nurse-7"):
        await h.create.execute(create_command(doctor(), nurse))


async def test_standalone_mode_needs_groups_and_names() -> None:
    h = Harness()
    anonymous = ParticipantInput(user_id="x")
    with pytest.raises(InvalidRequest, match="participant x needs groups and fullName"):
        await h.create.execute(create_command(doctor(), anonymous))


async def test_a_room_creation_failure_stores_nothing() -> None:
    h = Harness()
    issued = issued_ids(h.store.teleconsultations)
    h.provider.fail_next("create_room")
    with pytest.raises(ProviderError):
        await h.create.execute(create_command(doctor(), patient()))
    assert len(issued) == 1
    with pytest.raises(NotFound):
        await h.store.teleconsultations.get(issued[0])


async def test_a_store_failure_after_room_creation_releases_the_room() -> None:
    h = Harness()

    async def broken_add(*_: object, **__: object) -> None:
        raise StoreUnavailable("down")

    h.store.teleconsultations.add = broken_add  # type: ignore[method-assign]
    with pytest.raises(StoreUnavailable):
        await h.create.execute(create_command(doctor(), patient()))
    assert len(h.provider.deleted_rooms) == 1
    assert set(h.provider.rooms) <= set(h.provider.deleted_rooms) or not h.provider.rooms


async def test_completing_the_roster_by_patch_creates_the_room() -> None:
    h = Harness()
    teleconsultation_id = await h.create.execute(create_command(doctor(), number=2))
    await h.update.execute(UpdateTeleconsultationCommand(teleconsultation_id, roster=roster(doctor(), patient())))
    stored = await h.store.teleconsultations.get(teleconsultation_id)
    assert stored.provider_room_id is not None
    assert stored.version == 2


async def test_changing_the_roster_replaces_the_room_and_deletes_the_old_one_after_saving() -> None:
    h = Harness()
    teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
    old_room = (await h.store.teleconsultations.get(teleconsultation_id)).provider_room_id
    await h.update.execute(
        UpdateTeleconsultationCommand(teleconsultation_id, roster=roster(doctor(), patient("pat-2")))
    )
    stored = await h.store.teleconsultations.get(teleconsultation_id)
    assert stored.provider_room_id not in (None, old_room)
    assert old_room in h.provider.deleted_rooms


async def test_moving_the_start_keeps_the_duration_and_the_room() -> None:
    h = Harness()
    teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
    before = await h.store.teleconsultations.get(teleconsultation_id)
    await h.update.execute(UpdateTeleconsultationCommand(teleconsultation_id, start=T0 + timedelta(hours=3)))
    after = await h.store.teleconsultations.get(teleconsultation_id)
    assert after.schedule.start == T0 + timedelta(hours=3)
    assert after.schedule.duration == timedelta(hours=1)
    assert after.provider_room_id == before.provider_room_id


async def test_changes_are_refused_from_the_immutable_period_before_the_start() -> None:
    h = Harness(immutable_period=timedelta(minutes=10))
    teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
    h.clock.set(T0 - timedelta(minutes=10))
    with pytest.raises(TeleconsultationLocked):
        await h.update.execute(UpdateTeleconsultationCommand(teleconsultation_id, duration_seconds=600))


async def test_the_loser_of_a_concurrent_update_gets_a_conflict_and_its_new_room_is_released() -> None:
    h = Harness()
    teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
    results = await asyncio.gather(
        h.update.execute(UpdateTeleconsultationCommand(teleconsultation_id, duration_seconds=1200)),
        h.update.execute(UpdateTeleconsultationCommand(teleconsultation_id, duration_seconds=1800)),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["ConcurrentUpdate", "NoneType"]
    stored = await h.store.teleconsultations.get(teleconsultation_id)
    live_rooms = set(h.provider.rooms) - set(h.provider.deleted_rooms)
    assert live_rooms == {stored.provider_room_id}
    assert isinstance(next(r for r in results if r is not None), ConcurrentUpdate)


async def test_the_link_is_given_only_to_participants_and_only_once_the_window_opens() -> None:
    h = Harness(immutable_period=timedelta(minutes=10))
    teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
    with pytest.raises(Unauthorized):
        await h.get.execute(teleconsultation_id, None)
    with pytest.raises(Unauthorized):
        await h.get.execute(teleconsultation_id, Requester(("someone-else",)))
    early = await h.get.execute(teleconsultation_id, Requester(("pat-1",)))
    assert early.access_link is None
    assert early.details is not None
    h.clock.set(T0 - timedelta(minutes=10))
    on_time = await h.get.execute(teleconsultation_id, Requester(("pat-1",)))
    stored = await h.store.teleconsultations.get(teleconsultation_id)
    own = next(p for p in stored.participants if p.user_id == "pat-1")
    assert on_time.access_link == f"{own.access_link}?language=it"  # the stored link, in her own language
    assert on_time.provider_user_id == own.provider_user_id
    assert [m.full_name for m in on_time.members] == ["Joe Smith", "Jane Doe"]


async def test_deleting_trashes_and_deletes_the_room() -> None:
    h = Harness()
    teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
    room = (await h.store.teleconsultations.get(teleconsultation_id)).provider_room_id
    await h.delete.execute(teleconsultation_id, None)
    assert room in h.provider.deleted_rooms
    with pytest.raises(NotFound):
        await h.store.teleconsultations.get(teleconsultation_id)
    with pytest.raises(NotFound):
        await h.delete.execute(teleconsultation_id, None)


async def test_a_failed_room_deletion_is_queued_and_swept_later() -> None:
    h = Harness()
    teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
    room = (await h.store.teleconsultations.get(teleconsultation_id)).provider_room_id
    h.provider.fail_next("delete_room")
    await h.delete.execute(teleconsultation_id, None)
    assert await h.store.cleanups.pending(10) == [room]
    assert await h.rooms.sweep() == 0
    assert room in h.provider.deleted_rooms
    assert await h.store.cleanups.pending(10) == []


async def test_a_delete_that_loses_to_a_concurrent_change_is_refused_and_the_change_stays() -> None:
    h = Harness(unlimited=False)  # a room with a duration: the change replaces it
    teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
    room = (await h.store.teleconsultations.get(teleconsultation_id)).provider_room_id
    results = await asyncio.gather(
        h.update.execute(UpdateTeleconsultationCommand(teleconsultation_id, duration_seconds=1800)),
        h.delete.execute(teleconsultation_id, None),
        return_exceptions=True,
    )
    assert results[0] is None
    assert isinstance(results[1], ConcurrentUpdate)
    stored = await h.store.teleconsultations.get(teleconsultation_id)
    assert stored.schedule.duration == timedelta(seconds=1800)
    assert set(h.provider.rooms) == {stored.provider_room_id}  # the change's new room; the one it replaced is gone
    assert room in h.provider.deleted_rooms


async def test_moving_only_the_start_of_an_appointment_with_a_fraction_of_a_second_keeps_its_room() -> None:
    h = Harness()
    command = create_command(doctor(), patient())
    start = command.start
    teleconsultation_id = await h.create.execute(
        replace(command, duration_seconds=None, end=start + timedelta(hours=1, milliseconds=500))
    )
    before = await h.store.teleconsultations.get(teleconsultation_id)

    await h.update.execute(UpdateTeleconsultationCommand(teleconsultation_id, start=start + timedelta(days=1)))

    after = await h.store.teleconsultations.get(teleconsultation_id)
    assert after.provider_room_id == before.provider_room_id
    assert [p.access_link for p in after.participants] == [p.access_link for p in before.participants]
    assert after.schedule.duration == timedelta(hours=1, milliseconds=500)
    assert h.provider.deleted_rooms == []
