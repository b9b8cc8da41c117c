"""The identity headers an attacker played with: repeated copies, non-ASCII ids, Unicode blanks (issue 11)."""

from __future__ import annotations

import pytest

from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.http.builders import create, teleconsultation
from tests.http.conftest import Client

ACCENTED = "jürgen.müller@example.de"


@pytest.mark.parametrize("name", ["miauserid", "miausergroups", "miauserproperties", "client-type"])
async def test_a_repeated_identity_header_is_refused_on_reads(client: Client, name: str) -> None:
    room_id = await create(client)
    headers = [("miauserid", "pat-1"), (name, "pat-1"), (name, "doc-1")]
    if name == "miauserid":
        headers = headers[1:]

    response = await client.get(f"/teleconsultation/{room_id}", headers=headers)

    assert response.status_code == 400
    assert response.json() == {"error": f"Failed GET /teleconsultation: the {name} header must be sent at most once"}


@pytest.mark.parametrize("name", ["miauserid", "miausergroups", "client-type"])
async def test_a_repeated_identity_header_is_refused_before_anything_is_created(
    client: Client, fake_kaleyra: FakeKaleyraServer, name: str
) -> None:
    response = await client.post("/teleconsultation", json=teleconsultation(), headers=[(name, "a"), (name, "b")])

    assert response.status_code == 400
    assert response.json() == {"error": f"Failed POST /teleconsultation: the {name} header must be sent at most once"}
    assert fake_kaleyra.state.users == {}
    assert fake_kaleyra.state.rooms == {}


async def test_a_repeated_groups_header_is_refused_where_groups_decide(client: Client) -> None:
    # A client's own `miausergroups: doctor` next to the gateway's must not pass the settings-admin check.
    response = await client.patch(
        "/settings/update",
        json={"background_alias": "x"},
        headers=[("miauserid", "someone"), ("miausergroups", "doctor"), ("miausergroups", "patient")],
    )

    assert response.status_code == 400
    assert "miausergroups header must be sent at most once" in response.json()["error"]


async def test_a_user_id_with_accents_sent_as_utf8_is_recognised(client: Client) -> None:
    room_id = await create(client, teleconsultation(patient_id=ACCENTED))

    response = await client.get(f"/teleconsultation/{room_id}", headers=[(b"miauserid", ACCENTED.encode())])

    assert response.status_code == 200, response.text
    assert response.json()["bandyerUserId"]


async def test_a_user_id_header_that_is_not_utf8_is_refused(client: Client) -> None:
    room_id = await create(client)

    response = await client.get(f"/teleconsultation/{room_id}", headers=[(b"miauserid", "pat-1é".encode("latin-1"))])

    assert response.status_code == 400
    assert response.json() == {"error": "Failed GET /teleconsultation: the miauserid header must be UTF-8"}


@pytest.mark.parametrize("blank", ["\u00a0", "\u0085", "\u2003", "\u3000"])
async def test_only_ascii_blanks_are_trimmed_from_the_user_id(client: Client, blank: str) -> None:
    room_id = await create(client)

    plain = await client.get(f"/teleconsultation/{room_id}", headers=[(b"miauserid", b"pat-1")])
    unicode_blank = await client.get(f"/teleconsultation/{room_id}", headers=[(b"miauserid", f"pat-1{blank}".encode())])

    assert plain.status_code == 200
    assert unicode_blank.status_code == 401
    assert unicode_blank.json() == {"error": "Unauthorized user"}


@pytest.mark.parametrize("raw", [b"pat-1\xa0", b"pat-1\x85", b"\xa0pat-1"])
async def test_a_latin1_blank_around_the_user_id_does_not_make_it_another_user(client: Client, raw: bytes) -> None:
    room_id = await create(client)

    response = await client.get(f"/teleconsultation/{room_id}", headers=[(b"miauserid", raw)])

    assert response.status_code == 400  # not UTF-8: neither pat-1 nor anyone else


async def test_a_repeated_header_has_its_own_problem_type(client: Client) -> None:
    response = await client.get(
        "/teleconsultation/0123456789abcdef01234567",
        headers=[("accept", "application/problem+json"), ("miauserid", "a"), ("miauserid", "b")],
    )

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("/repeated-header")
