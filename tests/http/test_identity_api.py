"""Auth mode, custom ids, the requester's identity and SDK credentials, over HTTP."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import msgspec
import pytest

from adapters.memory.clock import FixedClock
from entrypoints.service_config import DEFAULT_CONFIG, ServiceConfig
from tests.builders import T0
from tests.fakes.auth0_client import FakeAuth0Client
from tests.fakes.custom_id_service import FakeCustomIdService
from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.http.conftest import Client, auth_settings, kaleyra_settings, serve

START, END = "2030-02-22T15:30:00.000Z", "2030-02-22T16:30:00.000Z"
STANDALONE_TELECONSULTATION: dict[str, Any] = {
    "participants": {
        "number": 2,
        "data": [
            {"userId": "doc-1", "groups": ["doctor"], "fullName": "Joe"},
            {"userId": "pat-1", "groups": ["patient"], "fullName": "Jane"},
        ],
    },
    "start_date": START,
    "end_date": END,
}


def config(**overrides: Any) -> ServiceConfig:
    return msgspec.convert({**msgspec.to_builtins(DEFAULT_CONFIG), **overrides}, ServiceConfig)


async def get_as(client: Client, room_id: str, user: str, **headers: str) -> Any:
    return await client.get(f"/teleconsultation/{room_id}", headers={"miauserid": user, **headers})


async def test_a_list_of_auth0_ids_gets_groups_and_names_from_the_auth_service(
    fake_kaleyra: FakeKaleyraServer, auth0: FakeAuth0Client, clock: FixedClock
) -> None:
    async with serve(auth_settings(fake_kaleyra, auth0), clock) as client:
        response = await client.post(
            "/teleconsultation",
            json={"participants": ["auth0|doc", "auth0|pat"], "start_date": START, "end_date": END},
            headers={"x-request-id": "req-1", "cookie": "sid=abc", "x-forwarded-for": "10.0.0.1"},
        )
        assert response.status_code == 201, response.text
        sent = auth0.state.requests[-1].headers
        assert sent["x-request-id"] == "req-1"
        assert sent["cookie"] == "sid=abc"
        assert sent["x-forwarded-for"] == "10.0.0.1"
        assert sent["client-type"] == "default-app"
        view = (await get_as(client, response.json()["roomId"], "auth0|pat")).json()
        assert [p["fullName"] for p in view["participantsBandyerCall"]] == ["Joe Smith", "Jane Doe"]

        await client.post(
            "/teleconsultation",
            json={"participants": ["auth0|doc", "auth0|pat"], "start_date": START, "end_date": END},
            headers={"client-type": "mobile-app"},
        )
        assert auth0.state.requests[-1].headers["client-type"] == "mobile-app"


async def test_objects_in_auth_mode_need_only_user_ids_and_body_groups_are_ignored(
    fake_kaleyra: FakeKaleyraServer, auth0: FakeAuth0Client, clock: FixedClock
) -> None:
    async with serve(auth_settings(fake_kaleyra, auth0), clock) as client:
        participants = {
            "number": 2,
            "data": [{"userId": "auth0|doc", "language": "it"}, {"userId": "auth0|pat", "groups": ["doctor"]}],
        }
        response = await client.post(
            "/teleconsultation", json={"participants": participants, "start_date": START, "end_date": END}
        )
        assert response.status_code == 201
        plus = [role for role in fake_kaleyra.state.users.values() if role == "plus"]
        assert len(plus) == 1


async def test_unknown_users_and_unconfigured_groups_are_named(
    fake_kaleyra: FakeKaleyraServer, auth0: FakeAuth0Client, clock: FixedClock
) -> None:
    async with serve(auth_settings(fake_kaleyra, auth0), clock) as client:
        unknown = await client.post(
            "/teleconsultation",
            json={"participants": ["auth0|doc", "auth0|ghost"], "start_date": START, "end_date": END},
        )
        assert unknown.status_code == 400
        assert unknown.json() == {"error": "Failed POST /teleconsultation: user auth0|ghost not found"}
        nurse = await client.post(
            "/teleconsultation",
            json={"participants": ["auth0|doc", "auth0|nurse"], "start_date": START, "end_date": END},
        )
        assert nurse.status_code == 400
        assert "auth0|nurse" in nurse.json()["error"]


async def test_several_groups_give_the_higher_privilege(
    fake_kaleyra: FakeKaleyraServer, auth0: FakeAuth0Client, clock: FixedClock
) -> None:
    async with serve(auth_settings(fake_kaleyra, auth0), clock) as client:
        response = await client.post(
            "/teleconsultation",
            json={"participants": ["auth0|both", "auth0|pat"], "start_date": START, "end_date": END},
        )
        assert response.status_code == 201


async def test_the_auth_service_failing_is_a_clean_error(
    fake_kaleyra: FakeKaleyraServer, auth0: FakeAuth0Client, clock: FixedClock
) -> None:
    from tests.fakes.auth0_client import Failure

    auth0.state.failure = Failure.STATUS
    async with serve(auth_settings(fake_kaleyra, auth0), clock) as client:
        response = await client.post(
            "/teleconsultation", json={"participants": ["auth0|doc", "auth0|pat"], "start_date": START, "end_date": END}
        )
        assert response.status_code == 502
        assert response.json()["error"].startswith("Failed POST /teleconsultation: ")


async def test_custom_ids_are_resolved_and_both_ids_identify_the_requester(
    fake_kaleyra: FakeKaleyraServer, auth0: FakeAuth0Client, clock: FixedClock
) -> None:
    async with FakeCustomIdService() as users:
        users.state.documents.extend(
            [{"_id": "u-doc", "authUserId": "auth0|doc"}, {"_id": "u-pat", "authUserId": "auth0|pat"}]
        )
        settings = auth_settings(fake_kaleyra, auth0, custom_id_endpoint=users.users_url)
        async with serve(settings, clock) as client:
            created = await client.post(
                "/teleconsultation", json={"participants": ["u-doc", "u-pat"], "start_date": START, "end_date": END}
            )
            assert created.status_code == 201, created.text
            room_id = created.json()["roomId"]
            assert (await get_as(client, room_id, "auth0|pat")).status_code == 200
            assert (await get_as(client, room_id, "u-pat")).status_code == 200
            assert (await get_as(client, room_id, "auth0|nurse")).status_code == 401
            unresolved = await client.post(
                "/teleconsultation", json={"participants": ["u-doc", "u-unknown"], "start_date": START, "end_date": END}
            )
            assert unresolved.status_code == 400
            assert unresolved.json() == {
                "error": "Failed POST /teleconsultation: user u-unknown not found: neither the custom-id service "
                "nor the identity service knows it"
            }
            # Custom ids are a choice, not an obligation: an id the custom-id service does not know is an auth0 id.
            mixed = await client.post(
                "/teleconsultation", json={"participants": ["u-doc", "auth0|pat"], "start_date": START, "end_date": END}
            )
            assert mixed.status_code == 201, mixed.text
            assert (await get_as(client, mixed.json()["roomId"], "auth0|pat")).status_code == 200
            # A second teleconsultation with the same people reuses their provider users.
            await client.post(
                "/teleconsultation", json={"participants": ["u-doc", "u-pat"], "start_date": START, "end_date": END}
            )
            assert len(fake_kaleyra.state.users) == 2


async def test_user_id_path_in_request_reads_user_properties_and_bad_json_is_no_identity(
    fake_kaleyra: FakeKaleyraServer, clock: FixedClock
) -> None:
    path = [
        {"from": "object", "extract": "headers"},
        {"from": "object", "extract": "miauserproperties"},
        {"from": "json", "extract": "customUserId"},
    ]
    async with serve(kaleyra_settings(fake_kaleyra), clock, config(userIdPathInRequest=path)) as client:
        created = await client.post("/teleconsultation", json=STANDALONE_TELECONSULTATION)
        room_id = created.json()["roomId"]
        ok = await client.get(
            f"/teleconsultation/{room_id}", headers={"miauserproperties": '{"customUserId": "pat-1"}'}
        )
        assert ok.status_code == 200
        for bad in ("{not json", '{"other": 1}', "[1, 2]", '{"customUserId": 42.5}'):
            response = await client.get(f"/teleconsultation/{room_id}", headers={"miauserproperties": bad})
            assert response.status_code == 401, bad
            assert response.json() == {"error": "Unauthorized user"}
        # The plain header no longer identifies anyone once a path is configured.
        assert (await get_as(client, room_id, "pat-1")).status_code == 401


async def test_nobody_sees_another_participants_link_and_nothing_is_logged(
    client: Client, fake_kaleyra: FakeKaleyraServer, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    payload = STANDALONE_TELECONSULTATION
    room_id = (await client.post("/teleconsultation", json=payload)).json()["roomId"]
    clock.set(T0 + timedelta(minutes=1))
    views = {user: (await get_as(client, room_id, user)).text for user in ("doc-1", "pat-1")}
    links = [entry["link"] for room in fake_kaleyra.state.rooms.values() for entry in room.participants]
    assert len(links) == 2
    for link in links:
        assert sum(link in text for text in views.values()) == 1
        assert link not in caplog.text
    assert "Jane" not in caplog.text


@pytest.mark.parametrize(
    ("path", "query", "expected"),
    [
        ([{"from": "object", "extract": "query"}, {"from": "object", "extract": "uid"}], "?uid=pat-1", 200),
        ([{"from": "object", "extract": "query"}, {"from": "object", "extract": "uid"}], "?other=pat-1", 401),
        ([{"from": "object", "extract": "params"}, {"from": "object", "extract": "uid"}], "?uid=pat-1", 401),
        ([{"from": "array", "extract": 0}, {"from": "object", "extract": "uid"}], "?uid=pat-1", 401),
        ([{"from": "object", "extract": "cookies"}, {"from": "object", "extract": "uid"}], "?uid=pat-1", 401),
    ],
)
async def test_a_user_id_path_reaches_only_the_part_of_the_request_it_names(
    fake_kaleyra: FakeKaleyraServer, clock: FixedClock, path: list[dict[str, Any]], query: str, expected: int
) -> None:
    body = STANDALONE_TELECONSULTATION
    async with serve(kaleyra_settings(fake_kaleyra), clock, config(userIdPathInRequest=path)) as client:
        room_id = (await client.post("/teleconsultation", json=body)).json()["roomId"]
        response = await client.get(f"/teleconsultation/{room_id}{query}", headers={"miauserid": "pat-1"})
    assert response.status_code == expected


async def test_the_user_id_header_matches_in_any_case_and_a_repeated_one_is_refused(client: Client) -> None:
    body = STANDALONE_TELECONSULTATION
    room_id = (await client.post("/teleconsultation", json=body)).json()["roomId"]
    patient_view = (await get_as(client, room_id, "pat-1")).json()

    mixed_case = await client.get(f"/teleconsultation/{room_id}", headers=[("MiaUserId", "pat-1")])
    repeated = await client.get(
        f"/teleconsultation/{room_id}", headers=[("miauserid", "doc-1"), ("miauserid", "pat-1")]
    )

    assert mixed_case.json()["bandyerUserId"] == patient_view["bandyerUserId"]
    assert repeated.status_code == 400
    assert repeated.json() == {"error": "Failed GET /teleconsultation: the miauserid header must be sent at most once"}
