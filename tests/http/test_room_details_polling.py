"""Participants polling one room over HTTP share provider calls; the setting that controls it."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from adapters.memory.clock import FixedClock
from entrypoints.settings import ConfigurationError, Settings
from tests.builders import T0
from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.http.builders import body, create, doctor, patient
from tests.http.conftest import Client, kaleyra_settings, serve

POLLERS = 24


async def poll_together(client: Client, teleconsultation_id: str) -> set[str | None]:
    responses = await asyncio.gather(
        *(
            client.get(f"/teleconsultation/{teleconsultation_id}", headers={"miauserid": "pat-1"})
            for _ in range(POLLERS)
        )
    )
    assert {response.status_code for response in responses} == {200}
    return {response.json()["accessLinkURL"] for response in responses}


def room_reads(fake: FakeKaleyraServer) -> int:
    return sum(1 for method, path in fake.state.calls if method == "GET" and path.startswith("/v2/rooms/"))


async def test_many_pollers_of_one_room_cost_one_provider_call(
    client: Client, fake_kaleyra: FakeKaleyraServer, clock: FixedClock
) -> None:
    teleconsultation_id = await create(client, body(doctor(), patient()))

    assert await poll_together(client, teleconsultation_id) == {None}
    assert room_reads(fake_kaleyra) == 1

    clock.set(T0)  # the link becomes visible at once: it comes from the store, not from the cached details
    links = await poll_together(client, teleconsultation_id)
    assert None not in links
    assert len(links) == 1
    assert room_reads(fake_kaleyra) == 2  # the clock moved past the time to live


async def test_a_changed_room_is_read_afresh(client: Client, fake_kaleyra: FakeKaleyraServer) -> None:
    teleconsultation_id = await create(client, body(doctor(), patient()))
    await poll_together(client, teleconsultation_id)

    # A new doctor: the room is replaced (a new duration would not replace an unlimited room).
    new_doctor = {"participants": {"number": 2, "data": [doctor("doc-2"), patient()]}}
    changed = await client.patch(f"/teleconsultation/{teleconsultation_id}", json=new_doctor)
    assert changed.status_code == 204
    await poll_together(client, teleconsultation_id)

    assert room_reads(fake_kaleyra) == 2


async def test_with_the_cache_off_every_poll_asks_the_provider(
    fake_kaleyra: FakeKaleyraServer, clock: FixedClock
) -> None:
    settings = replace(kaleyra_settings(fake_kaleyra), room_details_cache=timedelta(0))
    async with serve(settings, clock) as client:
        teleconsultation_id = await create(client, body(doctor(), patient()))
        await poll_together(client, teleconsultation_id)

    assert room_reads(fake_kaleyra) == POLLERS


@pytest.mark.parametrize(("value", "seconds"), [(None, 2.0), ("0", 0.0), ("0.5", 0.5), (" 60 ", 60.0)])
def test_the_cache_time_to_live_is_read_from_the_environment(value: str | None, seconds: float) -> None:
    env = {} if value is None else {"ROOM_DETAILS_CACHE_SECONDS": value}
    assert Settings.from_env(env).room_details_cache == timedelta(seconds=seconds)


@pytest.mark.parametrize("value", ["-1", "abc", "nan", "61", "inf"])
def test_a_wrong_cache_time_to_live_is_named(value: str) -> None:
    with pytest.raises(ConfigurationError, match="ROOM_DETAILS_CACHE_SECONDS must be"):
        Settings.from_env({"ROOM_DETAILS_CACHE_SECONDS": value})
