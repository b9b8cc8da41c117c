"""POST /teleconsultation with an Idempotency-Key, over HTTP against the fake Kaleyra."""

from __future__ import annotations

import asyncio

import pytest

from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.fakes.kaleyra_state import Fault
from tests.http.builders import END, START, body, doctor, patient
from tests.http.conftest import Client

KEY = "8e03978e-40d5-43e8-bc93-6894a57f9324"


async def test_a_retry_with_the_same_key_and_body_replays_the_first_answer(
    client: Client, fake_kaleyra: FakeKaleyraServer
) -> None:
    first = await client.post("/teleconsultation", json=body(doctor(), patient()), headers={"idempotency-key": KEY})
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    # The same body with its keys in another order, and the key as the draft's quoted string.
    same = {"end_date": END, "participants": body(doctor(), patient())["participants"], "start_date": START}
    retried = await client.post("/teleconsultation", json=same, headers={"idempotency-key": f'"{KEY}"'})
    assert (retried.status_code, retried.content) == (201, first.content)
    assert retried.headers["idempotent-replayed"] == "true"
    assert len(fake_kaleyra.state.rooms) == 1


async def test_the_same_key_with_another_body_is_422(client: Client, fake_kaleyra: FakeKaleyraServer) -> None:
    headers = {"idempotency-key": KEY}
    assert (await client.post("/teleconsultation", json=body(doctor(), patient()), headers=headers)).status_code == 201
    other = await client.post("/teleconsultation", json=body(doctor(), patient("pat-2")), headers=headers)
    assert other.status_code == 422
    assert other.json() == {
        "error": "Failed POST /teleconsultation: this Idempotency-Key was already used with a different request body"
    }
    assert len(fake_kaleyra.state.rooms) == 1


async def test_a_request_while_the_first_is_in_flight_is_409(client: Client, fake_kaleyra: FakeKaleyraServer) -> None:
    fake_kaleyra.state.latency_seconds = 0.2
    headers = {"idempotency-key": KEY}
    first = asyncio.create_task(client.post("/teleconsultation", json=body(doctor(), patient()), headers=headers))
    await asyncio.sleep(0.1)
    second = await client.post("/teleconsultation", json=body(doctor(), patient()), headers=headers)
    assert second.status_code == 409
    assert second.headers["retry-after"] == "1"
    assert "still in progress" in second.json()["error"]
    assert (await first).status_code == 201
    assert len(fake_kaleyra.state.rooms) == 1


async def test_a_failed_first_attempt_does_not_stop_a_retry(client: Client, fake_kaleyra: FakeKaleyraServer) -> None:
    headers = {"idempotency-key": KEY}
    fake_kaleyra.state.fail_next("create_room", Fault.SERVER_ERROR)
    assert (await client.post("/teleconsultation", json=body(doctor(), patient()), headers=headers)).status_code == 502
    retried = await client.post("/teleconsultation", json=body(doctor(), patient()), headers=headers)
    assert retried.status_code == 201
    assert "idempotent-replayed" not in retried.headers
    invalid = await client.post(
        "/teleconsultation", json=body(patient(), patient("p2")), headers={"idempotency-key": "k2"}
    )
    assert invalid.status_code == 400
    assert (
        await client.post("/teleconsultation", json=body(doctor(), patient()), headers={"idempotency-key": "k2"})
    ).status_code == 201


async def test_keys_belong_to_the_requester_who_sent_them(client: Client, fake_kaleyra: FakeKaleyraServer) -> None:
    created = set()
    for requester in ("doc-1", "doc-2"):
        headers = {"idempotency-key": KEY, "miauserid": requester}
        response = await client.post("/teleconsultation", json=body(doctor(), patient()), headers=headers)
        assert response.status_code == 201
        created.add(response.json()["roomId"])
    assert len(created) == 2


@pytest.mark.parametrize("bad_key", ["", '""', "x" * 256, "clé", "tab\tkey"])
async def test_a_malformed_key_is_400(client: Client, bad_key: str) -> None:
    response = await client.post(
        "/teleconsultation", json=body(doctor(), patient()), headers={b"idempotency-key": bad_key.encode("utf-8")}
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "Failed POST /teleconsultation: the Idempotency-Key header must be 1 to 255 printable ASCII characters"
    }


@pytest.mark.parametrize("second", [KEY, "another-key"])
async def test_a_repeated_key_header_is_400_and_creates_nothing(
    client: Client, fake_kaleyra: FakeKaleyraServer, second: str
) -> None:
    headers = [("idempotency-key", KEY), ("idempotency-key", second)]

    response = await client.post("/teleconsultation", json=body(doctor(), patient()), headers=headers)

    assert response.status_code == 400
    assert response.json() == {
        "error": "Failed POST /teleconsultation: the idempotency-key header must be sent at most once"
    }
    assert fake_kaleyra.state.rooms == {}
