"""One contract for the persistence ports, run on the in-memory fakes and on MongoDB over the wire."""

from __future__ import annotations

import asyncio
import functools
import itertools
import operator
import re
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from bson import ObjectId

from application.errors import ConcurrentUpdate, NotFound
from application.ports import TeleconsultationRepository
from domain.duration_policy import Schedule
from domain.privileges import Privilege
from domain.teleconsultation import Teleconsultation
from tests.builders import make_participant
from tests.store.conftest import Ports

OBJECT_ID = re.compile(r"[0-9a-f]{24}")
PLUS_THREE = timezone(timedelta(hours=3))


async def a_teleconsultation(repository: TeleconsultationRepository, **overrides: object) -> Teleconsultation:
    """Every field set, the participants as different as they can be, the start in another time zone."""
    fields: dict[str, object] = {
        "id": await repository.next_id(),
        "participants_number": 3,
        "participants": (
            make_participant("doc-1", access_link="https://video.invalid/r/1", groups=("doctor", "admin")),
            make_participant(
                "pat-1", Privilege.BASIC, resolved_user_id="auth0|pat-1", full_name=None, groups=(), language=None
            ),
        ),
        "schedule": Schedule(
            datetime(2030, 3, 1, 9, 0, 0, 123000, tzinfo=PLUS_THREE), datetime(2030, 3, 1, 10, 0, tzinfo=UTC)
        ),
        "provider_room_id": "room-e1dab12e6ee4",
    }
    fields.update(overrides)
    return Teleconsultation(**fields)  # type: ignore[arg-type]


async def stored(repository: TeleconsultationRepository, **overrides: object) -> Teleconsultation:
    teleconsultation = await a_teleconsultation(repository, **overrides)
    await repository.add(teleconsultation)
    return teleconsultation


async def test_ids_are_distinct_24_hex_strings(ports: Ports) -> None:
    ids = [await ports.teleconsultations.next_id() for _ in range(50)]
    assert all(OBJECT_ID.fullmatch(i) for i in ids)
    assert len(set(ids)) == len(ids)


async def test_add_stores_version_1_and_get_returns_every_field(ports: Ports) -> None:
    teleconsultation = await a_teleconsultation(ports.teleconsultations)
    await ports.teleconsultations.add(teleconsultation)
    assert teleconsultation.version == 1
    got = await ports.teleconsultations.get(teleconsultation.id)
    assert got == teleconsultation
    assert got.participants[1].full_name is None
    assert got.participants[1].groups == ()
    assert got.participants[0].access_link == "https://video.invalid/r/1"


async def test_datetimes_come_back_in_utc_at_the_same_instant(ports: Ports) -> None:
    teleconsultation = await stored(ports.teleconsultations)
    got = await ports.teleconsultations.get(teleconsultation.id)
    assert got.schedule == teleconsultation.schedule
    assert got.schedule.start.tzinfo is UTC
    assert got.schedule.end.tzinfo is UTC
    assert got.schedule.start == datetime(2030, 3, 1, 6, 0, 0, 123000, tzinfo=UTC)


async def test_datetimes_are_kept_to_the_millisecond(ports: Ports) -> None:
    start = datetime(2030, 3, 1, 9, 0, 0, 123456, tzinfo=PLUS_THREE)
    teleconsultation = await stored(ports.teleconsultations, schedule=Schedule(start, start + timedelta(hours=1)))
    got = await ports.teleconsultations.get(teleconsultation.id)
    assert got.schedule.start == start.replace(microsecond=123000)


async def test_an_incomplete_teleconsultation_has_no_room(ports: Ports) -> None:
    incomplete = await stored(ports.teleconsultations, provider_room_id=None, participants=(make_participant("doc-1"),))
    got = await ports.teleconsultations.get(incomplete.id)
    assert got.provider_room_id is None
    assert got == incomplete


@pytest.mark.parametrize("malformed", ["", "abc", "z" * 24, "0" * 25, "../" * 8, "0123456789abcdef0123456 "])
async def test_a_malformed_id_is_not_found(ports: Ports, malformed: str) -> None:
    with pytest.raises(NotFound):
        await ports.teleconsultations.get(malformed)


async def test_an_unknown_id_is_not_found(ports: Ports) -> None:
    await stored(ports.teleconsultations)
    with pytest.raises(NotFound):
        await ports.teleconsultations.get(await ports.teleconsultations.next_id())


async def test_ids_are_case_insensitive_and_returned_in_lower_case(ports: Ports) -> None:
    teleconsultation = await stored(ports.teleconsultations)
    got = await ports.teleconsultations.get(teleconsultation.id.upper())
    assert got.id == teleconsultation.id


async def test_changes_are_invisible_until_saved(ports: Ports) -> None:
    teleconsultation = await stored(ports.teleconsultations)
    teleconsultation.detach_room()
    got = await ports.teleconsultations.get(teleconsultation.id)
    got.attach_room("another-room", {})
    again = await ports.teleconsultations.get(teleconsultation.id)
    assert again.provider_room_id == "room-e1dab12e6ee4"
    assert again.participants[0].access_link == "https://video.invalid/r/1"


