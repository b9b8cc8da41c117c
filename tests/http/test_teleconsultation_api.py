"""Every route, status code and documented error string of the teleconsultation lifecycle, over HTTP."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import msgspec

from adapters.memory.clock import FixedClock
from application.dto import RoomDetails
from entrypoints.http.schemas import RoomDetailsBody, room_details_body
from tests.builders import T0
from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.http.builders import END, START, body, create, doctor, patient
from tests.http.conftest import Client, kaleyra_settings, serve


async def test_the_whole_lifecycle_against_kaleyra(
    client: Client, fake_kaleyra: FakeKaleyraServer, clock: FixedClock
) -> None:
    room_id = await create(client, body(doctor(), patient()))
    assert len(room_id) == 24
    assert len(fake_kaleyra.state.rooms) == 1

    before = await client.get(f"/teleconsultation/{room_id}", headers={"miauserid": "pat-1"})
    assert before.status_code == 200
    view = before.json()
    assert view["accessLinkURL"] is None
    assert view["bandyerUserId"]
    assert [p["fullName"] for p in view["participantsBandyerCall"]] == ["Joe Smith", "Jane Doe"]
    assert view["details"]["status"]

    clock.set(T0)
    links = set()
    for user in ("doc-1", "pat-1"):
        response = await client.get(f"/teleconsultation/{room_id}", headers={"miauserid": user})
        assert response.status_code == 200
        links.add(response.json()["accessLinkURL"])
    assert None not in links
    assert len(links) == 2

    clock.set(T0 - timedelta(days=1))
    patched = await client.patch(f"/teleconsultation/{room_id}", json={"duration_in_seconds": 1800})
    assert patched.status_code == 204
    assert patched.content == b""
    assert len(fake_kaleyra.state.rooms) == 1  # the old room was deleted, a new one created

    deleted = await client.delete(f"/teleconsultation/{room_id}")
    assert deleted.status_code == 204
    assert fake_kaleyra.state.rooms == {}
    gone = await client.get(f"/teleconsultation/{room_id}", headers={"miauserid": "pat-1"})
    assert gone.status_code == 404
    assert gone.json() == {"error": f"Room with id {room_id} not found on CRUD"}


async def test_duration_in_seconds_is_accepted(client: Client) -> None:
    payload = body(doctor(), patient())
    del payload["end_date"]
    payload["duration_in_seconds"] = 3600
    await create(client, payload)


async def test_no_plus_user_has_the_documented_bodies(client: Client) -> None:
    response = await client.post("/teleconsultation", json=body(patient("p1"), patient("p2")))
    assert response.status_code == 400
    assert response.json() == {"error": "Failed POST /teleconsultation: no plus user in room"}

    room_id = await create(client, body(doctor(), number=2))
    response = await client.patch(
        f"/teleconsultation/{room_id}", json={"participants": {"number": 2, "data": [patient("p1"), patient("p2")]}}
    )
    assert response.status_code == 400
    assert response.json() == {"error": "Failed PATCH /teleconsultation: no plus user in room"}


async def test_an_incomplete_roster_creates_users_but_no_room(client: Client, fake_kaleyra: FakeKaleyraServer) -> None:
    room_id = await create(client, body(doctor(), number=3))
    assert len(fake_kaleyra.state.users) == 1
    assert fake_kaleyra.state.rooms == {}
    view = (await client.get(f"/teleconsultation/{room_id}", headers={"miauserid": "doc-1"})).json()
    assert view["accessLinkURL"] is None
    assert view["details"] is None


async def test_changes_inside_the_immutable_period_are_refused(
    fake_kaleyra: FakeKaleyraServer, clock: FixedClock
) -> None:
    settings = kaleyra_settings(fake_kaleyra, immutable_period=timedelta(minutes=10))
    async with serve(settings, clock) as client:
        room_id = await create(client, body(doctor(), patient()))
        clock.set(T0 - timedelta(minutes=10))
        response = await client.patch(f"/teleconsultation/{room_id}", json={"duration_in_seconds": 900})
        assert response.status_code == 409
        assert response.json() == {
            "error": "Failed PATCH /teleconsultation: teleconsultation can no longer be modified"
        }
        link = (await client.get(f"/teleconsultation/{room_id}", headers={"miauserid": "doc-1"})).json()
        assert link["accessLinkURL"]


async def test_requesters_who_are_not_participants_are_refused(client: Client) -> None:
    room_id = await create(client, body(doctor(), patient()))
    other_id = await create(client, body(doctor("doc-2"), patient("pat-2")))
    for headers in ({}, {"miauserid": ""}, {"miauserid": "stranger"}, {"miauserid": "pat-2"}):
        response = await client.get(f"/teleconsultation/{room_id}", headers=headers)
        assert response.status_code == 401, headers
        assert response.json() == {"error": "Unauthorized user"}
    assert (await client.get(f"/teleconsultation/{other_id}", headers={"miauserid": "pat-2"})).status_code == 200


async def test_unknown_ids_answer_404_on_every_route(client: Client) -> None:
    for room_id in ("room_xyz", "0123456789abcdef01234567"):
        got = await client.get(f"/teleconsultation/{room_id}", headers={"miauserid": "doc-1"})
        assert got.json() == {"error": f"Room with id {room_id} not found on CRUD"}
        assert (
            await client.patch(f"/teleconsultation/{room_id}", json={"duration_in_seconds": 900})
        ).status_code == 404
        assert (await client.delete(f"/teleconsultation/{room_id}")).status_code == 404


async def test_an_unconfigured_group_is_named(client: Client) -> None:
    nurse = {"userId": "nurse-7", "groups": ["nurse"], "fullName": "N"}
    response = await client.post("/teleconsultation", json=body(doctor(), nurse))
    assert response.status_code == 400
    assert response.json() == {
        "error": "Failed POST /teleconsultation: user nurse-7 has no group allowed by the service configuration"
    }


async def test_bad_input_gets_a_crud_shaped_400(client: Client) -> None:
    cases: list[Any] = [
        {"participants": {"number": 2, "data": []}, "end_date": END},  # no start_date
        body(doctor(), patient(), duration_in_seconds=3600),  # both end and duration
        body(doctor(), patient(), end_date="2030-02-22T15:31:00.000Z"),  # too short
        body(doctor(), patient(), end_date="2030-02-24T15:31:00.000Z"),  # too long
        body(doctor(), patient(), start_date="2030-02-22T15:30:00"),  # no offset
        body(doctor(), patient(), start_date="2030-02-30T15:30:00Z"),  # impossible date
        body(doctor(), patient(), end_date=None, duration_in_seconds="an hour"),
        {**body(doctor(), patient()), "participants": "everyone"},
        ["not", "an", "object"],
    ]
    for payload in cases:
        response = await client.post("/teleconsultation", json=payload)
        assert response.status_code == 400, (payload, response.text)
        answer = response.json()
        if "statusCode" in answer:
            assert set(answer) == {"statusCode", "error", "message"}
            assert answer["statusCode"] == 400
            assert answer["error"] == "Bad Request"
        else:
            assert set(answer) == {"error"}
            assert answer["error"].startswith("Failed POST /teleconsultation: ")


async def test_malformed_json_and_unknown_routes_are_clean_4xx(client: Client) -> None:
    response = await client.post(
        "/teleconsultation", content=b'{"participants": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert set(response.json()) == {"statusCode", "error", "message"}
    missing = await client.get("/nowhere")
    assert missing.status_code == 404
    assert missing.json() == {"statusCode": 404, "error": "Not Found", "message": "Route GET:/nowhere not found"}
    wrong_method = await client.put("/teleconsultation/abc", json={})
    assert wrong_method.status_code == 405
    assert set(wrong_method.json()) == {"statusCode", "error", "message"}


async def test_the_list_form_needs_an_auth_service(client: Client) -> None:
    response = await client.post(
        "/teleconsultation", json={"participants": ["a", "b"], "start_date": START, "end_date": END}
    )
    assert response.status_code == 400
    assert "AUTH_SERVICE" in response.json()["error"]


async def test_a_provider_failure_is_a_502_and_stores_nothing(client: Client, fake_kaleyra: FakeKaleyraServer) -> None:
    fake_kaleyra.state.fail_next("create_room", "500")
    response = await client.post("/teleconsultation", json=body(doctor(), patient()))
    assert response.status_code == 502
    error = response.json()["error"]
    assert error.startswith("Failed POST /teleconsultation: kaleyra")
    assert API_KEY_FRAGMENT not in error
    assert fake_kaleyra.state.rooms == {}


API_KEY_FRAGMENT = "e2e-secret"


async def test_problem_details_only_for_clients_that_ask(client: Client) -> None:
    response = await client.post(
        "/teleconsultation", json=body(patient("p1"), patient("p2")), headers={"accept": "application/problem+json"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 400
    assert problem["detail"] == "Failed POST /teleconsultation: no plus user in room"
    assert problem["type"].startswith("https://")


async def test_the_room_details_carry_every_field_in_camel_case(
    client: Client, fake_kaleyra: FakeKaleyraServer
) -> None:
    room_id = await create(client, body(doctor(), patient()))
    (room,) = fake_kaleyra.state.rooms.values()
    view = (await client.get(f"/teleconsultation/{room_id}", headers={"miauserid": "pat-1"})).json()
    assert view["details"] == {
        "recording": room.recording,
        "recordingStatus": "stopped",
        "callType": room.call_type,
        "description": room.description,
        "status": "NOT_RUNNING",
        "disabled": False,
        "creationDate": room.creation_date,
        "durationInSeconds": room.duration,
        "durationUsedInSeconds": 0,
        "live": room.live,
    }


def test_the_details_body_lines_up_with_the_room_details_it_is_copied_from() -> None:
    # room_details_body copies by position: the HTTP body must list RoomDetails's fields in the same order.
    names = [field.name for field in dataclasses.fields(RoomDetails)]
    assert [field.name for field in msgspec.structs.fields(RoomDetailsBody)] == names
    every = RoomDetails(*(f"value of {name}" for name in names))  # type: ignore[arg-type]
    assert msgspec.structs.asdict(room_details_body(every)) == dataclasses.asdict(every)  # type: ignore[arg-type]


async def test_probes_and_the_openapi_document(client: Client) -> None:
    assert (await client.get("/-/healthz")).json() == {"status": "OK"}
    assert (await client.get("/-/ready")).json() == {"status": "OK"}
    # lc39's check-up probe, as the original exposed it: the same check as readiness.
    assert (await client.get("/-/check-up")).json() == {"status": "OK"}
    document = (await client.get("/documentation/json")).json()
    assert document["openapi"].startswith("3.1")
    assert {
        "/teleconsultation/{roomId}",
        "/teleconsultation/{roomId}/uploads",
        "/settings/background-image",
        "/settings/update",
        "/transcription/{roomId}/{sessionId}",
    } <= set(document["paths"])
    assert (await client.get("/documentation/openapi.json")).status_code == 200
