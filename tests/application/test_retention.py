"""RETENTION_DAYS on a fixed clock: personal data goes exactly once the period has passed, events stay (issue 14)."""

from __future__ import annotations

from datetime import timedelta

from adapters.memory.clock import FixedClock
from adapters.memory.store import InMemoryStore
from application.events import EventQuery
from tests.application.harness import Harness, create_command, doctor, patient
from tests.builders import T0

DAYS = 30
PERIOD = timedelta(days=DAYS)
END = T0 + timedelta(hours=1)  # create_command's appointments last an hour
MINUTE = timedelta(minutes=1)


def harness(**options: object) -> Harness:
    clock = FixedClock(T0 - timedelta(days=1))
    return Harness(clock=clock, store=InMemoryStore(clock), retention_days=DAYS, **options)  # type: ignore[arg-type]


async def types(h: Harness, teleconsultation_id: str) -> list[str]:
    events, _ = await h.store.events.query(EventQuery(teleconsultation_id=teleconsultation_id), 100)
    return [e.type for e in reversed(events)]


async def test_an_ended_teleconsultation_loses_names_links_groups_and_uploads_on_time() -> None:
    h = harness()
    teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
    room_id = (await h.store.teleconsultations.get(teleconsultation_id)).provider_room_id
    assert room_id is not None
    upload = h.features.add_upload(room_id)
    sweeper = h.container.room_sweeper()

    h.clock.set(END + PERIOD - MINUTE)
    await sweeper.sweep_once()
    kept = await h.store.teleconsultations.get(teleconsultation_id)
    assert [p.full_name for p in kept.participants] == ["Joe Smith", "Jane Doe"]
    assert upload in h.features.uploads

    h.clock.set(END + PERIOD + MINUTE)
    await sweeper.sweep_once()
    purged = await h.store.teleconsultations.get(teleconsultation_id)
    assert [(p.full_name, p.access_link, p.groups) for p in purged.participants] == [(None, None, ())] * 2
    assert h.features.uploads == {}
    assert await types(h, teleconsultation_id) == [
        "teleconsultation.created",
        "room.created",
        "teleconsultation.purged",
    ]
    await sweeper.sweep_once()  # nothing more to do
    assert (await types(h, teleconsultation_id))[-1] == "teleconsultation.purged"
    assert len(await types(h, teleconsultation_id)) == 3


async def test_a_cancelled_teleconsultation_is_purged_the_period_after_its_cancellation() -> None:
    h = harness()
    teleconsultation_id = await h.create.execute(create_command(doctor(), patient(), start=T0 + timedelta(days=90)))
    cancelled_at = h.clock.now()
    await h.delete.execute(teleconsultation_id, None)
    sweeper = h.container.room_sweeper()
    h.clock.set(cancelled_at + PERIOD - MINUTE)
    assert await sweeper.sweep_all() == 0  # `make sweep` runs the same chores
    assert (await types(h, teleconsultation_id))[-1] == "room.deleted"
    h.clock.set(cancelled_at + PERIOD + MINUTE)
    await sweeper.sweep_all()
    assert (await types(h, teleconsultation_id))[-1] == "teleconsultation.purged"


async def test_without_a_period_nothing_is_ever_removed() -> None:
    clock = FixedClock(T0 - timedelta(days=1))
    h = Harness(clock=clock, store=InMemoryStore(clock))
    teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
    h.clock.set(END + timedelta(days=3650))
    await h.container.room_sweeper().sweep_once()
    kept = await h.store.teleconsultations.get(teleconsultation_id)
    assert [p.full_name for p in kept.participants] == ["Joe Smith", "Jane Doe"]


async def test_uploads_that_cannot_be_deleted_keep_the_data_until_a_later_sweep() -> None:
    h = harness()
    teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
    room_id = (await h.store.teleconsultations.get(teleconsultation_id)).provider_room_id
    assert room_id is not None
    h.features.add_upload(room_id)
    h.features.fail_next("list_uploads")
    h.clock.set(END + PERIOD + MINUTE)
    sweeper = h.container.room_sweeper()
    await sweeper.sweep_once()
    assert (await h.store.teleconsultations.get(teleconsultation_id)).participants[0].full_name == "Joe Smith"
    await sweeper.sweep_once()
    assert (await h.store.teleconsultations.get(teleconsultation_id)).participants[0].full_name is None