async def test_save_stores_the_change_and_increments_the_version(ports: Ports) -> None:
    teleconsultation = await stored(ports.teleconsultations)
    got = await ports.teleconsultations.get(teleconsultation.id)
    got.attach_room("room-2", {"p-doc-1": "https://video.invalid/r/2"})
    await ports.teleconsultations.save(got)
    assert got.version == 2
    again = await ports.teleconsultations.get(teleconsultation.id)
    assert again == got
    assert again.participants[0].access_link == "https://video.invalid/r/2"


async def test_a_stale_copy_cannot_be_saved(ports: Ports) -> None:
    repository = ports.teleconsultations
    teleconsultation = await stored(repository)
    first, second = await repository.get(teleconsultation.id), await repository.get(teleconsultation.id)
    first.detach_room()
    await repository.save(first)
    second.attach_room("lost-update", {})
    with pytest.raises(ConcurrentUpdate):
        await repository.save(second)
    assert second.version == 1
    assert await repository.get(teleconsultation.id) == first


async def test_concurrent_saves_of_one_version_let_exactly_one_win(ports: Ports) -> None:
    repository = ports.teleconsultations
    teleconsultation = await stored(repository)
    copies = [await repository.get(teleconsultation.id) for _ in range(5)]
    for number, copy in enumerate(copies):
        copy.attach_room(f"room-{number}", {})
    outcomes = await asyncio.gather(*(repository.save(c) for c in copies), return_exceptions=True)
    winners = [c for c, outcome in zip(copies, outcomes, strict=True) if outcome is None]
    assert len(winners) == 1
    assert all(isinstance(o, ConcurrentUpdate) for o in outcomes if o is not None)
    assert await repository.get(teleconsultation.id) == winners[0]


async def test_a_discarded_teleconsultation_is_not_found_and_a_copy_read_before_loses(ports: Ports) -> None:
    repository = ports.teleconsultations
    teleconsultation = await stored(repository)
    stale = await repository.get(teleconsultation.id)
    teleconsultation.discard()
    await repository.save(teleconsultation)
    with pytest.raises(NotFound):
        await repository.get(teleconsultation.id)
    stale.detach_room()
    with pytest.raises(ConcurrentUpdate):  # the delete won the race: nothing of the change is stored
        await repository.save(stale)
    with pytest.raises(NotFound):
        await repository.get(teleconsultation.id)


async def test_saving_what_was_never_added_is_not_found(ports: Ports) -> None:
    never_added = await a_teleconsultation(ports.teleconsultations, version=1)
    with pytest.raises(NotFound):
        await ports.teleconsultations.save(never_added)
    with pytest.raises(NotFound):
        await ports.teleconsultations.save(replace(never_added, id="not-an-object-id"))


async def test_adding_an_existing_id_is_a_concurrent_update(ports: Ports) -> None:
    teleconsultation = await stored(ports.teleconsultations)
    with pytest.raises(ConcurrentUpdate):
        await ports.teleconsultations.add(replace(teleconsultation, version=0, provider_room_id=None))
    assert (await ports.teleconsultations.get(teleconsultation.id)).provider_room_id == "room-e1dab12e6ee4"


async def test_adding_a_malformed_id_is_a_programming_error(ports: Ports) -> None:
    with pytest.raises(ValueError, match="24-hex"):
        await ports.teleconsultations.add(await a_teleconsultation(ports.teleconsultations, id="tc-1"))


async def test_pending_room_cleanups_come_oldest_first_once_each(ports: Ports) -> None:
    assert await ports.cleanups.pending(10) == []
    for room in ("room-a", "room-b", "room-a", "room-c"):
        await ports.cleanups.add(room)
    assert await ports.cleanups.pending(10) == ["room-a", "room-b", "room-c"]
    assert await ports.cleanups.pending(2) == ["room-a", "room-b"]
    await ports.cleanups.remove("room-a")
    await ports.cleanups.remove("never-added")
    assert await ports.cleanups.pending(10) == ["room-b", "room-c"]


async def test_ids_are_object_ids_whose_last_eight_bytes_nobody_can_predict(ports: Ports) -> None:
    before = int(time.time())
    ids = [await ports.teleconsultations.next_id() for _ in range(200)]
    after = int(time.time())

    for teleconsultation_id in ids:
        assert ObjectId.is_valid(teleconsultation_id)
        assert before <= int(teleconsultation_id[:8], 16) <= after  # the creation time, as in any ObjectId
    tails = [int(teleconsultation_id[8:], 16) for teleconsultation_id in ids]
    assert len(set(tails)) == len(tails)
    # A standard ObjectId keeps its 5 process bytes and steps a 3-byte counter: consecutive ids differ in 3 bytes.
    steps = [abs(b - a) for a, b in itertools.pairwise(tails)]
    assert min(steps) > 1 << 24
    assert len({teleconsultation_id[8:18] for teleconsultation_id in ids}) == len(ids)
    # Every bit of the random part takes both values over the sample.
    assert functools.reduce(operator.or_, tails) == (1 << 64) - 1
    assert functools.reduce(operator.and_, tails) == 0
