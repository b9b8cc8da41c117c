"""After a whole lifecycle, failures included, the logs name no person, link, token, user id or secret."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import timedelta

from adapters.memory.clock import FixedClock
from entrypoints.settings import ReliabilitySettings
from tests.builders import T0
from tests.fakes.auth0_client import FakeAuth0Client
from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.fakes.kaleyra_state import FakeKaleyraState, Fault
from tests.http.builders import body, create, doctor, patient
from tests.http.conftest import API_KEY, Client, auth_settings, kaleyra_settings, serve

IDEMPOTENCY_KEY = "idem-key-3f9a1c"


async def lifecycle(client: Client, fake: FakeKaleyraState, clock: FixedClock) -> list[str | None]:
    """Plans, reads, changes and cancels teleconsultations while the provider fails now and then; returns what
    the service answered that must never be logged (links)."""
    room_id = await create(client, body(doctor(), patient()))
    await client.post("/teleconsultation", json=body(doctor(), patient()), headers={"idempotency-key": IDEMPOTENCY_KEY})
    await client.post("/teleconsultation", json=body(doctor(), patient()), headers={"idempotency-key": IDEMPOTENCY_KEY})
    await client.post("/teleconsultation", json=body(patient(), patient("pat-2")))  # no plus user
    await client.post(
        "/teleconsultation", json=body(doctor(), {"userId": "nurse-7", "groups": ["nurse"], "fullName": "Nina Nurse"})
    )
    fake.fail_next("create_room", Fault.SERVER_ERROR)
    await client.post("/teleconsultation", json=body(doctor("doc-2"), patient("pat-2")))
    clock.set(T0)
    links = [
        (await client.get(f"/teleconsultation/{room_id}", headers={"miauserid": u})).json()["accessLinkURL"]
        for u in ("doc-1", "pat-1")
    ]
    clock.set(T0 - timedelta(days=1))
    fake.fail_next("delete_room", Fault.SERVER_ERROR, times=3)  # the old room of the change is queued for the sweeper
    await client.patch(
        f"/teleconsultation/{room_id}", json={"participants": {"number": 2, "data": [doctor(), patient("pat-3")]}}
    )
    fake.fail_next("get_room", Fault.RESET, times=3)
    await client.get(f"/teleconsultation/{room_id}", headers={"miauserid": "pat-3"})
    await client.get(f"/teleconsultation/{room_id}", headers={"miauserid": "stranger-9"})
    await client.delete(f"/teleconsultation/{room_id}")
    await client.get("/-/metrics")
    return links


async def test_no_personal_data_reaches_the_logs(
    fake_kaleyra: FakeKaleyraServer, auth0: FakeAuth0Client, clock: FixedClock, json_logs: io.StringIO
) -> None:
    reliability = ReliabilitySettings(circuit_failure_threshold=3, sweep_interval_seconds=0.01)
    async with serve(replace(kaleyra_settings(fake_kaleyra), reliability=reliability), clock) as client:
        links = await lifecycle(client, fake_kaleyra.state, clock)
    async with serve(auth_settings(fake_kaleyra, auth0), clock) as client:
        credentials = (await client.post("/credentials", headers={"miauserid": "auth0|doc"})).json()

    logged = json_logs.getvalue()
    lines = [json.loads(line) for line in logged.splitlines()]
    assert sum(line["message"] == "request served" for line in lines) == 14  # every request above
    assert any(line["message"] == "room deletion failed, queued for cleanup" for line in lines)
    assert all(line.get("request_id") for line in lines if line["logger"].startswith("adapters.kaleyra"))
    provider_users = list(fake_kaleyra.state.users)
    forbidden = [
        *filter(None, links),
        *(p["link"] for room in fake_kaleyra.state.rooms.values() for p in room.participants),
        credentials["accessToken"],
        *provider_users,
        "Joe Smith",
        "Jane Doe",
        "Nina Nurse",
        "doc-1",
        "pat-1",
        "pat-2",
        "pat-3",
        "nurse-7",
        "stranger-9",
        "auth0|doc",
        API_KEY,
        IDEMPOTENCY_KEY,
    ]
    assert len(provider_users) >= 4
    leaked = [secret for secret in forbidden if secret in logged]
    assert leaked == []
