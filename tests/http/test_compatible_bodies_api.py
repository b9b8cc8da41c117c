"""BODY_VALIDATION: `compatible` (the default) takes the bodies the original service's validation took, `strict`
refuses them; malformed JSON, invalid values and the rules stay errors in both modes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.memory.clock import FixedClock
from entrypoints.settings import COMPATIBLE_BODIES, STRICT_BODIES, Settings
from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.http.builders import body, create, doctor, patient
from tests.http.conftest import Client, kaleyra_settings, serve


@pytest.fixture
async def compatible(fake_kaleyra: FakeKaleyraServer, clock: FixedClock) -> AsyncIterator[Client]:
    # The default mode, and rooms with a duration, so that the provider shows which duration was understood.
    async with serve(kaleyra_settings(fake_kaleyra, unlimited_teleconsultation=False), clock) as client:
        yield client


@pytest.fixture
async def strict(fake_kaleyra: FakeKaleyraServer, clock: FixedClock) -> AsyncIterator[Client]:
    settings = kaleyra_settings(fake_kaleyra, unlimited_teleconsultation=False, body_validation=STRICT_BODIES)
    async with serve(settings, clock) as client:
        yield client


def test_compatible_is_the_default() -> None:
    assert Settings().body_validation == COMPATIBLE_BODIES
    assert Settings.from_env({}).body_validation == COMPATIBLE_BODIES
    assert Settings.from_env({"BODY_VALIDATION": "STRICT"}).body_validation == STRICT_BODIES


def duration_body(duration: Any) -> dict[str, Any]:
    return body(doctor(), patient(), end_date=None, duration_in_seconds=duration)


async def test_a_duration_as_a_numeric_string_is_that_duration(
    compatible: Client, fake_kaleyra: FakeKaleyraServer
) -> None:
    await create(compatible, duration_body("3600"))
    assert [room.duration for room in fake_kaleyra.state.rooms.values()] == [3600]


async def test_a_duration_as_a_numeric_string_is_refused_in_strict_mode(
    strict: Client, fake_kaleyra: FakeKaleyraServer
) -> None:
    response = await strict.post("/teleconsultation", json=duration_body("3600"))
    assert response.status_code == 400
    assert response.json()["message"] == "body.duration_in_seconds: Expected `int | null`, got `str`"
    assert fake_kaleyra.state.rooms == {}


async def test_the_participant_count_and_a_changed_duration_may_be_numeric_strings(
    compatible: Client, fake_kaleyra: FakeKaleyraServer
) -> None:
    payload = duration_body("1800")
    payload["participants"]["number"] = "2"
    room_id = await create(compatible, payload)
    changed = await compatible.patch(f"/teleconsultation/{room_id}", json={"duration_in_seconds": "2400"})
    assert changed.status_code == 204
    assert [room.duration for room in fake_kaleyra.state.rooms.values()] == [2400]


@pytest.mark.parametrize(
    ("duration", "message"),
    [
        ("an hour", "body.duration_in_seconds: Expected `int | null`, got `str`"),
        ("3600.5", "body.duration_in_seconds: Expected `int | null`, got `str`"),
        (" 3600", "body.duration_in_seconds: Expected `int | null`, got `str`"),
        ("0x10", "body.duration_in_seconds: Expected `int | null`, got `str`"),
        ("+3600", "body.duration_in_seconds: Expected `int | null`, got `str`"),
        ("-0", "body.duration_in_seconds: Expected `int | null`, got `str`"),
        ("-60", "body.duration_in_seconds: Expected `int` >= 0"),
        ("99999999999", "body.duration_in_seconds: Expected `int` <= 315360000"),
        (True, "body.duration_in_seconds: Expected `int | null`, got `bool`"),
    ],
)
async def test_a_string_that_is_no_integer_in_range_is_still_refused(
    compatible: Client, fake_kaleyra: FakeKaleyraServer, duration: Any, message: str
) -> None:
    response = await compatible.post("/teleconsultation", json=duration_body(duration))
    assert response.status_code == 400
    assert response.json() == {"statusCode": 400, "error": "Bad Request", "message": message}
    assert fake_kaleyra.state.rooms == {}


async def test_the_duration_rules_still_hold_for_a_numeric_string(compatible: Client) -> None:
    response = await compatible.post("/teleconsultation", json=duration_body("60"))
    assert response.status_code == 400
    assert set(response.json()) == {"error"}  # a rule's answer, not a malformed body's


async def test_unknown_members_are_ignored_at_every_level(compatible: Client, fake_kaleyra: FakeKaleyraServer) -> None:
    payload = body({**doctor(), "title": "Dr"}, patient(), title="x", notes={"a": 1})
    payload["participants"]["kind"] = "object"
    room_id = await create(compatible, payload)
    assert (await compatible.patch(f"/teleconsultation/{room_id}", json={"title": "y"})).status_code == 204
    assert len(fake_kaleyra.state.rooms) == 1


async def test_unknown_members_are_refused_in_strict_mode(strict: Client) -> None:
    response = await strict.post("/teleconsultation", json=body(doctor(), patient(), title="x"))
    assert response.status_code == 400
    assert response.json()["message"] == "body: Object contains unknown field `title`"


async def test_user_external_id_is_the_v1_name_of_user_id(compatible: Client) -> None:
    v1_doctor = {key: value for key, value in doctor().items() if key != "userId"} | {"userExternalId": "doc-1"}
    room_id = await create(compatible, body(v1_doctor, patient()))
    # The participant is known by that id: they may read their teleconsultation.
    assert (await compatible.get(f"/teleconsultation/{room_id}", headers={"miauserid": "doc-1"})).status_code == 200


async def test_user_id_wins_over_user_external_id(compatible: Client) -> None:
    both = {**doctor(), "userExternalId": "someone-else"}
    room_id = await create(compatible, body(both, patient()))
    assert (await compatible.get(f"/teleconsultation/{room_id}", headers={"miauserid": "doc-1"})).status_code == 200
    assert (
        await compatible.get(f"/teleconsultation/{room_id}", headers={"miauserid": "someone-else"})
    ).status_code == 401


async def test_user_external_id_is_refused_in_strict_mode(strict: Client) -> None:
    v1_doctor = {key: value for key, value in doctor().items() if key != "userId"} | {"userExternalId": "doc-1"}
    response = await strict.post("/teleconsultation", json=body(v1_doctor, patient()))
    assert response.status_code == 400
    assert response.json()["message"] == "body.participants.data[0]: Object contains unknown field `userExternalId`"


async def test_a_participant_without_any_id_is_refused(compatible: Client) -> None:
    nameless = {key: value for key, value in doctor().items() if key != "userId"}
    response = await compatible.post("/teleconsultation", json=body(nameless, patient()))
    assert response.status_code == 400
    assert response.json()["message"] == "body.participants.data[0]: Object missing required field `userId`"


async def test_malformed_json_is_refused_in_both_modes(compatible: Client, strict: Client) -> None:
    for client in (compatible, strict):
        response = await client.post(
            "/teleconsultation", content=b'{"start_date": ', headers={"content-type": "application/json"}
        )
        assert response.status_code == 400
        assert response.json()["message"].startswith("body: the body is not a JSON document")


async def test_a_bad_date_is_refused_in_both_modes(compatible: Client, strict: Client) -> None:
    for client in (compatible, strict):
        response = await client.post("/teleconsultation", json=body(doctor(), patient(), start_date="tomorrow"))
        assert response.status_code == 400
        assert response.json()["message"].startswith("body.start_date: Invalid RFC3339 encoded datetime")


async def test_the_published_document_describes_the_mode_in_force(compatible: Client, strict: Client) -> None:
    lenient = (await compatible.get("/documentation/openapi.json")).json()["components"]["schemas"]
    exact = (await strict.get("/documentation/openapi.json")).json()["components"]["schemas"]
    assert exact["CreateTeleconsultationBody"]["additionalProperties"] is False
    assert "additionalProperties" not in lenient["CreateTeleconsultationBody"]
    assert {"type": "string", "pattern": "^(?:[0-9]|[1-9][0-9]|100)$"} in lenient["ParticipantsBody"]["properties"][
        "number"
    ]["anyOf"]
    assert exact["ParticipantsBody"]["properties"]["number"]["type"] == "integer"
    assert "userExternalId" in lenient["ParticipantBody"]["properties"]
    assert "userExternalId" not in exact["ParticipantBody"]["properties"]
    # Response bodies are what the service writes, in both modes.
    assert lenient["ServiceError"] == exact["ServiceError"]
