"""A failing video provider over HTTP: clean 502s, then fast 503s with Retry-After while the circuit is open."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from adapters.memory.clock import FixedClock
from entrypoints.settings import ReliabilitySettings
from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.fakes.kaleyra_state import Fault
from tests.http.conftest import kaleyra_settings, serve
from tests.http.test_teleconsultation_api import body, create, doctor, patient

OUTAGE = ReliabilitySettings(circuit_failure_threshold=2, circuit_reset_seconds=20)


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
