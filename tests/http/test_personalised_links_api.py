"""GET /teleconsultation/{id} with `useBackground` and `language`, over HTTP."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from msgspec.structs import replace as replace_struct

from adapters.memory.clock import FixedClock
from entrypoints.service_config import DEFAULT_CONFIG
from tests.builders import T0
from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.http.builders import body, create, doctor, patient
from tests.http.conftest import Client, kaleyra_settings, serve


def stored_link(fake: FakeKaleyraServer, user_id: str) -> str:
    """The link the fake Kaleyra gave the provider user `user_id` (only one room exists)."""
    (room,) = fake.state.rooms.values()
    return str(next(p["link"] for p in room.participants if p["user_id"] == user_id))


async def link(client: Client, teleconsultation_id: str, user: str, headers: Any = None, **query: str) -> Any:
    response = await client.get(
        f"/teleconsultation/{teleconsultation_id}", params=query, headers={"miauserid": user, **(headers or {})}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_language_and_background_are_asked_in_the_kaleyra_link(
    client: Client, fake_kaleyra: FakeKaleyraServer, clock: FixedClock
) -> None:
    no_language = {**doctor(), "language": None}
    teleconsultation_id = await create(client, body(no_language, patient()))
    clock.set(T0)

    view = await link(client, teleconsultation_id, "doc-1", useBackground="true", language="en")
    plain = stored_link(fake_kaleyra, view["bandyerUserId"])
    assert view["accessLinkURL"] == f"{plain}?language=en&virtual_background=image"
    assert (await link(client, teleconsultation_id, "doc-1"))["accessLinkURL"] == plain
    assert (await link(client, teleconsultation_id, "doc-1", language="fr"))["accessLinkURL"] == plain
    assert (await link(client, teleconsultation_id, "doc-1", useBackground="false"))["accessLinkURL"] == plain

    patient_view = await link(client, teleconsultation_id, "pat-1", language="es")
    patient_link = stored_link(fake_kaleyra, patient_view["bandyerUserId"])
    assert patient_view["accessLinkURL"] == f"{patient_link}?language=it"  # her stored language
    assert (await link(client, teleconsultation_id, "pat-1", language="en"))["accessLinkURL"].endswith("?language=en")


async def test_configured_groups_always_get_the_background(fake_kaleyra: FakeKaleyraServer, clock: FixedClock) -> None:
    config = replace_struct(DEFAULT_CONFIG, groupsWithBackgroundList=["patient", "vip"])
    async with serve(kaleyra_settings(fake_kaleyra), clock, config) as client:
        teleconsultation_id = await create(client, body(doctor(), patient()))
        clock.set(T0)
        by_roster = (await link(client, teleconsultation_id, "pat-1"))["accessLinkURL"]
        by_header = (await link(client, teleconsultation_id, "doc-1", {"miausergroups": "vip"}))["accessLinkURL"]
        spaced = (await link(client, teleconsultation_id, "doc-1", {"miausergroups": "doctor, vip"}))["accessLinkURL"]
        neither = (await link(client, teleconsultation_id, "doc-1"))["accessLinkURL"]
    assert by_roster.endswith("?language=it&virtual_background=image")
    assert by_header.endswith("?language=it&virtual_background=image")
    assert spaced == by_header  # groups are trimmed: "doctor, vip" names the group "vip"
    assert neither.endswith("?language=it")


async def test_a_malformed_use_background_is_a_crud_shaped_400_naming_the_query_parameter(client: Client) -> None:
    teleconsultation_id = await create(client, body(doctor(), patient()))
    response = await client.get(
        f"/teleconsultation/{teleconsultation_id}", params={"useBackground": "maybe"}, headers={"miauserid": "doc-1"}
    )
    assert response.status_code == 400
    assert response.json() == {
        "statusCode": 400,
        "error": "Bad Request",
        "message": "query.useBackground: Expected `bool`, got `str`",
    }


async def test_jitsi_links_get_the_language_in_the_fragment_and_no_background(
    fake_kaleyra: FakeKaleyraServer, clock: FixedClock
) -> None:
    settings = replace(kaleyra_settings(fake_kaleyra), video_provider="jitsi", kaleyra=None)
    async with serve(settings, clock) as client:
        teleconsultation_id = await create(client, body(doctor(), patient()))
        clock.set(T0)
        view = await link(client, teleconsultation_id, "doc-1", useBackground="true", language="en")
    assert view["accessLinkURL"].startswith("https://meet.jit.si/")
    assert view["accessLinkURL"].endswith("#config.defaultLanguage=%22en%22")
    assert "virtual_background" not in view["accessLinkURL"]
