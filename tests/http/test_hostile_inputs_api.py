"""Inputs an attacker sent to get a 500 or a cross-site write: each is a clear 4xx now (issue 11)."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta
from typing import Any

import pytest

from adapters.memory.clock import FixedClock
from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.http.builders import create, teleconsultation
from tests.http.conftest import Client, kaleyra_settings, serve

JSON_ROUTES = [
    ("POST", "/teleconsultation", teleconsultation()),
    ("PATCH", "/teleconsultation/{id}", {"start_date": "2030-02-22T15:40:00.000Z"}),
    ("POST", "/credentials", {"expiresIn": 3600}),
    ("PATCH", "/settings/update", {"background_alias": "alias"}),
]
RANGE = "must be between 1970-01-01 and 9998-12-31"


@pytest.mark.parametrize(
    "raw",
    [
        b'{"participants": "\xff", "start_date": "2030-02-22T15:30:00Z"}',
        b'{"\xc3": 1}',
        b'{"participants": {"number": 2, "data": [{"userId": "\xed\xa0\x80"}]}}',  # an encoded surrogate
    ],
)
async def test_a_json_body_that_is_not_utf8_is_400(client: Client, raw: bytes) -> None:
    response = await client.post("/teleconsultation", content=raw, headers={"content-type": "application/json"})

    assert response.status_code == 400
    assert response.json() == {
        "statusCode": 400,
        "error": "Bad Request",
        "message": "body: the JSON document is not valid UTF-8",
    }


@pytest.mark.parametrize(("method", "path", "body"), JSON_ROUTES)
async def test_every_json_route_reads_invalid_utf8_as_400(
    client: Client, method: str, path: str, body: dict[str, Any]
) -> None:
    room_id = await create(client)
    raw = json.dumps(body).encode()[:-1] + b', "x": "\xff"}'

    response = await client.request(
        method,
        path.format(id=room_id),
        content=raw,
        headers={"content-type": "application/json", "miauserid": "doc-1", "miausergroups": "doctor"},
    )

    assert response.status_code == 400
    assert response.json()["message"] == "body: the JSON document is not valid UTF-8"


@pytest.mark.parametrize(
    ("start", "extra", "named"),
    [
        ("9999-12-31T23:00:00.000Z", {"duration_in_seconds": 3600}, "start_date"),
        ("9998-12-31T23:30:00.000Z", {"duration_in_seconds": 3600}, "the end (start_date plus duration_in_seconds)"),
        ("9998-12-31T23:30:00.000Z", {"end_date": "9999-01-01T00:30:00.000Z"}, "end_date"),
        ("0001-01-01T00:00:00.000Z", {"end_date": "0001-01-01T01:00:00.000Z"}, "start_date"),
        ("9999-12-31T18:00:00.000-05:00", {"duration_in_seconds": 3600}, "start_date"),
    ],
)
async def test_dates_at_the_edge_of_time_are_400_on_creation_and_change(
    fake_kaleyra: FakeKaleyraServer, clock: FixedClock, start: str, extra: dict[str, Any], named: str
) -> None:
    settings = kaleyra_settings(fake_kaleyra, immutable_period=timedelta(hours=1))
    async with serve(settings, clock) as client:
        body = {"participants": teleconsultation()["participants"], "start_date": start, **extra}
        created = await client.post("/teleconsultation", json=body)
        room_id = await create(client)
        changed = await client.patch(f"/teleconsultation/{room_id}", json={"start_date": start, **extra})
        still_readable = await client.get(f"/teleconsultation/{room_id}", headers={"miauserid": "pat-1"})

    assert created.status_code == 400
    assert created.json() == {"error": f"Failed POST /teleconsultation: {named} {RANGE}"}
    assert changed.status_code == 400
    assert changed.json() == {"error": f"Failed PATCH /teleconsultation: {named} {RANGE}"}
    assert still_readable.status_code == 200


async def test_an_overlong_duration_is_refused_before_any_date_arithmetic(client: Client) -> None:
    body = {**teleconsultation(), "end_date": None, "duration_in_seconds": 10 * 365 * 24 * 3600}
    body.pop("end_date")

    response = await client.post("/teleconsultation", json=body)

    assert response.status_code == 400
    assert response.json() == {"error": "Failed POST /teleconsultation: the duration must be at most 24 hours"}


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "application/json; charset=iso-8859-1",
        "text/json",
    ],
)
async def test_a_cross_site_form_cannot_create_a_teleconsultation(
    client: Client, fake_kaleyra: FakeKaleyraServer, content_type: str
) -> None:
    response = await client.post(
        "/teleconsultation", content=json.dumps(teleconsultation()), headers={"content-type": content_type}
    )

    assert response.status_code == 415
    assert response.json()["error"].startswith("Failed POST /teleconsultation: send the body as application/json")
    assert fake_kaleyra.state.rooms == {}
    assert fake_kaleyra.state.users == {}


async def test_a_json_body_without_a_content_type_is_415(client: Client, fake_kaleyra: FakeKaleyraServer) -> None:
    response = await client.post("/teleconsultation", content=json.dumps(teleconsultation()))

    assert response.status_code == 415
    assert fake_kaleyra.state.rooms == {}


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/merge-patch+json"])
async def test_json_with_parameters_or_a_json_suffix_is_read(client: Client, content_type: str) -> None:
    response = await client.post(
        "/teleconsultation", content=json.dumps(teleconsultation()), headers={"content-type": content_type}
    )

    assert response.status_code == 201, response.text


@pytest.mark.parametrize(("method", "path", "body"), JSON_ROUTES)
async def test_every_json_route_answers_415_to_text_plain_and_documents_it(
    client: Client, method: str, path: str, body: dict[str, Any]
) -> None:
    room_id = await create(client)

    response = await client.request(
        method,
        path.format(id=room_id),
        content=json.dumps(body),
        headers={"content-type": "text/plain", "miauserid": "doc-1", "miausergroups": "doctor"},
    )
    document = (await client.get("/documentation/json")).json()

    assert response.status_code == 415
    assert "send the body as application/json" in response.json()["error"]
    operation = document["paths"][path.replace("{id}", "{roomId}")][method.lower()]
    assert "415" in operation["responses"]


async def test_from_one_id_of_their_own_nobody_can_guess_the_next_ones(client: Client) -> None:
    ids = [await create(client, teleconsultation(doctor_id=f"doc-{n}")) for n in range(10)]

    tails = [int(room_id[8:], 16) for room_id in ids]
    assert all(len(room_id) == 24 for room_id in ids)
    assert min(abs(b - a) for a, b in itertools.pairwise(tails)) > 1 << 24  # no counter step
    unknown_neighbour = f"{ids[-1][:18]}{int(ids[-1][18:], 16) + 1:06x}"
    probe = await client.get(f"/teleconsultation/{unknown_neighbour}", headers={"miauserid": "pat-1"})
    assert probe.status_code == 404
