"""A failing video provider over HTTP: clean 502s, then fast 503s with Retry-After while the circuit is open."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from adapters.memory.clock import FixedClock
from entrypoints.settings import ReliabilitySettings
from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.fakes.kaleyra_state import Fault
from tests.http.builders import body, create, doctor, patient
from tests.http.conftest import kaleyra_settings, serve

OUTAGE = ReliabilitySettings(circuit_failure_threshold=2, circuit_reset_seconds=20)


async def eventually(condition: Callable[[], bool]) -> None:
    """Wait (at most 5 s) for something the background sweeper does; nothing signals it."""
    async with asyncio.timeout(5):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def test_an_outage_turns_502s_into_fast_503s_until_a_trial_succeeds(
    fake_kaleyra: FakeKaleyraServer, clock: FixedClock
) -> None:
    settings = replace(kaleyra_settings(fake_kaleyra), reliability=OUTAGE)
    async with serve(settings, clock) as client:
        fake_kaleyra.state.fail_next("create_user", Fault.SERVER_ERROR, times=2)
        for _ in range(2):  # one new participant each: one provider call each
            assert (await client.post("/teleconsultation", json=body(doctor(), number=2))).status_code == 502
        calls_before = len(fake_kaleyra.state.calls)

        refused = await client.post("/teleconsultation", json=body(doctor(), patient()))
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "20"
        assert refused.json() == {
            "error": "Failed POST /teleconsultation: kaleyra create_user not attempted: "
            "the provider failed repeatedly, retry later"
        }
        assert len(fake_kaleyra.state.calls) == calls_before

        clock.advance(timedelta(seconds=5))
        problem = await client.post(
            "/teleconsultation", json=body(doctor(), patient()), headers={"accept": "application/problem+json"}
        )
        assert problem.status_code == 503
        assert problem.headers["retry-after"] == "15"
        assert problem.json()["type"].endswith("/provider-unavailable")

        clock.advance(timedelta(seconds=15))
        await create(client, body(doctor(), number=2))  # its one provider call is the trial
        await create(client, body(doctor("doc-2"), patient("pat-2")))


async def test_a_provider_that_refuses_requests_is_not_an_outage(
    fake_kaleyra: FakeKaleyraServer, clock: FixedClock
) -> None:
    settings = replace(kaleyra_settings(fake_kaleyra), reliability=OUTAGE)
    async with serve(settings, clock) as client:
        fake_kaleyra.state.fail_next("create_room", Fault.BAD_REQUEST, times=4)
        for _ in range(4):
            assert (await client.post("/teleconsultation", json=body(doctor(), patient()))).status_code == 502
        await create(client, body(doctor(), patient()))


async def test_a_room_left_behind_by_an_outage_is_deleted_by_the_background_sweeper(
    fake_kaleyra: FakeKaleyraServer, clock: FixedClock
) -> None:
    reliability = replace(OUTAGE, circuit_failure_threshold=1, sweep_interval_seconds=0.05)
    async with serve(replace(kaleyra_settings(fake_kaleyra), reliability=reliability), clock) as client:
        room_id = await create(client, body(doctor(), patient()))
        fake_kaleyra.state.fail_next("delete_room", Fault.SERVER_ERROR, times=3)  # every attempt of one call
        assert (await client.delete(f"/teleconsultation/{room_id}")).status_code == 204
        [room] = fake_kaleyra.state.rooms
        await asyncio.sleep(0.3)  # several sweeps, all held back by the open circuit
        assert fake_kaleyra.state.count("DELETE", f"/v2/rooms/{room}") == 3
        clock.advance(timedelta(seconds=20))
        await eventually(lambda: not fake_kaleyra.state.rooms)
        assert fake_kaleyra.state.count("DELETE", f"/v2/rooms/{room}") == 4
