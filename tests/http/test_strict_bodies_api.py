"""With BODY_VALIDATION=strict, JSON bodies are held to the published schema: a number for a date-time, a string
for an integer or a fraction for an integer are refused with the CRUD-shaped 400, and nothing is stored or sent to
the provider; as in JSON Schema, `2.0` is an integer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.memory.clock import FixedClock
from entrypoints.settings import STRICT_BODIES
from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.http.builders import body, create, doctor, patient
from tests.http.conftest import Client, kaleyra_settings, serve


@pytest.fixture
async def client(fake_kaleyra: FakeKaleyraServer, clock: FixedClock) -> AsyncIterator[Client]:
    async with serve(kaleyra_settings(fake_kaleyra, body_validation=STRICT_BODIES), clock) as test_client:
        yield test_client


def crud_400(message: str) -> dict[str, Any]:
    return {"statusCode": 400, "error": "Bad Request", "message": message}


CREATIONS = [
    ({"start_date": 1893456000}, "body.start_date: Expected `datetime`, got `int`"),
    ({"end_date": 1893459600.5}, "body.end_date: Expected `datetime | null`, got `float`"),
    ({"end_date": None, "duration_in_seconds": "3600"}, "body.duration_in_seconds: Expected `int | null`, got `str`"),
    ({"end_date": None, "duration_in_seconds": 3600.5}, "body.duration_in_seconds: Expected `int | null`, got `float`"),
    ({"end_date": None, "duration_in_seconds": True}, "body.duration_in_seconds: Expected `int | null`, got `bool`"),
]


@pytest.mark.parametrize(("change", "message"), CREATIONS)
async def test_a_creation_with_a_value_of_another_type_is_refused(
    client: Client, fake_kaleyra: FakeKaleyraServer, change: dict[str, Any], message: str
) -> None:
    response = await client.post("/teleconsultation", json={**body(doctor(), patient()), **change})
    assert response.status_code == 400
    assert response.json() == crud_400(message)
    assert fake_kaleyra.state.rooms == {}
    assert fake_kaleyra.state.users == {}


async def test_a_participant_count_given_as_a_string_is_refused(client: Client) -> None:
    payload = body(doctor(), patient())
    payload["participants"]["number"] = "2"
    response = await client.post("/teleconsultation", json=payload)
    assert response.json() == crud_400("body.participants.number: Expected `int`, got `str`")


async def test_a_change_with_a_number_for_the_start_is_refused_and_changes_nothing(client: Client) -> None:
    room_id = await create(client, body(doctor(), patient()))
    before = (await client.get(f"/teleconsultation/{room_id}", headers={"miauserid": "pat-1"})).json()

    response = await client.patch(f"/teleconsultation/{room_id}", json={"start_date": 32513048})

    assert response.status_code == 400
    assert response.json() == crud_400("body.start_date: Expected `datetime | null`, got `int`")
    after = (await client.get(f"/teleconsultation/{room_id}", headers={"miauserid": "pat-1"})).json()
    assert after == before


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"expiresIn": "3600"}, "body.expiresIn: Expected `int`, got `str`"),
        ({"expiresIn": 3600.25}, "body.expiresIn: Expected `int`, got `float`"),
    ],
)
async def test_credentials_with_an_expiry_of_another_type_are_refused(
    client: Client, payload: dict[str, Any], message: str
) -> None:
    response = await client.post("/credentials", json=payload, headers={"miauserid": "pat-1"})
    assert response.status_code == 400
    assert response.json() == crud_400(message)


async def test_a_settings_change_with_an_alias_of_another_type_is_refused(client: Client) -> None:
    response = await client.patch("/settings/update", json={"background_alias": 7}, headers={"miauserid": "doc-1"})
    assert response.status_code == 400
    assert response.json() == crud_400("body.background_alias: Expected `str | null`, got `int`")


async def test_bodies_of_the_right_types_are_still_served(client: Client) -> None:
    payload = {**body(doctor(), patient()), "end_date": None, "duration_in_seconds": 1800.0}  # an integer in JSON
    room_id = await create(client, payload)
    changed = await client.patch(f"/teleconsultation/{room_id}", json={"start_date": "2030-03-01T10:00:00+01:00"})
    assert changed.status_code == 204


async def test_a_deeply_nested_body_within_the_size_limit_is_a_400(client: Client) -> None:
    nested = b'{"expiresIn": ' + b"[" * 495 + b"]" * 495 + b"}"
    response = await client.post(
        "/credentials", content=nested, headers={"content-type": "application/json", "miauserid": "pat-1"}
    )
    assert response.status_code == 400
    assert response.json() == crud_400("body.expiresIn: Expected `int`, got `array`")


async def test_a_body_nested_deeper_than_json_can_be_read_is_a_400(client: Client) -> None:
    nested = b'{"participants": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    response = await client.post("/teleconsultation", content=nested, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json() == crud_400("body: the JSON document is nested too deeply")


@pytest.mark.parametrize("route", ["/teleconsultation", "/teleconsultation/0123456789abcdef01234567"])
async def test_a_body_that_is_not_utf_8_is_a_400(client: Client, route: str) -> None:
    method = "POST" if route == "/teleconsultation" else "PATCH"
    response = await client.request(
        method, route, content=b'{"start_date": "\xff"}', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["message"] == "body: the JSON document is not valid UTF-8"
